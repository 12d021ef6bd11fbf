"""The uniform distribution on [loc, loc + scale], as `jax.scipy.stats.uniform`."""
from ._continuous import (  # noqa: F401
    uniform_logpdf as logpdf, uniform_pdf as pdf, uniform_cdf as cdf,
    uniform_ppf as ppf
)
