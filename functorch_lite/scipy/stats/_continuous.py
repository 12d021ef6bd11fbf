"""Densities, distribution functions and quantiles of the univariate continuous
distributions of `jax.scipy.stats` (except the gamma family, in `_gamma_family.py`),
with SciPy's `loc` / `scale` parameters; formulas and edge cases as JAX's."""
import numpy as np

from ... import lax
from ... import numpy as jnp
from .._prob_util import compile_eager, promote_real
from .. import special


def _standardized(name, x, loc, scale, *shape_params):
    x, loc, scale, *shape_params = promote_real(name, x, loc, scale, *shape_params)
    return (x - loc) / scale, x, loc, scale, shape_params


def _outside_nan(q, value):
    """nan where the probability q is not in [0, 1]."""
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, value)


# --- norm ---------------------------------------------------------------------------

def norm_logpdf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("norm.logpdf", x, loc, scale)
    return (jnp.log(2 * np.pi * scale * scale) + z * z) / -2


def norm_pdf(x, loc=0, scale=1):
    return jnp.exp(norm_logpdf(x, loc, scale))


def norm_cdf(x, loc=0, scale=1):
    return special.ndtr(_standardized("norm.cdf", x, loc, scale)[0])


def norm_logcdf(x, loc=0, scale=1):
    return special.log_ndtr(_standardized("norm.logcdf", x, loc, scale)[0])


def norm_sf(x, loc=0, scale=1):
    return special.ndtr(-_standardized("norm.sf", x, loc, scale)[0])


def norm_logsf(x, loc=0, scale=1):
    return special.log_ndtr(-_standardized("norm.logsf", x, loc, scale)[0])


def norm_ppf(q, loc=0, scale=1):
    q, loc, scale = promote_real("norm.ppf", q, loc, scale)
    return special.ndtri(q) * scale + loc


def norm_isf(q, loc=0, scale=1):
    q, loc, scale = promote_real("norm.isf", q, loc, scale)
    return norm_ppf(1 - q, loc, scale)


# --- uniform -----------------------------------------------------------------------

def uniform_logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_real("uniform.logpdf", x, loc, scale)
    return jnp.where((x > loc + scale) | (x < loc), -np.inf, -jnp.log(scale))


def uniform_pdf(x, loc=0, scale=1):
    return jnp.exp(uniform_logpdf(x, loc, scale))


def uniform_cdf(x, loc=0, scale=1):
    x, loc, scale = promote_real("uniform.cdf", x, loc, scale)
    inside = jnp.where((x >= loc) & (x <= loc + scale), (x - loc) / scale, 0.0)
    return jnp.where(x < loc, 0.0, jnp.where(x > loc + scale, 1.0, inside)).astype(x.dtype)


def uniform_ppf(q, loc=0, scale=1):
    q, loc, scale = promote_real("uniform.ppf", q, loc, scale)
    return _outside_nan(q, loc + scale * q)


# --- cauchy, laplace, logistic ------------------------------------------------------

def cauchy_logpdf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("cauchy.logpdf", x, loc, scale)
    return -(jnp.log(np.pi * scale) + jnp.log1p(z * z))


def cauchy_pdf(x, loc=0, scale=1):
    return jnp.exp(cauchy_logpdf(x, loc, scale))


def cauchy_cdf(x, loc=0, scale=1):
    z = _standardized("cauchy.cdf", x, loc, scale)[0]
    return 0.5 + (1.0 / np.pi) * jnp.arctan(z)


def cauchy_logcdf(x, loc=0, scale=1):
    return jnp.log(cauchy_cdf(x, loc, scale))


def cauchy_sf(x, loc=0, scale=1):
    x, loc, scale = promote_real("cauchy.sf", x, loc, scale)
    return cauchy_cdf(-x, -loc, scale)


def cauchy_logsf(x, loc=0, scale=1):
    x, loc, scale = promote_real("cauchy.logsf", x, loc, scale)
    return cauchy_logcdf(-x, -loc, scale)


def cauchy_ppf(q, loc=0, scale=1):
    q, loc, scale = promote_real("cauchy.ppf", q, loc, scale)
    return jnp.tan(np.pi * q - np.pi / 2) * scale + loc


