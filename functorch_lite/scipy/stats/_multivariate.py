"""multivariate_normal and dirichlet densities."""
import numpy as np

from ... import lax
from ... import numpy as jnp
from ...numpy._util import promote_to_inexact
from .._prob_util import compile_eager
from .. import special


def multivariate_normal_logpdf(x, mean, cov, allow_singular=None):
    """log N(x; mean, cov); `cov` may be a scalar (isotropic) or batched (..., n, n)."""
    if allow_singular is not None:
        raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
    x, mean, cov = promote_to_inexact(x, mean, cov)
    if not mean.shape:
        return -0.5 * jnp.square(x - mean) / cov - 0.5 * (np.log(2 * np.pi) + jnp.log(cov))
    n = mean.shape[-1]
    if not cov.shape:
        y = x - mean
        return (-0.5 * jnp.sum(y * y, -1) / cov
                - n / 2 * (np.log(2 * np.pi) + jnp.log(cov)))
    if cov.ndim < 2 or cov.shape[-2:] != (n, n):
        raise ValueError("multivariate_normal.logpdf got incompatible shapes")
    factor = lax.linalg.cholesky(cov)
    diff = x - mean
    # whiten: y = L^-1 (x - mean), broadcasting the factor over x's batch
    batch = jnp.broadcast_shapes(factor.shape[:-2], diff.shape[:-1])
    factor_b = jnp.broadcast_to(factor, (*batch, n, n)).reshape(-1, n, n)
    diff_b = jnp.broadcast_to(diff, (*batch, n)).reshape(-1, n, 1)
    y = lax.linalg.triangular_solve(factor_b, diff_b, left_side=True, lower=True)
    y = y.reshape(*batch, n)
    log_det = jnp.sum(jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)), -1)
    return -0.5 * jnp.sum(y * y, -1) - n / 2 * np.log(2 * np.pi) - log_det


def multivariate_normal_pdf(x, mean, cov):
    return jnp.exp(multivariate_normal_logpdf(x, mean, cov))


def dirichlet_logpdf(x, alpha):
    """log Dirichlet(x; alpha) along axis 0 of x (x may omit its last component)."""
    x, alpha = promote_to_inexact(x, alpha)
    if alpha.ndim != 1:
        raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={alpha.shape}")
    if x.shape[0] not in (alpha.shape[0], alpha.shape[0] - 1):
        raise ValueError(f"`x` must have either the same number of entries as `alpha` or one "
                         f"entry fewer; got x.shape={x.shape}, alpha.shape={alpha.shape}")
    if x.shape[0] != alpha.shape[0]:
        x = jnp.concatenate([x, 1 - x.sum(0, keepdims=True)], axis=0)
    normalizer = jnp.sum(special.gammaln(alpha)) - special.gammaln(jnp.sum(alpha))
    alpha = alpha.reshape(alpha.shape + (1,) * (x.ndim - 1))
    value = jnp.sum(special.xlogy(alpha - 1, x), axis=0) - normalizer
    simplex = jnp.all(x > 0, axis=0) & (jnp.abs(jnp.sum(x, axis=0) - 1) < 1e-6)
    return jnp.where(simplex, value, -np.inf)


def dirichlet_pdf(x, alpha):
    return jnp.exp(dirichlet_logpdf(x, alpha))


compile_eager(globals(), """multivariate_normal_logpdf multivariate_normal_pdf
    dirichlet_logpdf dirichlet_pdf""", {"multivariate_normal_logpdf": ("allow_singular",)})
