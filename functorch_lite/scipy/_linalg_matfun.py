"""Matrix functions of `scipy.linalg`: expm (Padé approximation with scaling and
squaring) and its Fréchet derivative, and the Schur-based sqrtm, funm, rsf2csf and
solve_sylvester, as JAX computes them (jax/_src/scipy/linalg.py)."""
import numpy as np

from .. import lax
from .. import numpy as jnp
from .._api import jvp
from ..numpy import linalg as jnp_linalg
from ._linalg_factor import _is_complex, _promote_complex, schur, solve_triangular
from ._util import inexact_arrays, vectorize_core, inline_jit


def _dot(a, b):
    return jnp.matmul(a, b, precision="highest")


# --- expm -----------------------------------------------------------------------------

# Padé numerator/denominator coefficients b_0..b_m (Higham 2005, Table 2.3)
_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.),
}


def _pade(order):
    """(U, V) of the degree-`order` Padé approximant: r(A) = (V - U)^{-1} (V + U)."""
    b = _PADE[order]

    def approximant(a):
        ident = jnp.eye(a.shape[0], dtype=a.dtype)
        a2 = _dot(a, a)
        if order == 13:
            a4 = _dot(a2, a2)
            a6 = _dot(a4, a2)
            u = _dot(a, _dot(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
                     + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
            v = _dot(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) \
                + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
            return u, v
        powers = [ident, a2]  # A^0, A^2, A^4, ...
        for _ in range(order // 2 - 1):
            powers.append(_dot(powers[-1], a2))
        odd = sum(b[2 * i + 1] * p for i, p in enumerate(powers))
        even = sum(b[2 * i] * p for i, p in enumerate(powers))
        return _dot(a, odd), even
    return approximant


# per precision: the 1-norm above which A is scaled, and the thresholds choosing the
# Padé degree (Higham 2005, Table 2.3)
_EXPM_PARAMS = {
    np.dtype(np.float64): (5.371920351148152, (1.495585217958292e-002, 2.539398330063230e-1,
                                               9.504178996162932e-001, 2.097847961257068e0),
                           (3, 5, 7, 9, 13)),
    np.dtype(np.float32): (3.925724783138660, (4.258730016922831e-001, 1.880152677804762e0),
                           (3, 5, 7)),
}


def _calc_p_q(a):
    real = np.dtype(np.finfo(a.dtype).dtype)
    if real not in _EXPM_PARAMS:
        raise TypeError(f"expm: A.dtype={a.dtype} is not supported; use float32, float64 "
                        f"or a complex type")
    maxnorm, conds, orders = _EXPM_PARAMS[real]
    a_l1 = jnp_linalg.norm(a, 1)
    n_squarings = jnp.maximum(0, jnp.floor(jnp.log2(a_l1 / maxnorm)))
    a = a / (2 ** n_squarings).astype(a.dtype)
    index = sum((a_l1 >= c).astype(np.int32) for c in conds)   # np.digitize(a_l1, conds)
    u, v = lax.switch(index, [_pade(m) for m in orders], a)
    return u + v, v - u, n_squarings


def _squaring(r, n_squarings, max_squarings):
    def step(x, i):
        return lax.cond(i < n_squarings, lambda y: _dot(y, y), lambda y: y, x), None
    r, _ = lax.scan(step, r, jnp.arange(max_squarings, dtype=n_squarings.dtype))
    return r


def _expm_2d(a, upper_triangular, max_squarings):
    p, q, n_squarings = _calc_p_q(a)

    def compute(a, p, q):
        r = solve_triangular(q, p) if upper_triangular else jnp_linalg.solve(q, p)
        return _squaring(r, n_squarings, max_squarings)
    return lax.cond(n_squarings > max_squarings, lambda a, p, q: jnp.full_like(a, np.nan),
                    compute, a, p, q)


@inline_jit("upper_triangular", "max_squarings")
def expm(A, *, upper_triangular=False, max_squarings=16):
    """Matrix exponential by Padé approximation with scaling and squaring (Higham
    2005), as JAX; NaN when more than `max_squarings` squarings would be needed.
    Differentiable: its JVP is the Fréchet derivative (see `expm_frechet`).

    >>> import numpy as np
    >>> from functorch_lite.scipy.linalg import expm
    >>> np.asarray(expm(np.zeros((2, 2), np.float32))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    (A,) = inexact_arrays(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"Expected A to be a (batched) square matrix, got A.shape="
                         f"{A.shape}.")
    return vectorize_core(lambda a: _expm_2d(a, upper_triangular, max_squarings),
                          (2,))(A)


@inline_jit("method", "compute_expm")
def expm_frechet(A, E, *, method=None, compute_expm=True):
    """The Fréchet derivative of expm at A in direction E (and expm(A) when
    `compute_expm`), computed as the JVP of `expm`."""
    del method
    A, E = jnp.asarray(A), jnp.asarray(E)
    if A.ndim < 2 or A.shape[-2] != A.shape[-1]:
        raise ValueError(f"expected A to be a (batched) square matrix, got A.shape="
                         f"{A.shape}")
    if E.ndim < 2 or E.shape[-2] != E.shape[-1]:
        raise ValueError(f"expected E to be a (batched) square matrix, got E.shape="
                         f"{E.shape}")
    if A.shape != E.shape:
        raise ValueError(f"expected A and E to be the same shape, got A.shape={A.shape} "
                         f"E.shape={E.shape}")
    expm_a, frechet = jvp(expm, (A,), (E,))
    return (expm_a, frechet) if compute_expm else frechet


# --- Schur-based matrix functions ------------------------------------------------------

def _sqrtm_upper_triangular(t):
    """The upper triangular square root of upper triangular t (Björck-Hammarling)."""
    diag = jnp.sqrt(jnp.diagonal(t))
    n = diag.shape[0]
    u = jnp.diag(diag)

    def i_loop(l, data):
        j, u = data
        i = j - 1 - l
        s = lax.fori_loop(i + 1, j, lambda k, val: val + u[i, k] * u[k, j],
                          jnp.zeros((), t.dtype))
        value = jnp.where(t[i, j] == s, 0.0, (t[i, j] - s) / (diag[i] + diag[j]))
        return j, u.at[i, j].set(value)

    def j_loop(j, u):
        _, u = lax.fori_loop(0, j, i_loop, (j, u))
        return u
    return lax.fori_loop(0, n, j_loop, u)


@inline_jit()
def _sqrtm(A):
    t, z = schur(A, output="complex")
    root = _sqrtm_upper_triangular(t)
    return _dot(_dot(z, root), jnp.conj(z.T))


def sqrtm(A, blocksize=1):
    """Principal matrix square root (complex result), through the complex Schur form;
    CPU only (LAPACK gees)."""
    if blocksize > 1:
        raise NotImplementedError("Blocked version is not implemented yet.")
    return _sqrtm(A)


def _eigenvalue_of_2x2(block):
    """The eigenvalue with the larger imaginary part of a 2x2 block (LAPACK geev lists
    it first for the standardised 2x2 blocks of a real Schur form)."""
    half_trace = (block[0, 0] + block[1, 1]) / 2
    root = jnp.sqrt(((block[0, 0] - block[1, 1]) / 2) ** 2 + block[0, 1] * block[1, 0])
    return half_trace + jnp.where(jnp.imag(root) < 0, -root, root)


def _rsf2csf_2d(T, Z):
    T, Z = _promote_complex(T), _promote_complex(Z)
    eps = np.finfo(T.dtype).eps
    n = T.shape[0]
    if n == 1:
        return T, Z
    columns = lax.broadcasted_iota(np.int32, (2, n), 1)
    rows = lax.broadcasted_iota(np.int32, (n, 2), 0)

    def update(m, T, Z):
        # a Givens rotation that zeroes T[m, m-1] (a 2x2 block of the real form)
        mu = _eigenvalue_of_2x2(lax.dynamic_slice(T, (m - 1, m - 1), (2, 2))) - T[m, m]
        r = jnp.sqrt(jnp.abs(mu) ** 2 + jnp.abs(T[m, m - 1]) ** 2).astype(T.dtype)
        c, s = mu / r, T[m, m - 1] / r
        g = jnp.stack([jnp.stack([jnp.conj(c), s]), jnp.stack([-s, c])])
        g_h = jnp.conj(g.T)
        t_rows = lax.dynamic_slice_in_dim(T, m - 1, 2, axis=0)
        col_mask = columns >= m - 1
        t_rows = jnp.where(col_mask, _dot(g, jnp.where(col_mask, t_rows, 0)), t_rows)
        T = lax.dynamic_update_slice_in_dim(T, t_rows, m - 1, axis=0)
        t_cols = lax.dynamic_slice_in_dim(T, m - 1, 2, axis=1)
        row_mask = rows < m + 1
        t_cols = jnp.where(row_mask, _dot(jnp.where(row_mask, t_cols, 0), g_h), t_cols)
        T = lax.dynamic_update_slice_in_dim(T, t_cols, m - 1, axis=1)
        z_cols = lax.dynamic_slice_in_dim(Z, m - 1, 2, axis=1)
        Z = lax.dynamic_update_slice_in_dim(Z, _dot(z_cols, g_h), m - 1, axis=1)
        return T, Z

    def step(i, TZ):
        T, Z = TZ
        m = n - i
        is_block = jnp.abs(T[m, m - 1]) > eps * (jnp.abs(T[m - 1, m - 1]) +
                                                 jnp.abs(T[m, m]))
        T, Z = lax.cond(is_block, update, lambda m, T, Z: (T, Z), m, T, Z)
        return T.at[m, m - 1].set(0), Z
    return lax.fori_loop(1, n, step, (T, Z))


@inline_jit("check_finite")
def rsf2csf(T, Z, check_finite=True):
    """Convert a real Schur form (T, Z) to the complex Schur form."""
    del check_finite
    T, Z = jnp.asarray(T), jnp.asarray(Z)
    if T.ndim < 2 or T.shape[-1] != T.shape[-2]:
        raise ValueError("Input 'T' must be square.")
    if Z.ndim < 2 or Z.shape[-1] != Z.shape[-2]:
        raise ValueError("Input 'Z' must be square.")
    if T.shape[-1] != Z.shape[-1]:
        raise ValueError(f"Input array shapes must match: Z: {Z.shape} vs. T: {T.shape}")
    return vectorize_core(_rsf2csf_2d, (2, 2))(T, Z)


def _parlett_recurrence(F, T):
    """Fill the strict upper triangle of F = f(T), given its diagonal, by Parlett's
    recurrence (Golub & Van Loan, Algorithm 11.1.1); also the smallest |T_jj - T_ii|."""
    n = T.shape[0]
    positions = jnp.arange(n)

    def inner(i, p_f_minden):
        p, F, minden = p_f_minden
        j = i + p
        s = T[i - 1, j - 1] * (F[j - 1, j - 1] - F[i - 1, i - 1])
        between = (positions >= i) & (positions < j - 1)
        s = s + (jnp.where(between, T[i - 1], 0) @ jnp.where(between, F[:, j - 1], 0)
                 - jnp.where(between, F[i - 1], 0) @ jnp.where(between, T[:, j - 1], 0))
        den = T[j - 1, j - 1] - T[i - 1, i - 1]
        s = jnp.where(den != 0, s / den, s)
        return p, F.at[i - 1, j - 1].set(s), jnp.minimum(minden, jnp.abs(den))

    def outer(p, f_minden):
        _, F, minden = lax.fori_loop(1, n - p + 1, inner, (p, *f_minden))
        return F, minden
    return lax.fori_loop(1, n, outer, (F, jnp.abs(T[0, 0])))


@inline_jit("func", "disp")
def _funm(A, func, disp):
    T, Z = rsf2csf(*schur(A))
    F = jnp.diag(func(jnp.diagonal(T))).astype(T.dtype)
    F, minden = _parlett_recurrence(F, T)
    F = _dot(_dot(Z, F), jnp.conj(Z.T))
    if disp:
        return F
    tol = np.finfo(np.float32 if F.dtype == np.complex64 else np.float64).eps
    minden = jnp.where(minden == 0.0, tol, minden)
    err = jnp.where(jnp.any(jnp.isinf(F)), np.inf, jnp.minimum(1, jnp.maximum(
        tol, (tol / minden) * jnp_linalg.norm(jnp.triu(T, 1), 1))))
    return F, err


def funm(A, func, disp=True):
    """f(A) for a scalar function `func` (applied to the eigenvalues), through the
    complex Schur form and Parlett's recurrence; complex result. With disp=False also
    returns an error estimate, as SciPy. CPU only (LAPACK gees)."""
    A = jnp.asarray(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("expected square array_like input")
    return _funm(A, func, bool(disp))


# --- Sylvester equation ---------------------------------------------------------------

def _solve_sylvester_triangular(R, S, F):
    """Y with R Y + Y S = F for upper triangular R (m x m) and lower triangular S
    (n x n), solved entry by entry from the bottom-right corner."""
    m, n = F.shape
    rows, cols = jnp.arange(m), jnp.arange(n)

    def step(Y, index):
        i, j = index // n, index % n
        row_term = jnp.sum(jnp.where(rows > i, R[i, :] * Y[:, j], 0))
        col_term = jnp.sum(jnp.where(cols > j, Y[i, :] * S[:, j], 0))
        value = (F[i, j] - row_term - col_term) / (R[i, i] + S[j, j])
        return Y.at[i, j].set(value), None
    Y, _ = lax.scan(step, jnp.zeros((m, n), F.dtype), jnp.arange(m * n - 1, -1, -1))
    return Y


def _solve_sylvester_2d(A, B, C, method, tol):
    if method != "schur":
        raise NotImplementedError(f"solve_sylvester(method={method!r}): only "
                                  f"method='schur' is implemented (method='eigen' needs "
                                  f"jnp.linalg.eig)" if method == "eigen" else
                                  f'Unrecognized method {method}. The two valid methods '
                                  f'are either "schur" or "eigen".')
    R, U = schur(A, output="complex")
    S, V = schur(jnp.conj(B.T), output="complex")
    F = _dot(_dot(jnp.conj(U.T), C.astype(R.dtype)), V)
    X = _dot(_dot(U, _solve_sylvester_triangular(R, jnp.conj(S.T), F)), jnp.conj(V.T))
    if not _is_complex(C):
        X = jnp.real(X)
    # the eigenvalues of A and B: the diagonals of their complex Schur forms (S is the
    # form of B^H, so its diagonal holds conj(eig(B)))
    eig_sums = jnp.diagonal(R)[:, None] + jnp.conj(jnp.diagonal(S))[None, :]
    singular = jnp.any(jnp.abs(eig_sums) < tol)
    return jnp.where(singular, jnp.zeros_like(X) * np.nan, X)


@inline_jit("method")
def solve_sylvester(A, B, C, *, method="schur", tol=1e-8):
    """X with A X + X B = C (Bartels-Stewart through complex Schur forms); NaN when A
    and -B share an eigenvalue (within `tol`). CPU only (LAPACK gees)."""
    A, B, C = inexact_arrays(A, B, C)
    m, n = C.shape[-2:]
    if A.shape[-2:] != (m, m) or B.shape[-2:] != (n, n):
        raise ValueError(f"Incompatible shapes for Sylvester equation:\nA: {A.shape}\n"
                         f"B: {B.shape}\nC: {C.shape}")
    return vectorize_core(lambda a, b, c: _solve_sylvester_2d(a, b, c, method, tol),
                          (2, 2, 2))(A, B, C)
