"""The truncated normal distribution (bounds a, b in standard units),
as `jax.scipy.stats.truncnorm`."""
from ._continuous import (  # noqa: F401
    truncnorm_logpdf as logpdf, truncnorm_pdf as pdf, truncnorm_logcdf as logcdf,
    truncnorm_cdf as cdf, truncnorm_logsf as logsf, truncnorm_sf as sf
)
