"""`functorch_lite.scipy.signal`: convolve, correlate, convolve2d, correlate2d (direct,
on the convolution primitive, or method='fft'), fftconvolve and detrend, as
jax.scipy.signal; the spectral analysis functions (stft, istft, csd, welch) live in
`_spectral`."""
import operator

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..numpy import linalg as jnp_linalg
from ..numpy import fft as jnp_fft
from .._core import get_aval
from ..lax._util import canonicalize_axis
from ._util import inexact_arrays, inline_jit
from ._spectral import csd, istft, stft, welch  # noqa: F401

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "detrend", "fftconvolve",
           "stft", "istft", "csd", "welch"]

_MODES = ("full", "same", "valid")


@inline_jit("mode", "axes")
def _fftconvolve(in1, in2, mode, axes):
    in1, in2 = inexact_arrays(in1, in2)
    shape1, shape2 = get_aval(in1).shape, get_aval(in2).shape
    if len(shape1) != len(shape2):
        raise ValueError(f"in1 and in2 should have the same dimensionality; got shapes "
                         f"{shape1} and {shape2}")
    if mode not in _MODES:
        raise ValueError("mode must be one of ['same', 'full', 'valid']")
    if axes is None:
        axes = tuple(range(len(shape1)))
    axes = tuple(canonicalize_axis(operator.index(a), len(shape1)) for a in axes)
    if any(shape1[i] != shape2[i] for i in range(len(shape1)) if i not in axes):
        raise ValueError(f"mapped axes must have same shape; got in1.shape={shape1} "
                         f"in2.shape={shape2} axes={axes}")
    if mode == "valid":
        no_swap = all(shape1[a] >= shape2[a] for a in axes)
        swap = all(shape1[a] <= shape2[a] for a in axes)
        if not (no_swap or swap):
            raise ValueError("For 'valid' mode, One input must be at least as large as "
                             "the other in every dimension.")
        if swap:
            in1, in2, shape1, shape2 = in2, in1, shape2, shape1
    full = {a: shape1[a] + shape2[a] - 1 for a in axes}
    if all(shape1[a] == 1 or shape2[a] == 1 for a in axes):
        conv = in1 * in2     # every axis is a scaling: no transform needed
    else:
        complex_input = jnp.iscomplexobj(in1) or jnp.iscomplexobj(in2)
        forward, inverse = ((jnp_fft.fftn, jnp_fft.ifftn) if complex_input
                            else (jnp_fft.rfftn, jnp_fft.irfftn))
        s = [full[a] for a in axes]
        conv = inverse(forward(in1, s, axes) * forward(in2, s, axes), s, axes)
    out = {"full": full, "same": {a: shape1[a] for a in axes},
           "valid": {a: shape1[a] - shape2[a] + 1 for a in axes}}[mode]
    return conv[tuple(slice((full[a] - out[a]) // 2, (full[a] - out[a]) // 2 + out[a])
                      if a in axes else slice(None) for a in range(len(shape1)))]


def fftconvolve(in1, in2, mode="full", axes=None):
    """N-d convolution of in1 with in2 by FFTs over `axes` (default: all); the other
    axes must have equal sizes and are convolved elementwise, as JAX."""
    if axes is not None:
        axes = tuple(np.atleast_1d(axes).tolist())
    return _fftconvolve(in1, in2, mode, axes)


def _convolve_nd(in1, in2, mode, precision):
    if mode not in _MODES:
        raise ValueError("mode must be one of ['full', 'same', 'valid']")
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 must have the same number of dimensions")
    if in1.size == 0 or in2.size == 0:
        raise ValueError(f"zero-size arrays not supported in convolutions, got shapes "
                         f"{in1.shape} and {in2.shape}.")
    in1, in2 = inexact_arrays(in1, in2)
    no_swap = all(s1 >= s2 for s1, s2 in zip(in1.shape, in2.shape))
    swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
    if not (no_swap or swap):
        raise ValueError("One input must be smaller than the other in every dimension.")
    shape_o = in2.shape
    if swap:
        in1, in2 = in2, in1
    shape = in2.shape
    if mode == "valid":
        padding = [(0, 0) for _ in shape]
    elif mode == "same":
        padding = [(s - 1 - (s_o - 1) // 2, s - s_o + (s_o - 1) // 2)
                   for s, s_o in zip(shape, shape_o)]
    else:
        padding = [(s - 1, s - 1) for s in shape]
    # a convolution is a correlation with the flipped kernel
    out = lax.conv_general_dilated(in1[None, None], jnp.flip(in2)[None, None],
                                   (1,) * len(shape), padding, precision=precision)
    return out[0, 0]


@inline_jit("mode", "method", "precision")
def convolve(in1, in2, mode="full", method="auto", precision=None):
    """N-d convolution of in1 with in2 (mode 'full', 'same' or 'valid').

    >>> import numpy as np
    >>> from functorch_lite.scipy.signal import convolve
    >>> np.asarray(convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))).tolist()
    [0.0, 1.0, 2.5, 4.0, 1.5]
    """
    if method == "fft":
        return _fftconvolve(in1, in2, mode, None)
    if method not in ("direct", "auto"):
        raise ValueError(f"Got method={method!r}; expected 'auto', 'fft', or 'direct'.")
    return _convolve_nd(jnp.asarray(in1), jnp.asarray(in2), mode, precision)


@inline_jit("mode", "method", "precision")
def correlate(in1, in2, mode="full", method="auto", precision=None):
    """N-d cross-correlation of in1 with in2."""
    return convolve(in1, jnp.flip(jnp.conj(jnp.asarray(in2))), mode, method=method,
                    precision=precision)


def _check_2d(name, in1, in2, boundary, fillvalue):
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError(f"{name}() only supports boundary='fill', fillvalue=0")
    if np.ndim(in1) != 2 or np.ndim(in2) != 2:
        raise ValueError(f"{name}() only supports 2-dimensional inputs.")


@inline_jit("mode", "boundary", "fillvalue", "precision")
def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """2-d convolution (boundary='fill' with fillvalue=0 only, as JAX)."""
    in1, in2 = jnp.asarray(in1), jnp.asarray(in2)
    _check_2d("convolve2d", in1, in2, boundary, fillvalue)
    return _convolve_nd(in1, in2, mode, precision)


@inline_jit("mode", "boundary", "fillvalue", "precision")
def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """2-d cross-correlation (boundary='fill' with fillvalue=0 only, as JAX)."""
    in1, in2 = jnp.asarray(in1), jnp.asarray(in2)
    _check_2d("correlate2d", in1, in2, boundary, fillvalue)
    swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
    same_shape = all(s1 == s2 for s1, s2 in zip(in1.shape, in2.shape))
    # SciPy's operand order for each mode, reproduced as JAX does
    if mode == "full" and swap:
        return jnp.conj(_convolve_nd(jnp.flip(in2), jnp.conj(in1), mode, precision))
    if mode == "valid" and swap and not same_shape:
        return _convolve_nd(jnp.flip(in2), jnp.conj(in1), mode, precision)
    return jnp.flip(_convolve_nd(jnp.flip(in1), jnp.conj(in2), mode, precision))


@inline_jit("axis", "type", "bp", "overwrite_data")
def _detrend(data, axis, type, bp, overwrite_data):
    if overwrite_data is not None:
        raise NotImplementedError("overwrite_data argument not implemented.")
    if type not in ("constant", "linear"):
        raise ValueError("Trend type must be 'linear' or 'constant'.")
    (data,) = inexact_arrays(data)
    if type == "constant":
        return data - data.mean(axis, keepdims=True)
    n = data.shape[axis]
    breakpoints = np.sort(np.unique(np.r_[0, bp, n]))
    if breakpoints[0] < 0 or breakpoints[-1] > n:
        raise ValueError("Breakpoints must be non-negative and less than length of data "
                         "along given axis.")
    data = jnp.moveaxis(data, axis, 0)
    shape = data.shape
    data = data.reshape(n, -1)
    pieces = []
    for start, stop in zip(breakpoints[:-1], breakpoints[1:]):
        npts = stop - start   # least-squares line through each piece
        design = np.stack([np.ones(npts), np.arange(1, npts + 1) / npts], axis=1)
        design = jnp.asarray(design.astype(data.dtype))
        coef = jnp_linalg.lstsq(design, data[start:stop])[0]
        pieces.append(data[start:stop] - jnp.matmul(design, coef, precision="highest"))
    return jnp.moveaxis(jnp.concatenate(pieces).reshape(shape), 0, axis)


def detrend(data, axis=-1, type="linear", bp=0, overwrite_data=None):
    """Remove the mean (type='constant') or a least-squares line (type='linear', one
    per segment between the breakpoints `bp`) along `axis`."""
    bp = tuple(np.atleast_1d(bp).tolist())
    return _detrend(data, axis, type, bp, overwrite_data)
