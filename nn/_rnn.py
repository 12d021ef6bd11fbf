"""`RNN` scans a cell over a sequence with `lax.scan` (masking, reversal, Keras'
`return_state` / `go_backwards` / `stateful`, Flax's `return_carry` / `reverse`);
`Bidirectional` runs two; `SimpleRNN`, `LSTM` and `GRU` are Keras' shorthands."""
import dataclasses
from typing import Any

from jax import tree_util

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._layer import Layer
from ._recurrent import GRUCell, LSTMCell, SimpleRNNCell


def _swap_batch_time(x):
    return lax.transpose(x, (1, 0, *range(2, x.ndim)))


def _masked_step(step, zero_output):
    """The scan body with Keras' masking: at a masked step the carry is kept and the
    output is the previous output (the carry's first array) or zeros."""
    def body(carry, inputs):
        x_t, keep = inputs
        new_carry, y = step(carry, x_t)
        keep = fnp.expand_dims(keep, -1)
        previous = fnp.zeros_like(y) if zero_output else tree_util.tree_leaves(carry)[0]
        if tuple(previous.shape) != tuple(y.shape):
            raise ValueError(f"masking keeps the previous output, but this cell's carry "
                             f"{tuple(previous.shape)} is not shaped like its output "
                             f"{tuple(y.shape)}: use zero_output_for_mask=True")
        y = fnp.where(keep, y, previous)
        new_carry = tree_util.tree_map(lambda n, o: fnp.where(keep, n, o), new_carry, carry)
        return new_carry, y
    return body


class RNN(Layer):
    """Run a cell over a sequence (batch, time, features) (or (time, batch, features)
    with `time_major`).

    `apply(params, state, x, initial_carry=None, mask=None)`. Outputs:

    - every step's output (batch, time, out), or the last step's with
      `return_sequences=False`;
    - `return_carry=True` (Flax): `(carry, outputs)`; `return_state=True` (Keras):
      `(outputs, *final_carry)` (LSTM: outputs, h, c).

    `reverse=True` scans from the end with outputs in the input's time order (Flax's
    keep_order); `go_backwards=True` scans from the end with outputs in the order
    processed (Keras). `mask` (boolean (batch, time), True = a real step): a masked step
    keeps the carry and outputs the previous output (zeros with
    `zero_output_for_mask=True`), as Keras. `stateful=True` (Keras) keeps the final
    carry in `state` ("h", "c") as the next call's initial carry; the batch size is
    then fixed by `init`; reset by taking the state from `init` again.
    Parameters: `params["cell"]`.
    """
    cell: Layer
    return_sequences: bool = True
    return_carry: bool = False
    return_state: bool = False
    reverse: bool = False
    go_backwards: bool = False
    stateful: bool = False
    zero_output_for_mask: bool = False
    time_major: bool = False

    def forward(self, scope, x, initial_carry=None, mask=None):
        if self.return_carry and self.return_state:
            raise ValueError("RNN: return_carry (Flax's form) and return_state (Keras') "
                             "are alternatives; set one")
        if self.reverse and self.go_backwards:
            raise ValueError("RNN: reverse (outputs in input order) and go_backwards "
                             "(outputs in processing order) are alternatives; set one")
        xs = x if self.time_major else _swap_batch_time(x)
        carry = initial_carry
        if carry is None:
            carry = self.cell.initial_carry(xs.shape[1:-1], x.dtype)
        if self.stateful:
            carry = self._stored_carry(scope, carry, initial_carry is not None)
        step = scope.child("cell")
        backwards = self.reverse or self.go_backwards
        if mask is None:
            carry, ys = fl.lax.scan(lambda c, x_t: step(c, x_t), carry, xs,
                                    reverse=backwards)
        else:
            mask = fnp.asarray(mask, dtype=bool)
            if tuple(mask.shape) != tuple(x.shape[:2]):
                raise ValueError(f"RNN mask must be shaped like the input's first two axes "
                                 f"{tuple(x.shape[:2])}, got {tuple(mask.shape)}")
            keep = mask if self.time_major else _swap_batch_time(mask)
            carry, ys = fl.lax.scan(_masked_step(step, self.zero_output_for_mask), carry,
                                    (xs, keep), reverse=backwards)
        if self.stateful:
            for name, value in zip(self._carry_names(carry), tree_util.tree_leaves(carry)):
                scope.set_state(name, value)
        if self.go_backwards:  # Keras: outputs in the order processed
            ys = tree_util.tree_map(lambda y: lax.rev(y, (0,)), ys)
        if self.return_sequences:
            out = ys if self.time_major else tree_util.tree_map(_swap_batch_time, ys)
        else:
            last = 0 if self.reverse else xs.shape[0] - 1
            out = tree_util.tree_map(lambda y: lax.index_in_dim(y, last, 0, keepdims=False),
                                     ys)
        if self.return_carry:
            return carry, out
        if self.return_state:
            return (out, *tree_util.tree_leaves(carry))
        return out

    def _carry_names(self, carry):
        leaves = tree_util.tree_leaves(carry)
        names = getattr(self.cell, "carry_names", ())
        return names if len(names) == len(leaves) else [f"carry{i}" for i in range(len(leaves))]

    def _stored_carry(self, scope, zeros, explicit):
        """The carry kept in `state` (declared shaped like the zero carry)."""
        leaves, treedef = tree_util.tree_flatten(zeros)
        stored = [scope.state(name, leaf.shape, initializers.zeros, leaf.dtype)
                  for name, leaf in zip(self._carry_names(zeros), leaves)]
        return zeros if explicit else tree_util.tree_unflatten(treedef, stored)


