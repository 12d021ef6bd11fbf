"""`scipy.optimize.minimize` and its result type, as JAX's."""
from typing import NamedTuple

from .. import numpy as jnp
from ._bfgs import minimize_bfgs


class OptimizeResults(NamedTuple):
    """x: the solution; success; status (0 converged, 1 maxiter, 2+ line search
    failed); fun and jac: f and its gradient at x; hess_inv: the inverse-Hessian
    estimate; nfev / njev: function and gradient evaluations; nit: iterations."""
    x: object
    success: object
    status: object
    fun: object
    jac: object
    hess_inv: object
    nfev: object
    njev: object
    nit: object


def minimize(fun, x0, args=(), *, method, tol=None, options=None):
    """Minimise a scalar function of one 1-d array, `fun(x, *args)`. Only
    method='BFGS' (as JAX); options: maxiter, norm, gtol, line_search_maxiter.

    >>> import functorch_lite.numpy as jnp
    >>> from functorch_lite.scipy.optimize import minimize
    >>> result = minimize(lambda x: jnp.sum((x - 3.0) ** 2), jnp.zeros(2), method="BFGS")
    >>> [round(float(v), 4) for v in result.x], bool(result.success)
    ([3.0, 3.0], True)
    """
    options = {} if options is None else options
    if not isinstance(args, tuple):
        raise TypeError(f"args argument to minimize must be a tuple, got {args}")
    if method.lower() != "bfgs":
        raise ValueError(f"Method {method} not recognized (functorch_lite implements "
                         f"method='BFGS', as jax.scipy.optimize.minimize)")
    results = minimize_bfgs(lambda x: fun(x, *args), jnp.asarray(x0), **options)
    return OptimizeResults(x=results.x_k,
                           success=results.converged & (~results.failed),
                           status=results.status, fun=results.f_k, jac=results.g_k,
                           hess_inv=results.H_k, nfev=results.nfev, njev=results.ngev,
                           nit=results.k)
