"""Recurrent cells (SimpleRNN, LSTM, GRU); `_rnn.py` scans them over sequences.

A cell maps `(carry, x_t) -> (carry, y_t)` for one time step of a batch; its
`initial_carry(batch_shape)` gives the zero carry and `carry_names` names the carry's
arrays (for a stateful RNN's `state`).
"""
from typing import Callable

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
    carry_names = ("h",)

    def _kernels(self, scope, x, bias_init=None):
        n = self.gates * self.features
        kernel = scope.param("kernel", (x.shape[-1], n), self.kernel_init)
        recurrent = scope.param("recurrent_kernel", (self.features, n), self.recurrent_init)
        bias = scope.param("bias", (n,), bias_init or self.bias_init)
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


@initializers._factory
def forget_bias_one(bias_init, dtype=None):
    """An LSTM bias initializer: `bias_init`, with the forget gate's quarter set to 1
    (Keras' unit_forget_bias, Jozefowicz et al. 2015)."""
    def init(key, shape, dtype):
        n = shape[0] // 4
        if isinstance(bias_init, initializers.Initializer) or \
                bias_init in (initializers.zeros, initializers.ones):
            bias = bias_init(key, shape, dtype)
        else:  # a JAX or Flax initializer: JAX runs it (this init is traced by ours)
            bias = fl.interop.call_jax(lambda k: bias_init(k, shape, dtype), key)
        return bias.at[n:2 * n].set(1)
    return init


class LSTMCell(_Cell):
    """Long short-term memory; carry (h, c), output h. Gates in the order input,
    forget, cell, output along the 4 * features axis of `kernel`, `recurrent_kernel`
    and `bias` (Keras' order):  c' = f * c + i * g,  h' = o * tanh(c'). With
    `unit_forget_bias` (default, as Keras) the forget gate's bias starts at 1."""
    unit_forget_bias: bool = True
    gates = 4
    carry_names = ("h", "c")

    def forward(self, scope, carry, x):
        h, c = carry
        bias_init = forget_bias_one(self.bias_init) if self.unit_forget_bias else None
        kernel, recurrent, bias = self._kernels(scope, x, bias_init)
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
                                     self.bias_init)
        xr, xz, xn = _split(dense(x, kernel) + bias, 3)
        hr, hz, hn = _split(dense(carry, recurrent) + recurrent_bias, 3)
        r = fl.nn.sigmoid(xr + hr)
        z = fl.nn.sigmoid(xz + hz)
        n = fnp.tanh(xn + r * hn)
        h = (1 - z) * n + z * carry
        return h, h