def cauchy_isf(q, loc=0, scale=1):
    q, loc, scale = promote_real("cauchy.isf", q, loc, scale)
    return jnp.tan(np.pi / 2 - np.pi * q) * scale + loc


def laplace_logpdf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("laplace.logpdf", x, loc, scale)
    return -(jnp.abs(z) + jnp.log(2 * scale))


def laplace_pdf(x, loc=0, scale=1):
    return jnp.exp(laplace_logpdf(x, loc, scale))


def laplace_cdf(x, loc=0, scale=1):
    z = _standardized("laplace.cdf", x, loc, scale)[0]
    return jnp.where(z <= 0, 0.5 * jnp.exp(z), 1 - 0.5 * jnp.exp(-z))


def logistic_logpdf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("logistic.logpdf", x, loc, scale)
    return -2 * jnp.logaddexp(z / 2, -z / 2) - jnp.log(scale)


def logistic_pdf(x, loc=0, scale=1):
    return jnp.exp(logistic_logpdf(x, loc, scale))


def logistic_cdf(x, loc=0, scale=1):
    return special.expit(_standardized("logistic.cdf", x, loc, scale)[0])


def logistic_sf(x, loc=0, scale=1):
    return special.expit(-_standardized("logistic.sf", x, loc, scale)[0])


def logistic_ppf(x, loc=0, scale=1):
    x, loc, scale = promote_real("logistic.ppf", x, loc, scale)
    return special.logit(x) * scale + loc


def logistic_isf(x, loc=0, scale=1):
    x, loc, scale = promote_real("logistic.isf", x, loc, scale)
    return -special.logit(x) * scale + loc


# --- expon ---------------------------------------------------------------------------

def expon_logpdf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("expon.logpdf", x, loc, scale)
    return jnp.where(x < loc, -np.inf, -(z + jnp.log(scale)))


def expon_pdf(x, loc=0, scale=1):
    return jnp.exp(expon_logpdf(x, loc, scale))


def expon_logsf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("expon.logsf", x, loc, scale)
    return jnp.where(x < loc, jnp.zeros_like(z), -z)


def expon_sf(x, loc=0, scale=1):
    return jnp.exp(expon_logsf(x, loc, scale))


def expon_cdf(x, loc=0, scale=1):
    z, x, loc, scale, _ = _standardized("expon.cdf", x, loc, scale)
    return jnp.where(x < loc, jnp.zeros_like(z), -jnp.expm1(-z))


def expon_logcdf(x, loc=0, scale=1):
    return jnp.log1p(-expon_sf(x, loc, scale))


def expon_ppf(q, loc=0, scale=1):
    q, loc, scale = promote_real("expon.ppf", q, loc, scale)
    return _outside_nan(q, loc - scale * jnp.log1p(-q))


# --- gumbel_r and gumbel_l (maximum and minimum extreme values) -------------------------

def _gumbel(name, x, loc, scale):
    z, x, loc, scale, _ = _standardized(name, x, loc, scale)
    return z, scale


def _valid_scale(scale, value):
    return jnp.where(scale > 0, value, np.nan)


def gumbel_r_logpdf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_r.logpdf", x, loc, scale)
    return _valid_scale(scale, special.xlogy(-1, scale) - (z + jnp.exp(-z)))


def gumbel_r_pdf(x, loc=0, scale=1):
    return jnp.exp(gumbel_r_logpdf(x, loc, scale))


def gumbel_r_logcdf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_r.logcdf", x, loc, scale)
    return _valid_scale(scale, -jnp.exp(-z))


def gumbel_r_cdf(x, loc=0, scale=1):
    return jnp.exp(gumbel_r_logcdf(x, loc, scale))


def gumbel_r_sf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_r.sf", x, loc, scale)
    return _valid_scale(scale, 1 - jnp.exp(-jnp.exp(-z)))


def gumbel_r_logsf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_r.logsf", x, loc, scale)
    return _valid_scale(scale, _log1mexp(jnp.exp(-z)))


def gumbel_r_ppf(p, loc=0, scale=1):
    p, loc, scale = promote_real("gumbel_r.ppf", p, loc, scale)
    quantile = loc - scale * jnp.log(special.xlogy(-1, p))
    return jnp.where((p > 0) & (p < 1), quantile, np.nan)


