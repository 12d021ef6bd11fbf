"""The generalized normal distribution, as `jax.scipy.stats.gennorm`."""
from ._continuous import (  # noqa: F401
    gennorm_logpdf as logpdf, gennorm_pdf as pdf, gennorm_cdf as cdf
)
