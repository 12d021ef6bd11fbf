"""The negative binomial distribution, as `jax.scipy.stats.nbinom`."""
from ._discrete import (  # noqa: F401
    nbinom_logpmf as logpmf, nbinom_pmf as pmf
)
