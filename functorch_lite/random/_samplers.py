"""Samplers: every distribution is a transformation of `random_bits`, written as
JAX writes it so that the draws are bit-identical for the same key."""
import functools

import ml_dtypes
import numpy as np

from .. import _dtypes, lax, numpy
from .._core import canonicalize_shape, get_aval
from .._jit import jit
from ._prng import UINT_DTYPES, _check_key, random_bits, split


def _float_dtype(dtype, name):
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_float(dtype):
        raise ValueError(f"dtype argument to `{name}` must be a float dtype, got {dtype}")
    return dtype


_shape = canonicalize_shape


def _check_shape(name, shape, *param_shapes):
    if param_shapes:
        try:
            full = np.broadcast_shapes(shape, *param_shapes)
        except ValueError:
            raise ValueError(f"{name}: incompatible shapes for broadcasting: shape argument "
                             f"{tuple(shape)} and parameter shapes "
                             f"{', '.join(map(str, param_shapes))}.") from None
        if full != tuple(shape):
            raise ValueError(f"{name} parameter shapes must be broadcast-compatible with "
                             f"shape argument, and the result of broadcasting the shapes "
                             f"must equal the shape argument, but got result {full} for "
                             f"shape argument {shape}.")


def _broadcast_shape(name, shape, *params):
    """The result shape of a sampler with array parameters: `shape`, checked against
    the parameters' shapes, or their broadcast shape when `shape` is None."""
    param_shapes = [get_aval(p).shape for p in params]
    if shape is None:
        return tuple(np.broadcast_shapes(*param_shapes)) if param_shapes else ()
    shape = _shape(shape)
    _check_shape(name, shape, *param_shapes)
    return shape


def _jnp():
    return numpy


def _to_rank(x, rank):
    aval = get_aval(x)
    return lax.reshape(x, (1,) * (rank - aval.ndim) + aval.shape)


# --- uniform and its direct transformations -----------------------------------------

def uniform(key, shape=(), dtype=None, minval=0., maxval=1.):
    """Uniform floats in [minval, maxval)."""
    key = _check_key("uniform", key)
    return _uniform(key, minval, maxval, _shape(shape), _float_dtype(dtype, "uniform"))


@functools.partial(jit, static_argnums=(3, 4))
def _uniform(key, minval, maxval, shape, dtype):
    jnp = _jnp()
    _check_shape("uniform", shape)
    minval = _to_rank(lax.convert_element_type(minval, dtype), len(shape))
    maxval = _to_rank(lax.convert_element_type(maxval, dtype), len(shape))
    finfo = _finfo(dtype)
    nbits, nmant = finfo.bits, finfo.nmant
    rng_bits = nbits if nmant >= 8 else 8
    uint_dtype = UINT_DTYPES[nbits]
    bits = random_bits(key, rng_bits, shape)
    if rng_bits != nbits:
        bits = lax.convert_element_type(bits, uint_dtype)
    # random mantissa with exponent 0: a float in [1, 2); shift and scale to the range
    float_bits = lax.bitwise_or(
        lax.shift_right_logical(bits, lax.full(shape, rng_bits - nmant, uint_dtype)),
        lax.full(shape, np.array(1.0, dtype).view(uint_dtype), uint_dtype))
    floats = lax.sub(lax.bitcast_convert_type(float_bits, dtype), lax.full(shape, 1, dtype))
    return jnp.maximum(minval, jnp.add(jnp.multiply(floats, jnp.subtract(maxval, minval)),
                                       minval))


def _finfo(dtype):
    return ml_dtypes.finfo(dtype) if dtype == _dtypes.bfloat16 else np.finfo(dtype)


def normal(key, shape=(), dtype=None):
    """Standard normal samples (complex dtypes: independent real and imaginary parts
    with total variance 1)."""
    key = _check_key("normal", key)
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_inexact(dtype):
        raise ValueError(f"dtype argument to `normal` must be a float or complex dtype, "
                         f"got {dtype}")
    return _normal(key, _shape(shape), dtype)


