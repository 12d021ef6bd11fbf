"""The Bernoulli distribution, as `jax.scipy.stats.bernoulli`."""
from ._discrete import (  # noqa: F401
    bernoulli_logpmf as logpmf, bernoulli_pmf as pmf, bernoulli_cdf as cdf,
    bernoulli_ppf as ppf
)
