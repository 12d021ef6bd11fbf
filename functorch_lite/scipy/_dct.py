"""Discrete cosine transforms (`jax.scipy.fft.dct`, `dctn`, `idct`, `idctn`) over our
`numpy.fft`: each length-N DCT is one length-N complex FFT of the reordered signal
(Makhoul, "A Fast Cosine Transform in One and Two Dimensions", 1980). Types 2 and 3
(JAX has type 2 only; type 3 is type 2's inverse up to scale, as SciPy) and the norms
None/'backward', 'ortho' and 'forward' (SciPy's; JAX rejects 'forward')."""
import operator

import numpy as np

from .. import _dtypes, lax
from .. import numpy as jnp
from .._core import get_aval, user_source_line
from ..lax._util import canonicalize_axis
from ..numpy import fft as jnp_fft
from ._util import inexact_arrays, inline_jit

__all__ = ["dct", "dctn", "idct", "idctn"]

_TYPES = (2, 3)
_NORMS = (None, "backward", "ortho", "forward")


def _check(name, type, norm):
    if type not in _TYPES:
        raise NotImplementedError(
            f"functorch_lite.scipy.fft.{name}: DCT type={type!r} is not implemented; only "
            f"types 2 and 3 are (JAX has type 2 only).\n  at {user_source_line()}")
    if norm not in _NORMS:
        raise ValueError(f"functorch_lite.scipy.fft.{name}: norm={norm!r} is not one of "
                         f"None, 'backward', 'ortho', 'forward'.\n  at {user_source_line()}")


def _resize_last(x, n):
    """Zero-pad or crop the last axis to length n (as SciPy's and JAX's `n`)."""
    if n is None:
        return x
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"invalid number of data points ({n}) specified; n must be >= 1")
    size = get_aval(x).shape[-1]
    if n <= size:
        return x[..., :n]
    return jnp.pad(x, [(0, 0)] * (get_aval(x).ndim - 1) + [(0, n - size)])


def _split_complex(fn, x):
    """A real-linear transform of complex `x`: applied to the real and imaginary parts."""
    if jnp.iscomplexobj(x):
        return lax.complex(fn(jnp.real(x)), fn(jnp.imag(x)))
    return fn(x)


def _twiddle(n, dtype, sign):
    """exp(sign * i*pi*k/(2n)) for k = 0..n-1, a constant of the complex `dtype`."""
    return np.exp(sign * 0.5j * np.pi * np.arange(n) / n).astype(dtype)


def _complex_dtype(dtype):
    return _dtypes.promote_types(dtype, np.complex64)


def _dct2_last(x):
    """Unnormalised DCT-II along the last axis: y_k = 2 sum_n x_n cos(pi k (2n+1) / 2N)."""
    n = get_aval(x).shape[-1]
    # even-indexed samples, then the odd-indexed ones reversed
    v = jnp.concatenate([x[..., ::2], jnp.flip(x[..., 1::2], -1)], axis=-1)
    spectrum = jnp_fft.fft(v, axis=-1)
    return 2 * jnp.real(spectrum * _twiddle(n, _complex_dtype(get_aval(x).dtype), -1))


def _dct3_last(x, scale):
    """y_n = sum_k scale_k x_k cos(pi k (2n+1) / 2N) along the last axis (scale: numpy)."""
    dtype = get_aval(x).dtype
    n = get_aval(x).shape[-1]
    coeffs = (scale * _twiddle(n, _complex_dtype(dtype), 1) * n).astype(_complex_dtype(dtype))
    v = jnp.real(jnp_fft.ifft(x * coeffs, axis=-1))
    # v holds y at even indices first, then the odd-indexed ones reversed
    half = (n + 1) // 2
    evens, odds = v[..., :half], jnp.flip(v[..., half:], -1)
    if n % 2:
        odds = jnp.pad(odds, [(0, 0)] * (get_aval(x).ndim - 1) + [(0, 1)])
    both = jnp.stack([evens, odds], axis=-1)
    return both.reshape(*get_aval(x).shape[:-1], 2 * half)[..., :n]


def _ortho_scale(n, dtype):
    """Per-frequency factors turning the unnormalised DCT-II into the orthonormal one."""
    scale = np.full(n, np.sqrt(1 / (2 * n)))
    scale[0] = np.sqrt(1 / (4 * n))
    return scale.astype(dtype)


