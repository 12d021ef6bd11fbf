"""Spatial reshaping of channels-last inputs (batch, *spatial, channels), as Keras'
`UpSampling1D/2D/3D`, `ZeroPadding1D/2D/3D` and `Cropping1D/2D/3D` (one layer each
here, for any number of spatial dimensions); no parameters."""
from typing import Any

import numpy as np

import functorch_lite.lax as lax
from ._conv import as_tuple
from ._layer import Layer


def _spatial(x, what):
    n = x.ndim - 2
    if n < 1:
        raise ValueError(f"{what} takes inputs (batch, *spatial, channels), got shape "
                         f"{tuple(x.shape)}")
    return n


def _pairs(value, n, what):
    """((low, high),) * n from an int, n ints (symmetric) or n pairs."""
    if isinstance(value, (int, np.integer)):
        return ((int(value), int(value)),) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{what} needs {n} entries for {n} spatial dimensions, got {value}")
    return tuple((int(v), int(v)) if isinstance(v, (int, np.integer)) else
                 (int(v[0]), int(v[1])) for v in value)


def _repeat(x, axis, times):
    """Each entry along `axis` repeated `times` times (nearest-neighbour upsampling)."""
    if times == 1:
        return x
    shape = x.shape
    expanded = lax.broadcast_in_dim(x, (*shape[:axis + 1], times, *shape[axis + 1:]),
                                    tuple(i if i <= axis else i + 1 for i in range(x.ndim)))
    return lax.reshape(expanded, (*shape[:axis], shape[axis] * times, *shape[axis + 1:]))


def linear_resize_weights(in_size, out_size):
    """The (in_size, out_size) matrix of `jax.image.resize(..., "linear")` along one
    axis: half-pixel centres, a triangle kernel, weights renormalised at the edges."""
    inverse_scale = in_size / out_size
    sample = (np.arange(out_size) + 0.5) * inverse_scale - 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(sample[None, :] - np.arange(in_size)[:, None]))
    total = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                       weights / np.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[None, :], weights, 0)


def _linear(x, axis, times):
    if times == 1:
        return x
    weights = linear_resize_weights(x.shape[axis], x.shape[axis] * times).astype(x.dtype)
    y = lax.dot_general(x, weights, (((axis,), (0,)), ((), ())))  # new axis last
    return lax.transpose(y, (*range(axis), x.ndim - 1, *range(axis, x.ndim - 1)))


class UpSampling(Layer):
    """Upsample the spatial axes by `size` (an int repeats; one per spatial dimension
    otherwise): "nearest" repeats entries (Keras' UpSampling1D/2D/3D), "bilinear" (or
    "linear") interpolates as `jax.image.resize` (half-pixel centres)."""
    size: Any = 2
    interpolation: str = "nearest"

    def forward(self, scope, x):
        n = _spatial(x, "UpSampling")
        sizes = as_tuple(self.size, n, "size")
        if self.interpolation == "nearest":
            resize = _repeat
        elif self.interpolation in ("bilinear", "linear"):
            resize = _linear
        else:
            raise ValueError(f"UpSampling interpolation must be 'nearest' or 'bilinear', "
                             f"got {self.interpolation!r}")
        for axis, times in enumerate(sizes, start=1):
            x = resize(x, axis, times)
        return x


class ZeroPadding(Layer):
    """Pad the spatial axes with zeros: `padding` is an int (every side), one int per
    spatial dimension (both sides) or one (low, high) pair per dimension."""
    padding: Any = 1

    def forward(self, scope, x):
        pads = _pairs(self.padding, _spatial(x, "ZeroPadding"), "padding")
        return lax.pad(x, np.zeros((), x.dtype), ((0, 0, 0), *((lo, hi, 0) for lo, hi in pads),
                                                  (0, 0, 0)))


class Cropping(Layer):
    """Remove entries from the ends of the spatial axes: `cropping` as `ZeroPadding`'s
    `padding`."""
    cropping: Any = 1

    def forward(self, scope, x):
        crops = _pairs(self.cropping, _spatial(x, "Cropping"), "cropping")
        for axis, (lo, hi) in enumerate(crops, start=1):
            if lo + hi >= x.shape[axis]:
                raise ValueError(f"Cropping {(lo, hi)} removes all {x.shape[axis]} entries "
                                 f"of axis {axis}")
            x = lax.slice_in_dim(x, lo, x.shape[axis] - hi, axis=axis)
        return x
