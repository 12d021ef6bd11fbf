"""The multinomial distribution, as `jax.scipy.stats.multinomial`."""
from ._discrete import (  # noqa: F401
    multinomial_logpmf as logpmf, multinomial_pmf as pmf
)
