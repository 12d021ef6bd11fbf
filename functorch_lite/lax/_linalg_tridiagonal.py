"""`lax.linalg.tridiagonal_solve`: solve A X = B for tridiagonal A given by its three
diagonals. Lowers to LAPACK gtsv (or jaxlib's perturbed-pivot kernel) on CPU, as JAX;
differentiable (JVP, transpose in b) and batched like the other `lax.linalg` ops."""
import numpy as np

from .._core import Primitive
from .._ad import Zero, add_tangents, instantiate, is_undefined
from .._batching import bdim_at_front
from . import _elementwise as el
from . import _linalg_kernels as kernels
from ._linalg import _check_float, _dtype, _info_ok, _move_axis, _nan_unless, _shape
from ._slicing import concatenate, pad, slice as slice_
from ._values import full
from ._structural import reshape

tridiagonal_solve_p = Primitive("tridiagonal_solve")


def tridiagonal_solve(dl, d, du, b, *, perturb_singular=False):
    """X with A X = B, A[i, i-1] = dl[i], A[i, i] = d[i], A[i, i+1] = du[i] (dl[0] and
    du[-1] are ignored); the diagonals are (..., m) and b is (..., m, n).
    `perturb_singular=True` perturbs tiny pivots so singular systems give finite
    results (for inverse iteration)."""
    return tridiagonal_solve_p.bind(dl, d, du, b, perturb_singular=bool(perturb_singular))


@tridiagonal_solve_p.def_abstract_eval
def _tridiagonal_solve_abstract_eval(dl, d, du, b, *, perturb_singular):
    if dl.shape != d.shape or dl.shape != du.shape:
        raise TypeError(f"tridiagonal_solve requires that all diagonal arguments have the "
                        f"same shape, got {dl.shape}, {d.shape} and {du.shape}")
    if b.ndim < 2 or dl.shape != b.shape[:-1]:
        raise TypeError(f"tridiagonal_solve requires that the leading ndim-1 dimensions "
                        f"of b equal the dimensions of the diagonal arguments, got b of "
                        f"shape {b.shape} and diagonals of shape {d.shape}")
    if len({x.dtype for x in (dl, d, du, b)}) != 1:
        raise TypeError(f"tridiagonal_solve: dtypes differ: "
                        f"{[x.dtype.name for x in (dl, d, du, b)]}")
    _check_float("tridiagonal_solve", b)
    return b.update(weak_type=False)


def _tridiagonal_solve_composite(dl, d, du, b, *, perturb_singular):
    if perturb_singular:
        return kernels.tridiagonal_solve_perturbed(dl, d, du, b)
    x, info = kernels.gtsv(dl, d, du, b)
    return _nan_unless(x, _info_ok(info))


tridiagonal_solve_p.lowering_rule = kernels.composite_lowering(
    _tridiagonal_solve_composite, "tridiagonal_solve", multiple_results=False)


def _tridiagonal_product(dl, d, du, b):
    """A @ b for the tridiagonal A = (dl, d, du)."""
    col = lambda v: reshape(v, (*_shape(v), 1))
    nd = len(_shape(b))
    shift_rows = lambda x, down: pad(
        slice_(x, (0,) * nd, (*_shape(x)[:-2], _shape(x)[-2] - 1, _shape(x)[-1]))
        if down else slice_(x, (0,) * (nd - 2) + (1, 0), _shape(x)),
        np.zeros((), x.dtype), [(0, 0, 0)] * (nd - 2) + [(1, 0, 0) if down else (0, 1, 0),
                                                          (0, 0, 0)])
    y = el.mul(col(d), b)
    y = el.add(y, el.mul(col(dl), shift_rows(b, True)))     # dl[i] b[i-1]
    return el.add(y, el.mul(col(du), shift_rows(b, False)))  # du[i] b[i+1]


@tridiagonal_solve_p.def_jvp
def _tridiagonal_solve_jvp(primals, tangents, *, perturb_singular):
    # A x = b  =>  A dx = db - dA x
    dl, d, du, b = primals
    *diag_dots, b_dot = tangents
    ans = tridiagonal_solve_p.bind(*primals, perturb_singular=perturb_singular)
    rhs = b_dot
    if not all(isinstance(t, Zero) for t in diag_dots):
        rhs = add_tangents(rhs, el.neg(_tridiagonal_product(*map(instantiate, diag_dots),
                                                            ans)))
    if isinstance(rhs, Zero):
        return ans, rhs
    return ans, tridiagonal_solve_p.bind(dl, d, du, rhs, perturb_singular=perturb_singular)


@tridiagonal_solve_p.def_transpose
def _tridiagonal_solve_transpose(ct, dl, d, du, b, *, perturb_singular):
    # A^T has lower diagonal du shifted down one and upper diagonal dl shifted up one
    assert not any(map(is_undefined, (dl, d, du))) and is_undefined(b)
    if isinstance(ct, Zero):
        return [None, None, None, Zero(b.aval)]
    nd = len(_shape(du))
    *lead, m = _shape(du)
    zero = full((*lead, 1), 0, _dtype(du))
    dl_t = concatenate([zero, slice_(du, (0,) * nd, (*lead, m - 1))], nd - 1)
    du_t = concatenate([slice_(dl, (0,) * (nd - 1) + (1,), (*lead, m)), zero], nd - 1)
    return [None, None, None, tridiagonal_solve_p.bind(dl_t, d, du_t, ct,
                                                       perturb_singular=perturb_singular)]


@tridiagonal_solve_p.def_batching
def _tridiagonal_solve_batching(axis_data, vals, dims, *, perturb_singular):
    dl, d, du, b = vals
    if all(dim is None for dim in dims[:3]):
        # one matrix for every example: fold the examples into b's columns
        nd = len(_shape(b))
        b = _move_axis(b, dims[3], nd - 2)
        shape = _shape(b)
        flat = reshape(b, (*shape[:-2], shape[-2] * shape[-1]))
        out = tridiagonal_solve_p.bind(dl, d, du, flat, perturb_singular=perturb_singular)
        return reshape(out, shape), nd - 2
    vals = [bdim_at_front(axis_data.size, v, dim) for v, dim in zip(vals, dims)]
    return tridiagonal_solve_p.bind(*vals, perturb_singular=perturb_singular), 0
