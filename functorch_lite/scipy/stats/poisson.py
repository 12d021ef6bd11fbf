"""The Poisson distribution, as `jax.scipy.stats.poisson`."""
from ._discrete import (  # noqa: F401
    poisson_logpmf as logpmf, poisson_pmf as pmf, poisson_cdf as cdf,
    poisson_entropy as entropy
)
