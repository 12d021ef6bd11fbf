"""`scipy.linalg` factorisations and solves over the `lax.linalg` primitives and
`numpy.linalg`, with JAX's semantics (jax/_src/scipy/linalg.py): inputs promoted to an
inexact dtype, leading batch dimensions broadcast, NaN (not exceptions) for singular
or indefinite input, SciPy's `overwrite_*` / `check_finite` arguments accepted and
ignored."""
import warnings

import numpy as np

from .. import _dtypes, lax
from .. import numpy as jnp
from .._core import get_aval
from .._custom import custom_jvp
from ..lax import _linalg as lax_linalg
from ..numpy import linalg as jnp_linalg
from ._util import inexact_arrays, vectorize_core, inline_jit

_H = lax_linalg._H


def _is_complex(x):
    return _dtypes.is_complex(get_aval(x).dtype)


def _promote_complex(x):
    dtype = get_aval(x).dtype
    return x if _is_complex(x) else lax.convert_element_type(
        x, np.complex128 if dtype == np.float64 else np.complex64)


def _right_hand_side_is_vector(name, a, b):
    """b is a vector (or, deprecated in JAX 0.10, a stack of vectors matching a's
    batch) rather than a matrix of right-hand sides."""
    a_shape, b_shape = get_aval(a).shape, get_aval(b).shape
    if len(b_shape) == 1:
        return True
    if len(a_shape) == len(b_shape) + 1 and a_shape[-1] == b_shape[-1]:
        warnings.warn(f"functorch_lite.scipy.linalg.{name}: batched 1D solves with "
                      f"b.ndim > 1 are deprecated (as in JAX), and in the future will be "
                      f"treated as a batched 2D solve. Use {name}(..., b[..., None])"
                      f".squeeze(-1) to avoid this warning.", FutureWarning, stacklevel=3)
        return True
    return False


# --- Cholesky -------------------------------------------------------------------------

@inline_jit("lower")
def _cholesky(a, lower):
    (a,) = inexact_arrays(a)
    factor = lax_linalg.cholesky(a if lower else _H(a), symmetrize_input=False)
    return factor if lower else _H(factor)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factor of a Hermitian positive-definite matrix: upper U with U^H U = a,
    or lower L with L L^H = a. NaN where `a` is not positive definite.

    >>> import numpy as np
    >>> from functorch_lite.scipy.linalg import cholesky
    >>> np.asarray(cholesky(np.array([[4., 2.], [2., 5.]]))).round(3).tolist()
    [[2.0, 1.0], [0.0, 2.0]]
    """
    del overwrite_a, check_finite
    return _cholesky(a, bool(lower))


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(factor, lower) for `cho_solve`."""
    del overwrite_a, check_finite
    return cholesky(a, lower=lower), lower


@inline_jit("lower", "vector")
def _cho_solve(c, b, lower, vector):
    c, b = inexact_arrays(c, b)

    def solve(c, b):
        b = lax_linalg.triangular_solve(c, b, left_side=True, lower=lower,
                                        transpose_a=not lower, conjugate_a=not lower)
        return lax_linalg.triangular_solve(c, b, left_side=True, lower=lower,
                                           transpose_a=lower, conjugate_a=lower)
    return vectorize_core(solve, (2, 1 if vector else 2))(c, b)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve a x = b given `cho_factor(a)`."""
    del overwrite_b, check_finite
    c, lower = c_and_lower
    c, b = jnp.asarray(c), jnp.asarray(b)
    return _cho_solve(c, b, bool(lower), _right_hand_side_is_vector("cho_solve", c, b))


# --- LU -------------------------------------------------------------------------------

@inline_jit()
def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, pivots): L (unit, below the diagonal) and U packed in one matrix, and the
    0-based LAPACK row interchanges."""
    del overwrite_a, check_finite
    (a,) = inexact_arrays(a)
    factors, pivots, _ = lax_linalg.lu(a)
    return factors, pivots