def gumbel_l_logpdf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_l.logpdf", x, loc, scale)
    return _valid_scale(scale, special.xlogy(-1, scale) + (z - jnp.exp(z)))


def gumbel_l_pdf(x, loc=0, scale=1):
    return jnp.exp(gumbel_l_logpdf(x, loc, scale))


def gumbel_l_logcdf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_l.logcdf", x, loc, scale)
    return _valid_scale(scale, jnp.log(-jnp.expm1(-jnp.exp(z))))


def gumbel_l_cdf(x, loc=0, scale=1):
    return jnp.exp(gumbel_l_logcdf(x, loc, scale))


def gumbel_l_logsf(x, loc=0, scale=1):
    z, scale = _gumbel("gumbel_l.logsf", x, loc, scale)
    return _valid_scale(scale, -jnp.exp(z))


def gumbel_l_sf(x, loc=0, scale=1):
    return jnp.exp(gumbel_l_logsf(x, loc, scale))


def gumbel_l_ppf(p, loc=0, scale=1):
    p, loc, scale = promote_real("gumbel_l.ppf", p, loc, scale)
    quantile = loc + scale * jnp.log(special.xlog1py(-1, -p))
    return jnp.where((p > 0) & (p < 1), quantile, np.nan)


def _log1mexp(x):
    """log(1 - exp(-x)) for x > 0, accurate for small and large x."""
    return jnp.where(x > np.log(2), jnp.log1p(-jnp.exp(-x)), jnp.log(-jnp.expm1(-x)))


# --- t, pareto, gennorm, vonmises, wrapcauchy ------------------------------------------

def t_logpdf(x, df, loc=0, scale=1):
    z, x, loc, scale, (df,) = _standardized("t.logpdf", x, loc, scale, df)
    half_df = df / 2
    normalizer = (lax.lgamma(half_df) + jnp.log(scale * scale * np.pi * df) / 2
                  - lax.lgamma(half_df + 0.5))
    return -(normalizer + (half_df + 0.5) * jnp.log1p(z * z / df))


def t_pdf(x, df, loc=0, scale=1):
    return jnp.exp(t_logpdf(x, df, loc, scale))


def pareto_logpdf(x, b, loc=0, scale=1):
    z, x, loc, scale, (b,) = _standardized("pareto.logpdf", x, loc, scale, b)
    return jnp.where(x < loc + scale, -np.inf, -(jnp.log(scale / b) + (b + 1) * jnp.log(z)))


def pareto_pdf(x, b, loc=0, scale=1):
    return jnp.exp(pareto_logpdf(x, b, loc, scale))


def pareto_cdf(x, b, loc=0, scale=1):
    z, x, loc, scale, (b,) = _standardized("pareto.cdf", x, loc, scale, b)
    return jnp.where(x < loc + scale, 0.0, 1 - lax.pow(z, -b)).astype(z.dtype)


def pareto_logcdf(x, b, loc=0, scale=1):
    z, x, loc, scale, (b,) = _standardized("pareto.logcdf", x, loc, scale, b)
    return jnp.where(x < loc + scale, -np.inf, jnp.log1p(-lax.pow(z, -b)))


def pareto_logsf(x, b, loc=0, scale=1):
    z, x, loc, scale, (b,) = _standardized("pareto.logsf", x, loc, scale, b)
    return jnp.where(x < loc + scale, 0.0, -b * jnp.log(z)).astype(z.dtype)


def pareto_sf(x, b, loc=0, scale=1):
    return jnp.exp(pareto_logsf(x, b, loc, scale))


def pareto_ppf(q, b, loc=0, scale=1):
    q, b, loc, scale = promote_real("pareto.ppf", q, b, loc, scale)
    return _outside_nan(q, loc + scale * lax.pow(1 - q, -(1 / b)))


def gennorm_logpdf(x, beta):
    x, beta = promote_real("gennorm.logpdf", x, beta)
    return jnp.log(0.5 * beta) - lax.lgamma(1 / beta) - jnp.abs(x) ** beta


