"""The gamma distribution, as `jax.scipy.stats.gamma`."""
from ._gamma_family import (  # noqa: F401
    gamma_logpdf as logpdf, gamma_pdf as pdf, gamma_cdf as cdf, gamma_logcdf as logcdf,
    gamma_sf as sf, gamma_logsf as logsf
)
