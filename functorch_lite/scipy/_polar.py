"""`scipy.linalg.polar`: a = u p with u unitary and p Hermitian positive semi-definite,
by the QR-based dynamically weighted Halley iteration (QDWH; Nakatsukasa, Bai & Gygi
2010) or through the SVD, as JAX (jax/_src/tpu/linalg/qdwh.py)."""
import numpy as np

from .. import lax
from .. import numpy as jnp
from ..lax import _linalg as lax_linalg
from ..numpy import linalg as jnp_linalg
from ._util import inexact_arrays, vectorize_core, inline_jit

_CHOLESKY_CUTOFF = 100  # QDWH weights c above this use the (stabler) QR update


def _dot(a, b):
    return jnp.matmul(a, b, precision="highest")


def _h(x):
    return jnp.conj(x.T)


def _qr_update(u, params):
    a_minus_e_by_sqrt_c, sqrt_c, e = params
    m, n = u.shape
    q, _ = lax_linalg.qr(jnp.concatenate([sqrt_c * u, jnp.eye(n, dtype=u.dtype)]),
                         full_matrices=False)
    return e * u + a_minus_e_by_sqrt_c * _dot(q[:m], _h(q[m:]))


def _cholesky_update(u, params):
    a_minus_e, c, e = params
    n = u.shape[1]
    y = lax_linalg.cholesky(c * _dot(_h(u), u) + jnp.eye(n, dtype=u.dtype),
                            symmetrize_input=False)
    z = jnp.conj(lax_linalg.triangular_solve(y, u.T, left_side=True, lower=True,
                                             conjugate_a=True))
    z = _h(lax_linalg.triangular_solve(y, z, left_side=True, lower=True, transpose_a=True,
                                       conjugate_a=True))
    return e * u + a_minus_e * z


def _weights(l):
    """The dynamic weights (a, b, c) for lower singular-value bound l, and the next l."""
    l2 = l * l
    dd = (4 * (1 / l2 - 1) / l2) ** (1 / 3)
    sqd = (1.0 + dd) ** (1 / 2)
    a = sqd + (2 - dd + 2 * (2 - l2) / (l2 * sqd)) ** (1 / 2)
    b = (a - 1) ** 2 / 4
    c = a + b - 1
    return a, b, c, l * (a + b * l2) / (1 + c * l2)


def _qdwh(x, max_iterations, eps):
    """(u, h, iterations, converged) with x = u h for an m x n matrix, m >= n."""
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    one_norm, inf_norm = jnp_linalg.norm(x, ord=1), jnp_linalg.norm(x, ord=np.inf)
    alpha_inverse = jnp.where(one_norm == 0, 1, lax.rsqrt(one_norm) * lax.rsqrt(inf_norm))
    u = x * alpha_inverse.astype(x.dtype)
    l, tol_l = eps, 10.0 * eps / 2.0
    tol_norm = np.cbrt(tol_l)
    qr_coefs, chol_coefs, k = [], [], 0
    while l + tol_l < 1 and k < max_iterations:   # the weights depend only on eps
        k += 1
        a, b, c, l = _weights(l)
        e = b / c
        if c > _CHOLESKY_CUTOFF:
            qr_coefs.append(((a - e) / c ** (1 / 2), c ** (1 / 2), e))
        else:
            chol_coefs.append((a - e, c, e))

    def iterate(u, coefs, update, test_convergence):
        if not coefs:
            return u, True
        table = jnp.asarray(np.array(coefs)).astype(x.dtype)

        def body(k, state):
            u_prev, _ = state
            u = update(u_prev, table[k])
            return u, (jnp_linalg.norm(u - u_prev) > tol_norm) if test_convergence \
                else True
        init = (u, True) if not test_convergence else (u, jnp.asarray(True))
        return lax.fori_loop(0, len(coefs), body, init)
    u, _ = iterate(u, qr_coefs, _qr_update, False)
    u, not_converged = iterate(u, chol_coefs, _cholesky_update, True)

    def cond_fun(state):
        k, _, not_converged = state
        return jnp.logical_and(not_converged, k < max_iterations)

    def body_fun(state):
        k, u_prev, _ = state
        u = _cholesky_update(u_prev, (3.0 - 1.0 / 3.0, 3.0, 1.0 / 3.0))  # Halley: (3, 1, 3)
        return k + 1, u, jnp_linalg.norm(u - u_prev) > tol_norm
    iterations, u, not_converged = lax.while_loop(
        cond_fun, body_fun, (len(qr_coefs) + len(chol_coefs), u,
                             jnp.asarray(not_converged)))
    u = 1.5 * u - 0.5 * _dot(u, _dot(_h(u), u))
    h = _dot(_h(u), x)
    return u, (h + _h(h)) / 2, iterations, jnp.logical_not(not_converged)


def _polar_2d(a, side, method, eps, max_iterations):
    m, n = a.shape
    if method == "qdwh":
        max_iterations = 10 if max_iterations is None else max_iterations
        if m >= n and side == "right":
            unitary, posdef, _, _ = _qdwh(a, max_iterations, eps)
        elif m < n and side == "left":
            unitary, posdef, _, _ = _qdwh(_h(a), max_iterations, eps)
            unitary, posdef = _h(unitary), _h(posdef)
        else:
            raise NotImplementedError(f"method='qdwh' only supports mxn matrices where "
                                      f"m < n where side='right' and m >= n side='left', "
                                      f"got {a.shape} with side={side!r}")
        return unitary, posdef
    if method != "svd":
        raise ValueError(f"Unknown polar decomposition method {method}.")
    u, s, vh = lax_linalg.svd(a, full_matrices=False)
    s = s.astype(u.dtype)
    if side == "right":
        return _dot(u, vh), _dot(_h(vh) * s[None, :], vh)
    return _dot(u, vh), _dot(u * s[None, :], _h(u))


@inline_jit("side", "method", "eps", "max_iterations")
def polar(a, side="right", *, method="qdwh", eps=None, max_iterations=None):
    """(u, p): a = u p (side='right') or a = p u (side='left'), u unitary, p Hermitian
    positive semi-definite; method 'qdwh' (default, as JAX) or 'svd'."""
    (a,) = inexact_arrays(a)
    if a.ndim < 2:
        raise ValueError("The input `a` must be at least a 2-D array.")
    if side not in ("right", "left"):
        raise ValueError("The argument `side` must be either 'right' or 'left'.")
    return vectorize_core(lambda x: _polar_2d(x, side, method, eps, max_iterations),
                          (2,))(a)
