"""The beta-binomial distribution, as `jax.scipy.stats.betabinom`."""
from ._discrete import (  # noqa: F401
    betabinom_logpmf as logpmf, betabinom_pmf as pmf
)
