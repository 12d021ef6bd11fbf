"""Value and type primitives: iota, convert_element_type, bitcast_convert_type, copy,
select_n, stop_gradient, and the fills built on them (full, full_like, ...).

Each block holds a primitive, its wrapper and all of its rules."""

__all__ = [
    "select", "iota", "broadcasted_iota", "convert_element_type", "bitcast_convert_type",
    "select_n", "full", "full_like", "zeros_like_array", "stop_gradient", "iota_p",
    "convert_element_type_p", "bitcast_convert_type_p", "select_n_p", "copy_p",
    "stop_gradient_p",
]
import numpy as np
from jax import tree_util

from .. import _core, _dtypes, _jax_versions
from .._core import Primitive, ShapedArray, canonicalize_shape, get_aval
from .._ad import Zero, deflinear, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front, move_batch_axis
from .._runtime import to_device, mark_weak
from .._lowering import LoweringContext
from ._structural import (_accepts_keys, _canonical_axis, broadcast_in_dim,
                          broadcast_in_dim_p, i64_array)


# --- iota -------------------------------------------------------------------------

iota_p = Primitive("iota")


def broadcasted_iota(dtype, shape, dimension):
    """An array of `shape` whose values count 0, 1, ... along `dimension`."""
    shape = canonicalize_shape(shape)
    return iota_p.bind(dtype=_dtypes.canonicalize_dtype(dtype), shape=shape,
                       dimension=_canonical_axis(dimension, len(shape)))


def iota(dtype, size):
    """[0, 1, ..., size - 1] of `dtype`."""
    return broadcasted_iota(dtype, (size,), 0)


@iota_p.def_abstract_eval
def _iota_abstract_eval(*, dtype, shape, dimension):
    if any(d < 0 for d in shape):
        raise ValueError(f"iota shape {shape} has negative dimensions")
    return ShapedArray(shape, dtype)


iota_p.lowering_rule = lambda ctx, *, dtype, shape, dimension: ctx.op(
    "stablehlo.iota", [], attrs={"iota_dimension": f"{dimension} : i64"})


# --- convert_element_type, bitcast_convert_type, copy -----------------------------

convert_element_type_p = Primitive("convert_element_type")


def convert_element_type(operand, new_dtype, weak_type=False):
    """Cast `operand` to `new_dtype` (to bool: `!= 0`; complex to real: the real part)."""
    new_dtype = _dtypes.canonicalize_dtype(new_dtype)
    aval = get_aval(operand)
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return operand
    float_to_int = _dtypes.is_inexact(aval.dtype) and _dtypes.is_integer(new_dtype)
    if isinstance(operand, np.ndarray) and _jax_versions.CONVERT_NUMPY_ON_HOST and \
            aval.dtype != _dtypes.float0 and new_dtype != _dtypes.float0:
        # NumPy converts a NumPy array, under any transformation (out-of-range floats
        # wrap), as JAX does since 0.11
        value = operand.real if _dtypes.is_complex(aval.dtype) and \
            not _dtypes.is_complex(new_dtype) else operand
        with np.errstate(invalid="ignore", over="ignore"):
            value = np.asarray(value).astype(new_dtype)
        if _core.current_trace() is _core.eval_trace:
            return _host_to_device(value, weak_type)
        if weak_type:
            return convert_element_type_p.bind(value, new_dtype=new_dtype, weak_type=True)
        return value  # a constant of the program being traced
    if _is_host_value(operand) and _core.current_trace() is _core.eval_trace and \
            not float_to_int:  # (NumPy wraps out-of-range floats; XLA saturates)
        value = np.asarray(operand)
        if _dtypes.is_complex(value.dtype) and not _dtypes.is_complex(new_dtype):
            value = value.real
        return _host_to_device(value.astype(new_dtype), weak_type)
    return convert_element_type_p.bind(operand, new_dtype=new_dtype, weak_type=bool(weak_type))


def _is_host_value(x):
    return isinstance(x, (bool, int, float, complex, np.ndarray, np.generic))


def _host_to_device(value, weak_type):
    out = to_device(value, value.dtype)
    return mark_weak(out) if weak_type else out


