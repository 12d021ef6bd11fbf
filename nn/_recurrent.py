"""Recurrent cells (SimpleRNN, LSTM, GRU), the `RNN` wrapper that scans a cell over a
sequence with `lax.scan`, and `Bidirectional`.

A cell maps `(carry, x_t) -> (carry, y_t)` for one time step of a batch; its
`initial_carry(batch_shape)` gives the zero carry.
"""
import dataclasses
from typing import Any, Callable

import numpy as np

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._linear import dense
from ._layer import Layer


def _split(z, parts):
    """Split the last axis of `z` into `parts` equal pieces."""
    n = z.shape[-1] // parts
    return [lax.slice_in_dim(z, i * n, (i + 1) * n, axis=z.ndim - 1) for i in range(parts)]


class _Cell(Layer):
    features: int
    kernel_init: Callable = initializers.glorot_uniform()
    recurrent_init: Callable = initializers.orthogonal()
    bias_init: Callable = initializers.zeros

    gates = 1

    def _kernels(self, scope, x):
        n = self.gates * self.features
        kernel = scope.param("kernel", (x.shape[-1], n), self.kernel_init, self.param_dtype)
        recurrent = scope.param("recurrent_kernel", (self.features, n), self.recurrent_init,
                                self.param_dtype)
        bias = scope.param("bias", (n,), self.bias_init, self.param_dtype)
        return kernel, recurrent, bias

    def initial_carry(self, batch_shape, dtype=np.float32):
        """The zero carry for inputs with leading shape `batch_shape`."""
        return lax.full((*batch_shape, self.features), 0, dtype)


class SimpleRNNCell(_Cell):
    """h' = activation(x @ kernel + h @ recurrent_kernel + bias); output h'."""
    activation: Callable = fnp.tanh

    def forward(self, scope, carry, x):
        kernel, recurrent, bias = self._kernels(scope, x)
        h = self.activation(dense(x, kernel) + dense(carry, recurrent) + bias)
        return h, h


class LSTMCell(_Cell):
    """Long short-term memory; carry (h, c), output h. Gates in the order input,
    forget, cell, output along the 4 * features axis of `kernel`, `recurrent_kernel`
    and `bias`:  c' = f * c + i * g,  h' = o * tanh(c')."""
    gates = 4

    def forward(self, scope, carry, x):
        h, c = carry
        kernel, recurrent, bias = self._kernels(scope, x)
        i, f, g, o = _split(dense(x, kernel) + dense(h, recurrent) + bias, 4)
        c = fl.nn.sigmoid(f) * c + fl.nn.sigmoid(i) * fnp.tanh(g)
        h = fl.nn.sigmoid(o) * fnp.tanh(c)
        return (h, c), h

    def initial_carry(self, batch_shape, dtype=np.float32):
        zeros = super().initial_carry(batch_shape, dtype)
        return zeros, zeros


class GRUCell(_Cell):
    """Gated recurrent unit (PyTorch's formulation; gates reset, update, new):
    r = σ(x W_r + b_r + h U_r + c_r), z = σ(x W_z + b_z + h U_z + c_z),
    n = tanh(x W_n + b_n + r * (h U_n + c_n)), h' = (1 - z) * n + z * h.
    Parameters `kernel`, `recurrent_kernel`, `bias` (b) and `recurrent_bias` (c)."""
    gates = 3

    def forward(self, scope, carry, x):
        kernel, recurrent, bias = self._kernels(scope, x)
        recurrent_bias = scope.param("recurrent_bias", (3 * self.features,),
                                     self.bias_init, self.param_dtype)
        xr, xz, xn = _split(dense(x, kernel) + bias, 3)
        hr, hz, hn = _split(dense(carry, recurrent) + recurrent_bias, 3)
        r = fl.nn.sigmoid(xr + hr)
        z = fl.nn.sigmoid(xz + hz)
        n = fnp.tanh(xn + r * hn)
        h = (1 - z) * n + z * carry
        return h, h


def _swap_batch_time(x):
    return lax.transpose(x, (1, 0, *range(2, x.ndim)))


class RNN(Layer):
    """Run a cell over a sequence (batch, time, features) with `lax.scan`.

    Returns the outputs of every step (batch, time, out) or, with
    `return_sequences=False`, of the last step; with `return_carry=True` returns
    `(carry, outputs)`. `reverse=True` scans from the end (outputs keep the input's
    time order). `apply(..., initial_carry=...)` overrides the zero carry.
    Parameters: `params["cell"]`.
    """
    cell: Layer
    return_sequences: bool = True
    return_carry: bool = False
    reverse: bool = False
    time_major: bool = False

    def forward(self, scope, x, initial_carry=None):
        xs = x if self.time_major else _swap_batch_time(x)
        carry = initial_carry
        if carry is None:
            carry = self.cell.initial_carry(xs.shape[1:-1], x.dtype)
        step = scope.child("cell")
        carry, ys = fl.lax.scan(lambda c, x_t: step(c, x_t), carry, xs,
                                reverse=self.reverse)
        if self.return_sequences:
            out = ys if self.time_major else fl.tree_util.tree_map(_swap_batch_time, ys)
        else:
            last = 0 if self.reverse else xs.shape[0] - 1
            out = fl.tree_util.tree_map(
                lambda y: lax.index_in_dim(y, last, 0, keepdims=False), ys)
        return (carry, out) if self.return_carry else out


class Bidirectional(Layer):
    """Run `layer` (an RNN) forward and a backward copy (or `backward_layer`) and merge
    their outputs: "concat" (last axis), "sum", "mul" or "ave". Parameters under
    "forward" and "backward". With `return_carry`, returns (merged, (carry_f, carry_b)).
    """
    layer: Layer
    backward_layer: Any = None
    merge: str = "concat"

    def sublayer(self, name):
        if name == "forward":
            return self.layer
        if name == "backward":
            return self.backward_layer or dataclasses.replace(self.layer,
                                                              reverse=not self.layer.reverse)
        raise AttributeError(name)

    def forward(self, scope, x):
        y_forward = scope.child("forward")(x)
        y_backward = scope.child("backward")(x)
        carries = None
        if getattr(self.layer, "return_carry", False):
            (c_f, y_forward), (c_b, y_backward) = y_forward, y_backward
            carries = (c_f, c_b)
        if self.merge == "concat":
            merged = lax.concatenate([y_forward, y_backward], y_forward.ndim - 1)
        elif self.merge == "sum":
            merged = y_forward + y_backward
        elif self.merge == "mul":
            merged = y_forward * y_backward
        elif self.merge == "ave":
            merged = (y_forward + y_backward) / 2
        else:
            raise ValueError(f"merge must be concat, sum, mul or ave, got {self.merge!r}")
        return merged if carries is None else (merged, carries)
