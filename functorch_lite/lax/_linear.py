"""dot_general, the bilinear contraction (its JVP helper and the Precision setting are
shared with convolutions, in `_conv.py`)."""

__all__ = ["dot_general", "padtype_to_pads", "Precision"]
import enum

import numpy as np

from .. import _dtypes
from .._config import config
from .._lowering import target_platform
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, add_tangents, is_undefined, tangent_aval
from ._structural import transpose
from ._values import convert_element_type


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """(low, high) pads per spatial dim for 'SAME', 'SAME_LOWER' or 'VALID' padding."""
    padding = padding.upper()
    if padding == "VALID":
        return tuple((0, 0) for _ in in_shape)
    if padding not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"unknown padding {padding!r}: expected 'SAME', 'SAME_LOWER' or "
                         f"'VALID'")
    pads = []
    for d, w, s in zip(in_shape, window_shape, window_strides):
        out = -(-int(d) // int(s))
        total = max((out - 1) * int(s) + int(w) - int(d), 0)
        small, large = total // 2, total - total // 2
        pads.append((small, large) if padding == "SAME" else (large, small))
    return tuple(pads)

dot_general_p = Primitive("dot_general")


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """Contract `lhs` and `rhs`: dimension_numbers = ((lhs_contract, rhs_contract),
    (lhs_batch, rhs_batch)). Output dims: batch, lhs free, rhs free."""
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))
    if preferred_element_type is not None:
        preferred_element_type = _dtypes.canonicalize_dtype(preferred_element_type)
    l_dtype, r_dtype = get_aval(lhs).dtype, get_aval(rhs).dtype
    if l_dtype != r_dtype:  # mixed inputs (bf16 x f32, int x f32) promote, as in JAX
        dtype = _dtypes.promote_types(l_dtype, r_dtype)
        lhs, rhs = convert_element_type(lhs, dtype), convert_element_type(rhs, dtype)
    precision = _canonical_precision(precision)
    if isinstance(precision, str):
        _check_algorithm(precision, get_aval(lhs).dtype,
                         preferred_element_type or get_aval(lhs).dtype)
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, precision=precision,
                              preferred_element_type=preferred_element_type)


def _free_dims(ndim, contract, batch):
    return [i for i in range(ndim) if i not in contract and i not in batch]


@dot_general_p.def_abstract_eval
def _dot_general_abstract_eval(lhs, rhs, *, dimension_numbers, precision,
                               preferred_element_type):
    (lc, rc), (lb, rb) = dimension_numbers
    if [lhs.shape[i] for i in lc] != [rhs.shape[i] for i in rc] or \
            [lhs.shape[i] for i in lb] != [rhs.shape[i] for i in rb]:
        raise TypeError(f"dot_general got incompatible shapes {lhs.shape} and {rhs.shape} "
                        f"for dimension_numbers {dimension_numbers}")
    if preferred_element_type is None and lhs.dtype != rhs.dtype:
        raise TypeError(f"dot_general requires equal dtypes, got {lhs.dtype} and {rhs.dtype}")
    shape = ([lhs.shape[i] for i in lb] + [lhs.shape[i] for i in _free_dims(lhs.ndim, lc, lb)]
             + [rhs.shape[i] for i in _free_dims(rhs.ndim, rc, rb)])
    dtype = preferred_element_type or lhs.dtype
    return ShapedArray(shape, dtype, lhs.weak_type and rhs.weak_type)


@dot_general_p.def_lowering
def _dot_general_lowering(ctx, lhs, rhs, *, dimension_numbers, precision,
                          preferred_element_type):
    """As JAX writes it on every platform: the precision config always present
    (DEFAULT when unset), operands of one dtype passed as they are even when the
    result type differs (bf16 x bf16 -> f32, i8 x i8 -> i32), and only mixed operand
    dtypes converted to the result type first."""
    (lc, rc), (lb, rb) = dimension_numbers
    fmt = lambda xs: "[" + ", ".join(map(str, xs)) + "]"
    attr = (f"#stablehlo.dot<lhs_batching_dimensions = {fmt(lb)}, rhs_batching_dimensions = "
            f"{fmt(rb)}, lhs_contracting_dimensions = {fmt(lc)}, rhs_contracting_dimensions "
            f"= {fmt(rc)}>")
    lt, rt = ctx.avals_in
    out = ctx.avals_out[0]
    if lt.dtype != rt.dtype:
        lhs = ctx.op("stablehlo.convert", [lhs], [lt.update(dtype=out.dtype)])
        rhs = ctx.op("stablehlo.convert", [rhs], [rt.update(dtype=out.dtype)])
    return ctx.op("stablehlo.dot_general", [lhs, rhs], attrs={
        "dot_dimension_numbers": attr, **_precision_attr(precision),
        **_algorithm_attr(precision)})


