"""The gamma sampler and the distributions built on it (beta, dirichlet, chisquare, f, t,
generalized_normal, ball).

`random_gamma_p` is a primitive, as in JAX: one key per array of shape parameters,
split into one key per element, each drawn by Marsaglia and Tsang's rejection method
("A simple method for generating gamma variables", 2000) in a `while_loop`. Its JVP is
the implicit reparameterisation gradient dx/da = -(dF/da) / (dF/dx) at the sample
(`lax.random_gamma_grad`), so gamma-based samples are differentiable in their
parameters, as in JAX."""
import functools
import math

import numpy as np

from .. import lax
from .._ad import defjvp
from .._api_vmap import vmap
from .._batching import bdim_at_front
from .._core import Primitive, get_aval, user_source_line
from .._jit import jit
from ..lax._linalg_kernels import composite_lowering
from ._prng import _check_key, _split
from ._samplers import (_broadcast_shape, _exponential, _finfo, _float_dtype, _jnp, _normal,
                        _shape, _check_shape, _uniform, rademacher)
from ..nn import softmax


def _gamma_one(key, alpha, log_space):
    """One Gamma(alpha) draw (alpha a scalar); alpha < 1 is boosted to alpha + 1 and
    scaled back by u^(1/alpha) (in log space: + log(u) / alpha)."""
    dtype = get_aval(alpha).dtype
    zero, one = lax.full((), 0, dtype), lax.full((), 1, dtype)
    boost_mask = lax.ge(alpha, one)
    alpha_orig = alpha
    alpha = lax.select(boost_mask, alpha, lax.add(alpha, one))
    d = lax.sub(alpha, lax.full((), 1 / 3, dtype))
    c = lax.div(lax.full((), 1 / 3, dtype), lax.sqrt(d))

    def rejected(state):
        _, x, v, u = state
        squeeze = lax.ge(u, lax.sub(one, lax.mul(lax.full((), 0.0331, dtype), lax.mul(x, x))))
        log_test = lax.ge(lax.log(u), lax.add(
            lax.mul(x, lax.full((), 0.5, dtype)),
            lax.mul(d, lax.add(lax.sub(one, v), lax.log(v)))))
        return lax.bitwise_and(squeeze, log_test)

    def propose(state):
        def next_normal(kxv):
            key, subkey = _split(kxv[0], (2,))
            x = _normal(subkey, (), dtype)
            return key, x, lax.add(one, lax.mul(x, c))

        key, x_key, u_key = _split(state[0], (3,))
        _, x, v = lax.while_loop(lambda kxv: lax.le(kxv[2], zero), next_normal,
                                 (x_key, zero, lax.full((), -1, dtype)))
        return key, lax.mul(x, x), lax.mul(lax.mul(v, v), v), _uniform(u_key, 0., 1., (), dtype)

    key, subkey = _split(key, (2,))
    _, _, v, _ = lax.while_loop(rejected, propose, (key, zero, one, lax.full((), 2, dtype)))
    if log_space:
        log_u = lax.neg(_exponential(subkey, (), dtype))
        log_boost = lax.select(lax.bitwise_or(boost_mask, lax.eq(log_u, zero)), zero,
                               lax.mul(log_u, lax.div(one, alpha_orig)))
        return lax.add(lax.add(lax.log(d), lax.log(v)), log_boost)
    u = 1 - _uniform(subkey, 0., 1., (), dtype)
    boost = lax.select(boost_mask, one, lax.pow(u, lax.div(one, alpha_orig)))
    return lax.mul(lax.mul(d, v), boost)


random_gamma_p = Primitive("random_gamma")


@random_gamma_p.def_abstract_eval
def _random_gamma_abstract_eval(key, a, *, log_space):
    if key.dtype != np.uint32 or key.shape[-1:] != (2,) or \
            key.shape[:-1] != a.shape[:key.ndim - 1]:
        raise TypeError(f"random_gamma takes key data uint32[..., 2] whose leading shape "
                        f"prefixes a's shape, got {key.str_short()} and {a.str_short()}."
                        f"\n  at {user_source_line()}")
    return a


