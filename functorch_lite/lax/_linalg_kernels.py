"""The factorisation kernels XLA offers through jaxlib: LAPACK on CPU and cuSOLVER
(hipSOLVER) on GPU, called as `stablehlo.custom_call`s with the targets, layouts,
aliases and attributes JAX itself writes (see jax/_src/lax/linalg.py).

`kernel_p` is one internal primitive for all of them (its params name the target);
it only appears inside the lowerings of the `lax.linalg` primitives, which are
written as ordinary functions of primitives and lowered with
`_lowering.composite_lowering`.
"""
import numpy as np

from .. import _runtime
from . import _elementwise as el, _slicing, _structural as st
from .._core import Primitive, ShapedArray, get_aval
from .._lowering import composite_lowering, on_gpu, target_platform  # noqa: F401

kernel_p = Primitive("linalg_kernel", multiple_results=True)


def _solver(routine):
    """jaxlib's GPU solver kernel for `routine`: cuSOLVER ('cusolver_getrf_ffi') or
    hipSOLVER ('hipsolver_getrf_ffi')."""
    return f"{'hip' if target_platform() == 'rocm' else 'cu'}solver_{routine}_ffi"


def kernel(target, operands, out_avals, config=(), aliases=(), column_major=True,
           core_rank=2):
    """Bind the custom call `target` on `operands`, giving results typed `out_avals`.

    config: (name, MLIR attribute text) pairs of the FFI attributes;
    aliases: (output index, operand index) pairs of buffers updated in place;
    core_rank: the trailing dims of the largest operand that are not batch dims."""
    return kernel_p.bind(*operands, target=target, out_avals=tuple(out_avals),
                         config=tuple(config), aliases=tuple(aliases),
                         column_major=column_major, core_rank=core_rank)


kernel_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))


def _layout_text(layout):
    n = len(layout)
    body = "" if n == 0 else str(layout[0]) if n == 1 else \
        "[" + ", ".join(map(str, layout)) + "]"
    return f"dense<{body}> : tensor<{n}xindex>"


def _layout(ndim, column_major):
    """Fortran order for (batches of) matrices, row-major otherwise (minor to major)."""
    if column_major:
        return (ndim - 2, ndim - 1, *range(ndim - 3, -1, -1))
    return tuple(range(ndim - 1, -1, -1))


@kernel_p.def_lowering
def _kernel_lowering(ctx, *operands, target, out_avals, config, aliases, column_major,
                     core_rank):
    max_rank = max(a.ndim for a in ctx.avals_in)
    layout = lambda aval: _layout_text(_layout(aval.ndim, column_major and
                                               aval.ndim == max_rank))
    tuple_index = (lambda i: f"[{i}]") if len(out_avals) > 1 else (lambda i: "[]")
    alias_text = ", ".join(
        f"#stablehlo.output_operand_alias<output_tuple_indices = {tuple_index(o)}, "
        f"operand_index = {i}, operand_tuple_indices = []>" for o, i in aliases)
    attrs = {
        "api_version": "1 : i32",  # typed FFI, configured through mhlo.backend_config
        "backend_config": '""',
        "call_target_name": f'"{target}"',
        "called_computations": "[]",
        "has_side_effect": "false",
        "operand_layouts": "[" + ", ".join(layout(a) for a in ctx.avals_in) + "]",
        "output_operand_aliases": f"[{alias_text}]",
        "result_layouts": "[" + ", ".join(layout(a) for a in out_avals) + "]",
        "mhlo.backend_config": "{" + ", ".join(f"{k} = {v}" for k, v in config) + "}",
        "mhlo.frontend_attributes": f'{{num_batch_dims = "{max_rank - core_rank}"}}',
    }
    outs = ctx.op("stablehlo.custom_call", list(operands), list(out_avals), attrs=attrs)
    return [outs] if len(out_avals) == 1 else outs


def char_attr(c):
    return f"{ord(c)} : ui8"


def bool_attr(b):
    return "true" if b else "false"


# --- one function per routine: the CPU and GPU calls --------------------------------

def _info_aval(aval):
    return ShapedArray(aval.shape[:-2], np.int32)


def potrf(a, lower=True):
    """Cholesky factor (the other triangle is left as garbage) and info."""
    aval = get_aval(a)
    outs = [aval, _info_aval(aval)]
    if on_gpu():
        target = _solver("potrf")
        config = [("lower", bool_attr(lower))]
    else:
        target = _runtime.lapack_target("potrf_ffi", aval.dtype)
        config = [("uplo", char_attr("L" if lower else "U"))]
    return kernel(target, [a], outs, config, aliases=[(0, 0)])


def getrf(a):
    """LU with partial pivoting: (lu, 1-based pivots, info)."""
    aval = get_aval(a)
    m, n = aval.shape[-2:]
    outs = [aval, ShapedArray((*aval.shape[:-2], min(m, n)), np.int32), _info_aval(aval)]
    target = _solver("getrf") if on_gpu() else \
        _runtime.lapack_target("getrf_ffi", aval.dtype)
    return kernel(target, [a], outs, aliases=[(0, 0)])


