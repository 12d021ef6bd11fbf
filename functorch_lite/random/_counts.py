"""Count distributions: poisson, binomial and multinomial, by JAX's algorithms (Knuth's
product of uniforms for small means and Hörmann's transformed rejection, PTRS, for
large ones; inversion by geometric waiting times for small n*p and Hörmann's BTRS
otherwise; multinomial as a scan of conditional binomials). Every loop runs while any
element still needs draws; finished elements keep their value, so each element's draw
is the same whatever else is drawn with it (batched or not)."""
import functools

import numpy as np

from .. import _dtypes, _jax_versions, lax
from .._jit import jit
from ._prng import _check_key, _split
from ._samplers import _check_shape, _jnp, _shape, _uniform
from ..numpy._util import promote_to_inexact


def _isnan(x):
    return lax.ne(x, x)


# --- poisson ----------------------------------------------------------------------

def poisson(key, lam, shape=None, dtype=None):
    """Poisson(lam) counts (integer dtype, default int32/int64)."""
    key = _check_key("poisson", key)
    jnp = _jnp()
    dtype = _dtypes.default_int() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    shape = _shape(shape) if shape is not None else jnp.shape(lam)
    lam = lax.convert_element_type(jnp.broadcast_to(lam, shape), np.float32)
    return _poisson(key, lam, shape, dtype)


@functools.partial(jit, static_argnums=(2, 3, 4))
def _poisson_knuth(key, lam, shape, dtype, max_iters):
    """Count uniforms until their product falls below exp(-lam)."""
    jnp = _jnp()

    def body(carry):
        i, k, rng, log_prod = carry
        rng, subkey = _split(rng, (2,))
        k = lax.select(log_prod > -lam, k + 1, k)
        u = _uniform(subkey, 0., 1., shape, np.float32)
        return i + 1, k, rng, log_prod + jnp.log(u)

    def cond(carry):
        i, log_prod = carry[0], carry[3]
        return (log_prod > -lam).any() & (i < max_iters)

    k_init = lax.full(shape, 0, dtype)
    log_prod_init = lax.full(shape, 0, np.float32)
    k = lax.while_loop(cond, body, (0, k_init, key, log_prod_init))[1]
    return (k - 1).astype(dtype)


@functools.partial(jit, static_argnums=(2, 3, 4))
def _poisson_rejection(key, lam, shape, dtype, max_iters):
    """Hörmann's transformed rejection with squeeze (PTRS), for lam >= 10."""
    log_lam = lax.log(lam)
    b = 0.931 + 2.53 * lax.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)

    def body(carry):
        i, k_out, accepted, key = carry
        key, subkey_0, subkey_1 = _split(key, (3,))
        u = _uniform(subkey_0, 0., 1., shape, lam.dtype) - 0.5
        v = _uniform(subkey_1, 0., 1., shape, lam.dtype)
        u_shifted = 0.5 - abs(u)
        k = lax.floor((2 * a / u_shifted + b) * u + lam + 0.43)
        s = lax.log(v * inv_alpha / (a / (u_shifted * u_shifted) + b))
        t = -lam + k * log_lam - lax.lgamma(k + 1)
        accept1 = (u_shifted >= 0.07) & (v <= v_r)
        reject = (k < 0) | ((u_shifted < 0.013) & (v > u_shifted))
        accept = accept1 | (~reject & (s <= t))
        return i + 1, lax.select(accept, k, k_out), accepted | accept, key

    def cond(carry):
        i, _, accepted, _ = carry
        return (~accepted).any() & (i < max_iters)

    k_init = lax.full(shape, -1, lam.dtype)
    accepted = lax.full(shape, False, np.bool_)
    k = lax.while_loop(cond, body, (0, k_init, accepted, key))[1]
    return k.astype(dtype)


