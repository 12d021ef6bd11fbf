"""`scipy.linalg.eigh_tridiagonal`: eigenvalues of a symmetric (Hermitian) tridiagonal
matrix by parallel bisection on Sturm sequence counts, and eigenvectors by inverse
iteration from random starts (key 42) with clusters re-orthogonalised, as JAX."""
import numpy as np

from .. import lax
from .. import numpy as jnp
from .. import random
from ..lax import _linalg as lax_linalg
from ._linalg_factor import _is_complex
from ._util import inline_jit

_SUPPORTED = tuple(map(np.dtype, (np.float32, np.float64, np.complex64, np.complex128)))


def _sturm_counts(alpha, beta_sq, pivmin, alpha0_perturbation, x):
    """For each shift x: the number of eigenvalues below x (negative pivots of the LDL^T
    factorisation of T - x I)."""
    n = alpha.shape[0]
    q = alpha[0] - x
    count = jnp.where(q < 0, 1, 0).astype(np.int32)
    q = jnp.where(alpha[0] == x, alpha0_perturbation, q)

    def step(i, state):
        q, count = state
        q = alpha[i] - beta_sq[i - 1] / q - x
        count = jnp.where(q <= pivmin, count + 1, count)
        return jnp.where(q <= pivmin, jnp.minimum(q, -pivmin), q), count
    _, count = lax.fori_loop(1, n, step, (q, count))
    return count


