"""Orthogonal decompositions of `lax.linalg`: qr, eigh (symmetric / Hermitian) and svd.
Same conventions as `_linalg`: stacks of matrices, lowerings through the LAPACK /
cuSOLVER kernels, JVPs as JAX's, standard stack batching."""
import numpy as np

from .._core import Primitive, ShapedArray
from .._ad import instantiate
from . import _elementwise as el
from . import _linalg_kernels as kernels
from ._linalg import (_shape, _dtype, _is_complex, _H, _matmul, _full_like, _tril, _triu,
                      _eye_like, _diagonal, _nan_unless, _info_ok, _check_matrix,
                      _stack_batching, _slice_last2, symmetrize, triangular_solve)
from ._structural import broadcast_in_dim
from ._values import convert_element_type
from ._slicing import pad


def _real_part(x):
    return el.real(x) if _is_complex(x) else x


def _as_dtype_of(x, like):
    return convert_element_type(x, _dtype(like))


def _along_columns(v, shape):
    """(..., k) -> (..., r, k): value depends on the column."""
    nd = len(shape)
    return broadcast_in_dim(v, shape, (*range(nd - 2), nd - 1))


def _along_rows(v, shape):
    """(..., k) -> (..., k, c): value depends on the row."""
    nd = len(shape)
    return broadcast_in_dim(v, shape, tuple(range(nd - 1)))


# --- qr -------------------------------------------------------------------------------

qr_p = Primitive("qr", multiple_results=True)


def qr(x, *, pivoting=False, full_matrices=True):
    """QR decomposition (q, r) of (stacks of) matrices: q orthonormal columns, r upper
    triangular; `full_matrices=False` gives the reduced factors."""
    if pivoting:
        raise NotImplementedError("qr with pivoting=True is not implemented")
    return tuple(qr_p.bind(x, full_matrices=bool(full_matrices)))


@qr_p.def_abstract_eval
def _qr_abstract_eval(x, *, full_matrices):
    _check_matrix("qr", x)
    batch, (m, n) = x.shape[:-2], x.shape[-2:]
    k = m if full_matrices else min(m, n)
    return [ShapedArray((*batch, m, k), x.dtype), ShapedArray((*batch, k, n), x.dtype)]


def _qr_composite(a, *, full_matrices):
    # geqrf, then the orthogonal factor from the reflectors (JAX's _qr_lowering)
    m, n = _shape(a)[-2:]
    nd = len(_shape(a))
    r, taus = kernels.geqrf(a)
    if m < n:
        q = kernels.orgqr(_slice_last2(r, m, m), taus)
    elif full_matrices:
        padded = pad(r, np.zeros((), _dtype(r)), [(0, 0, 0)] * (nd - 1) + [(0, m - n, 0)])
        q = kernels.orgqr(padded, taus)
    else:
        q = kernels.orgqr(r, taus)
        r = _slice_last2(r, n, n)
    return q, _triu(r)


qr_p.lowering_rule = kernels.composite_lowering(_qr_composite, "qr")


@qr_p.def_jvp
def _qr_jvp(primals, tangents, *, full_matrices):
    # j-towns.github.io/papers/qr-derivative.pdf, as JAX
    (x,), (dx,) = primals, tangents
    q, r = qr_p.bind(x, full_matrices=False)
    m, n = _shape(x)[-2:]
    if m < n or (full_matrices and m != n):
        raise NotImplementedError(f"the derivative of qr is only implemented for m >= n "
                                  f"with reduced factors (full_matrices=False), got shape "
                                  f"{_shape(x)} and full_matrices={full_matrices}")
    dx = instantiate(dx)
    dx_rinv = triangular_solve(r, dx)  # dx r^{-1}
    qt_dx_rinv = _matmul(_H(q), dx_rinv)
    lower = _tril(qt_dx_rinv, -1)
    do = el.sub(lower, _H(lower))  # skew-symmetric
    if _is_complex(x):
        eye = _eye_like(qt_dx_rinv)
        do = el.add(do, el.mul(eye, el.sub(qt_dx_rinv, _as_dtype_of(el.real(qt_dx_rinv),
                                                                    qt_dx_rinv))))
    dq = el.add(_matmul(q, el.sub(do, qt_dx_rinv)), dx_rinv)
    dr = _matmul(el.sub(qt_dx_rinv, do), r)
    return [q, r], [dq, dr]


_stack_batching(qr_p)


# --- eigh -----------------------------------------------------------------------------

eigh_p = Primitive("eigh", multiple_results=True)


def eigh(x, *, lower=True, symmetrize_input=True, sort_eigenvalues=True):
    """Eigendecomposition of symmetric / Hermitian matrices: (v, w) with x v = v diag(w),
    eigenvalues ascending; only the `lower` (or upper) triangle is read unless the
    input is symmetrized first."""
    if symmetrize_input:
        x = symmetrize(x)
    return tuple(eigh_p.bind(x, lower=bool(lower)))


@eigh_p.def_abstract_eval
def _eigh_abstract_eval(x, *, lower):
    _check_matrix("eigh", x, square=True)
    real = np.finfo(x.dtype).dtype
    return [x.update(weak_type=False), ShapedArray(x.shape[:-1], real)]


def _eigh_composite(a, *, lower):
    v, w, info = kernels.syevd(a, lower=lower)
    ok = _info_ok(info)
    return _nan_unless(v, ok), _nan_unless(w, ok)