def _forward_last(x, type, norm):
    """SciPy's dct(x, type, norm) along the last axis of a real array."""
    dtype = get_aval(x).dtype
    n = get_aval(x).shape[-1]
    if type == 2:
        y = _dct2_last(x)
        if norm == "ortho":
            return y * _ortho_scale(n, dtype)
        return y / (2 * n) if norm == "forward" else y
    # type 3: 2N times the inverse of the unnormalised type 2 (or its orthonormal inverse)
    return _dct3_last(x, _inverse_scale(n, dtype, norm,
                                        unnormalised=1 if norm == "forward" else 2 * n))


def _inverse_scale(n, dtype, norm, unnormalised):
    """The cosine-sum weights of the inverse of the type-2 DCT under `norm`, times
    `unnormalised` for the backward and forward norms."""
    if norm == "ortho":
        scale = np.full(n, np.sqrt(2 / n))
        scale[0] = np.sqrt(1 / n)
        return scale.astype(dtype)
    scale = np.full(n, 1.0 / n)
    scale[0] = 1 / (2 * n)
    return (scale * unnormalised).astype(dtype)


def _inverse_last(x, type, norm):
    """SciPy's idct(x, type, norm) along the last axis of a real array."""
    dtype = get_aval(x).dtype
    n = get_aval(x).shape[-1]
    if type == 2:
        return _dct3_last(x, _inverse_scale(n, dtype, norm,
                                            unnormalised=2 * n if norm == "forward" else 1))
    # type 3's inverse is an unnormalised type 2 divided by 2N (orthonormal: its transpose)
    y = _dct2_last(x)
    if norm == "ortho":
        return y * _ortho_scale(n, dtype)
    return y if norm == "forward" else y / (2 * n)


@inline_jit("inverse", "type", "norm", "sizes", "axes")
def _along(x, inverse, type, norm, sizes, axes):
    """The DCT (or with `inverse`, the inverse DCT) of `type` and `norm` along each of
    `axes` (canonical), each resized to the matching entry of `sizes`."""
    (x,) = inexact_arrays(x)
    transform = _inverse_last if inverse else _forward_last

    def real_transform(part):
        for n, axis in zip(sizes, axes):
            part = jnp.moveaxis(part, axis, -1)
            part = jnp.moveaxis(transform(_resize_last(part, n), type, norm), -1, axis)
        return part
    return _split_complex(real_transform, x)


def dct(x, type=2, n=None, axis=-1, norm=None):
    """Discrete cosine transform of `x` along `axis` (SciPy's definition), zero-padded
    or cropped to `n` points."""
    _check("dct", type, norm)
    return _along(x, False, type, norm, *_sizes_and_axes(x, None if n is None else [n],
                                                         [axis]))


def idct(x, type=2, n=None, axis=-1, norm=None):
    """Inverse discrete cosine transform along `axis`: `idct(dct(x)) == x` for the same
    type and norm."""
    _check("idct", type, norm)
    return _along(x, True, type, norm, *_sizes_and_axes(x, None if n is None else [n],
                                                        [axis]))


def _sizes_and_axes(x, s, axes):
    """SciPy's and JAX's defaults: axes from `s` (its last len(s) axes) or all axes."""
    ndim = get_aval(jnp.asarray(x)).ndim
    if s is not None:
        s = [operator.index(n) for n in (s if np.iterable(s) else [s])]
        if len(s) > ndim:
            raise ValueError(f"s must have at most x.ndim ({ndim}) elements, got {len(s)}")
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = [canonicalize_axis(operator.index(a), ndim)
            for a in (axes if np.iterable(axes) else [axes])]
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axes {axes}; give each axis once")
    if s is not None and len(s) != len(axes):
        raise ValueError(f"s ({s}) and axes ({axes}) must have the same length")
    return (None,) * len(axes) if s is None else tuple(s), tuple(axes)


def dctn(x, type=2, s=None, axes=None, norm=None):
    """Multidimensional DCT: `dct` along each of `axes` (default: the last len(s)
    axes, or all), each resized to the matching entry of `s`."""
    _check("dctn", type, norm)
    return _along(x, False, type, norm, *_sizes_and_axes(x, s, axes))


def idctn(x, type=2, s=None, axes=None, norm=None):
    """Multidimensional inverse DCT: `idct` along each of `axes`."""
    _check("idctn", type, norm)
    return _along(x, True, type, norm, *_sizes_and_axes(x, s, axes))