@dot_general_p.def_jvp
def _dot_general_jvp(primals, tangents, **params):
    return _bilinear_jvp(dot_general_p, primals, tangents, params)


def _ranges_like(*xs):
    start = 0
    for x in xs:
        yield list(range(start, start + len(x)))
        start += len(x)


def _transpose_lhs(g, x_aval, y, dimension_numbers, precision, preferred_element_type,
                   swap_ans=False):
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    y_ndim = get_aval(y).ndim if not is_undefined(y) else y.aval.ndim
    x_kept = _free_dims(x_aval.ndim, x_contract, x_batch)
    y_kept = _free_dims(y_ndim, y_contract, y_batch)
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    dims = ((tuple(ans_y), tuple(y_kept)), (tuple(ans_batch), tuple(y_batch)))
    x_contract_sorted_by_y = list(np.take(x_contract, np.argsort(y_contract)))
    out_axes = np.argsort(list(x_batch) + x_kept + x_contract_sorted_by_y)
    out = dot_general_p.bind(g, y, dimension_numbers=dims, precision=precision,
                             preferred_element_type=x_aval.dtype
                             if preferred_element_type is not None else None)
    return transpose(out, tuple(int(a) for a in out_axes))


@dot_general_p.def_transpose
def _dot_general_transpose(ct, x, y, *, dimension_numbers, precision,
                           preferred_element_type):
    (xc, yc), (xb, yb) = dimension_numbers
    if is_undefined(x):
        return [_transpose_lhs(ct, x.aval, y, dimension_numbers, precision,
                               preferred_element_type), None]
    swapped = ((yc, xc), (yb, xb))
    return [None, _transpose_lhs(ct, y.aval, x, swapped, precision, preferred_element_type,
                                 True)]


@dot_general_p.def_batching
def _dot_general_batching(axis_data, vals, dims, *, dimension_numbers, **params):
    """As JAX's rule: the mapped axis joins the batch dims when both operands have it,
    else it stays a free dim where it is (no transpose is added)."""
    (lc, rc), (lb, rb) = dimension_numbers
    x, y = vals
    dx, dy = dims
    bump = lambda ds, b: tuple(int(d) + (int(d) >= b) for d in ds)
    if dx is not None and dy is not None:
        dn = ((bump(lc, dx), bump(rc, dy)), ((dx, *bump(lb, dx)), (dy, *bump(rb, dy))))
        out_dim = 0
    elif dx is not None:
        x_free = [d for d in range(get_aval(x).ndim) if d not in lb and d not in lc]
        out_dim = len(lb) + sum(d < dx for d in x_free)
        dn = ((bump(lc, dx), rc), (bump(lb, dx), rb))
    else:
        y_free = [d for d in range(get_aval(y).ndim) if d not in rb and d not in rc]
        out_dim = get_aval(x).ndim - len(lc) + sum(d < dy for d in y_free)
        dn = ((lc, bump(rc, dy)), (lb, bump(rb, dy)))
    return dot_general_p.bind(x, y, dimension_numbers=dn, **params), out_dim


class Precision(enum.Enum):
    """Matmul/convolution precision for dot_general and conv_general_dilated (XLA's
    PrecisionConfig): DEFAULT (fastest, e.g. TF32/bf16 passes on accelerators), HIGH,
    HIGHEST (full float32)."""
    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2


_PRECISION_NAMES = {"default": "DEFAULT", "bfloat16": "DEFAULT", "fastest": "DEFAULT",
                   "high": "HIGH", "bfloat16_3x": "HIGH", "tensorfloat32": "HIGH",
                   "highest": "HIGHEST", "float32": "HIGHEST"}


