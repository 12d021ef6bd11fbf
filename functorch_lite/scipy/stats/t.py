"""Student's t distribution, as `jax.scipy.stats.t`."""
from ._continuous import (  # noqa: F401
    t_logpdf as logpdf, t_pdf as pdf
)
