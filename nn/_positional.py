"""Positional information for sequences (batch, length, ...): learned and sinusoidal
position embeddings (keras_hub's `PositionEmbedding` and `SinePositionEncoding`, which
return the embeddings to add to the input), and rotary position embeddings (RoPE, which
rotate queries and keys; the half-split layout of GPT-NeoX, Llama in Hugging Face and
keras_hub by default, the interleaved pairs of GPT-J / Meta's Llama with
`interleaved=True`).

Each takes `start` (the position of the first element: the decoding step, traced or
not) or explicit integer `positions` ((length,) or (batch, length)).
"""
from typing import Callable

import numpy as np

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._layer import Layer


def _positions(length, start, positions):
    """Integer positions (length,) from `start`, or the given ones."""
    if positions is not None:
        return fnp.asarray(positions)
    return lax.iota(np.int32, length) + start


def _to_input_rank(table, x):
    """(..., length, features) position values broadcast against x (batch, length, ...,
    features): the axes between length and features become 1."""
    middle = x.ndim - 3
    if middle:
        table = fnp.reshape(table, (*table.shape[:-1], *(1,) * middle, table.shape[-1]))
    return table


def sinusoidal_encoding(positions, features, max_wavelength=10000.0, dtype=np.float32):
    """The sinusoidal encoding of Vaswani et al. for integer `positions` (any shape):
    (..., features), sin at even and cos at odd feature indices with timescales
    max_wavelength ** (-2 * (i // 2) / features) (keras_hub's `SinePositionEncoding`)."""
    i = np.arange(features)
    timescales = np.power(np.float32(1.0 / max_wavelength),
                          (2 * (i // 2)).astype(np.float32) / np.float32(features))
    angles = fnp.expand_dims(fnp.asarray(positions).astype(np.float32), -1) * timescales
    cos_mask = (i % 2).astype(np.float32)
    encoding = fnp.sin(angles) * (1 - cos_mask) + fnp.cos(angles) * cos_mask
    return encoding.astype(dtype)


class SinusoidalPositionalEmbedding(Layer):
    """The fixed sinusoidal position encoding for inputs (batch, length, features),
    broadcast to the input's shape (add it to the input); no parameters.
    `apply(params, state, x, start=0, positions=None)`."""
    max_wavelength: float = 10000.0

    def forward(self, scope, x, start=0, positions=None):
        table = sinusoidal_encoding(_positions(x.shape[1], start, positions), x.shape[-1],
                                    self.max_wavelength, x.dtype)
        return fnp.broadcast_to(_to_input_rank(table, x), x.shape)


class PositionalEmbedding(Layer):
    """A learned position embedding for inputs (batch, length, features) of length at
    most `max_length`, broadcast to the input's shape (add it to the input).
    Parameter: `embedding` (max_length, features). `apply(params, state, x, start=0,
    positions=None)`; a traced `start` is clamped so that the slice fits (as XLA's
    dynamic_slice), a static one is checked."""
    max_length: int
    embedding_init: Callable = initializers.glorot_uniform()

    def forward(self, scope, x, start=0, positions=None):
        length = x.shape[1]
        table = scope.param("embedding", (self.max_length, x.shape[-1]), self.embedding_init)
        if positions is not None:
            values = fnp.take(table, fnp.asarray(positions), axis=0)
        else:
            if isinstance(start, (int, np.integer)) and start + length > self.max_length:
                raise ValueError(f"PositionalEmbedding(max_length={self.max_length}) got "
                                 f"positions {start}..{start + length - 1}")
            values = lax.dynamic_slice_in_dim(table, start, length, axis=0)
        return fnp.broadcast_to(_to_input_rank(values, x), x.shape).astype(x.dtype)


def rotary_angles(positions, features, max_wavelength=10000.0, scaling_factor=1.0):
    """The rotation angles (..., features // 2) of RoPE for integer `positions`:
    positions / scaling_factor * max_wavelength ** (-2i / features)."""
    inverse_frequency = 1.0 / np.power(np.float32(max_wavelength),
                                       np.arange(0, features, 2, dtype=np.float32)
                                       / np.float32(features))
    positions = fnp.asarray(positions).astype(np.float32) / np.float32(scaling_factor)
    return fnp.expand_dims(positions, -1) * inverse_frequency.astype(np.float32)


def apply_rotary(x, positions, max_wavelength=10000.0, scaling_factor=1.0,
                 interleaved=False):
    """Rotate the feature pairs of `x` (batch, length, ..., features) by the angles of
    their positions ((length,) or (batch, length)). Half-split layout by default (pairs
    (i, i + features/2), `rotate_half`); `interleaved=True` pairs (2i, 2i + 1)."""
    features = x.shape[-1]
    if features % 2:
        raise ValueError(f"rotary embeddings need an even feature size, got {features}")
    angles = rotary_angles(positions, features, max_wavelength, scaling_factor)
    cos, sin = fnp.cos(angles), fnp.sin(angles)
    if interleaved:
        cos, sin = fnp.repeat(cos, 2, axis=-1), fnp.repeat(sin, 2, axis=-1)
        pairs = fnp.reshape(x, (*x.shape[:-1], features // 2, 2))
        rotated = fnp.reshape(fnp.stack([-pairs[..., 1], pairs[..., 0]], axis=-1), x.shape)
    else:
        cos, sin = fnp.concatenate([cos, cos], -1), fnp.concatenate([sin, sin], -1)
        half = features // 2
        rotated = fnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    cos = _to_input_rank(cos, x).astype(x.dtype)
    sin = _to_input_rank(sin, x).astype(x.dtype)
    return x * cos + rotated * sin


class RotaryEmbedding(Layer):
    """Rotary position embedding (RoPE, Su et al.) of queries or keys (batch, length,
    ..., head_dim); no parameters. `apply(params, state, x, start=0, positions=None)`.
    `MultiHeadAttention(rotary=RotaryEmbedding())` applies it to queries and keys,
    with the decoding cache's positions."""
    max_wavelength: float = 10000.0
    scaling_factor: float = 1.0
    interleaved: bool = False

    def forward(self, scope, x, start=0, positions=None):
        return self.rotate(x, _positions(x.shape[1], start, positions))

    def rotate(self, x, positions):
        """`x` rotated for integer `positions` (the function form of the layer)."""
        return apply_rotary(x, positions, self.max_wavelength, self.scaling_factor,
                            self.interleaved)
