"""Pooling over the spatial axes of channels-last inputs (batch, *spatial, channels)."""
from typing import Any

import numpy as np

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from ._conv import as_tuple, explicit_padding
from ._layer import Layer


def _pool_geometry(x, window_shape, strides, padding):
    n = x.ndim - 2
    if n < 1:
        raise ValueError(f"pooling takes inputs (batch, *spatial, channels), got shape "
                         f"{tuple(x.shape)}")
    window = as_tuple(window_shape, n, "window_shape")
    strides = window if strides is None else as_tuple(strides, n, "strides")
    pads = explicit_padding(padding, x.shape[1:-1], window, strides, (1,) * n)
    return window, strides, pads


def _lowest(dtype):
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating) or dtype.name == "bfloat16":
        return -np.inf
    return np.iinfo(dtype).min


def max_pool(x, window_shape, strides=None, padding="VALID"):
    """Maximum over each window (padding never wins)."""
    window, strides, pads = _pool_geometry(x, window_shape, strides, padding)
    return lax.reduce_window(x, _lowest(x.dtype), lax.max, (1, *window, 1),
                             (1, *strides, 1), ((0, 0), *pads, (0, 0)))


def _window_counts(sizes, window, strides, pads):
    """How many real (unpadded) entries each output window covers: a host constant."""
    counts = np.ones((), np.float64)
    for size, k, s, (lo, hi) in zip(sizes, window, strides, pads):
        out = (size + lo + hi - k) // s + 1
        starts = np.arange(out) * s - lo
        per_dim = np.minimum(starts + k, size) - np.maximum(starts, 0)
        counts = np.multiply.outer(counts, per_dim)
    return counts


def avg_pool(x, window_shape, strides=None, padding="VALID", count_include_pad=True):
    """Mean over each window; with `count_include_pad=False` padded entries are not
    counted (Keras), else they count as zeros (PyTorch's and Flax's default)."""
    window, strides, pads = _pool_geometry(x, window_shape, strides, padding)
    summed = lax.reduce_window(x, 0, lax.add, (1, *window, 1), (1, *strides, 1),
                               ((0, 0), *pads, (0, 0)))
    if count_include_pad or all(p == (0, 0) for p in pads):
        return summed / np.prod(window)
    counts = _window_counts(x.shape[1:-1], window, strides, pads)
    return summed / counts.astype(summed.dtype)[None, ..., None]


class MaxPool(Layer):
    """Max pooling; `strides` defaults to `window_shape` (an int repeats)."""
    window_shape: Any
    strides: Any = None
    padding: Any = "VALID"

    def forward(self, scope, x):
        return max_pool(x, self.window_shape, self.strides, self.padding)


class AvgPool(Layer):
    """Average pooling; `strides` defaults to `window_shape` (an int repeats)."""
    window_shape: Any
    strides: Any = None
    padding: Any = "VALID"
    count_include_pad: bool = True

    def forward(self, scope, x):
        return avg_pool(x, self.window_shape, self.strides, self.padding,
                        self.count_include_pad)


def _spatial_axes(x):
    if x.ndim < 3:
        raise ValueError(f"global pooling takes inputs (batch, *spatial, channels), got "
                         f"shape {tuple(x.shape)}")
    return tuple(range(1, x.ndim - 1))


def _mask_like(mask, x):
    """A boolean (batch, *spatial) mask broadcast to x's shape (True = keep)."""
    if tuple(mask.shape) != tuple(x.shape[:-1]):
        raise ValueError(f"global pooling mask must be (batch, *spatial) = "
                         f"{tuple(x.shape[:-1])}, got {tuple(mask.shape)}")
    return lax.broadcast_in_dim(fnp.asarray(mask, dtype=bool), x.shape,
                                tuple(range(x.ndim - 1)))


class GlobalAvgPool(Layer):
    """Mean over all spatial axes: (batch, *spatial, channels) -> (batch, channels)
    (Keras' GlobalAveragePooling1D/2D/3D). `apply(..., mask=...)` with a boolean
    (batch, *spatial) mask averages the unmasked positions only (as Keras' 1D)."""
    keepdims: bool = False

    def forward(self, scope, x, mask=None):
        axes = _spatial_axes(x)
        if mask is None:
            return fnp.mean(x, axis=axes, keepdims=self.keepdims)
        keep = _mask_like(mask, x)
        total = fnp.sum(fnp.where(keep, x, 0), axis=axes, keepdims=self.keepdims)
        count = fnp.sum(keep.astype(x.dtype), axis=axes, keepdims=self.keepdims)
        return total / count


class GlobalMaxPool(Layer):
    """Maximum over all spatial axes: (batch, *spatial, channels) -> (batch, channels)
    (Keras' GlobalMaxPooling1D/2D/3D). With a boolean (batch, *spatial) `mask`, the
    maximum over the unmasked positions (-inf where all are masked)."""
    keepdims: bool = False

    def forward(self, scope, x, mask=None):
        axes = _spatial_axes(x)
        if mask is not None:
            x = fnp.where(_mask_like(mask, x), x, _lowest(x.dtype))
        return fnp.max(x, axis=axes, keepdims=self.keepdims)