@functools.partial(jit, static_argnums=(1, 2))
def _normal(key, shape, dtype):
    if _dtypes.is_complex(dtype):
        real = np.dtype(np.float32 if dtype == np.complex64 else np.float64)
        key_re, key_im = split(key)
        re = lax.convert_element_type(_normal_real(key_re, shape, real), dtype)
        im = lax.convert_element_type(_normal_real(key_im, shape, real), dtype)
        sqrt2 = lax.full(shape, np.sqrt(2), dtype)
        return lax.div(lax.add(re, lax.mul(im, lax.full(shape, 1j, dtype))), sqrt2)
    return _normal_real(key, shape, dtype)


def _normal_real(key, shape, dtype):
    lo = np.nextafter(np.array(-1., dtype), np.array(0., dtype), dtype=dtype)
    u = _uniform(key, lo, np.array(1., dtype), shape, dtype)
    return lax.mul(lax.full(shape, np.sqrt(2), dtype), lax.erf_inv(u))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on lower < x < upper."""
    key = _check_key("truncated_normal", key)
    return _truncated_normal(key, lower, upper, None if shape is None else _shape(shape),
                             _float_dtype(dtype, "truncated_normal"))


@functools.partial(jit, static_argnums=(3, 4))
def _truncated_normal(key, lower, upper, shape, dtype):
    jnp = _jnp()
    if shape is None:
        shape = np.broadcast_shapes(get_aval(lower).shape, get_aval(upper).shape)
    else:
        _check_shape("truncated_normal", shape, get_aval(lower).shape,
                     get_aval(upper).shape)
    sqrt2 = np.array(np.sqrt(2), dtype)
    lower = lax.convert_element_type(lower, dtype)
    upper = lax.convert_element_type(upper, dtype)
    a = lax.erf(jnp.divide(lower, sqrt2))
    b = lax.erf(jnp.divide(upper, sqrt2))
    u = _uniform(key, a, b, shape, dtype)
    out = jnp.multiply(sqrt2, lax.erf_inv(u))
    # clamp into the open interval (rounding may land on a bound)
    lo = lax.nextafter(lax.stop_gradient(lower), lax.full_like(lower, np.inf))
    hi = lax.nextafter(lax.stop_gradient(upper), lax.full_like(upper, -np.inf))
    return jnp.minimum(jnp.maximum(out, lo), hi)


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability `p` (`mode="high"`: from two uniforms,
    resolving probabilities below float precision)."""
    if mode not in ("high", "low"):
        raise ValueError(f"got mode={mode!r}, expected 'high' or 'low'")
    key = _check_key("bernoulli", key)
    dtype = get_aval(p).dtype
    if not _dtypes.is_float(dtype):
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got "
                        f"{dtype}.")
    return _bernoulli(key, p, None if shape is None else _shape(shape), mode)


@functools.partial(jit, static_argnums=(2, 3))
def _bernoulli(key, p, shape, mode="low"):
    if shape is None:
        shape = get_aval(p).shape
    else:
        _check_shape("bernoulli", shape, get_aval(p).shape)
    dtype = get_aval(p).dtype
    if mode == "high":
        u = _uniform(key, 0., 1., (2, *shape), dtype)
        u1, u2 = u[0], u[1] * 2. ** -_finfo(dtype).nmant  # the next bits below u1's
        return u2 < p - u1
    return _jnp().less(_uniform(key, 0., 1., shape, dtype), p)


def exponential(key, shape=(), dtype=None):
    """Exponential(1) samples."""
    key = _check_key("exponential", key)
    return _exponential(key, _shape(shape), _float_dtype(dtype, "exponential"))


@functools.partial(jit, static_argnums=(1, 2))
def _exponential(key, shape, dtype):
    u = _uniform(key, 0., 1., shape, dtype)
    return lax.neg(lax.log1p(lax.neg(u)))  # log of 1 - u, in (0, 1]


