"""The geometric distribution, as `jax.scipy.stats.geom`."""
from ._discrete import (  # noqa: F401
    geom_logpmf as logpmf, geom_pmf as pmf
)