@convert_element_type_p.def_abstract_eval
def _convert_abstract_eval(x, *, new_dtype, weak_type):
    return ShapedArray(x.shape, new_dtype, weak_type)


@convert_element_type_p.def_lowering
def _convert_lowering(ctx, x, *, new_dtype, weak_type):
    in_aval = ctx.avals_in[0]
    if new_dtype == _dtypes.bool_ and in_aval.dtype != _dtypes.bool_:
        zero = ctx.constant(0, in_aval.dtype, in_aval.shape)
        kind = "FLOAT" if _dtypes.is_inexact(in_aval.dtype) else (
            "UNSIGNED" if _dtypes.is_unsigned(in_aval.dtype) else "SIGNED")
        return ctx.op("stablehlo.compare", [x, zero], attrs={
            "comparison_direction": "#stablehlo<comparison_direction NE>",
            "compare_type": f"#stablehlo<comparison_type {kind}>"})
    if _dtypes.is_complex(in_aval.dtype) and not _dtypes.is_complex(new_dtype):
        real_dtype = np.float32 if in_aval.dtype == _dtypes.complex64 else np.float64
        x = ctx.op("stablehlo.real", [x], [ShapedArray(in_aval.shape, real_dtype)])
    return ctx.op("stablehlo.convert", [x])


@convert_element_type_p.def_jvp
def _convert_jvp(primals, tangents, *, new_dtype, weak_type):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)
    if isinstance(t, Zero) or not _dtypes.is_inexact(new_dtype) or \
            not _dtypes.is_inexact(get_aval(x).dtype):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type)


@convert_element_type_p.def_transpose
def _convert_transpose(ct, x, *, new_dtype, weak_type):
    return [convert_element_type(ct, x.aval.dtype, x.aval.weak_type)]


convert_element_type_p.batching_rule = lambda axis_data, vals, dims, **params: (
    convert_element_type_p.bind(vals[0], **params), dims[0])

bitcast_convert_type_p = Primitive("bitcast_convert_type")


def bitcast_convert_type(operand, new_dtype):
    """Reinterpret the bits of `operand` as `new_dtype`. A narrower type adds a
    trailing axis of size (old width / new width); a wider one consumes it."""
    new_dtype = _dtypes.canonicalize_dtype(new_dtype)
    if get_aval(operand).dtype == new_dtype:
        return operand
    return bitcast_convert_type_p.bind(operand, new_dtype=new_dtype)