def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel samples. `mode` "low" (default) draws one uniform per sample;
    "high" two, reaching logits ~32 in float32; "highest" (float32) 64 random bits."""
    key = _check_key("gumbel", key)
    mode = "low" if mode is None else mode
    if mode not in ("highest", "high", "low"):
        raise ValueError(f"Must provide valid mode for gumbel got: {mode}")
    return _gumbel(key, _shape(shape), _float_dtype(dtype, "gumbel"), mode)


@functools.partial(jit, static_argnums=(1, 2, 3))
def _gumbel(key, shape, dtype, mode="low"):
    jnp = _jnp()
    info = _finfo(dtype)
    if mode == "highest" and dtype == np.float32:
        return _gumbel_highest(key, shape)
    if mode in ("high", "highest"):
        u = _uniform(key, 0., 1., (2, *shape), dtype)
        high, low = u[0], u[1]
        x = jnp.where(high >= 0.5, high, high + 2. ** -info.nmant * low + info.tiny)
        return -jnp.log(-jnp.log1p(-x))
    u = _uniform(key, np.array(info.tiny, dtype), 1., shape, dtype)
    return lax.neg(lax.log(lax.neg(lax.log(u))))


def _gumbel_highest(key, shape):
    """float32 Gumbel samples from 64 random bits: u in (0, 1/2) is read as a 64-bit
    fixed-point fraction (of bits or of their complement), then -log(-log1p(-u)) or
    -log(-log(u)) keeps the precision of the smaller side."""
    jnp = _jnp()
    u32 = np.uint32
    bits = random_bits(key, 32, (2, *shape))
    complement = lax.bitwise_not(bits)
    carry = jnp.stack([complement[1] == u32(0xFFFFFFFF), jnp.ones(shape, bool)])
    complement = complement + lax.convert_element_type(carry, u32)  # 2**64 - bits
    flip = bits[0] < u32(1 << 31)
    x = _fixed_point_to_float32(jnp.where(flip, bits, complement))
    return jnp.where(flip, -jnp.log(-jnp.log1p(-x)), -jnp.log(-jnp.log(x)))


def _fixed_point_to_float32(bits):
    """The float32 nearest below the 64-bit fraction (bits[0] high, bits[1] low)."""
    jnp = _jnp()
    u32 = np.uint32
    info = _finfo(np.float32)
    hi, lo = bits[0], bits[1]
    hi_clz, lo_clz = lax.clz(hi), lax.clz(lo)
    mantissa = lax.bitwise_or(lax.shift_left(hi, hi_clz), jnp.where(
        hi_clz == 32, lax.shift_left(lo, lo_clz), lax.shift_right_logical(lo, 32 - hi_clz)))
    mantissa = lax.shift_right_logical(mantissa, u32(info.bits - info.nmant - 1))
    mantissa = lax.bitwise_and(mantissa, u32((1 << info.nmant) - 1))
    exponent = lax.shift_left(-info.minexp - jnp.where(hi_clz == 32, 32 + lo_clz, hi_clz),
                              u32(info.nmant))
    exponent = lax.bitwise_and(exponent, u32((1 << (info.bits - 2)) - (1 << (info.nmant - 1))))
    return lax.bitcast_convert_type(lax.bitwise_or(exponent, mantissa), np.float32)


def laplace(key, shape=(), dtype=None):
    """Laplace(0, 1) samples."""
    key = _check_key("laplace", key)
    return _laplace(key, _shape(shape), _float_dtype(dtype, "laplace"))


@functools.partial(jit, static_argnums=(1, 2))
def _laplace(key, shape, dtype):
    u = _uniform(key, np.array(-1. + _finfo(dtype).epsneg, dtype), 1., shape, dtype)
    return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))))


def logistic(key, shape=(), dtype=None):
    """Standard logistic samples."""
    key = _check_key("logistic", key)
    return _logistic(key, _shape(shape), _float_dtype(dtype, "logistic"))


@functools.partial(jit, static_argnums=(1, 2))
def _logistic(key, shape, dtype):
    x = _uniform(key, np.array(_finfo(dtype).tiny, dtype), 1., shape, dtype)
    return lax.sub(lax.log(x), lax.log1p(lax.neg(x)))


def rademacher(key, shape=(), dtype=None):
    """-1 or +1 with equal probability."""
    key = _check_key("rademacher", key)
    dtype = _dtypes.default_int() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    b = _bernoulli(key, np.float32(0.5), _shape(shape))  # p as a float32 scalar: as JAX
    return lax.convert_element_type(
        lax.sub(lax.mul(lax.convert_element_type(b, dtype), lax.full(b.shape, 2, dtype)),
                lax.full(b.shape, 1, dtype)), dtype)
