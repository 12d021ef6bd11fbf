"""Non-symmetric reductions of `lax.linalg`: schur, hessenberg and householder_product.

As in JAX they lower to LAPACK only (gees, gehrd, orgqr/ungqr; CPU) and have no
derivative rules: differentiating them raises "no JVP rule". They batch over leading
dimensions like the other `lax.linalg` primitives."""
from .._core import Primitive, ShapedArray
from . import _linalg_kernels as kernels
from ._linalg import _check_matrix, _info_ok, _nan_unless, _stack_batching


# --- schur ----------------------------------------------------------------------------

schur_p = Primitive("schur", multiple_results=True)


def schur(x, *, compute_schur_vectors=True, sort_eig_vals=False, select_callable=None):
    """Schur decomposition x = Z T Z^H: [T, Z], or [T] without Schur vectors. For real
    x, T is quasi upper triangular (2x2 blocks for complex eigenvalue pairs)."""
    if sort_eig_vals or select_callable is not None:
        raise NotImplementedError("The sort feature of LAPACK's gees routine is not "
                                  "implemented (as in JAX): use sort_eig_vals=False")
    return list(schur_p.bind(x, compute_schur_vectors=bool(compute_schur_vectors)))


@schur_p.def_abstract_eval
def _schur_abstract_eval(x, *, compute_schur_vectors):
    _check_matrix("schur", x, square=True)
    x = x.update(weak_type=False)
    return [x, x] if compute_schur_vectors else [x]


def _schur_composite(a, *, compute_schur_vectors):
    t, z, info = kernels.gees(a, compute_schur_vectors)
    ok = _info_ok(info)
    return [_nan_unless(t, ok), _nan_unless(z, ok)] if compute_schur_vectors else \
        [_nan_unless(t, ok)]


schur_p.lowering_rule = kernels.composite_lowering(_schur_composite, "schur")
_stack_batching(schur_p)


# --- hessenberg -----------------------------------------------------------------------

hessenberg_p = Primitive("hessenberg", multiple_results=True)


def hessenberg(x):
    """Hessenberg reduction [a, taus]: the Hessenberg matrix H is on and above a's first
    subdiagonal; below it, with `taus`, the Householder reflectors of Q (x = Q H Q^H)."""
    return list(hessenberg_p.bind(x))


@hessenberg_p.def_abstract_eval
def _hessenberg_abstract_eval(x):
    _check_matrix("hessenberg", x, square=True)
    return [x.update(weak_type=False), ShapedArray((*x.shape[:-2], x.shape[-1] - 1),
                                                   x.dtype)]


def _hessenberg_composite(a):
    reflectors, taus, info = kernels.gehrd(a)
    ok = _info_ok(info)
    return [_nan_unless(reflectors, ok), _nan_unless(taus, ok)]


hessenberg_p.lowering_rule = kernels.composite_lowering(_hessenberg_composite,
                                                        "hessenberg")
_stack_batching(hessenberg_p)


# --- householder_product --------------------------------------------------------------

householder_product_p = Primitive("householder_product")


def householder_product(a, taus):
    """The m x n matrix with orthonormal columns Q = H_1 ... H_k, H_i = I - tau_i v_i
    v_i^H, with v_i below the diagonal of column i of `a` (unit leading entry)."""
    return householder_product_p.bind(a, taus)


@householder_product_p.def_abstract_eval
def _householder_product_abstract_eval(a, taus):
    _check_matrix("householder_product", a)
    m, n = a.shape[-2:]
    if m < n:
        raise ValueError(f"householder_product requires at least as many rows as columns,"
                         f" got shape {a.shape}")
    if taus.shape[:-1] != a.shape[:-2] or taus.shape[-1] > n:
        raise ValueError(f"householder_product: taus of shape {taus.shape} does not match "
                         f"a of shape {a.shape} (expected (..., k) with k <= {n})")
    if taus.dtype != a.dtype:
        raise TypeError(f"householder_product: dtypes differ, {a.dtype} and {taus.dtype}")
    return a.update(weak_type=False)


householder_product_p.lowering_rule = kernels.composite_lowering(
    kernels.orgqr, "householder_product", multiple_results=False)
_stack_batching(householder_product_p)
