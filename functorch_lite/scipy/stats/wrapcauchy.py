"""The wrapped Cauchy distribution, as `jax.scipy.stats.wrapcauchy`."""
from ._continuous import (  # noqa: F401
    wrapcauchy_logpdf as logpdf, wrapcauchy_pdf as pdf
)
