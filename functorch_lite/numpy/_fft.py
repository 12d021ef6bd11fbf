"""`jax.numpy.fft` on the `lax.fft` primitive: the same axes handling, zero padding or
cropping to `n`/`s`, `norm` scaling and decomposition of transforms over more than
three axes as jax.numpy.fft."""
import operator

import numpy as np

from .. import _dtypes, lax
from .._core import get_aval, user_source_line
from ..lax._fft import FftType
from .. import numpy as jnp

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2",
           "irfft2", "fftn", "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]


def _norm_factor(s, func_name, norm, dtype):
    """The scale `norm` applies to an unnormalised transform of lengths `s`."""
    if norm == "backward":
        return None
    size = float(np.prod(s))
    if norm == "ortho":
        factor = np.sqrt(size) if func_name.startswith("i") else 1 / np.sqrt(size)
    elif norm == "forward":
        factor = size if func_name.startswith("i") else 1 / size
    else:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or '
                         f'"forward".\n  at {user_source_line()}')
    return np.asarray(factor, dtype)


def _fft_core(func_name, fft_type, a, s, axes, norm):
    full_name = f"jax.numpy.fft.{func_name}"
    arr = jnp.asarray(a)
    ndim = get_aval(arr).ndim
    if s is not None:
        s = tuple(map(operator.index, s))
        if any(n <= 0 for n in s):
            raise ValueError("Shape should be positive.")
    if s is not None and axes is not None and len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    orig_axes = axes
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = tuple(axes)
    if len(axes) != len(set(axes)):
        raise ValueError(f"{full_name} does not support repeated axes. Got axes {axes}.")
    if orig_axes is not None:
        axes = tuple(range(ndim - len(axes), ndim))
        arr = jnp.moveaxis(arr, tuple(orig_axes), axes)
    shape = get_aval(arr).shape
    if s is not None:
        in_s = list(shape)
        for axis, n in zip(axes, s):
            in_s[axis] = n
        if fft_type == FftType.IRFFT:
            in_s[-1] = in_s[-1] // 2 + 1
        arr = arr[tuple(slice(n) for n in in_s)]
        arr = jnp.pad(arr, [(0, n - m) for n, m in zip(in_s, get_aval(arr).shape)])
    elif fft_type == FftType.IRFFT:
        s = [shape[axis] for axis in axes[:-1]]
        if axes:
            s += [max(0, 2 * (shape[axes[-1]] - 1))]
    else:
        s = [shape[axis] for axis in axes]
    out = _fft_core_nd(arr, fft_type, tuple(s))
    if norm is not None:
        factor = _norm_factor(s, func_name, norm, get_aval(out).dtype)
        if factor is not None:
            out = out * factor
    if orig_axes is not None:
        out = jnp.moveaxis(out, axes, tuple(orig_axes))
    return out


def _fft_core_nd(arr, fft_type, s):
    """XLA transforms at most three axes at once: more are done three (or two) at a time."""
    if len(s) <= 3:
        return lax.fft(arr, fft_type, s)
    n = 2 if len(s) == 4 else 3
    ndim = get_aval(arr).ndim
    src = tuple(range(ndim - len(s), ndim - n))
    dst = tuple(range(ndim - len(s) + n, ndim))
    if fft_type in (FftType.RFFT, FftType.FFT):
        arr = lax.fft(arr, fft_type, s[-n:])
        arr = jnp.moveaxis(arr, src, dst)
        arr = _fft_core_nd(arr, FftType.FFT, s[:-n])
        return jnp.moveaxis(arr, dst, src)
    arr = jnp.moveaxis(arr, src, dst)
    arr = _fft_core_nd(arr, FftType.IFFT, s[:-n])
    arr = jnp.moveaxis(arr, dst, src)
    return lax.fft(arr, fft_type, s[-n:])


def _axis_check_1d(func_name, axis):
    if isinstance(axis, (list, tuple)):
        name = f"jax.numpy.fft.{func_name}"
        raise ValueError(f"{name} does not support multiple axes. Please use {name}n. "
                         f"Got axis = {axis!r}.")


def _fft_core_1d(func_name, fft_type, a, n, axis, norm):
    _axis_check_1d(func_name, axis)
    return _fft_core(func_name, fft_type, a, None if n is None else [n],
                     None if axis is None else [axis], norm)


