"""The multivariate normal distribution, as `jax.scipy.stats.multivariate_normal`."""
from ._multivariate import (  # noqa: F401
    multivariate_normal_logpdf as logpdf, multivariate_normal_pdf as pdf
)
