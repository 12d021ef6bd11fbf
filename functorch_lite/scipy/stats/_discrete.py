"""Probability mass functions (and bernoulli's and poisson's distribution functions)
of the discrete distributions of `jax.scipy.stats`, with SciPy's `loc` shift."""
import numpy as np

from ... import _dtypes
from ... import numpy as jnp
from .._prob_util import compile_eager, promote_real
from .. import special


def bernoulli_logpmf(k, p, loc=0):
    k, p, loc = promote_real("bernoulli.logpmf", k, p, loc)
    x = k - loc
    value = special.xlogy(x, p) + special.xlog1py(1 - x, -p)
    return jnp.where((x < 0) | (x > 1), -np.inf, value)


def bernoulli_pmf(k, p, loc=0):
    return jnp.exp(bernoulli_logpmf(k, p, loc))


def bernoulli_cdf(k, p):
    k, p = promote_real("bernoulli.cdf", k, p)
    invalid = jnp.isnan(k) | jnp.isnan(p) | (p < 0) | (p > 1)
    value = jnp.where(k < 0, 0.0, jnp.where(k < 1, 1 - p, 1.0))
    return jnp.where(invalid, np.nan, value).astype(k.dtype)


def bernoulli_ppf(q, p):
    q, p = promote_real("bernoulli.ppf", q, p)
    invalid = jnp.isnan(q) | jnp.isnan(p) | (p < 0) | (p > 1) | (q < 0) | (q > 1)
    return jnp.where(invalid, np.nan, jnp.where(q <= 1 - p, 0.0, 1.0)).astype(q.dtype)


def binom_logpmf(k, n, p, loc=0):
    k, n, p, loc = promote_real("binom.logpmf", k, n, p, loc)
    y = k - loc
    log_choose = special.gammaln(n + 1) - (special.gammaln(y + 1) + special.gammaln(n - y + 1))
    log_linear = special.xlogy(y, p) + special.xlog1py(n - y, -p)
    value = jnp.where(((y == 0) & (n == 0)) | (log_linear == 0), 0.0, log_choose + log_linear)
    return jnp.where((k >= loc) & (k < loc + n + 1), value, -np.inf).astype(k.dtype)


def binom_pmf(k, n, p, loc=0):
    return jnp.exp(binom_logpmf(k, n, p, loc))


def betabinom_logpmf(k, n, a, b, loc=0):
    k, n, a, b, loc = promote_real("betabinom.logpmf", k, n, a, b, loc)
    y = jnp.floor(k) - loc
    log_choose = -(jnp.log1p(n) + special.betaln(n - y + 1, y + 1))
    value = log_choose + special.betaln(y + a, n - y + b) - special.betaln(a, b)
    value = jnp.where((y == 0) & (n == 0), 0.0, value)
    value = jnp.where((y < -loc) | (y > n) | (y + a <= 0), -np.inf, value)
    return jnp.where((n < 0) | (a <= 0) | (b <= 0), np.nan, value).astype(k.dtype)


def betabinom_pmf(k, n, a, b, loc=0):
    return jnp.exp(betabinom_logpmf(k, n, a, b, loc))


def geom_logpmf(k, p, loc=0):
    k, p, loc = promote_real("geom.logpmf", k, p, loc)
    x = k - loc
    return jnp.where(x <= 0, -np.inf, special.xlog1py(x - 1, -p) + jnp.log(p))


def geom_pmf(k, p, loc=0):
    return jnp.exp(geom_logpmf(k, p, loc))


def nbinom_logpmf(k, n, p, loc=0):
    k, n, p, loc = promote_real("nbinom.logpmf", k, n, p, loc)
    y = k - loc
    log_choose = special.gammaln(y + n) - special.gammaln(n) - special.gammaln(y + 1)
    value = log_choose + special.xlogy(n, p) + special.xlogy(y, 1 - p)
    return jnp.where(k < loc, -np.inf, value)


def nbinom_pmf(k, n, p, loc=0):
    return jnp.exp(nbinom_logpmf(k, n, p, loc))


def poisson_logpmf(k, mu, loc=0):
    k, mu, loc = promote_real("poisson.logpmf", k, mu, loc)
    x = k - loc
    value = special.xlogy(x, mu) - special.gammaln(x + 1) - mu
    return jnp.where((x < 0) | (jnp.round(k) != k), -np.inf, value)


def poisson_pmf(k, mu, loc=0):
    return jnp.exp(poisson_logpmf(k, mu, loc))


def poisson_cdf(k, mu, loc=0):
    k, mu, loc = promote_real("poisson.cdf", k, mu, loc)
    x = k - loc
    return jnp.where(x < 0, 0.0, special.gammaincc(jnp.floor(1 + x), mu)).astype(k.dtype)


def poisson_entropy(mu, loc=0):
    """The entropy of Poisson(mu): the sum of -p log p over the bulk of the mass for
    mu < 100, the asymptotic expansion beyond."""
    mu, loc = promote_real("poisson.entropy", mu, loc)
    shape = jnp.broadcast_shapes(mu.shape, loc.shape)
    flat = jnp.ravel(mu)

    def summed(max_k, upper):
        k = jnp.arange(max_k, dtype=flat.dtype)[:, None]
        probs = jnp.where(k < upper[None, :], poisson_pmf(k, flat, 0), 0.0)
        return jnp.sum(special.entr(probs), axis=0)
    small = summed(35, jnp.ceil(flat + 20))
    medium = summed(250, jnp.ceil(flat + 10 * jnp.sqrt(flat) + 20))
    large = 0.5 * jnp.log(2 * np.pi * np.e * flat) - 1.0 / (12 * flat)
    value = jnp.where(flat == 0, 0.0, jnp.where(flat < 10, small, jnp.where(
        flat < 100, medium, large)))
    return jnp.broadcast_to(jnp.reshape(value, mu.shape), shape)


def multinomial_logpmf(x, n, p):
    (p,) = promote_real("multinomial.logpmf", p)
    x, n = jnp.asarray(x), jnp.asarray(n)
    if not (_dtypes.is_integer(x.dtype) and _dtypes.is_integer(n.dtype)):
        raise ValueError(f"x and n must be of integer type; got x.dtype={x.dtype}, "
                         f"n.dtype={n.dtype}")
    x, n = x.astype(p.dtype), n.astype(p.dtype)
    value = special.gammaln(n + 1) + jnp.sum(special.xlogy(x, p) - special.gammaln(x + 1),
                                             axis=-1)
    return jnp.where(jnp.sum(x) == n, value, -np.inf)


def multinomial_pmf(x, n, p):
    return jnp.exp(multinomial_logpmf(x, n, p))


compile_eager(globals(), """bernoulli_logpmf bernoulli_pmf bernoulli_cdf bernoulli_ppf
    binom_logpmf binom_pmf betabinom_logpmf betabinom_pmf geom_logpmf geom_pmf nbinom_logpmf
    nbinom_pmf poisson_logpmf poisson_pmf poisson_cdf poisson_entropy multinomial_logpmf
    multinomial_pmf""")