class Bidirectional(Layer):
    """Run `layer` (an RNN) forward and a backward copy (or `backward_layer`) and merge
    their outputs: "concat" (last axis), "sum", "mul" or "ave". Parameters under
    "forward" and "backward". `apply(..., mask=...)` passes the mask to both. With
    `return_carry`, returns (merged, (carry_f, carry_b)); with `return_state` (Keras),
    (merged, *forward_state, *backward_state).
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

    def forward(self, scope, x, mask=None):
        kwargs = {} if mask is None else {"mask": mask}
        y_forward = scope.child("forward")(x, **kwargs)
        y_backward = scope.child("backward")(x, **kwargs)
        extra = None
        if getattr(self.layer, "return_carry", False):
            (c_f, y_forward), (c_b, y_backward) = y_forward, y_backward
            extra = ((c_f, c_b),)
        elif getattr(self.layer, "return_state", False):
            (y_forward, *s_f), (y_backward, *s_b) = y_forward, y_backward
            extra = (*s_f, *s_b)
        merged = self._merge(y_forward, y_backward)
        return merged if extra is None else (merged, *extra)

    def _merge(self, a, b):
        if self.merge == "concat":
            return lax.concatenate([a, b], a.ndim - 1)
        if self.merge == "sum":
            return a + b
        if self.merge == "mul":
            return a * b
        if self.merge == "ave":
            return (a + b) / 2
        raise ValueError(f"merge must be concat, sum, mul or ave, got {self.merge!r}")


_RNN_OPTIONS = {f.name for f in dataclasses.fields(RNN)} - {"cell", "dtype", "param_dtype"}


def _shorthand(cell_type, features, return_sequences, options):
    rnn = {k: options.pop(k) for k in list(options) if k in _RNN_OPTIONS}
    dtypes = {k: options[k] for k in ("dtype", "param_dtype") if k in options}
    return RNN(cell_type(features, **options), return_sequences=return_sequences, **rnn,
               **dtypes)


def SimpleRNN(features, return_sequences=False, **options):
    """Keras' `SimpleRNN(units)`: `RNN(SimpleRNNCell(features, ...), ...)` with
    Keras' default `return_sequences=False`; other keywords go to the cell or the RNN."""
    return _shorthand(SimpleRNNCell, features, return_sequences, options)


def LSTM(features, return_sequences=False, **options):
    """Keras' `LSTM(units)`: `RNN(LSTMCell(features, ...), ...)` with Keras' default
    `return_sequences=False`; other keywords go to the cell or the RNN."""
    return _shorthand(LSTMCell, features, return_sequences, options)


def GRU(features, return_sequences=False, **options):
    """Keras' `GRU(units)` (reset gate after the recurrent product, Keras' default and
    PyTorch's; gate order r, z, n): `RNN(GRUCell(features, ...), ...)` with Keras'
    default `return_sequences=False`."""
    return _shorthand(GRUCell, features, return_sequences, options)
