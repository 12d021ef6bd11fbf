"""The Pareto distribution, as `jax.scipy.stats.pareto`."""
from ._continuous import (  # noqa: F401
    pareto_logpdf as logpdf, pareto_pdf as pdf, pareto_cdf as cdf,
    pareto_logcdf as logcdf, pareto_logsf as logsf, pareto_sf as sf, pareto_ppf as ppf
)