def _cluster_orthogonalizer(eigvals, k, n):
    """A function re-orthonormalising (by QR) the rows of eigenvectors whose eigenvalues
    lie closer than sqrt(eps) * |T|, whose vectors inverse iteration cannot separate."""
    gap = eigvals[1:] - eigvals[:-1]
    t_norm = jnp.maximum(jnp.abs(eigvals[0]), jnp.abs(eigvals[-1]))
    close = gap < np.sqrt(np.finfo(eigvals.dtype).eps) * t_norm
    left_close = jnp.pad(close, (1, 0), constant_values=False)
    right_close = jnp.pad(close, (0, 1), constant_values=False)
    starts = jnp.nonzero(~left_close & right_close, size=k // 2 + 1)[0]
    ends = jnp.nonzero(left_close & ~right_close, size=k // 2 + 1)[0] + 1
    num_clusters = jnp.sum(~left_close & right_close)
    positions = jnp.arange(k)

    def orthogonalize(i, ev):
        start, end = starts[i], ends[i]
        block = lax.dynamic_slice(jnp.pad(ev, ((0, k), (0, 0))), (start, 0), (k, n))
        mask = (positions < end - start).astype(ev.dtype)[:, None]
        q, _ = lax_linalg.qr((block * mask).T, full_matrices=False)
        update = lax.dynamic_update_slice(jnp.zeros((2 * k, n), ev.dtype), q.T * mask,
                                          (start, 0))[:k]
        in_cluster = (positions >= start) & (positions < end)
        return jnp.where(in_cluster[:, None], update, ev)
    return lambda ev: lax.fori_loop(0, num_clusters, orthogonalize, ev)


def _eigenvectors(alpha, beta, eigvals, key):
    n, k = alpha.shape[0], eigvals.shape[0]
    dtype = beta.dtype
    dl = jnp.broadcast_to(jnp.pad(jnp.conj(beta), (1, 0)), (k, n))
    du = jnp.broadcast_to(jnp.pad(beta, (0, 1)), (k, n))
    shifted = (alpha[None, :] - eigvals[:, None]).astype(dtype)
    orthogonalize = _cluster_orthogonalizer(eigvals, k, n)
    v = random.normal(key, (k, n), dtype=np.finfo(dtype).dtype).astype(dtype)
    v = v / jnp.linalg.norm(v, axis=-1, keepdims=True).astype(dtype)

    def step(state):
        i, v, norm, _ = state
        v_new = lax_linalg.tridiagonal_solve(dl, shifted, du, v[:, :, None],
                                             perturb_singular=True)[..., 0]
        norm_new = jnp.linalg.norm(v_new, axis=-1, keepdims=True)
        v_new = orthogonalize(v_new / norm_new.astype(dtype))
        return i + 1, v_new, norm_new[:, 0], norm

    def keep_going(state):   # at most 5 steps (LAPACK xSTEIN), while norms grow 10%
        i, _, norm, norm_old = state
        return jnp.logical_and(i < 5, jnp.any(norm >= 1.1 * norm_old))
    real = eigvals.dtype
    _, v, _, _ = lax.while_loop(keep_going, step, (0, v, jnp.ones(k, real),
                                                   jnp.zeros(k, real)))
    return v


@inline_jit("eigvals_only", "select", "select_range")
def eigh_tridiagonal(d, e, *, eigvals_only=False, select="a", select_range=None, tol=None,
                     key=None):
    """Eigenvalues (ascending) and, unless `eigvals_only`, eigenvectors (as columns) of
    the Hermitian tridiagonal matrix with diagonal d and off-diagonal e. select='i'
    with select_range=(lo, hi) picks eigenvalues lo..hi (by index)."""
    alpha, beta = jnp.asarray(d), jnp.asarray(e)
    if alpha.dtype != beta.dtype:
        raise TypeError(f"diagonal and off-diagonal values must have same dtype, got "
                        f"{alpha.dtype} and {beta.dtype}")
    if alpha.dtype not in _SUPPORTED:
        raise TypeError(f"Only float32 and float64 inputs are supported as inputs to "
                        f"eigh_tridiagonal, got {alpha.dtype} and {beta.dtype}")
    n = alpha.shape[0]
    if n <= 1:
        return jnp.real(alpha) if eigvals_only else (jnp.real(alpha),
                                                     jnp.eye(n, dtype=alpha.dtype))
    if _is_complex(alpha):
        alpha = jnp.real(alpha)
        beta_sq = jnp.real(beta * jnp.conj(beta))
        beta_abs = jnp.sqrt(beta_sq)
    else:
        beta_abs, beta_sq = jnp.abs(beta), jnp.square(beta)
    # Gershgorin bounds on the spectrum
    row_sums = jnp.concatenate([beta_abs[:1], beta_abs[:-1] + beta_abs[1:], beta_abs[-1:]])
    lambda_max, lambda_min = jnp.max(alpha + row_sums), jnp.min(alpha - row_sums)
    t_norm = jnp.maximum(jnp.abs(lambda_min), jnp.abs(lambda_max))
    finfo = np.finfo(alpha.dtype)
    one = np.ones([], dtype=alpha.dtype)
    safemin = np.maximum(one / finfo.max, (one + finfo.eps) * finfo.tiny)
    pivmin = safemin * jnp.maximum(1, jnp.max(beta_sq))
    alpha0_perturbation = jnp.square(finfo.eps * beta_abs[0])
    abs_tol = finfo.eps * t_norm
    if tol is not None:
        abs_tol = jnp.maximum(tol, abs_tol)
    if select == "a":
        targets = jnp.arange(n, dtype=np.int32)
    elif select == "i":
        if select_range is None:
            raise ValueError("for select='i', select_range must be specified.")
        if select_range[0] > select_range[1]:
            raise ValueError("Got empty index range in select_range.")
        targets = jnp.arange(select_range[0], select_range[1] + 1, dtype=np.int32)
    elif select == "v":
        raise NotImplementedError("eigh_tridiagonal(..., select='v') is not implemented "
                                  "(its output size depends on the values, as in JAX)")
    else:
        raise ValueError("'select must have a value in {'a', 'i', 'v'}.")
    fudge = 2.1   # widen the Gershgorin interval a little
    norm_slack = n * fudge * finfo.eps * t_norm
    shape = targets.shape
    lower = jnp.broadcast_to(lambda_min - norm_slack - 2 * fudge * pivmin, shape)
    upper = jnp.broadcast_to(lambda_max + norm_slack + fudge * pivmin, shape)
    pivmin = jnp.broadcast_to(pivmin, shape)
    alpha0_perturbation = jnp.broadcast_to(alpha0_perturbation, shape)

    def keep_going(state):   # bisection needs at most (mantissa bits + 1) steps
        i, lower, _, upper = state
        return jnp.logical_and(i < finfo.nmant + 1, abs_tol < jnp.max(upper - lower))

    def bisect(state):
        i, lower, mid, upper = state
        counts = _sturm_counts(alpha, beta_sq, pivmin, alpha0_perturbation, mid)
        lower = jnp.where(counts <= targets, mid, lower)
        upper = jnp.where(counts > targets, mid, upper)
        return i + 1, lower, 0.5 * (lower + upper), upper
    _, _, eigvals, _ = lax.while_loop(keep_going, bisect,
                                      (0, lower, 0.5 * (lower + upper), upper))
    if eigvals_only:
        return eigvals
    key = random.PRNGKey(42) if key is None else key
    return eigvals, _eigenvectors(alpha, beta, eigvals, key).T
