"""gamma, chi2 and beta: densities from gammaln / betaln and xlogy, distribution
functions from the regularized incomplete gamma and beta functions."""
import numpy as np

from ... import lax
from ... import numpy as jnp
from .._prob_util import compile_eager, promote_real
from .. import special


def gamma_logpdf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote_real("gamma.logpdf", x, a, loc, scale)
    ok = x >= loc
    y = jnp.where(ok, (x - loc) / scale, 1.0)
    value = special.xlogy(a - 1, y) - y - (special.gammaln(a) + jnp.log(scale))
    return jnp.where(ok, value, -np.inf)


def gamma_pdf(x, a, loc=0, scale=1):
    return jnp.exp(gamma_logpdf(x, a, loc, scale))


def gamma_cdf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote_real("gamma.cdf", x, a, loc, scale)
    return special.gammainc(a, jnp.clip((x - loc) / scale, 0, np.inf))


def gamma_logcdf(x, a, loc=0, scale=1):
    return jnp.log(gamma_cdf(x, a, loc, scale))


def gamma_sf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote_real("gamma.sf", x, a, loc, scale)
    y = (x - loc) / scale
    return jnp.where(y < 0, 1.0, special.gammaincc(a, y)).astype(y.dtype)


def gamma_logsf(x, a, loc=0, scale=1):
    return jnp.log(gamma_sf(x, a, loc, scale))


def chi2_logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_real("chi2.logpdf", x, df, loc, scale)
    y = (x - loc) / scale
    half_df = df / 2
    kernel = (half_df - 1) * jnp.log(y) - y / 2
    normalizer = -(lax.lgamma(half_df) + np.log(2) * df / 2)
    return jnp.where(x < loc, -np.inf, normalizer - jnp.log(scale) + kernel)


def chi2_pdf(x, df, loc=0, scale=1):
    return jnp.exp(chi2_logpdf(x, df, loc, scale))


def chi2_cdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_real("chi2.cdf", x, df, loc, scale)
    return special.gammainc(df / 2, jnp.clip((x - loc) / (scale * 2), 0, np.inf))


def chi2_logcdf(x, df, loc=0, scale=1):
    return jnp.log(chi2_cdf(x, df, loc, scale))


def chi2_sf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_real("chi2.sf", x, df, loc, scale)
    return special.gammaincc(df / 2, jnp.clip((x - loc) / (scale * 2), 0, np.inf))


def chi2_logsf(x, df, loc=0, scale=1):
    return jnp.log(chi2_sf(x, df, loc, scale))


def beta_logpdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_real("beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    value = (-special.betaln(a, b) + special.xlogy(a - 1, y) + special.xlog1py(b - 1, -y)
             - jnp.log(scale))
    value = jnp.where((x > loc + scale) | (x < loc), -np.inf, value)
    return jnp.where((a <= 0) | (b <= 0) | (scale <= 0), np.nan, value)


def beta_pdf(x, a, b, loc=0, scale=1):
    return jnp.exp(beta_logpdf(x, a, b, loc, scale))


def beta_cdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_real("beta.cdf", x, a, b, loc, scale)
    return special.betainc(a, b, jnp.clip((x - loc) / scale, 0, 1))


def beta_logcdf(x, a, b, loc=0, scale=1):
    return jnp.log(beta_cdf(x, a, b, loc, scale))


def beta_sf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_real("beta.sf", x, a, b, loc, scale)
    return special.betainc(b, a, 1 - jnp.clip((x - loc) / scale, 0, 1))


def beta_logsf(x, a, b, loc=0, scale=1):
    return jnp.log(beta_sf(x, a, b, loc, scale))


compile_eager(globals(), """gamma_logpdf gamma_pdf gamma_cdf gamma_logcdf gamma_sf
    gamma_logsf chi2_logpdf chi2_pdf chi2_cdf chi2_logcdf chi2_sf chi2_logsf beta_logpdf
    beta_pdf beta_cdf beta_logcdf beta_sf beta_logsf""")
