"""The fft primitive (`jax.lax.fft`): complex and real discrete Fourier transforms over
the trailing `len(fft_lengths)` axes, lowered to one `stablehlo.fft` as JAX does.

It is linear: its JVP applies it to the tangent and its transpose follows JAX's rules
(the DFT matrix is symmetric, so a complex transform transposes to itself; the real
transforms transpose to each other with a Hermitian mask)."""

__all__ = ["fft", "FftType", "fft_p"]
import enum
import math

import numpy as np

from .. import _dtypes
from .._core import Primitive, get_aval, user_source_line
from .._ad import deflinear
from .._batching import bdim_at_front
from ._values import convert_element_type
from ._structural import broadcast_in_dim, i64_array
from .._runtime import platform
from ._elementwise import conj, div, mul


class FftType(enum.IntEnum):
    """Which transform `lax.fft` computes (the same values as `jax.lax.FftType`)."""
    FFT = 0    # forward complex-to-complex
    IFFT = 1   # inverse complex-to-complex
    RFFT = 2   # forward real-to-complex
    IRFFT = 3  # inverse complex-to-real


_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}
_REAL_OF = {v: k for k, v in _COMPLEX_OF.items()}


def _fft_type(fft_type):
    if isinstance(fft_type, FftType):
        return fft_type
    if isinstance(fft_type, str) and fft_type.upper() in FftType.__members__:
        return FftType[fft_type.upper()]
    if type(fft_type).__name__ == "FftType":  # jax.lax.FftType: same values
        return FftType(int(fft_type))
    raise ValueError(f"Unknown FFT type {fft_type!r}: expected one of 'fft', 'ifft', "
                     f"'rfft', 'irfft' or a lax.FftType")


def _inexact(dtype):
    return dtype if _dtypes.is_inexact(dtype) else _dtypes.default_float()


def _complex(dtype):
    dtype = _inexact(dtype)
    return dtype if _dtypes.is_complex(dtype) else _COMPLEX_OF.get(
        np.dtype(dtype), _dtypes.canonicalize_dtype(np.complex64))


fft_p = Primitive("fft")


def fft(x, fft_type, fft_lengths):
    """`jax.lax.fft`: the transform `fft_type` over the last `len(fft_lengths)` axes.
    RFFT takes real input and keeps `n // 2 + 1` frequencies of the last axis; IRFFT
    returns real values of the lengths given."""
    typ = _fft_type(fft_type)
    dtype = get_aval(x).dtype
    if typ == FftType.RFFT:
        if _dtypes.is_complex(dtype):
            raise ValueError(f"only real valued inputs supported for rfft\n"
                             f"  at {user_source_line()}")
        x = convert_element_type(x, _inexact(dtype))
    else:
        x = convert_element_type(x, _complex(dtype))
    fft_lengths = tuple(int(n) for n in fft_lengths)
    if not fft_lengths:  # XLA has no rank-0 transform
        return x
    return fft_p.bind(x, fft_type=typ, fft_lengths=fft_lengths)