def geqrf(a):
    """Householder QR: (reflectors with R above the diagonal, taus)."""
    aval = get_aval(a)
    m, n = aval.shape[-2:]
    outs = [aval, ShapedArray((*aval.shape[:-2], min(m, n)), aval.dtype)]
    target = _solver("geqrf") if on_gpu() else \
        _runtime.lapack_target("geqrf_ffi", aval.dtype)
    return kernel(target, [a], outs, aliases=[(0, 0)])


def orgqr(a, taus):
    """The orthogonal matrix of Householder reflectors (LAPACK orgqr/ungqr)."""
    aval = get_aval(a)
    if on_gpu():
        target = _solver("orgqr")
    else:
        kind = "un" if np.issubdtype(aval.dtype, np.complexfloating) else "or"
        target = _runtime.lapack_target(f"{kind}gqr_ffi", aval.dtype)
    return kernel(target, [a, taus], [aval], aliases=[(0, 0)])[0]


def syevd(a, lower=True):
    """Symmetric/Hermitian eigendecomposition: (eigenvectors, ascending eigenvalues,
    info)."""
    aval = get_aval(a)
    real = np.finfo(aval.dtype).dtype
    outs = [aval, ShapedArray(aval.shape[:-1], real), _info_aval(aval)]
    if on_gpu():
        target = _solver("syevd")
        config = [("algorithm", "0 : ui8"), ("lower", bool_attr(lower))]
    else:
        kind = "he" if np.issubdtype(aval.dtype, np.complexfloating) else "sy"
        target = _runtime.lapack_target(f"{kind}evd_ffi", aval.dtype)
        config = [("mode", char_attr("V")), ("uplo", char_attr("L" if lower else "U"))]
    return kernel(target, [a], outs, config, aliases=[(0, 0)])


def geev(a, compute_left, compute_right):
    """General (non-symmetric) eigendecomposition, CPU only: (w, vl, vr, info) with w
    complex (LAPACK returns real and imaginary parts for real input)."""
    aval = get_aval(a)
    if on_gpu():
        raise NotImplementedError("eig is implemented on CPU only (as LAPACK geev); "
                                  "move the computation to the CPU with jax.device_put")
    complex_dtype = np.result_type(aval.dtype, np.complex64)
    w_aval = ShapedArray(aval.shape[:-1], aval.dtype)
    v_aval = ShapedArray(aval.shape, complex_dtype)
    real = not np.issubdtype(aval.dtype, np.complexfloating)
    outs = [w_aval, w_aval] if real else [w_aval]
    outs += [v_aval, v_aval, _info_aval(aval)]
    config = [("compute_left", char_attr("V" if compute_left else "N")),
              ("compute_right", char_attr("V" if compute_right else "N"))]
    *w, vl, vr, info = kernel(_runtime.lapack_target("geev_ffi", aval.dtype), [a], outs,
                              config)
    return w, vl, vr, info


def gesdd(a, full_matrices, compute_uv):
    """SVD: (s, u, vt, info); u and vt are unspecified when not compute_uv. On a GPU
    the routine JAX picks: Jacobi (gesvdj) up to 1024x1024, QR-based gesvd above."""
    aval = get_aval(a)
    batch, (m, n) = aval.shape[:-2], aval.shape[-2:]
    k = min(m, n)
    real = np.finfo(aval.dtype).dtype
    s_aval, info_aval = ShapedArray((*batch, k), real), _info_aval(aval)
    u_aval = ShapedArray((*batch, m, m if full_matrices else k), aval.dtype)
    vt_aval = ShapedArray((*batch, n if full_matrices else k, n), aval.dtype)
    if on_gpu() and m <= 1024 and n <= 1024:
        return _gesvdj(a, full_matrices, compute_uv)
    if on_gpu():
        # cuSOLVER gesvd (JAX's QR/GESVD path): a wide matrix is solved transposed
        transposed = m < n
        if not compute_uv:
            u_aval = vt_aval = ShapedArray((), aval.dtype)
        outs = [aval, s_aval, vt_aval, u_aval, info_aval] if transposed else \
            [aval, s_aval, u_aval, vt_aval, info_aval]
        config = [("compute_uv", bool_attr(compute_uv)),
                  ("full_matrices", bool_attr(full_matrices)),
                  ("transposed", bool_attr(transposed))]
        _, s, x, y, info = kernel(_solver("gesvd"), [a],
                                  outs, config, aliases=[(0, 0)],
                                  column_major=not transposed)
        u, vt = (y, x) if transposed else (x, y)
        return s, u, vt, info
    mode = "N" if not compute_uv else ("A" if full_matrices else "S")
    target = _runtime.lapack_target("gesdd_ffi", aval.dtype)
    _, s, u, vt, info = kernel(target, [a], [aval, s_aval, u_aval, vt_aval, info_aval],
                               [("mode", char_attr(mode))], aliases=[(0, 0)])
    return s, u, vt, info