def _lu_solve_core(lu, permutation, b, trans):
    if trans == 0:
        x = lax_linalg._permute_rows(b, permutation)
        x = lax_linalg.triangular_solve(lu, x, left_side=True, lower=True,
                                        unit_diagonal=True)
        return lax_linalg.triangular_solve(lu, x, left_side=True, lower=False)
    conj = trans == 2
    x = lax_linalg.triangular_solve(lu, b, left_side=True, lower=False, transpose_a=True,
                                    conjugate_a=conj)
    x = lax_linalg.triangular_solve(lu, x, left_side=True, lower=True, unit_diagonal=True,
                                    transpose_a=True, conjugate_a=conj)
    return lax_linalg._permute_rows(x, permutation, inverse=True)


@inline_jit("trans", "vector")
def _lu_solve(lu, pivots, b, trans, vector):
    lu, b = inexact_arrays(lu, b)
    m = get_aval(lu).shape[-2]
    permutation = lax_linalg.lu_pivots_to_permutation(pivots, m)

    def solve(lu, permutation, b):
        if vector:
            return _lu_solve_core(lu, permutation, b[:, None], trans)[:, 0]
        return _lu_solve_core(lu, permutation, b, trans)
    return vectorize_core(solve, (2, 1, 1 if vector else 2))(lu, permutation, b)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solve a x = b (trans=0), a^T x = b (1) or a^H x = b (2) given `lu_factor(a)`."""
    del overwrite_b, check_finite
    if trans not in (0, 1, 2):
        raise ValueError(f"'trans' value must be 0, 1, or 2, got {trans}")
    lu, pivots = lu_and_piv
    lu, b = jnp.asarray(lu), jnp.asarray(b)
    return _lu_solve(lu, pivots, b, trans, _right_hand_side_is_vector("lu_solve", lu, b))


def _lu_2d(a, permute_l):
    factors, _, permutation = lax_linalg.lu(a)
    m, n = get_aval(a).shape
    dtype = get_aval(a).dtype
    rows = lax.broadcasted_iota(np.int32, (m, m), 0)
    p = (jnp.broadcast_to(permutation[None, :], (m, m)) == rows).astype(dtype)
    k = min(m, n)
    lower = jnp.tril(factors, -1)[:, :k] + jnp.eye(m, k, dtype=dtype)
    upper = jnp.triu(factors)[:k, :]
    if permute_l:
        return jnp.matmul(p, lower, precision="highest"), upper
    return p, lower, upper


@inline_jit("permute_l", "overwrite_a", "check_finite")
def lu(a, permute_l=False, overwrite_a=False, check_finite=True):
    """(p, l, u) with a = p @ l @ u (or (p @ l, u) when `permute_l`)."""
    del overwrite_a, check_finite
    (a,) = inexact_arrays(a)
    return vectorize_core(lambda x: _lu_2d(x, permute_l), (2,))(a)


# --- QR -------------------------------------------------------------------------------

@inline_jit("overwrite_a", "lwork", "mode", "pivoting", "check_finite")
def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """QR decomposition: (q, r) for mode 'full' or 'economic', (r,) for mode 'r'."""
    del overwrite_a, lwork, check_finite
    if pivoting:
        raise NotImplementedError("qr(..., pivoting=True) needs LAPACK geqp3, which "
                                  "functorch_lite does not call yet; use pivoting=False")
    if mode not in ("full", "r", "economic"):
        raise ValueError(f"Unsupported QR decomposition mode '{mode}'")
    (a,) = inexact_arrays(a)
    q, r = lax_linalg.qr(a, full_matrices=mode != "economic")
    return (r,) if mode == "r" else (q, r)


@inline_jit("mode", "pivoting", "conjugate", "overwrite_a", "overwrite_c")
def qr_multiply(a, c, mode="right", pivoting=False, conjugate=False, overwrite_a=False,
                overwrite_c=False):
    """(c @ Q, R) for mode 'right', (Q @ c, R) for mode 'left' (Q economic; conj(Q)
    when `conjugate`), without returning Q itself."""
    del overwrite_a, overwrite_c
    if pivoting:
        raise NotImplementedError("qr_multiply(..., pivoting=True) needs LAPACK geqp3, "
                                  "which functorch_lite does not call yet")
    if mode not in ("right", "left"):
        raise ValueError(f"mode must be 'right' or 'left', got {mode!r}")
    a, c = inexact_arrays(a, c)
    onedim = c.ndim == 1
    if onedim:
        c = c[:, None] if mode == "left" else c[None, :]
    m, n = a.shape[-2:]
    k = min(m, n)
    if mode == "left" and c.shape[-2] != k:
        raise ValueError(f"Array shapes are not compatible for Q @ c operation: a has "
                         f"shape {tuple(a.shape)} so Q has {k} columns, but c has "
                         f"{c.shape[-2]} rows (expected {k}).")
    if mode == "right" and c.shape[-1] != m:
        raise ValueError(f"Array shapes are not compatible for c @ Q operation: a has "
                         f"shape {tuple(a.shape)} so Q has {m} rows, but c has "
                         f"{c.shape[-1]} columns (expected {m}).")
    q, r = lax_linalg.qr(a, full_matrices=False)
    q = jnp.conj(q) if conjugate else q
    out = jnp.matmul(q, c, precision="highest") if mode == "left" else \
        jnp.matmul(c, q, precision="highest")
    return (out.ravel() if onedim else out), r


# --- other decompositions -------------------------------------------------------------

@inline_jit("full_matrices", "compute_uv", "overwrite_a", "check_finite",
            "lapack_driver")
def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """(u, s, vh) with a = u @ diag(s) @ vh, s descending; s alone without compute_uv."""
    del overwrite_a, check_finite, lapack_driver
    (a,) = inexact_arrays(a)
    return lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


@inline_jit("lower", "eigvals_only", "overwrite_a", "overwrite_b", "turbo", "eigvals",
            "type", "check_finite")
def eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         turbo=True, eigvals=None, type=1, check_finite=True):
    """(w, v): ascending eigenvalues and eigenvectors of a Hermitian matrix (only the
    standard problem: b=None, type=1, eigvals=None, as in JAX)."""
    del overwrite_a, overwrite_b, turbo, check_finite
    if b is not None:
        raise NotImplementedError("Only the b=None case of eigh is implemented")
    if type != 1:
        raise NotImplementedError("Only the type=1 case of eigh is implemented.")
    if eigvals is not None:
        raise NotImplementedError("Only the eigvals=None case of eigh is implemented.")
    (a,) = inexact_arrays(a)
    v, w = lax_linalg.eigh(a, lower=lower)
    return w if eigvals_only else (w, v)


@inline_jit("output")
def _schur(a, output):
    (a,) = inexact_arrays(a)
    if output == "complex":
        a = _promote_complex(a)
    return lax_linalg.schur(a)


def schur(a, output="real"):
    """(T, Z) with a = Z T Z^H; T is quasi upper triangular for output='real' on real
    input and upper triangular for output='complex'. CPU only (LAPACK gees)."""
    if output not in ("real", "complex"):
        raise ValueError(f"Expected 'output' to be either 'real' or 'complex', got "
                         f"output={output!r}.")
    return _schur(a, output)


@inline_jit("calc_q", "overwrite_a", "check_finite")
def hessenberg(a, *, calc_q=False, overwrite_a=False, check_finite=True):
    """Upper Hessenberg h (and unitary q with a = q h q^H when `calc_q`). CPU only
    (LAPACK gehrd)."""
    del overwrite_a, check_finite
    (a,) = inexact_arrays(a)
    n = a.shape[-1]
    if n == 0:
        return (jnp.zeros_like(a), jnp.zeros_like(a)) if calc_q else jnp.zeros_like(a)
    reflectors, taus = lax_linalg.hessenberg(a)
    h = jnp.triu(reflectors, -1)
    if not calc_q:
        return h
    q = lax_linalg.householder_product(reflectors[..., 1:, :-1], taus)
    nd = q.ndim
    q = lax.pad(q, np.zeros((), q.dtype), [(0, 0, 0)] * (nd - 2) + [(1, 0, 0)] * 2)
    corner = np.zeros((n, n), q.dtype)
    corner[0, 0] = 1
    return h, q + corner


# --- solves and inverses --------------------------------------------------------------

def det(a, overwrite_a=False, check_finite=True):
    """Determinant (of each matrix of a stack)."""
    del overwrite_a, check_finite
    return jnp_linalg.det(a)


def inv(a, overwrite_a=False, check_finite=True):
    """Inverse (of each matrix of a stack)."""
    del overwrite_a, check_finite
    return jnp_linalg.inv(a)


def _solve_positive_definite_fn(lower, vector, a, b):
    return _cho_solve(_cholesky(a, lower), b, lower, vector)


_solve_positive_definite = custom_jvp(_solve_positive_definite_fn, nondiff_argnums=(0, 1))


@_solve_positive_definite.defjvp
def _solve_positive_definite_jvp(lower, vector, primals, tangents):
    # a x = b  =>  a dx = db - da x (the same factorisation solves both, and the
    # derivative sees all of `a`, as JAX's custom_linear_solve)
    (a, b), (da, db) = primals, tangents
    factor = _cholesky(a, lower)
    x = _cho_solve(factor, b, lower, vector)
    da_x = jnp.einsum("...ij,...j->...i", da, x) if vector else jnp.matmul(da, x)
    return x, _cho_solve(factor, db - da_x, lower, vector)


@inline_jit("lower", "assume_a")
def _solve(a, b, lower, assume_a):
    if assume_a != "pos":
        return jnp_linalg.solve(a, b)
    a, b = inexact_arrays(a, b)
    vector = a.ndim == b.ndim + 1
    return _solve_positive_definite(lower, vector, a, b)


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, debug=False,
          check_finite=True, assume_a="gen"):
    """x with a x = b; assume_a='pos' solves with a Cholesky factorisation of the
    `lower` (or upper) triangle of `a`."""
    del overwrite_a, overwrite_b, debug, check_finite
    valid = ["gen", "sym", "her", "pos"]
    if assume_a not in valid:
        raise ValueError(f"Expected assume_a to be one of {valid}; got {assume_a!r}")
    return _solve(a, b, bool(lower), assume_a)


_TRANS = {0: (False, False), "N": (False, False), 1: (True, False), "T": (True, False),
          2: (True, True), "C": (True, True)}


@inline_jit("trans", "lower", "unit_diagonal", "vector")
def _solve_triangular(a, b, trans, lower, unit_diagonal, vector):
    transpose_a, conjugate_a = _TRANS[trans]
    a, b = inexact_arrays(a, b)
    solve = lambda a, b: lax_linalg.triangular_solve(
        a, b, left_side=True, lower=lower, transpose_a=transpose_a,
        conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    return vectorize_core(solve, (2, 1 if vector else 2))(a, b)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     debug=None, check_finite=True):
    """x with op(a) x = b for triangular `a`; op is a, a^T or a^H for trans 0/'N',
    1/'T', 2/'C'."""
    del overwrite_b, debug, check_finite
    if trans not in _TRANS:
        raise ValueError(f"Invalid 'trans' value {trans}")
    a, b = jnp.asarray(a), jnp.asarray(b)
    return _solve_triangular(a, b, trans, bool(lower), bool(unit_diagonal),
                             _right_hand_side_is_vector("solve_triangular", a, b))