def gennorm_pdf(x, beta):
    return jnp.exp(gennorm_logpdf(x, beta))


def gennorm_cdf(x, beta):
    x, beta = promote_real("gennorm.cdf", x, beta)
    return 0.5 * (1 + jnp.sign(x) * lax.igamma(1 / beta, jnp.abs(x) ** beta))


def vonmises_logpdf(x, kappa):
    x, kappa = promote_real("vonmises.logpdf", x, kappa)
    # log(I0(kappa)) = kappa + log(i0e(kappa)): no overflow for large kappa
    value = kappa * (jnp.cos(x) - 1) - jnp.log(2 * np.pi * lax.bessel_i0e(kappa))
    return jnp.where(kappa > 0, value, np.nan)


def vonmises_pdf(x, kappa):
    return jnp.exp(vonmises_logpdf(x, kappa))


def wrapcauchy_logpdf(x, c):
    x, c = promote_real("wrapcauchy.logpdf", x, c)
    value = (jnp.log(1 - c * c) - np.log(2 * np.pi)
             - jnp.log(1 + c * c - 2 * c * jnp.cos(x)))
    in_support = jnp.where((x >= 0) & (x <= 2 * np.pi), value, -np.inf)
    return jnp.where((c > 0) & (c < 1), in_support, np.nan)


def wrapcauchy_pdf(x, c):
    return jnp.exp(wrapcauchy_logpdf(x, c))


# --- truncnorm ----------------------------------------------------------------------

def _log_diff(log_a, log_b):
    """log(exp(log_a) - exp(log_b)) for log_a >= log_b."""
    return log_a + _log1mexp(log_a - log_b)


def _log_gauss_mass(a, b):
    """log(Phi(b) - Phi(a)) computed in the tail where the mass is small."""
    a, b = jnp.broadcast_arrays(a, b)
    left, right = b <= 0, a > 0
    a_tail, b_tail = jnp.where(right, -b, a), jnp.where(right, -a, b)
    tail = _log_diff(special.log_ndtr(b_tail), special.log_ndtr(a_tail))
    central = jnp.log1p(-special.ndtr(a) - special.ndtr(-b))
    return jnp.where(left | right, tail, central)


def truncnorm_logpdf(x, a, b, loc=0, scale=1):
    z, x, loc, scale, (a, b) = _standardized("truncnorm.logpdf", x, loc, scale, a, b)
    value = norm_logpdf(x, loc, scale) - _log_gauss_mass(a, b)
    value = jnp.where((z < a) | (z > b), -np.inf, value)
    return jnp.where(a >= b, np.nan, value)


def truncnorm_pdf(x, a, b, loc=0, scale=1):
    return jnp.exp(truncnorm_logpdf(x, a, b, loc, scale))


def truncnorm_logcdf(x, a, b, loc=0, scale=1):
    z, x, loc, scale, (a, b) = _standardized("truncnorm.logcdf", x, loc, scale, a, b)
    z, a, b = jnp.broadcast_arrays(z, a, b)
    log_mass = _log_gauss_mass(a, b)
    log_cdf = _log_gauss_mass(a, z) - log_mass
    log_sf = _log_gauss_mass(z, b) - log_mass
    value = jnp.where(z >= b, 0.0, jnp.where(z <= a, -np.inf, jnp.where(
        log_cdf > -0.1, jnp.log1p(-jnp.exp(log_sf)), log_cdf))).astype(z.dtype)
    return jnp.where(a >= b, np.nan, value)


def truncnorm_cdf(x, a, b, loc=0, scale=1):
    return jnp.exp(truncnorm_logcdf(x, a, b, loc, scale))


def truncnorm_logsf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_real("truncnorm.logsf", x, a, b, loc, scale)
    return truncnorm_logcdf(-x, -b, -a, -loc, scale)


def truncnorm_sf(x, a, b, loc=0, scale=1):
    return jnp.exp(truncnorm_logsf(x, a, b, loc, scale))


compile_eager(globals(), " ".join(name for name in list(globals())
                                  if name.split("_")[-1] in {
                                      "logpdf", "pdf", "cdf", "logcdf", "sf", "logsf",
                                      "ppf", "isf"} and not name.startswith("_")))
