"""The von Mises distribution, as `jax.scipy.stats.vonmises`."""
from ._continuous import (  # noqa: F401
    vonmises_logpdf as logpdf, vonmises_pdf as pdf
)