def _fft_core_2d(func_name, fft_type, a, s, axes, norm):
    if len(axes) != 2:
        raise ValueError(f"jax.numpy.fft.{func_name} only supports 2 axes. Got axes = "
                         f"{axes!r}.")
    return _fft_core(func_name, fft_type, a, s, axes, norm)


def fft(a, n=None, axis=-1, norm=None):
    """One-dimensional discrete Fourier transform along `axis` (length `n`)."""
    return _fft_core_1d("fft", FftType.FFT, a, n, axis, norm)


def ifft(a, n=None, axis=-1, norm=None):
    """Inverse of `fft`."""
    return _fft_core_1d("ifft", FftType.IFFT, a, n, axis, norm)


def rfft(a, n=None, axis=-1, norm=None):
    """Transform of real input: the `n // 2 + 1` non-negative frequencies."""
    return _fft_core_1d("rfft", FftType.RFFT, a, n, axis, norm)


def irfft(a, n=None, axis=-1, norm=None):
    """Inverse of `rfft`: real output of length `n` (default `2 * (m - 1)`)."""
    return _fft_core_1d("irfft", FftType.IRFFT, a, n, axis, norm)


def hfft(a, n=None, axis=-1, norm=None):
    """Transform of a Hermitian-symmetric signal given by its first half: real output."""
    conj_a = jnp.conj(a)
    _axis_check_1d("hfft", axis)
    nn = (get_aval(conj_a).shape[axis] - 1) * 2 if n is None else n
    return _fft_core_1d("hfft", FftType.IRFFT, conj_a, n, axis, norm) * nn


def ihfft(a, n=None, axis=-1, norm=None):
    """Inverse of `hfft`."""
    _axis_check_1d("ihfft", axis)
    arr = jnp.asarray(a)
    nn = get_aval(arr).shape[axis] if n is None else n
    out = _fft_core_1d("ihfft", FftType.RFFT, arr, n, axis, norm)
    return jnp.conj(out) * (1 / nn)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core_2d("fft2", FftType.FFT, a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core_2d("ifft2", FftType.IFFT, a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core_2d("rfft2", FftType.RFFT, a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core_2d("irfft2", FftType.IRFFT, a, s, axes, norm)


def fftn(a, s=None, axes=None, norm=None):
    """N-dimensional transform over `axes` (default: all, or the last `len(s)`)."""
    return _fft_core("fftn", FftType.FFT, a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
    return _fft_core("ifftn", FftType.IFFT, a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
    return _fft_core("rfftn", FftType.RFFT, a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    return _fft_core("irfftn", FftType.IRFFT, a, s, axes, norm)


def _check_freq_args(name, n, d):
    if isinstance(n, (list, tuple)):
        raise ValueError(f"The n argument of jax.numpy.fft.{name} only takes an int. "
                         f"Got n = {list(n)}.")
    if isinstance(d, (list, tuple)):
        raise ValueError(f"The d argument of jax.numpy.fft.{name} only takes a single "
                         f"value. Got d = {list(d)}.")


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an `n`-point transform with sample spacing `d`."""
    _check_freq_args("fftfreq", n, d)
    out_dtype = _dtypes.canonicalize_dtype(dtype or _dtypes.default_float())
    dtype = out_dtype if _dtypes.is_inexact(out_dtype) else _dtypes.default_float()
    if _dtypes.is_complex(dtype):
        dtype = np.finfo(dtype).dtype
    i = jnp.arange(n, dtype=dtype)
    k = (i + n // 2) % n - n // 2
    result = k.astype(dtype) / jnp.asarray(d * n, dtype=dtype)
    return result.astype(out_dtype)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """The non-negative sample frequencies `rfft` returns."""
    _check_freq_args("rfftfreq", n, d)
    dtype = dtype or _dtypes.default_float()
    k = jnp.arange(0, n // 2 + 1, dtype=dtype)
    return k / jnp.asarray(d * n, dtype=dtype)


def _shift(x, axes, sign):
    x = jnp.asarray(x)
    shape = get_aval(x).shape
    if axes is None:
        axes = tuple(range(len(shape)))
        shift = [sign * (dim // 2) for dim in shape]
    elif isinstance(axes, int):
        shift = sign * (shape[axes] // 2)
    else:
        shift = [sign * (shape[ax] // 2) for ax in axes]
    return jnp.roll(x, shift, axes)


def fftshift(x, axes=None):
    """Move the zero frequency to the centre."""
    return _shift(x, axes, 1)


def ifftshift(x, axes=None):
    """Inverse of `fftshift`."""
    return _shift(x, axes, -1)
