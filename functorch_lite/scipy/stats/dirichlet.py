"""The Dirichlet distribution, as `jax.scipy.stats.dirichlet`."""
from ._multivariate import (  # noqa: F401
    dirichlet_logpdf as logpdf, dirichlet_pdf as pdf
)