@fft_p.def_abstract_eval
def _fft_abstract_eval(x, *, fft_type, fft_lengths):
    k = len(fft_lengths)
    where = f"\n  at {user_source_line()}"
    if k > x.ndim:
        raise ValueError(f"FFT input shape {x.shape} must have at least as many input "
                         f"dimensions as fft_lengths {fft_lengths}.{where}")
    if fft_type == FftType.RFFT:
        if x.dtype not in _COMPLEX_OF:
            raise ValueError(f"RFFT input must be float32 or float64, got {x.dtype}{where}")
        if x.shape[-k:] != fft_lengths:
            raise ValueError(f"RFFT input shape {x.shape} minor dimensions must be equal "
                             f"to fft_lengths {fft_lengths}{where}")
        shape = x.shape[:-k] + fft_lengths[:-1] + (fft_lengths[-1] // 2 + 1,)
        return x.update(shape=shape, dtype=_COMPLEX_OF[x.dtype])
    if not _dtypes.is_complex(x.dtype):
        raise ValueError(f"{fft_type.name} input must be complex64 or complex128, got "
                         f"{x.dtype}{where}")
    if fft_type == FftType.IRFFT:
        if x.shape[-k:-1] != fft_lengths[:-1]:
            raise ValueError(f"IRFFT input shape {x.shape} minor dimensions must be equal "
                             f"to all except the last fft_length, got fft_lengths="
                             f"{fft_lengths}{where}")
        return x.update(shape=x.shape[:-k] + fft_lengths, dtype=_REAL_OF[x.dtype])
    if x.shape[-k:] != fft_lengths:
        raise ValueError(f"FFT input shape {x.shape} minor dimensions must be equal to "
                         f"fft_lengths {fft_lengths}{where}")
    return x


def _fft_op(ctx, x, fft_type, fft_lengths, out_aval):
    return ctx.op("stablehlo.fft", [x], [out_aval], attrs={
        "fft_type": f"#stablehlo<fft_type {fft_type.name}>",
        "fft_length": i64_array(fft_lengths)})


def _transpose_op(ctx, x, aval, perm):
    out = aval.update(shape=tuple(aval.shape[p] for p in perm))
    return ctx.op("stablehlo.transpose", [x], [out],
                  attrs={"permutation": i64_array(perm)}), out


@fft_p.def_lowering
def _fft_lowering(ctx, x, *, fft_type, fft_lengths):
    aval_in, aval_out = ctx.avals_in[0], ctx.avals_out[0]
    if fft_type != FftType.IRFFT or len(fft_lengths) == 1 or platform() == "cpu":
        return _fft_op(ctx, x, fft_type, fft_lengths, aval_out)
    # As JAX on GPU: cuFFT's multi-dimensional C2R transform assumes Hermitian symmetry
    # in every axis, so the outer axes get a complex IFFT and the last axis a 1-D IRFFT.
    rank, k = aval_in.ndim, len(fft_lengths)
    to_front = list(range(rank))
    to_front.insert(rank - k, to_front.pop(-1))
    x, aval = _transpose_op(ctx, x, aval_in, to_front)
    x = _fft_op(ctx, x, FftType.IFFT, fft_lengths[:-1], aval)
    back = list(range(rank))
    back.append(back.pop(rank - k))
    x, aval = _transpose_op(ctx, x, aval, back)
    return _fft_op(ctx, x, FftType.IRFFT, fft_lengths[-1:], aval_out)


def _hermitian_mask(n_out, n, dtype, ndim):
    """Weights along the last RFFT axis: 1 at DC (and Nyquist for even n), else 2 (the
    frequencies RFFT drops are the conjugates of the ones it keeps)."""
    mask = np.full((n_out,), 2.0)
    mask[0] = 1.0
    if n % 2 == 0:
        mask[-1] = 1.0
    return np.asarray(mask, dtype).reshape((1,) * (ndim - 1) + (n_out,))


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    ct_aval = get_aval(ct)
    if fft_type == FftType.RFFT:  # the transpose of RFFT is a masked IRFFT
        n = math.prod(fft_lengths)
        mask = _hermitian_mask(ct_aval.shape[-1], fft_lengths[-1], ct_aval.dtype, ct_aval.ndim)
        scaled = div(conj(ct), broadcast_in_dim(mask, ct_aval.shape, range(ct_aval.ndim)))
        out = fft(scaled, FftType.IRFFT, fft_lengths)
        return [mul(out, np.asarray(n, get_aval(out).dtype))]
    if fft_type == FftType.IRFFT:  # the transpose of IRFFT is a masked RFFT
        out = fft(ct, FftType.RFFT, fft_lengths)
        aval = get_aval(out)
        mask = _hermitian_mask(aval.shape[-1], fft_lengths[-1], aval.dtype, aval.ndim)
        mask = mask / math.prod(fft_lengths)
        return [conj(mul(out, broadcast_in_dim(mask.astype(aval.dtype), aval.shape,
                                               range(aval.ndim))))]
    return [fft(ct, fft_type, fft_lengths)]  # the DFT matrix is symmetric


deflinear(fft_p, _fft_transpose)


@fft_p.def_batching
def _fft_batching(axis_data, vals, dims, *, fft_type, fft_lengths):
    (x,), (d,) = vals, dims
    return fft_p.bind(bdim_at_front(axis_data.size, x, d), fft_type=fft_type,
                      fft_lengths=fft_lengths), 0