def _random_gamma_impl(key, a, *, log_space):
    """Split each key into one key per element of its slice of `a`, then draw all
    elements at once (a batched while loop: each element stops at its own acceptance)."""
    a_shape = get_aval(a).shape
    key_shape = get_aval(key).shape[:-1]
    if not math.prod(a_shape):
        return a
    per_key = math.prod(a_shape[len(key_shape):])
    keys = lax.reshape(key, (math.prod(key_shape), 2))
    keys = lax.reshape(vmap(lambda k: _split(k, (per_key,)))(keys), (math.prod(a_shape), 2))
    alphas = lax.reshape(a, (math.prod(a_shape),))
    samples = vmap(functools.partial(_gamma_one, log_space=log_space))(keys, alphas)
    return lax.reshape(samples, a_shape)


random_gamma_p.lowering_rule = composite_lowering(_random_gamma_impl, "random_gamma",
                                                  multiple_results=False)


def _random_gamma_grad(g, sample, key, a, *, log_space):
    if not log_space:
        return lax.mul(g, lax.random_gamma_grad(a, sample))
    # d log(x) / da = (dx/da) / x, with x = exp(sample) kept above zero
    x = lax.exp(sample)
    tiny = lax.full_like(x, _finfo(get_aval(x).dtype).tiny)
    x = lax.select(lax.eq(x, lax.full_like(x, 0)), tiny, x)
    return lax.mul(g, lax.div(lax.random_gamma_grad(a, x), x))


defjvp(random_gamma_p, None, _random_gamma_grad)  # the key is integer: no tangent


@random_gamma_p.def_batching
def _random_gamma_batching(axis_data, vals, dims, *, log_space):
    key, a = (bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims))
    return random_gamma_p.bind(key, a, log_space=log_space), 0


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a) samples (unit scale), differentiable in `a`."""
    key = _check_key("gamma", key)
    return _gamma(key, a, None if shape is None else _shape(shape),
                  _float_dtype(dtype, "gamma"), False)


def loggamma(key, a, shape=None, dtype=None):
    """log of Gamma(a) samples, computed in log space (accurate for small `a`)."""
    key = _check_key("loggamma", key)
    return _gamma(key, a, None if shape is None else _shape(shape),
                  _float_dtype(dtype, "gamma"), True)


@functools.partial(jit, static_argnums=(2, 3, 4))
def _gamma(key, a, shape, dtype, log_space):
    if shape is None:
        shape = get_aval(a).shape
    else:
        _check_shape("gamma", shape, get_aval(a).shape)
    a = lax.convert_element_type(a, dtype)
    if get_aval(a).shape != shape:
        a = _jnp().broadcast_to(a, shape)
    return random_gamma_p.bind(key, a, log_space=log_space)


def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) samples: G_a / (G_a + G_b), from log-space gamma draws."""
    key = _check_key("beta", key)
    return _beta(key, a, b, _broadcast_shape("beta", shape, a, b), _float_dtype(dtype, "beta"))