@functools.partial(jit, static_argnums=(2, 3))
def _poisson(key, lam, shape, dtype):
    jnp = _jnp()
    use_knuth = _isnan(lam) | (lam < 10)
    lam_knuth = lax.select(use_knuth, lam, lax.full_like(lam, 0.0))
    lam_rejection = lax.select(use_knuth, lax.full_like(lam, 1e5), lam)
    max_iters = dtype.type(np.iinfo(dtype).max)  # as good as unbounded
    result = lax.select(use_knuth,
                        _poisson_knuth(key, lam_knuth, shape, dtype, max_iters),
                        _poisson_rejection(key, lam_rejection, shape, dtype, max_iters))
    return lax.select(lam == 0, jnp.zeros_like(result), result)


# --- binomial ---------------------------------------------------------------------

_STIRLING_TAIL = np.array([  # log(k!) - (Stirling's approximation) for k = 0..9
    0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
    0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.010411265261972,
    0.00925546218271273, 0.00833056343336287])


def _stirling_approx_tail(k):
    jnp = _jnp()
    tail_values = jnp.array(_STIRLING_TAIL, dtype=k.dtype)
    use_table = k <= 9
    k = lax.clamp(lax.full_like(k, 0.0), k, lax.full_like(k, 9.0))
    kp1sq = (k + 1) * (k + 1)
    approx = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    k = jnp.floor(k)
    return lax.select(use_table, tail_values[jnp.asarray(k, dtype="int32")], approx)


@functools.partial(jit, static_argnums=(3, 4, 5))
def _binomial_inversion(key, count, prob, shape, dtype, max_iters):
    """Count geometric waiting times (in trials) until they exceed `count`."""
    jnp = _jnp()
    log1minusprob = jnp.log1p(-prob)

    def body(carry):
        i, num_geom, geom_sum, key = carry
        subkey, key = _split(key, (2,))
        num_geom_out = lax.select(geom_sum <= count, num_geom + 1, num_geom)
        u = _uniform(subkey, 0., 1., shape, prob.dtype)
        geom = jnp.ceil(jnp.log(u) / log1minusprob)
        return i + 1, num_geom_out, geom_sum + geom, key

    def cond(carry):
        i, geom_sum = carry[0], carry[2]
        return (geom_sum <= count).any() & (i < max_iters)

    zeros = lax.full(shape, 0, prob.dtype)
    k = lax.while_loop(cond, body, (0, zeros, zeros, key))[1]
    return (k - 1).astype(dtype)


@functools.partial(jit, static_argnums=(3, 4, 5))
def _btrs(key, count, prob, shape, dtype, max_iters):
    """Hörmann's transformed rejection with squeeze for the binomial (BTRS)."""
    jnp = _jnp()
    stddev = jnp.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = jnp.floor((count + 1) * prob)

    def body(carry):
        i, k_out, accepted, key = carry
        key, subkey_0, subkey_1 = _split(key, (3,))
        u = _uniform(subkey_0, 0., 1., shape, prob.dtype)
        v = _uniform(subkey_1, 0., 1., shape, prob.dtype)
        u = u - 0.5
        us = 0.5 - jnp.abs(u)
        accept1 = (us >= 0.07) & (v <= v_r)
        k = jnp.floor((2 * a / us + b) * u + c)
        reject = (k < 0) | (k > count)
        v = jnp.log(v * alpha / (a / (us * us) + b))
        upper_bound = ((m + 0.5) * jnp.log((m + 1) / (r * (count - m + 1)))
                       + (count + 1) * jnp.log((count - m + 1) / (count - k + 1))
                       + (k + 0.5) * jnp.log(r * (count - k + 1) / (k + 1))
                       + _stirling_approx_tail(m) + _stirling_approx_tail(count - m)
                       - _stirling_approx_tail(k) - _stirling_approx_tail(count - k))
        accept = accept1 | (~reject & (v <= upper_bound))
        return i + 1, lax.select(accept, k, k_out), accepted | accept, key

    def cond(carry):
        i, accepted = carry[0], carry[2]
        return (~accepted).any() & (i < max_iters)

    k_init = lax.full(shape, -1, prob.dtype)
    carry = (0, k_init, jnp.full(shape, False, bool), key)
    return lax.while_loop(cond, body, carry)[1].astype(dtype)