# dot algorithm presets (jax.lax.DotAlgorithmPreset names) we lower: the operand
# storage types they take, the type the products are computed in, and how many
# primitive products make one (e.g. 3 bf16 passes emulate an f32 product)
_ALGORITHMS = {
    "BF16_BF16_F32": (("bfloat16", "float32"), "bf16", 1),
    "BF16_BF16_F32_X3": (("float32",), "bf16", 3),
    "BF16_BF16_F32_X6": (("float32",), "bf16", 6),
    "TF32_TF32_F32": (("float32",), "tf32", 1),
    "TF32_TF32_F32_X3": (("float32",), "tf32", 3),
    "F16_F16_F32": (("float16",), "f16", 1),
    "F32_F32_F32": (("float32",), "f32", 1),
}


def _canonical_precision(precision):
    """None, a pair of names among DEFAULT/HIGH/HIGHEST (jax.lax.Precision accepted), or
    the name of a dot algorithm preset. None reads the `jax_default_matmul_precision`
    flag, when the op is built (as JAX)."""
    if precision is None:
        precision = config.jax_default_matmul_precision
        if precision is None:
            return None
    name = str(getattr(precision, "name", precision))
    if name in _ALGORITHMS:
        return name

    def one(p):
        name = str(getattr(p, "name", p)).lower()
        if name not in _PRECISION_NAMES:
            raise ValueError(_unsupported_precision(p))
        return _PRECISION_NAMES[name]
    if isinstance(precision, (tuple, list)):
        return tuple(one(p) for p in precision)
    return (one(precision),) * 2


def _unsupported_precision(value):
    return (f"precision {value!r} is not supported: use None, a jax.lax.Precision, a pair "
            f"of them, one of {sorted(_PRECISION_NAMES)}, or a dot algorithm preset among "
            f"{sorted(_ALGORITHMS)} (set by precision= or jax_default_matmul_precision)")


def _check_algorithm(name, operand_dtype, result_dtype):
    storage = _ALGORITHMS[name][0]
    if np.dtype(operand_dtype).name not in storage or (
            np.dtype(result_dtype).name not in ("float32", np.dtype(operand_dtype).name)):
        raise NotImplementedError(
            f"dot algorithm {name} on {np.dtype(operand_dtype).name} operands giving "
            f"{np.dtype(result_dtype).name}: functorch_lite supports it for operands of "
            f"{' or '.join(storage)} (giving float32 or the operands' type); cast first")


def _precision_attr(precision):
    """The precision_config JAX writes: one entry per operand, DEFAULT when unset or
    when an algorithm preset decides instead."""
    names = ("DEFAULT", "DEFAULT") if precision is None or isinstance(precision, str) \
        else precision
    return {"precision_config": "[" + ", ".join(f"#stablehlo<precision {p}>"
                                                for p in names) + "]"}


_CPU_ALGORITHMS = ("F32_F32_F32", "BF16_BF16_F32", "BF16_BF16_F32_X3", "BF16_BF16_F32_X6")


def _algorithm_attr(precision):
    if not isinstance(precision, str):
        return {}
    if target_platform() == "cpu" and precision not in _CPU_ALGORITHMS:
        raise ValueError(f"The precision '{precision}' is not supported by dot_general on "
                         f"CPU (as in JAX); CPUs take {', '.join(_CPU_ALGORITHMS)}")
    _, kind, passes = _ALGORITHMS[precision]
    return {"algorithm": f"#stablehlo.dot_algorithm<lhs_precision_type = {kind}, "
                         f"rhs_precision_type = {kind}, accumulation_type = f32, "
                         f"lhs_component_count = 1, rhs_component_count = 1, "
                         f"num_primitive_operations = {passes}, "
                         f"allow_imprecise_accumulation = false>"}


def _bilinear_jvp(prim, primals, tangents, params):
    x, y = primals
    tx, ty = tangents
    out = prim.bind(x, y, **params)
    t = Zero(tangent_aval(get_aval(out)))
    if not isinstance(tx, Zero):
        t = add_tangents(t, prim.bind(tx, y, **params))
    if not isinstance(ty, Zero):
        t = add_tangents(t, prim.bind(x, ty, **params))
    return out, t