def _gesvdj(a, full_matrices, compute_uv):
    """cuSOLVER's Jacobi SVD as JAX calls it: U and V are always computed (V, not
    V^H), the batched kernel has no economy mode below 33x33, so the reduced factors
    are sliced from the full ones."""
    aval = get_aval(a)
    batch, (m, n) = aval.shape[:-2], aval.shape[-2:]
    k, nb = min(m, n), len(batch)
    econ = not full_matrices and m > 32 and n > 32
    outs = [aval, ShapedArray((*batch, k), np.finfo(aval.dtype).dtype),
            ShapedArray((*batch, m, k if econ else m), aval.dtype),
            ShapedArray((*batch, n, k if econ else n), aval.dtype), _info_aval(aval)]
    config = [("compute_uv", bool_attr(compute_uv)),
              ("full_matrices", bool_attr(not econ))]
    _, s, u, v, info = kernel(_solver("gesvdj"), [a], outs, config, aliases=[(0, 0)])
    if not compute_uv:
        return s, u, v, info
    vt = st.transpose(v, (*range(nb), nb + 1, nb))
    if np.issubdtype(aval.dtype, np.complexfloating):
        vt = el.complex(el.real(vt), el.neg(el.imag(vt)))
    if not full_matrices and not econ:
        u = _slicing.slice(u, (0,) * (nb + 2), (*batch, m, k))
        vt = _slicing.slice(vt, (0,) * (nb + 2), (*batch, k, n))
    return s, u, vt, info


def lu_pivots_to_permutation(pivots, permutation_size):
    """jaxlib's GPU kernel turning 0-based row swaps into a permutation."""
    aval = get_aval(pivots)
    out = ShapedArray((*aval.shape[:-1], permutation_size), np.int32)
    target = f"{'hip' if target_platform() == 'rocm' else 'cu'}_lu_pivots_to_permutation"
    return kernel(target, [pivots], [out], column_major=False, core_rank=1)[0]


def trsm(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    """LAPACK triangular solve (CPU)."""
    b_aval = get_aval(b)
    trans = ("C" if conjugate_a else "T") if transpose_a else "N"
    config = [("diag", char_attr("U" if unit_diagonal else "N")),
              ("side", char_attr("L" if left_side else "R")),
              ("trans_x", char_attr(trans)), ("uplo", char_attr("L" if lower else "U"))]
    target = _runtime.lapack_target("trsm_ffi", b_aval.dtype)
    return kernel(target, [a, b], [b_aval], config, aliases=[(0, 1)])[0]


def _cpu_only(routine):
    if on_gpu():
        raise NotImplementedError(f"{routine} is only implemented on CPU (LAPACK), as in "
                                  f"JAX; run it on a CPU device")


def gees(a, compute_schur_vectors):
    """Schur decomposition (CPU): (T, Z, info); T quasi upper triangular for real a."""
    _cpu_only("schur")
    aval = get_aval(a)
    w_aval, info_aval = ShapedArray(aval.shape[:-1], aval.dtype), _info_aval(aval)
    real = not np.issubdtype(aval.dtype, np.complexfloating)
    outs = [aval, aval, w_aval, w_aval, info_aval, info_aval] if real else \
        [aval, aval, w_aval, info_aval, info_aval]
    config = [("mode", char_attr("V" if compute_schur_vectors else "N")),
              ("sort", char_attr("N"))]
    results = kernel(_runtime.lapack_target("gees_ffi", aval.dtype), [a], outs, config,
                     aliases=[(0, 0)])
    return results[0], results[1], results[-1]


def gehrd(a):
    """Hessenberg reduction (CPU): (reflectors with H on and above the first
    subdiagonal, taus, info)."""
    _cpu_only("hessenberg")
    aval = get_aval(a)
    n = aval.shape[-1]
    outs = [aval, ShapedArray((*aval.shape[:-2], n - 1), aval.dtype), _info_aval(aval)]
    config = [("low", "1 : i32"), ("high", f"{n} : i32")]
    return kernel(_runtime.lapack_target("gehrd_ffi", aval.dtype), [a], outs, config,
                  aliases=[(0, 0)])


def gtsv(dl, d, du, b):
    """Tridiagonal solve with partial pivoting (CPU): (solution, info)."""
    _cpu_only("tridiagonal_solve")
    avals = [get_aval(x) for x in (dl, d, du, b)]
    target = _runtime.lapack_target("gtsv_ffi", avals[-1].dtype)
    *_, x, info = kernel(target, [dl, d, du, b], [*avals, _info_aval(avals[-1])],
                         aliases=[(0, 0), (1, 1), (2, 2), (3, 3)])
    return x, info


def tridiagonal_solve_perturbed(dl, d, du, b):
    """Tridiagonal solve whose tiny pivots are perturbed (finite results for singular
    systems; jaxlib's kernel, CPU)."""
    _cpu_only("tridiagonal_solve(perturb_singular=True)")
    b_aval = get_aval(b)
    _runtime.lapack_target("gtsv_ffi", b_aval.dtype)  # loads LAPACK into jaxlib
    return kernel("tridiagonal_solve_perturbed_ffi", [dl, d, du, b], [b_aval])[0]
