"""The beta distribution, as `jax.scipy.stats.beta`."""
from ._gamma_family import (  # noqa: F401
    beta_logpdf as logpdf, beta_pdf as pdf, beta_cdf as cdf, beta_logcdf as logcdf,
    beta_sf as sf, beta_logsf as logsf
)
