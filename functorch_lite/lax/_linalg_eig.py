"""The general (non-symmetric) eigendecomposition `lax.linalg.eig`: complex eigenvalues
and right/left eigenvectors from LAPACK geev (CPU), with JAX's derivative rules:
eigenvalues always, eigenvectors only when `enable_eigvec_derivs=True` (their
derivative assumes distinct eigenvalues, which cannot be checked)."""
import numpy as np

from .._core import Primitive, ShapedArray
from .._ad import instantiate
from . import _elementwise as el, _linalg_kernels as kernels
from ._linalg import (_shape, _dtype, _matmul, _eye_like, _diagonal, _nan_unless, _info_ok,
                      _check_matrix, _stack_batching, _T, _H, solve)
from ._reductions import argmax, reduce_sum
from ._structural import broadcast_in_dim, expand_dims
from ._values import broadcasted_iota, convert_element_type, full

eig_p = Primitive("eig", multiple_results=True)


def eig(x, *, compute_left_eigenvectors=True, compute_right_eigenvectors=True,
        enable_eigvec_derivs=False, implementation=None):
    """[w, vl, vr] (as requested): eigenvalues w and the left/right eigenvectors of
    square (stacks of) matrices, all complex; vr[..., :, i] is the unit eigenvector of
    w[..., i]."""
    if implementation is not None and getattr(implementation, "name",
                                              implementation) not in ("LAPACK", "lapack"):
        raise ValueError("Only the lapack implementation is supported on CPU.")
    return eig_p.bind(x, compute_left_eigenvectors=bool(compute_left_eigenvectors),
                      compute_right_eigenvectors=bool(compute_right_eigenvectors),
                      enable_eigvec_derivs=bool(enable_eigvec_derivs))


def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


@eig_p.def_abstract_eval
def _eig_abstract_eval(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
                       enable_eigvec_derivs):
    _check_matrix("eig", x, square=True)
    dtype = _complex_dtype(x.dtype)
    outs = [ShapedArray(x.shape[:-1], dtype)]
    outs += [ShapedArray(x.shape, dtype)] * (compute_left_eigenvectors +
                                             compute_right_eigenvectors)
    return outs


def _eig_composite(a, *, compute_left_eigenvectors, compute_right_eigenvectors,
                   enable_eigvec_derivs):
    w, vl, vr, info = kernels.geev(a, compute_left_eigenvectors, compute_right_eigenvectors)
    w = el.complex(*w) if len(w) == 2 else w[0]
    ok = _info_ok(info)
    outs = [_nan_unless(w, ok)]
    if compute_left_eigenvectors:
        outs.append(_nan_unless(vl, ok))
    if compute_right_eigenvectors:
        outs.append(_nan_unless(vr, ok))
    return outs


eig_p.lowering_rule = kernels.composite_lowering(_eig_composite, "eig")


def _sum_rows(x):  # sum over the second-to-last axis
    return reduce_sum(x, (len(_shape(x)) - 2,))


def _eig_vec_jvp(w, v, da):
    """(dw, dv) of right eigenvectors normalised as LAPACK does (unit norm, largest
    component real), as JAX's."""
    shape = _shape(v)
    nd = len(shape)
    eye = _eye_like(v)
    gap = el.sub(broadcast_in_dim(w, shape, (*range(nd - 2), nd - 1)),
                 broadcast_in_dim(w, shape, tuple(range(nd - 1))))
    fmat = el.sub(el.div(_ones_like(v), el.add(eye, gap)), eye)
    p = _matmul(solve(v, da), v)
    dw = _diagonal(p)
    u = _matmul(v, el.mul(fmat, p))
    k = argmax(el.abs(v), nd - 2, np.int32)
    mask = convert_element_type(
        el.eq(broadcasted_iota(np.int32, shape, nd - 2), expand_dims(k, (nd - 2,))),
        _dtype(v))
    c = el.complex(el.neg(el.real(_sum_rows(el.mul(el.conj(v), u)))),
                   el.div(el.neg(el.imag(_sum_rows(el.mul(mask, u)))),
                          el.real(_sum_rows(el.mul(mask, v)))))
    return dw, el.add(u, el.mul(v, broadcast_in_dim(c, shape, (*range(nd - 2), nd - 1))))


def _ones_like(x):
    return full(_shape(x), 1, _dtype(x))


@eig_p.def_jvp
def _eig_jvp(primals, tangents, *, compute_left_eigenvectors, compute_right_eigenvectors,
             enable_eigvec_derivs):
    (a,), (da,) = primals, tangents
    if (compute_left_eigenvectors or compute_right_eigenvectors) and \
            not enable_eigvec_derivs:
        raise NotImplementedError(
            "Derivatives of non-symmetric eigenvectors are only valid under assumptions "
            "on the input that cannot be checked (distinct eigenvalues). Pass "
            "enable_eigvec_derivs=True to lax.linalg.eig to opt in, or differentiate "
            "only the eigenvalues (jnp.linalg.eigvals).")
    outs = eig_p.bind(a, compute_left_eigenvectors=compute_left_eigenvectors,
                      compute_right_eigenvectors=True,
                      enable_eigvec_derivs=enable_eigvec_derivs)
    w, vr = outs[0], outs[-1]
    da = convert_element_type(instantiate(da), _dtype(vr))
    if not (compute_left_eigenvectors or compute_right_eigenvectors):
        return [w], [reduce_sum(el.mul(solve(vr, da), _T(vr)), (len(_shape(vr)) - 1,))]
    dw, dvr = _eig_vec_jvp(w, vr, da)
    primal_out, tangent_out = [w], [dw]
    if compute_left_eigenvectors:
        _, dvl = _eig_vec_jvp(el.conj(w), outs[1], _H(da))
        primal_out.append(outs[1])
        tangent_out.append(dvl)
    if compute_right_eigenvectors:
        primal_out.append(vr)
        tangent_out.append(dvr)
    return primal_out, tangent_out


_stack_batching(eig_p)
