"""Linear-algebra primitives (`lax.linalg`): cholesky, triangular_solve, lu, qr, eigh,
svd, schur, hessenberg, householder_product, tridiagonal_solve, and the private solve used by `numpy.linalg.solve`/`inv`.

Every primitive works on stacks of matrices (leading batch dims), so batching moves
the vmapped axis to the front. Lowerings are functions of the LAPACK / cuSOLVER
kernels in `_linalg_kernels` plus ordinary primitives (as JAX's CPU/GPU lowerings);
JVP rules follow JAX's (jax/_src/lax/linalg.py) and use only primitives that
transpose, so reverse mode comes from linearize + transpose."""

__all__ = ["cholesky", "triangular_solve", "lu", "lu_pivots_to_permutation", "qr", "eigh",
           "svd", "symmetrize", "eig", "schur", "hessenberg",
           "householder_product", "tridiagonal_solve"]
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front
from . import _linalg_kernels as kernels, _elementwise as el
from ._structural import broadcast_in_dim, reshape, transpose
from ._values import broadcasted_iota, convert_element_type, full, select_n
from ._slicing import slice as slice_, slice_in_dim, pad
from ._reductions import reduce_sum
from ._linear import dot_general
from ._loops import fori_loop


# --- helpers on stacks of matrices ----------------------------------------------------

def _shape(x):
    return get_aval(x).shape


def _dtype(x):
    return get_aval(x).dtype


def _is_complex(x):
    return _dtypes.is_complex(_dtype(x))


def _T(x):
    nd = len(_shape(x))
    return transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _H(x):
    return _T(el.conj(x)) if _is_complex(x) else _T(x)


def _matmul(a, b):
    """a @ b for stacks with equal leading batch dims (b may be a stack of vectors)."""
    nb = len(_shape(a)) - 2
    dn = (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))
    return dot_general(a, b, dn, precision="highest")


def _full_like(x, value, shape=None):
    return full(_shape(x) if shape is None else shape, value, _dtype(x))


def _triangle(x, k, lower):
    """The lower (j <= i + k) or upper (j >= i + k) triangle of the last two axes."""
    shape = _shape(x)
    nd = len(shape)
    rows = broadcasted_iota(np.int32, shape, nd - 2)
    cols = broadcasted_iota(np.int32, shape, nd - 1)
    diff = el.sub(cols, rows)
    keep = el.le(diff, full(shape, k, np.int32)) if lower else \
        el.ge(diff, full(shape, k, np.int32))
    return select_n(keep, _full_like(x, 0), x)


def _tril(x, k=0):
    return _triangle(x, k, True)


def _triu(x, k=0):
    return _triangle(x, k, False)


def _eye_like(x, n=None):
    """Identity matrices with x's dtype and leading dims (n x n, default x's last)."""
    shape = _shape(x)
    n = shape[-1] if n is None else n
    full_shape = (*shape[:-2], n, n)
    nd = len(full_shape)
    on = el.eq(broadcasted_iota(np.int32, full_shape, nd - 2),
               broadcasted_iota(np.int32, full_shape, nd - 1))
    return convert_element_type(on, _dtype(x))


def _diagonal(x):
    """The main diagonal over the last two axes, as the last axis: element i of the
    flattened (n, m) block sits at i * (m + 1)."""
    *lead, n, m = _shape(x)
    flat = reshape(x, (*lead, n * m))
    size = min(n, m)
    return slice_in_dim(flat, 0, max(0, (size - 1) * (m + 1) + 1), m + 1, axis=len(lead))


def _nan_unless(x, ok):
    """x where `ok` (one flag per matrix of the stack), NaN elsewhere (JAX's policy)."""
    shape = _shape(x)
    ok = broadcast_in_dim(ok, shape, tuple(range(len(_shape(ok)))))
    return select_n(ok, _full_like(x, np.nan), x)


def _info_ok(info, compare=el.eq):
    return compare(info, full(_shape(info), 0, np.int32))


def _check_float(name, aval):
    if not _dtypes.is_inexact(aval.dtype):
        raise TypeError(f"{name} requires a floating-point or complex matrix, got "
                        f"{aval.dtype.name}; cast with .astype(float) first")