def binomial(key, n, p, shape=None, dtype=None):
    """Binomial(n, p) counts, as floats (default float32/float64), as in JAX."""
    key = _check_key("binomial", key)
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_float(dtype):
        raise ValueError(f"dtype argument to `binomial` must be a float dtype, got {dtype}")
    return _binomial(key, n, p, None if shape is None else _shape(shape), dtype)


@functools.partial(jit, static_argnums=(3, 4))
def _binomial(key, count, prob, shape, dtype):
    jnp = _jnp()
    if shape is None:
        shape = jnp.broadcast_shapes(jnp.shape(count), jnp.shape(prob))
    else:
        _check_shape("binomial", shape, jnp.shape(count), jnp.shape(prob))
    prob = jnp.asarray(prob)
    if not _dtypes.is_inexact(prob.dtype):
        prob = lax.convert_element_type(prob, _dtypes.default_float(), prob.weak_type)
    count = jnp.broadcast_to(lax.convert_element_type(count, prob.dtype), shape)
    prob = jnp.broadcast_to(prob, shape)
    p_lt_half = prob < 0.5
    q = lax.select(p_lt_half, prob, 1.0 - prob)  # draw the rarer outcome
    count_nan_or_neg = _isnan(count) | (count < 0.0)
    count_inf = jnp.isinf(count)
    q_is_nan = _isnan(q)
    q_l_0 = q < 0.0
    q = lax.select(q_is_nan | q_l_0, lax.full_like(q, 0.01), q)
    use_inversion = count_nan_or_neg | (count * q <= 10.0)
    count = jnp.floor(count)
    count_inv = lax.select(use_inversion, count, lax.full_like(count, 0.0))
    count_btrs = lax.select(use_inversion, lax.full_like(count, 1e4), count)
    q_btrs = lax.select(use_inversion, lax.full_like(q, 0.5), q)
    max_iters = dtype.type(_dtypes.finfo(dtype).max)
    samples = lax.select(use_inversion,
                         _binomial_inversion(key, count_inv, q, shape, dtype, max_iters),
                         _btrs(key, count_btrs, q_btrs, shape, dtype, max_iters))
    invalid = q_l_0 | q_is_nan | count_nan_or_neg
    samples = lax.select(invalid, jnp.full_like(samples, np.nan, dtype), samples)
    samples = lax.select(count_inf & ~invalid, jnp.full_like(samples, np.inf, dtype), samples)
    return lax.select(p_lt_half | count_nan_or_neg | q_is_nan | count_inf, samples,
                      count.astype(dtype) - samples)


def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
    """Multinomial(n, p) counts over the last axis of `p`: a scan of binomial draws of
    each category given the rest. `shape` includes that axis as in JAX 0.10, and is the
    batch shape without it as in JAX 0.12 (we follow the installed JAX)."""
    key = _check_key("multinomial", key)
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    return _multinomial(key, n, p, None if shape is None else _shape(shape), dtype, unroll)


@functools.partial(jit, static_argnums=(3, 4, 5))
def _multinomial(key, n, p, shape, dtype, unroll):
    jnp = _jnp()
    n, p = promote_to_inexact(n, p)
    if shape is not None and _jax_versions.MULTINOMIAL_BATCH_SHAPE:
        shape = (*shape, p.shape[-1])
    shape = p.shape if shape is None else shape
    n = jnp.broadcast_to(n, shape[:-1])
    p = jnp.broadcast_to(p, shape)

    def draw(remainder, ratio_key):
        ratio, key = ratio_key
        count = binomial(key, remainder, ratio.clip(0, 1), dtype=remainder.dtype)
        return remainder - count, count

    p = jnp.moveaxis(p, -1, 0)
    remaining = lax.cumsum(p, 0, reverse=True)
    ratios = p / jnp.where(remaining == 0, 1, remaining)
    keys = _split(key, (ratios.shape[0],))
    _, counts = lax.scan(draw, n, (ratios, keys), unroll=unroll)
    return jnp.moveaxis(counts, 0, -1).astype(dtype)
