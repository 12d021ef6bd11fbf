"""The binomial distribution, as `jax.scipy.stats.binom`."""
from ._discrete import (  # noqa: F401
    binom_logpmf as logpmf, binom_pmf as pmf
)