def _check_matrix(name, aval, square=False):
    if aval.ndim < 2:
        raise ValueError(f"{name} requires a matrix (ndim >= 2), got shape {aval.shape}")
    if square and aval.shape[-1] != aval.shape[-2]:
        raise ValueError(f"{name} requires square matrices (..., n, n), got shape "
                         f"{aval.shape}")
    _check_float(name, aval)


def _stack_batching(prim, num_outputs=None):
    """Batching for a primitive over stacks of matrices: the vmapped axis becomes the
    leading batch axis of every operand (unbatched operands are broadcast)."""
    def rule(axis_data, vals, dims, **params):
        vals = [bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims)]
        out = prim.bind(*vals, **params)
        return out, ([0] * len(out) if prim.multiple_results else 0)
    prim.batching_rule = rule
    return rule


def symmetrize(x):
    """(x + x^H) / 2."""
    return el.div(el.add(x, _H(x)), _full_like(x, 2))


# --- cholesky -------------------------------------------------------------------------

cholesky_p = Primitive("cholesky")


def cholesky(x, *, symmetrize_input=True):
    """Lower Cholesky factor L of the Hermitian positive-definite `x` (L L^H = x); NaN
    where the factorisation fails."""
    if symmetrize_input:
        x = symmetrize(x)
    return cholesky_p.bind(x)


@cholesky_p.def_abstract_eval
def _cholesky_abstract_eval(x):
    _check_matrix("cholesky", x, square=True)
    return x.update(weak_type=False)


def _cholesky_composite(x):
    factor, info = kernels.potrf(x, lower=True)
    return _tril(_nan_unless(factor, _info_ok(info)))


cholesky_p.lowering_rule = kernels.composite_lowering(_cholesky_composite, "cholesky",
                                                      multiple_results=False)


@cholesky_p.def_jvp
def _cholesky_jvp(primals, tangents):
    # L_dot = L phi(L^{-1} sigma_dot L^{-H}), phi: lower triangle, half diagonal
    # (Murray, "Differentiation of the Cholesky decomposition", 2016)
    (x,), (sigma_dot,) = primals, tangents
    L = cholesky_p.bind(x)
    sigma_dot = instantiate(sigma_dot)
    tmp = triangular_solve(L, sigma_dot, left_side=False, transpose_a=True,
                           conjugate_a=True, lower=True)
    inner = triangular_solve(L, tmp, left_side=True, transpose_a=False, lower=True)
    half_diag = el.add(_full_like(inner, 1), _eye_like(inner))
    phi = el.div(_tril(inner), half_diag)
    return L, _matmul(L, phi)


_stack_batching(cholesky_p)


# --- triangular_solve -----------------------------------------------------------------

triangular_solve_p = Primitive("triangular_solve")


def triangular_solve(a, b, *, left_side=False, lower=False, transpose_a=False,
                     conjugate_a=False, unit_diagonal=False):
    """Solve op(a) x = b (left_side) or x op(a) = b for x, with `a` triangular and
    op(a) = a, a^T or a^H; `b` may be a stack of vectors (ndim of a minus one)."""
    a_aval, b_aval = get_aval(a), get_aval(b)
    singleton = b_aval.ndim == a_aval.ndim - 1
    if singleton:
        b = reshape(b, (*b_aval.shape, 1) if left_side else
                    (*b_aval.shape[:-1], 1, b_aval.shape[-1]))
    out = triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                  transpose_a=bool(transpose_a),
                                  conjugate_a=bool(conjugate_a) and _is_complex(a),
                                  unit_diagonal=bool(unit_diagonal))
    return reshape(out, b_aval.shape) if singleton else out


@triangular_solve_p.def_abstract_eval
def _triangular_solve_abstract_eval(a, b, *, left_side, **_):
    _check_matrix("triangular_solve", a, square=True)
    _check_matrix("triangular_solve", b)
    if a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"triangular_solve: a and b must have equal batch dimensions, "
                         f"got shapes {a.shape} and {b.shape}")
    common = b.shape[-2] if left_side else b.shape[-1]
    if a.shape[-1] != common:
        raise ValueError(f"triangular_solve: a of shape {a.shape} does not match b of "
                         f"shape {b.shape} (left_side={left_side})")
    if a.dtype != b.dtype:
        raise TypeError(f"triangular_solve: dtypes differ, {a.dtype} and {b.dtype}")
    return b.update(weak_type=False)