@bitcast_convert_type_p.def_abstract_eval
def _bitcast_abstract_eval(x, *, new_dtype):
    old, new = x.dtype.itemsize, np.dtype(new_dtype).itemsize
    if _dtypes.bool_ in (x.dtype, np.dtype(new_dtype)):
        raise TypeError("bitcast_convert_type does not support bool")
    if old == new:
        return ShapedArray(x.shape, new_dtype)
    if old > new:
        return ShapedArray((*x.shape, old // new), new_dtype)
    if not x.shape or x.shape[-1] != new // old:
        raise TypeError(f"bitcast_convert_type from {x.dtype} to {np.dtype(new_dtype)} needs "
                        f"a last axis of size {new // old}, got shape {x.shape}")
    return ShapedArray(x.shape[:-1], new_dtype)


bitcast_convert_type_p.lowering_rule = lambda ctx, x, *, new_dtype: ctx.op(
    "stablehlo.bitcast_convert", [x])


@bitcast_convert_type_p.def_jvp
def _bitcast_jvp(primals, tangents, *, new_dtype):
    # As in JAX: reinterpreting bits has a zero derivative (not an error).
    out = bitcast_convert_type_p.bind(primals[0], new_dtype=new_dtype)
    return out, Zero(tangent_aval(get_aval(out)))


@bitcast_convert_type_p.def_batching
def _bitcast_batching(axis_data, vals, dims, *, new_dtype):
    x = bdim_at_front(axis_data.size, vals[0], dims[0])
    return bitcast_convert_type_p.bind(x, new_dtype=new_dtype), 0


copy_p = Primitive("copy")  # the identity as an operation (a fresh buffer when eager)
copy_p.abstract_eval_rule = lambda x: x
copy_p.lowering_rule = lambda ctx, x: x
deflinear(copy_p, lambda ct, x: [ct])
copy_p.batching_rule = lambda axis_data, vals, dims: (copy_p.bind(vals[0]), dims[0])


# --- select_n ---------------------------------------------------------------------

select_n_p = Primitive("select_n")


def select(pred, on_true, on_false):
    """`on_true` where the boolean `pred` holds, else `on_false` (elementwise)."""
    return select_n(pred, on_false, on_true)


def select_n(which, *cases):
    """cases[which] elementwise; `which` is bool (2 cases) or int32, scalar or shaped
    like the cases."""
    from ._util import as_lax_operands  # _util imports this module
    cases = as_lax_operands(*cases)
    if len(cases) == 1:
        return cases[0]
    return select_n_p.bind(which, *cases)


@select_n_p.def_abstract_eval
def _select_n_abstract_eval(which, *cases):
    c0 = cases[0]
    if any(c.shape != c0.shape or c.dtype != c0.dtype for c in cases):
        raise TypeError(f"select_n cases must have the same shape and dtype, got "
                        f"{[c.str_short() for c in cases]}")
    if which.shape not in ((), c0.shape):
        raise TypeError(f"select_n predicate shape {which.shape} must be scalar or match "
                        f"the cases' shape {c0.shape}")
    if which.dtype == _dtypes.bool_ and len(cases) != 2:
        raise TypeError("select_n with a boolean predicate takes exactly two cases")
    if which.dtype != _dtypes.bool_ and not _dtypes.is_integer(which.dtype):
        raise TypeError(f"select_n predicate must be bool or int32, got {which.dtype}")
    return ShapedArray(c0.shape, c0.dtype, all(c.weak_type for c in cases))


@select_n_p.def_lowering
def _select_n_lowering(ctx, which, *cases):
    which_aval, out = ctx.avals_in[0], ctx.avals_out[0]
    if which_aval.shape != out.shape:
        which = ctx.op("stablehlo.broadcast_in_dim", [which],
                       [ShapedArray(out.shape, which_aval.dtype)],
                       attrs={"broadcast_dimensions": i64_array([])})
    if which_aval.dtype == _dtypes.bool_:
        return ctx.op("stablehlo.select", [which, cases[1], cases[0]])
    # integer selector: a chain of selects, comparing against each case index
    result = cases[-1]
    kind = "UNSIGNED" if _dtypes.is_unsigned(which_aval.dtype) else "SIGNED"
    for i in range(len(cases) - 2, -1, -1):
        idx = ctx.constant(i, which_aval.dtype, out.shape)
        pred = ctx.op("stablehlo.compare", [which, idx], [ShapedArray(out.shape, np.bool_)],
                      attrs={"comparison_direction": "#stablehlo<comparison_direction EQ>",
                             "compare_type": f"#stablehlo<comparison_type {kind}>"})
        result = ctx.op("stablehlo.select", [pred, cases[i], result])
    return result


@select_n_p.def_key_lowering
def _select_n_key_lowering(ctx, which, *cases):
    which_aval, out = ctx.avals_in[0], ctx.avals_out[0]
    if which_aval.shape:  # one choice per key: the same for each word of its data
        which_aval = ShapedArray(out.shape, which_aval.dtype)
        which = ctx.op("stablehlo.broadcast_in_dim", [which], [which_aval], attrs={
            "broadcast_dimensions": i64_array(range(ctx.avals_in[0].ndim))})
    inner = _with_avals_in(ctx, [which_aval, *ctx.avals_in[1:]])
    return _select_n_lowering(inner, which, *cases)


def _with_avals_in(ctx, avals_in):
    return LoweringContext(ctx.module, ctx.lines, avals_in, ctx.avals_out)


@select_n_p.def_jvp
def _select_n_jvp(primals, tangents):
    which, *cases = primals
    out = select_n_p.bind(which, *cases)
    case_tangents = tangents[1:]
    if all(isinstance(t, Zero) for t in case_tangents):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, select_n_p.bind(which, *map(instantiate, case_tangents))


@select_n_p.def_transpose
def _select_n_transpose(ct, which, *cases):
    if is_undefined(which):
        raise ValueError("select_n is not linear in its predicate")
    zeros = full_like(ct, 0)
    return [None] + [select_n_p.bind(which, *[ct if j == i else zeros
                                              for j in range(len(cases))])
                     if is_undefined(c) else None for i, c in enumerate(cases)]


@select_n_p.def_batching
def _select_n_batching(axis_data, vals, dims):
    (which, *cases), (which_dim, *case_dims) = vals, dims
    case_ndim = get_aval(cases[0]).ndim - (case_dims[0] is not None)
    which_ndim = get_aval(which).ndim - (which_dim is not None)
    scalar_which = which_ndim == 0 and case_ndim > 0
    # the output batch dim: shared by every batched full-shape operand, else the front
    full_dims = {d for d in case_dims if d is not None}
    if not scalar_which and which_dim is not None:
        full_dims.add(which_dim)
    out_dim = full_dims.pop() if len(full_dims) == 1 else 0
    cases = [move_batch_axis(axis_data.size, c, d, out_dim)
             for c, d in zip(cases, case_dims)]
    if not scalar_which:
        which = move_batch_axis(axis_data.size, which, which_dim, out_dim)
    elif which_dim is not None:  # one predicate per example: broadcast it along the rest
        which = broadcast_in_dim(which, get_aval(cases[0]).shape, (out_dim,))
    return select_n_p.bind(which, *cases), out_dim


# --- full and friends -------------------------------------------------------------

_HOST_FILL_LIMIT = 1 << 20  # eager fills up to this many elements are built on the host


def full(shape, fill_value, dtype=None, weak_type=False):
    """An array of `shape` filled with the scalar `fill_value` (of `dtype`, else of the
    fill value's dtype and weak type)."""
    shape = canonicalize_shape(shape)
    fill_aval = get_aval(fill_value)
    if fill_aval.shape != ():
        raise TypeError(f"full must be called with a scalar fill_value, got one of shape "
                        f"{fill_aval.shape}")
    if dtype is None:
        dtype, weak_type = fill_aval.dtype, weak_type or fill_aval.weak_type
    dtype = _dtypes.canonicalize_dtype(dtype)
    if not _is_host_value(fill_value):
        return broadcast_in_dim(convert_element_type(fill_value, dtype, weak_type), shape, ())
    value = np.asarray(fill_value).astype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if _core.current_trace() is _core.eval_trace and size <= _HOST_FILL_LIMIT:
        return _host_to_device(np.full(shape, value, dtype), weak_type)
    if weak_type:  # a Python scalar of dtype's kind is a weak literal when traced
        py_value = value.item()
        scalar = py_value if _dtypes.python_scalar_dtype(py_value) == dtype and \
            not isinstance(py_value, bool) else _host_to_device(value, weak_type=True)
    else:
        scalar = value
    if shape == ():
        return scalar
    return broadcast_in_dim_p.bind(scalar, shape=shape, broadcast_dimensions=())


def full_like(x, fill_value, dtype=None, shape=None):
    """`full` with the shape and dtype (and weak type, if no dtype is given) of `x`."""
    aval = get_aval(x)
    weak_type = dtype is None and aval.weak_type
    return full(aval.shape if shape is None else shape, fill_value,
                aval.dtype if dtype is None else dtype, weak_type)


def zeros_like_array(x):
    """Zeros of the shape and dtype of `x`."""
    return full_like(x, 0)


def full_like_aval(aval, fill_value):
    return full(aval.shape, fill_value, aval.dtype)


# --- stop_gradient ----------------------------------------------------------------

def stop_gradient(x):
    """The identity whose derivative is zero (applies to every leaf of a pytree)."""
    return tree_util.tree_map(_stop_gradient_leaf, x)


stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.abstract_eval_rule = lambda x: x
stop_gradient_p.lowering_rule = lambda ctx, x: x
stop_gradient_p.jvp_rule = lambda primals, tangents: (
    stop_gradient_p.bind(*primals), Zero(tangent_aval(get_aval(primals[0]))))
stop_gradient_p.batching_rule = lambda axis_data, vals, dims: (
    stop_gradient_p.bind(*vals), dims[0])
stop_gradient_p.def_impl(lambda x: x)

def _stop_gradient_leaf(x):
    return stop_gradient_p.bind(x)


_accepts_keys(copy_p, select_n_p, stop_gradient_p)
