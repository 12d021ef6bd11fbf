"""`scipy.optimize.minimize(method="BFGS")`: quasi-Newton minimisation with the
inverse-Hessian BFGS update and the strong-Wolfe line search, the whole loop one
`while_loop`, as JAX (jax/_src/scipy/optimize/bfgs.py, minimize.py)."""
from typing import NamedTuple

import numpy as np

from .. import numpy as jnp
from .._api import value_and_grad
from ..lax import while_loop
from ..numpy import linalg as jnp_linalg
from ._line_search import line_search


class _BFGSResults(NamedTuple):
    converged: object
    failed: object
    k: object
    nfev: object
    ngev: object
    nhev: object
    x_k: object
    f_k: object
    g_k: object
    H_k: object
    old_old_fval: object
    status: object
    line_search_status: object


def _dot(a, b):
    return jnp.dot(a, b, precision="highest")


def minimize_bfgs(fun, x0, maxiter=None, norm=np.inf, gtol=1e-5, line_search_maxiter=10):
    """BFGS from x0 until |grad|_norm < gtol, `maxiter` steps (default 200 per
    variable) or a failed line search."""
    maxiter = np.size(x0) * 200 if maxiter is None else maxiter
    d = x0.shape[0]
    f_0, g_0 = value_and_grad(fun)(x0)
    zero = jnp.asarray(0)
    state = _BFGSResults(
        converged=jnp_linalg.norm(g_0, ord=norm) < gtol, failed=jnp.asarray(False), k=zero,
        nfev=jnp.asarray(1), ngev=jnp.asarray(1), nhev=zero, x_k=x0, f_k=f_0, g_k=g_0,
        H_k=jnp.eye(d, dtype=x0.dtype), old_old_fval=f_0 + jnp_linalg.norm(g_0) / 2,
        status=zero, line_search_status=zero)

    def keep_going(state):
        return (~state.converged) & (~state.failed) & (state.k < maxiter)

    def step(state):
        p_k = -_dot(state.H_k, state.g_k)
        search = line_search(fun, state.x_k, p_k, old_fval=state.f_k,
                             old_old_fval=state.old_old_fval, gfk=state.g_k,
                             maxiter=line_search_maxiter)
        s_k = search.a_k * p_k
        y_k = search.g_k - state.g_k
        rho_k = jnp.reciprocal(_dot(y_k, s_k))
        sy_k = s_k[:, None] * y_k[None, :]
        w = jnp.eye(d, dtype=rho_k.dtype) - rho_k * sy_k
        # H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T
        H_kp1 = jnp.einsum("ij,jk,lk", w, state.H_k, w, precision="highest") \
            + rho_k * s_k[:, None] * s_k[None, :]
        return state._replace(
            nfev=state.nfev + search.nfev, ngev=state.ngev + search.ngev,
            failed=search.failed, line_search_status=search.status,
            converged=jnp_linalg.norm(search.g_k, ord=norm) < gtol, k=state.k + 1,
            x_k=state.x_k + s_k, f_k=search.f_k, g_k=search.g_k,
            H_k=jnp.where(jnp.isfinite(rho_k), H_kp1, state.H_k), old_old_fval=state.f_k)
    state = while_loop(keep_going, step, state)
    status = jnp.where(state.converged, 0, jnp.where(
        state.k == maxiter, 1, jnp.where(state.failed, 2 + state.line_search_status, -1)))
    return state._replace(status=status)
