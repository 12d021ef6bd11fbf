"""The Laplace distribution, as `jax.scipy.stats.laplace`."""
from ._continuous import (  # noqa: F401
    laplace_logpdf as logpdf, laplace_pdf as pdf, laplace_cdf as cdf
)
