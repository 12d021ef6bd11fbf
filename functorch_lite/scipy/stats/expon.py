"""The exponential distribution, as `jax.scipy.stats.expon`."""
from ._continuous import (  # noqa: F401
    expon_logpdf as logpdf, expon_pdf as pdf, expon_logsf as logsf, expon_sf as sf,
    expon_cdf as cdf, expon_logcdf as logcdf, expon_ppf as ppf
)