eigh_p.lowering_rule = kernels.composite_lowering(_eigh_composite, "eigh")


@eigh_p.def_jvp
def _eigh_jvp(primals, tangents, *, lower):
    # dw = diag(v^H da v); dv = v (F * v^H da v), F_ij = 1 / (w_j - w_i) off the
    # diagonal (distinct eigenvalues)
    (a,), (a_dot,) = primals, tangents
    v, w = eigh_p.bind(a, lower=lower)
    a_dot = instantiate(a_dot)
    shape = _shape(v)
    w_c = _as_dtype_of(w, v)
    eye = _eye_like(v)
    gap = el.sub(_along_columns(w_c, shape), _along_rows(w_c, shape))
    fmat = el.sub(el.div(_full_like(v, 1), el.add(eye, gap)), eye)
    vdag_adot_v = _matmul(_matmul(_H(v), a_dot), v)
    dv = _matmul(v, el.mul(fmat, vdag_adot_v))
    dw = _real_part(_diagonal(vdag_adot_v))
    return [v, w], [dv, dw]


_stack_batching(eigh_p)


# --- svd ------------------------------------------------------------------------------

svd_p = Primitive("svd", multiple_results=True)


def svd(x, *, full_matrices=True, compute_uv=True, subset_by_index=None):
    """Singular value decomposition: (u, s, vh) with x = u diag(s) vh and s descending,
    or s alone when `compute_uv=False`."""
    if subset_by_index is not None:
        raise NotImplementedError("svd subset_by_index is not implemented")
    outs = svd_p.bind(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return outs[0]
    s, u, vt = outs
    return u, s, vt


@svd_p.def_abstract_eval
def _svd_abstract_eval(x, *, full_matrices, compute_uv):
    _check_matrix("svd", x)
    batch, (m, n) = x.shape[:-2], x.shape[-2:]
    k = min(m, n)
    if k == 0:
        raise NotImplementedError(f"svd of an empty matrix (shape {x.shape})")
    s = ShapedArray((*batch, k), np.finfo(x.dtype).dtype)
    if not compute_uv:
        return [s]
    return [s, ShapedArray((*batch, m, m if full_matrices else k), x.dtype),
            ShapedArray((*batch, n if full_matrices else k, n), x.dtype)]


def _svd_composite(a, *, full_matrices, compute_uv):
    s, u, vt, info = kernels.gesdd(a, full_matrices, compute_uv)
    ok = _info_ok(info)
    if not compute_uv:
        return [_nan_unless(s, ok)]
    return [_nan_unless(s, ok), _nan_unless(u, ok), _nan_unless(vt, ok)]


svd_p.lowering_rule = kernels.composite_lowering(_svd_composite, "svd")


@svd_p.def_jvp
def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    # as JAX (after Townsend, "Differentiating the singular value decomposition")
    (a,), (da,) = primals, tangents
    m, n = _shape(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError("the derivative of svd with full_matrices=True is only "
                                  f"implemented for square matrices, got shape {_shape(a)};"
                                  f" use full_matrices=False")
    s, u, vt = svd_p.bind(a, full_matrices=False, compute_uv=True)
    da = instantiate(da)
    ut, v = _H(u), _H(vt)
    ds_mat = _matmul(_matmul(ut, da), v)
    ds = _real_part(_diagonal(ds_mat))
    if not compute_uv:
        return [s], [ds]
    k = _shape(s)[-1]
    kk = (*_shape(s)[:-1], k, k)
    s_j, s_i = _along_columns(s, kk), _along_rows(s, kk)
    eye = _eye_like(ds_mat)
    eye_real = convert_element_type(eye, _dtype(s))
    s_diffs = el.mul(el.add(s_j, s_i), el.sub(s_j, s_i))
    f = el.sub(el.div(_full_like(s_diffs, 1), el.add(s_diffs, eye_real)), eye_real)
    f = _as_dtype_of(f, a)
    s_jc, s_ic = _as_dtype_of(s_j, a), _as_dtype_of(s_i, a)
    dss = el.mul(s_jc, ds_mat)   # dS diag(s)
    sds = el.mul(s_ic, ds_mat)   # diag(s) dS
    s_zero = convert_element_type(el.eq(s, _full_like(s, 0)), _dtype(s))
    s_inv = el.sub(el.div(_full_like(s, 1), el.add(s, s_zero)), s_zero)
    s_inv_mat = el.mul(eye, _as_dtype_of(_along_columns(s_inv, kk), a))
    half = _full_like(ds_mat, 0.5)
    dudv_diag = el.mul(el.mul(half, el.sub(ds_mat, _H(ds_mat))), s_inv_mat)
    du = _matmul(u, el.add(el.mul(f, el.add(dss, _H(dss))), dudv_diag))
    dv = _matmul(v, el.mul(f, el.add(sds, _H(sds))))
    if m > n:
        dav = _matmul(da, v)
        resid = el.sub(dav, _matmul(u, _matmul(ut, dav)))
        du = el.add(du, el.div(resid, _as_dtype_of(_along_columns(s, _shape(resid)), a)))
    if n > m:
        dahu = _matmul(_H(da), u)
        resid = el.sub(dahu, _matmul(v, _matmul(vt, dahu)))
        dv = el.add(dv, el.div(resid, _as_dtype_of(_along_columns(s, _shape(resid)), a)))
    return [s, u, vt], [ds, du, _H(dv)]


_stack_batching(svd_p)