@functools.partial(jit, static_argnums=(3, 4))
def _beta(key, a, b, shape, dtype):
    jnp = _jnp()
    key_a, key_b = _split(key, (2,))
    a = jnp.broadcast_to(lax.convert_element_type(a, dtype), shape)
    b = jnp.broadcast_to(lax.convert_element_type(b, dtype), shape)
    log_gamma_a = _gamma(key_a, a, shape, dtype, True)
    log_gamma_b = _gamma(key_b, b, shape, dtype, True)
    log_max = lax.max(log_gamma_a, log_gamma_b)  # the ratio without overflow
    gamma_a = jnp.exp(log_gamma_a - log_max)
    gamma_b = jnp.exp(log_gamma_b - log_max)
    return gamma_a / (gamma_a + gamma_b)


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) samples (the last axis of `alpha` is the simplex); the result
    has shape `shape + alpha.shape[-1:]` (default `alpha.shape`)."""
    key = _check_key("dirichlet", key)
    return _dirichlet(key, alpha, None if shape is None else _shape(shape),
                      _float_dtype(dtype, "dirichlet"))


@functools.partial(jit, static_argnums=(2, 3))
def _dirichlet(key, alpha, shape, dtype):
    alpha_shape = get_aval(alpha).shape
    if not alpha_shape:
        raise ValueError(f"dirichlet requires alpha.ndim >= 1, got alpha.ndim == 0")
    if shape is None:
        shape = alpha_shape[:-1]
    else:
        _check_shape("dirichlet", shape, alpha_shape[:-1])
    alpha = lax.convert_element_type(alpha, dtype)
    # normalise gamma draws taken in log space (small alpha underflows otherwise)
    return softmax(_gamma(key, alpha, (*shape, alpha_shape[-1]), dtype, True), -1)


def chisquare(key, df, shape=None, dtype=None):
    """Chi-square samples with `df` degrees of freedom: 2 Gamma(df / 2)."""
    key = _check_key("chisquare", key)
    return _chisquare(key, df, _broadcast_shape("chisquare", shape, df),
                      _float_dtype(dtype, "chisquare"))


@functools.partial(jit, static_argnums=(2, 3))
def _chisquare(key, df, shape, dtype):
    df = lax.convert_element_type(df, dtype)
    two = lax.full_like(df, 2)
    log_g = _gamma(key, lax.div(df, two), shape, dtype, True)
    return lax.mul(_jnp().exp(log_g), lax.full_like(log_g, 2))


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F-distribution samples: (X1 / dfnum) / (X2 / dfden) for chi-square X1, X2."""
    key = _check_key("f", key)
    return _f(key, dfnum, dfden, _broadcast_shape("f", shape, dfnum, dfden),
              _float_dtype(dtype, "f"))


@functools.partial(jit, static_argnums=(3, 4))
def _f(key, dfnum, dfden, shape, dtype):
    dfden = lax.convert_element_type(dfden, dtype)
    dfnum = lax.convert_element_type(dfnum, dtype)
    key_dfd, key_dfn = _split(key, (2,))
    chi2_dfn = _chisquare(key_dfn, dfnum, shape, dtype)
    chi2_dfd = _chisquare(key_dfd, dfden, shape, dtype)
    return lax.div(_jnp().divide(chi2_dfn, dfnum), _jnp().divide(chi2_dfd, dfden))


def t(key, df, shape=None, dtype=None):
    """Student's t samples: Z sqrt((df/2) / Gamma(df/2))."""
    key = _check_key("t", key)
    return _t(key, df, _broadcast_shape("t", shape, df), _float_dtype(dtype, "t"))


@functools.partial(jit, static_argnums=(2, 3))
def _t(key, df, shape, dtype):
    jnp = _jnp()
    df = lax.convert_element_type(df, dtype)
    key_n, key_g = _split(key, (2,))
    n = _normal(key_n, shape, dtype)
    half_df = lax.div(df, lax.full_like(df, 2))
    g = _gamma(key_g, half_df, shape, dtype, False)
    return n * jnp.sqrt(half_df / g)


def generalized_normal(key, p, shape=(), dtype=None):
    """Samples with density proportional to exp(-|x|^p): sign * Gamma(1/p)^(1/p)."""
    key = _check_key("generalized_normal", key)
    return _generalized_normal(key, p, _shape(shape), _float_dtype(dtype, "generalized_normal"))


@functools.partial(jit, static_argnums=(2, 3))
def _generalized_normal(key, p, shape, dtype):
    k1, k2 = _split(key, (2,))
    g = _gamma(k1, 1 / p, shape, dtype, False)
    r = rademacher(k2, shape, dtype)
    return r * g ** (1 / p)


def ball(key, d, p=2, shape=(), dtype=None):
    """Points uniform in the unit p-norm ball of dimension `d` (shape `shape + (d,)`)."""
    key = _check_key("ball", key)
    return _ball(key, p, int(d), _shape(shape), _float_dtype(dtype, "ball"))


@functools.partial(jit, static_argnums=(2, 3, 4))
def _ball(key, p, d, shape, dtype):
    jnp = _jnp()
    k1, k2 = _split(key, (2,))
    g = _generalized_normal(k1, p, (*shape, d), dtype)
    e = _exponential(k2, shape, dtype)
    return g / (((jnp.abs(g) ** p).sum(-1) + e) ** (1 / p))[..., None]