_LAPACK_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128)}


def _triangular_solve_lowering(ctx, a, b, *, left_side, lower, transpose_a, conjugate_a,
                               unit_diagonal):
    if kernels.on_gpu() or ctx.avals_in[0].dtype not in _LAPACK_DTYPES:
        # XLA's own TriangularSolve (cuBLAS trsm on GPU), as JAX emits it
        mode = ("ADJOINT" if conjugate_a else "TRANSPOSE") if transpose_a else "NO_TRANSPOSE"
        return ctx.op("stablehlo.triangular_solve", [a, b], attrs={
            "left_side": kernels.bool_attr(left_side), "lower": kernels.bool_attr(lower),
            "transpose_a": f"#stablehlo<transpose {mode}>",
            "unit_diagonal": kernels.bool_attr(unit_diagonal)})
    return _trsm_lowering(ctx, a, b, left_side=left_side, lower=lower,
                          transpose_a=transpose_a, conjugate_a=conjugate_a,
                          unit_diagonal=unit_diagonal)


def _trsm_composite(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    if conjugate_a and not transpose_a:
        a, conjugate_a = (el.conj(a) if _is_complex(a) else a), False
    return kernels.trsm(a, b, left_side=left_side, lower=lower, transpose_a=transpose_a,
                        conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)


_trsm_lowering = kernels.composite_lowering(_trsm_composite, "triangular_solve",
                                            multiple_results=False)
triangular_solve_p.lowering_rule = _triangular_solve_lowering


@triangular_solve_p.def_jvp
def _triangular_solve_jvp(primals, tangents, **params):
    a, b = primals
    ga, gb = tangents
    ans = triangular_solve_p.bind(a, b, **params)
    out = Zero(tangent_aval(get_aval(ans)))
    if not isinstance(gb, Zero):
        out = triangular_solve_p.bind(a, gb, **params)
    if not isinstance(ga, Zero):
        out = _add_tangent(out, _triangular_solve_jvp_a(ga, ans, a, **params))
    return ans, out


def _add_tangent(t, u):
    return u if isinstance(t, Zero) else el.add(t, u)


def _triangular_solve_jvp_a(ga, ans, a, *, left_side, lower, transpose_a, conjugate_a,
                            unit_diagonal):
    m, n = _shape(ans)[-2:]
    k = 1 if unit_diagonal else 0
    ga = el.neg(_tril(ga, -k) if lower else _triu(ga, k))
    ga = _T(ga) if transpose_a else ga
    ga = el.conj(ga) if conjugate_a and _is_complex(ga) else ga
    solve = lambda rhs: triangular_solve_p.bind(
        a, rhs, left_side=left_side, lower=lower, transpose_a=transpose_a,
        conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    # order the product and the solve whichever way is cheaper (as JAX)
    if left_side:
        return solve(_matmul(ga, ans)) if m > n else _matmul(solve(ga), ans)
    return solve(_matmul(ans, ga)) if m < n else _matmul(ans, solve(ga))


@triangular_solve_p.def_transpose
def _triangular_solve_transpose(ct, a, b, *, transpose_a, **params):
    assert not is_undefined(a) and is_undefined(b)
    return [None, triangular_solve_p.bind(a, ct, transpose_a=not transpose_a, **params)]


@triangular_solve_p.def_batching
def _triangular_solve_batching(axis_data, vals, dims, *, left_side, **params):
    (a, b), (da, db) = vals, dims
    if da is None:
        # one matrix for every example: fold the examples into b's free dimension
        nd = len(_shape(b))
        if left_side:
            b = _move_axis(b, db, nd - 1)
            shape = _shape(b)
            flat = reshape(b, (*shape[:-2], shape[-2] * shape[-1]))
            out = triangular_solve_p.bind(a, flat, left_side=True, **params)
            return reshape(out, shape), nd - 1
        b = _move_axis(b, db, nd - 2)
        shape = _shape(b)
        flat = reshape(b, (*shape[:-3], shape[-3] * shape[-2], shape[-1]))
        out = triangular_solve_p.bind(a, flat, left_side=False, **params)
        return reshape(out, shape), nd - 2
    a, b = bdim_at_front(axis_data.size, a, da), bdim_at_front(axis_data.size, b, db)
    return triangular_solve_p.bind(a, b, left_side=left_side, **params), 0


def _move_axis(x, src, dst):
    nd = len(_shape(x))
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return transpose(x, perm)


# --- lu -------------------------------------------------------------------------------

lu_p = Primitive("lu", multiple_results=True)


def lu(x):
    """LU decomposition with partial pivoting: (lu, pivots, permutation) with
    a[permutation] = L @ U, L unit lower (below lu's diagonal), U upper."""
    return tuple(lu_p.bind(x))


@lu_p.def_abstract_eval
def _lu_abstract_eval(x):
    _check_matrix("lu", x)
    batch, (m, n) = x.shape[:-2], x.shape[-2:]
    return [x.update(weak_type=False), ShapedArray((*batch, min(m, n)), np.int32),
            ShapedArray((*batch, m), np.int32)]


def lu_pivots_to_permutation(pivots, permutation_size):
    """The permutation (..., permutation_size) made by LAPACK-style row swaps `pivots`
    (..., k): for i in range(k), swap rows i and pivots[i]."""
    shape = _shape(pivots)
    batch, k, m = shape[:-1], shape[-1], int(permutation_size)
    nb = len(batch)
    rows = broadcasted_iota(np.int32, (*batch, m), nb)
    steps = broadcasted_iota(np.int32, (*batch, k), nb)

    def pick(values, index_grid, index):   # values[..., index] as a one-hot sum
        hit = el.eq(index_grid, index)
        return reduce_sum(select_n(hit, _full_like(values, 0), values), (nb,))

    def spread(v):                          # (*batch,) -> (*batch, m)
        return broadcast_in_dim(v, (*batch, m), tuple(range(nb)))

    def body(i, perm):
        i = convert_element_type(i, np.int32)
        p = spread(pick(pivots, steps, full((*batch, k), i, np.int32)))
        at_i = spread(pick(perm, rows, full((*batch, m), i, np.int32)))
        at_p = spread(pick(perm, rows, p))
        is_i = el.eq(rows, full((*batch, m), i, np.int32))
        return select_n(is_i, select_n(el.eq(rows, p), perm, at_i), at_p)
    return fori_loop(0, k, body, rows)


def _lu_composite(x):
    factors, pivots, info = kernels.getrf(x)
    pivots = el.sub(pivots, full(_shape(pivots), 1, np.int32))  # 0-based, as JAX
    factors = _nan_unless(factors, _info_ok(info, el.ge))   # info > 0: singular, kept
    to_permutation = kernels.lu_pivots_to_permutation if kernels.on_gpu() else \
        lu_pivots_to_permutation  # the GPU kernel JAX calls there
    return factors, pivots, to_permutation(pivots, _shape(x)[-2])


lu_p.lowering_rule = kernels.composite_lowering(_lu_composite, "lu")


def _permute_rows(x, permutation, inverse=False):
    """x[..., permutation, :] (or its inverse) as a product with a one-hot matrix."""
    shape = _shape(permutation)
    m = shape[-1]
    grid = (*shape, m)
    nd = len(grid)
    perm = broadcast_in_dim(permutation, grid, tuple(range(nd - 1)))
    onehot = el.eq(perm, broadcasted_iota(np.int32, grid, nd - 1))
    onehot = convert_element_type(onehot, _dtype(x))
    return _matmul(_T(onehot) if inverse else onehot, x)


@lu_p.def_jvp
def _lu_jvp(primals, tangents):
    # "Differentiation of matrix functionals using triangular factorization" (de Hoog,
    # Anderssen, Lukas 2011), as JAX: with P a = L U, L^{-1} P da U^{-1} = L^{-1} dL + dU U^{-1}
    (a,), (a_dot,) = primals, tangents
    lu_, pivots, permutation = lu_p.bind(a)
    a_dot = instantiate(a_dot)
    m, n = _shape(a)[-2:]
    k = min(m, n)
    nd = len(_shape(a))
    x = _permute_rows(a_dot, permutation)
    zero = np.zeros((), _dtype(lu_))
    l = pad(_tril(_slice_last2(lu_, m, k), -1), zero,
            [(0, 0, 0)] * (nd - 1) + [(0, m - k, 0)])
    l = el.add(l, _eye_like(l, m))
    u = pad(_triu(_slice_last2(lu_, k, n)), zero, [(0, 0, 0)] * (nd - 2) + [(0, n - k, 0),
                                                                        (0, 0, 0)])
    u_eye = pad(_eye_like(lu_, n - k), zero, [(0, 0, 0)] * (nd - 2) + [(k, 0, 0), (k, 0, 0)])
    u = el.add(u, u_eye)
    la = triangular_solve(l, x, left_side=True, lower=True, unit_diagonal=True)
    lau = triangular_solve(u, la, left_side=False, lower=False)
    lu_dot = el.add(_matmul(l, _tril(lau, -1)), _matmul(_triu(lau), u))
    zeros = [Zero(tangent_aval(get_aval(v))) for v in (pivots, permutation)]
    return [lu_, pivots, permutation], [lu_dot, *zeros]


def _slice_last2(x, rows, cols):
    shape = _shape(x)
    return slice_(x, (0,) * len(shape), (*shape[:-2], rows, cols))


_stack_batching(lu_p)


# --- solve (private: numpy.linalg.solve / inv) ----------------------------------------

solve_p = Primitive("lu_solve")


def solve(a, b, transpose_a=False):
    """x with a x = b (or a^T x = b) for stacks of square `a` and matrices `b` of equal
    batch dims; one LU factorisation of `a` (shared by XLA between calls on `a`)."""
    return solve_p.bind(a, b, transpose_a=bool(transpose_a))


@solve_p.def_abstract_eval
def _solve_abstract_eval(a, b, *, transpose_a):
    _check_matrix("solve", a, square=True)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: a of shape {a.shape} does not match b of shape "
                         f"{b.shape}")
    if a.dtype != b.dtype:
        raise TypeError(f"solve: dtypes differ, {a.dtype} and {b.dtype}")
    return b.update(weak_type=False)


def _solve_composite(a, b, *, transpose_a):
    factors, _, permutation = lu_p.bind(a)
    lower = dict(left_side=True, lower=True, unit_diagonal=True, conjugate_a=False)
    upper = dict(left_side=True, lower=False, unit_diagonal=False, conjugate_a=False)
    if not transpose_a:
        x = triangular_solve_p.bind(factors, _permute_rows(b, permutation),
                                    transpose_a=False, **lower)
        return triangular_solve_p.bind(factors, x, transpose_a=False, **upper)
    x = triangular_solve_p.bind(factors, b, transpose_a=True, **upper)
    x = triangular_solve_p.bind(factors, x, transpose_a=True, **lower)
    return _permute_rows(x, permutation, inverse=True)


solve_p.lowering_rule = kernels.composite_lowering(_solve_composite, "solve",
                                                   multiple_results=False)


@solve_p.def_jvp
def _solve_jvp(primals, tangents, *, transpose_a):
    # a x = b  =>  a dx = db - da x
    (a, b), (da, db) = primals, tangents
    x = solve_p.bind(a, b, transpose_a=transpose_a)
    rhs = Zero(tangent_aval(get_aval(x))) if isinstance(db, Zero) else db
    if not isinstance(da, Zero):
        rhs = _add_tangent(rhs, el.neg(_matmul(_T(da) if transpose_a else da, x)))
    if isinstance(rhs, Zero):
        return x, rhs
    return x, solve_p.bind(a, rhs, transpose_a=transpose_a)


@solve_p.def_transpose
def _solve_transpose(ct, a, b, *, transpose_a):
    assert not is_undefined(a) and is_undefined(b)
    return [None, solve_p.bind(a, ct, transpose_a=not transpose_a)]


_stack_batching(solve_p)


from ._linalg_decomp import qr, eigh, svd  # noqa: E402  (they build on the helpers above)
from ._linalg_eig import eig, eig_p  # noqa: E402,F401  (lax.linalg.eig_p, as JAX)
from ._linalg_schur import schur, hessenberg, householder_product  # noqa: E402
from ._linalg_tridiagonal import tridiagonal_solve  # noqa: E402
