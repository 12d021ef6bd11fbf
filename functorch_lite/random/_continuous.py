"""Continuous distributions that are direct transformations of uniform, normal or
exponential draws (and geometric, an integer one of the same kind), each written with
JAX's operations in JAX's order so that the bits agree."""
import functools

import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from .._jit import jit
from ._prng import _check_key, _split
from ._samplers import (_broadcast_shape, _exponential, _finfo, _float_dtype, _jnp, _normal,
                        _shape, _uniform, rademacher)


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy samples: tan(pi (u - 1/2))."""
    key = _check_key("cauchy", key)
    return _cauchy(key, _shape(shape), _float_dtype(dtype, "cauchy"))


@functools.partial(jit, static_argnums=(1, 2))
def _cauchy(key, shape, dtype):
    u = _uniform(key, np.array(_finfo(dtype).eps, dtype), 1., shape, dtype)
    return lax.tan(lax.mul(lax.full_like(u, np.pi), lax.sub(u, lax.full_like(u, 0.5))))


def pareto(key, b, shape=None, dtype=None):
    """Pareto samples with shape parameter `b` (support x >= 1): exp(E / b)."""
    key = _check_key("pareto", key)
    return _pareto(key, b, _broadcast_shape("pareto", shape, b), _float_dtype(dtype, "pareto"))


@functools.partial(jit, static_argnums=(2, 3))
def _pareto(key, b, shape, dtype):
    b = lax.convert_element_type(b, dtype)
    return lax.exp(_jnp().divide(_exponential(key, shape, dtype), b))


def lognormal(key, sigma=np.float32(1), shape=None, dtype=None):
    """exp(sigma Z) for a standard normal Z."""
    key = _check_key("lognormal", key)
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_inexact(dtype):
        raise ValueError(f"dtype argument to `lognormal` must be a float or complex dtype, "
                         f"got {dtype}")
    return _lognormal(key, sigma, _broadcast_shape("lognormal", shape, sigma), dtype)


@functools.partial(jit, static_argnums=(2, 3))
def _lognormal(key, sigma, shape, dtype):
    sigma = lax.convert_element_type(sigma, dtype)
    return lax.exp(_jnp().multiply(_normal(key, shape, dtype), sigma))


def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh samples: scale * sqrt(-2 log u)."""
    key = _check_key("rayleigh", key)
    return _rayleigh(key, scale, _broadcast_shape("rayleigh", shape, scale),
                     _float_dtype(dtype, "rayleigh"))


@functools.partial(jit, static_argnums=(2, 3))
def _rayleigh(key, scale, shape, dtype):
    u = _uniform(key, 0., 1., shape, dtype)
    scale = _jnp().broadcast_to(lax.convert_element_type(scale, dtype), shape)
    return lax.mul(scale, lax.sqrt(lax.mul(lax.log(u), lax.full_like(u, -2))))


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian) samples with the given mean and unit shape parameter
    (Michael, Schucany and Haas's transformation of a normal and a uniform)."""
    key = _check_key("wald", key)
    return _wald(key, mean, _broadcast_shape("wald", shape, mean), _float_dtype(dtype, "wald"))


@functools.partial(jit, static_argnums=(2, 3))
def _wald(key, mean, shape, dtype):
    k1, k2 = _split(key, (2,))
    mean = _jnp().broadcast_to(lax.convert_element_type(mean, dtype), shape)
    v = _normal(k1, shape, dtype)
    z = _uniform(k2, 0., 1., shape, dtype)
    y = lax.integer_pow(v, 2)
    y_sq = lax.integer_pow(y, 2)
    mean_sq = lax.integer_pow(mean, 2)
    sqrt_term = lax.sqrt(4 * mean * y + mean_sq * y_sq)
    x = mean + mean_sq * y / 2 - mean / 2 * sqrt_term
    return lax.select(lax.le(z, mean / (mean + x)), x, mean_sq / x)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull samples: scale * (-log(1 - u)) ** (1 / concentration)."""
    key = _check_key("weibull_min", key)
    return _weibull_min(key, scale, concentration, _shape(shape),
                        _float_dtype(dtype, "weibull_min"))


@functools.partial(jit, static_argnums=(3, 4))
def _weibull_min(key, scale, concentration, shape, dtype):
    jnp = _jnp()
    u = _uniform(key, 0, 1, shape, dtype)
    return jnp.power(-jnp.log1p(-u), 1.0 / concentration) * scale


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular samples on [left, right] with the given mode (inverse CDF)."""
    key = _check_key("triangular", key)
    return _triangular(key, left, mode, right,
                       _broadcast_shape("triangular", shape, left, mode, right),
                       _float_dtype(dtype, "triangular"))


@functools.partial(jit, static_argnums=(4, 5))
def _triangular(key, left, mode, right, shape, dtype):
    jnp = _jnp()
    left, mode, right = (jnp.broadcast_to(lax.convert_element_type(v, dtype), shape)
                         for v in (left, mode, right))
    fc = (mode - left) / (right - left)
    u = _uniform(key, 0., 1., shape, dtype)
    out1 = left + lax.sqrt(u * (right - left) * (mode - left))
    out2 = right - lax.sqrt((1 - u) * (right - left) * (right - mode))
    return lax.select(u < fc, out1, out2)


def maxwell(key, shape=(), dtype=None):
    """Maxwell samples: the norm of a standard normal 3-vector."""
    key = _check_key("maxwell", key)
    return _maxwell(key, _shape(shape), _float_dtype(dtype, "maxwell"))


@functools.partial(jit, static_argnums=(1, 2))
def _maxwell(key, shape, dtype):
    return _jnp().linalg.norm(_normal(key, (*shape, 3), dtype), axis=-1)


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Maxwell samples with a random sign, scaled and shifted; the result has shape
    `shape + broadcast(loc, scale).shape` (`shape` defaults to the parameters' shape),
    as in JAX."""
    key = _check_key("double_sided_maxwell", key)
    return _double_sided_maxwell(key, loc, scale, _shape(shape),
                                 _float_dtype(dtype, "double_sided_maxwell"))


@functools.partial(jit, static_argnums=(3, 4))
def _double_sided_maxwell(key, loc, scale, shape, dtype):
    params_shape = np.broadcast_shapes(get_aval(loc).shape, get_aval(scale).shape)
    shape = (*(shape or params_shape), *params_shape)
    maxwell_key, sign_key = _split(key, (2,))
    magnitude = _maxwell(maxwell_key, shape, dtype)
    sign = rademacher(sign_key, shape, dtype)
    return sign * magnitude * scale + loc


def geometric(key, p, shape=None, dtype=None):
    """Number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    key = _check_key("geometric", key)
    dtype = _dtypes.default_int() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_integer(dtype):
        raise ValueError(f"dtype argument to `geometric` must be an int dtype, got {dtype}")
    return _geometric(key, p, _broadcast_shape("geometric", shape, p), dtype)


@functools.partial(jit, static_argnums=(2, 3))
def _geometric(key, p, shape, dtype):
    jnp = _jnp()
    p = jnp.asarray(p)
    if not _dtypes.is_inexact(get_aval(p).dtype):
        p = lax.convert_element_type(p, _dtypes.default_float(), get_aval(p).weak_type)
    u = _uniform(key, 0., 1., shape, get_aval(p).dtype)
    u = jnp.where(u == 0, 1, u)
    log_one_minus_p = jnp.broadcast_to(lax.log1p(-p), shape)
    g = lax.floor(lax.div(lax.log(u), log_one_minus_p)) + 1
    return lax.convert_element_type(g, dtype)
