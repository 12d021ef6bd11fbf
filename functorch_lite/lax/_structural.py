"""Shape and type primitives: broadcast_in_dim, reshape, squeeze, transpose, rev, iota,
convert_element_type, bitcast_convert_type, select_n, slice, pad, concatenate, copy,
stop_gradient, and the composites built directly on them (full, expand_dims, ...).

Each block holds a primitive, its wrapper and all of its rules. Batching rules keep the
batch dimension where it is when the operation allows it (rev, squeeze, slice, pad)."""

__all__ = [
    "select",
    "broadcast_in_dim", "broadcast", "reshape", "squeeze", "expand_dims", "collapse",
    "transpose", "rev", "iota", "broadcasted_iota", "convert_element_type",
    "bitcast_convert_type", "select_n", "slice", "slice_in_dim", "index_in_dim", "pad",
    "concatenate", "full", "full_like", "zeros_like_array", "stop_gradient",
    "broadcast_in_dim_p", "reshape_p", "squeeze_p", "transpose_p", "rev_p", "iota_p",
    "convert_element_type_p", "bitcast_convert_type_p", "select_n_p", "slice_p", "pad_p",
    "concatenate_p", "copy_p", "stop_gradient_p",
]
import builtins

import numpy as np

from .. import _core, _dtypes, _jax_versions
from .._core import Primitive, ShapedArray, canonicalize_shape, get_aval, user_source_line
from .._ad import Zero, deflinear, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front, move_batch_axis
from .._runtime import to_device, mark_weak
from .._lowering import LoweringContext


def i64_array(values):
    """The StableHLO attribute text `array<i64: ...>`."""
    return f"array<i64{': ' if len(values) else ''}{', '.join(str(int(v)) for v in values)}>"


_i64_array = i64_array


def _aval_of(x):
    return x.aval if is_undefined(x) else get_aval(x)


# Typed PRNG key arrays pass through the shape-only primitives: each has `accepts_keys`
# and, where its attributes name dimensions, a `key_lowering_rule` extending them over
# the trailing key-data dimensions the key operand has once lowered (ctx avals are
# physical there).

def _key_data_dims(ctx_aval, logical_ndim):
    """The positions of the key-data dimensions of a lowered key array."""
    return tuple(range(logical_ndim, ctx_aval.ndim))


def _accepts_keys(*prims):
    for prim in prims:
        prim.accepts_keys = True


def _unbatched_to_batched_axes(axes, bdim):
    """Positions of the unbatched array's `axes` once a batch dim sits at `bdim`."""
    return tuple(a + (a >= bdim) for a in axes)


# --- broadcast_in_dim -------------------------------------------------------------

broadcast_in_dim_p = Primitive("broadcast_in_dim")


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    """Broadcast `operand` to `shape`; its dim i becomes output dim broadcast_dimensions[i]."""
    shape, dims = canonicalize_shape(shape), tuple(int(d) for d in broadcast_dimensions)
    if get_aval(operand).shape == shape and dims == tuple(range(len(shape))):
        return operand
    return broadcast_in_dim_p.bind(operand, shape=shape, broadcast_dimensions=dims)


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract_eval(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim or any(
            not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d])
            for i, d in enumerate(broadcast_dimensions)):
        raise TypeError(f"broadcast_in_dim cannot broadcast shape {x.shape} to {shape} with "
                        f"broadcast_dimensions={broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


@broadcast_in_dim_p.def_lowering
def _broadcast_in_dim_lowering(ctx, x, *, shape, broadcast_dimensions):
    return ctx.op("stablehlo.broadcast_in_dim", [x],
                  attrs={"broadcast_dimensions": i64_array(broadcast_dimensions)})


def _broadcast_in_dim_key_lowering(ctx, x, *, shape, broadcast_dimensions):
    out = ctx.avals_out[0]
    return _broadcast_in_dim_lowering(ctx, x, shape=out.shape, broadcast_dimensions=(
        *broadcast_dimensions, *_key_data_dims(out, len(shape))))


broadcast_in_dim_p.key_lowering_rule = _broadcast_in_dim_key_lowering


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    from ._reductions import reduce_sum
    in_shape = x.aval.shape
    expanded = [broadcast_dimensions[i] for i, d in enumerate(in_shape)
                if d == 1 and shape[broadcast_dimensions[i]] != 1]
    new = [i for i in range(len(shape)) if i not in broadcast_dimensions]
    summed = reduce_sum(ct, tuple(sorted(set(new) | set(expanded))))
    return [reshape(summed, in_shape)]


deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


@broadcast_in_dim_p.def_batching
def _broadcast_in_dim_batching(axis_size, vals, dims, *, shape, broadcast_dimensions):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    out = broadcast_in_dim_p.bind(x, shape=(axis_size, *shape),
                                  broadcast_dimensions=(0, *(d + 1 for d in broadcast_dimensions)))
    return out, 0


def broadcast(operand, sizes):
    """Add leading dimensions of `sizes` to `operand` (as lax.broadcast)."""
    aval = get_aval(operand)
    sizes = canonicalize_shape(sizes)
    n = len(sizes)
    return broadcast_in_dim(operand, (*sizes, *aval.shape), tuple(range(n, n + aval.ndim)))


# --- reshape, squeeze, expand_dims ------------------------------------------------

reshape_p = Primitive("reshape")


def reshape(operand, new_sizes, dimensions=None):
    """Reshape `operand` (row-major); `dimensions` transposes first, as in lax.reshape."""
    if dimensions is not None and tuple(dimensions) != tuple(range(len(dimensions))):
        operand = transpose(operand, dimensions)
    new_sizes = canonicalize_shape(new_sizes)
    if get_aval(operand).shape == new_sizes:
        return operand
    return reshape_p.bind(operand, new_sizes=new_sizes)


@reshape_p.def_abstract_eval
def _reshape_abstract_eval(x, *, new_sizes):
    if any(d < 0 for d in new_sizes) or int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) into "
                        f"shape {new_sizes}\n  at {user_source_line()}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


reshape_p.lowering_rule = lambda ctx, x, *, new_sizes: ctx.op("stablehlo.reshape", [x])
deflinear(reshape_p, lambda ct, x, *, new_sizes: [reshape(ct, x.aval.shape)])


@reshape_p.def_batching
def _reshape_batching(axis_size, vals, dims, *, new_sizes):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    return reshape_p.bind(x, new_sizes=(axis_size, *new_sizes)), 0


squeeze_p = Primitive("squeeze")


def squeeze(array, dimensions):
    """Remove the size-1 `dimensions` (negative values count from the end)."""
    ndim = get_aval(array).ndim
    dims = tuple(sorted({_canonical_axis(d, ndim) for d in dimensions}))
    if not dims:
        return array
    return squeeze_p.bind(array, dimensions=dims)


def _canonical_axis(axis, ndim):
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of rank {ndim}")
    return axis % ndim


@squeeze_p.def_abstract_eval
def _squeeze_abstract_eval(x, *, dimensions):
    if any(x.shape[d] != 1 for d in dimensions):
        raise ValueError(f"cannot squeeze axes {dimensions} of an array of shape {x.shape}: "
                         f"only axes of size 1 can be removed\n  at {user_source_line()}")
    return ShapedArray([d for i, d in enumerate(x.shape) if i not in dimensions], x.dtype,
                       x.weak_type)


squeeze_p.lowering_rule = lambda ctx, x, *, dimensions: ctx.op("stablehlo.reshape", [x])
deflinear(squeeze_p, lambda ct, x, *, dimensions: [reshape(ct, x.aval.shape)])


@squeeze_p.def_batching
def _squeeze_batching(axis_size, vals, dims, *, dimensions):
    (x,), (bdim,) = vals, dims
    out_bdim = bdim - builtins.sum(d < bdim for d in dimensions)
    return squeeze_p.bind(x, dimensions=_unbatched_to_batched_axes(dimensions, bdim)), out_bdim


def expand_dims(array, dimensions):
    """Insert size-1 axes at `dimensions` (positions in the result)."""
    aval = get_aval(array)
    ndim = aval.ndim + len(dimensions)
    dims = sorted(_canonical_axis(d, ndim) for d in dimensions)
    if len(set(dims)) != len(dims):
        raise ValueError(f"repeated axis in expand_dims: {tuple(dimensions)}")
    shape = list(aval.shape)
    for d in dims:
        shape.insert(d, 1)
    return reshape(array, shape)


def collapse(operand, start_dimension, stop_dimension=None):
    """Merge dimensions [start_dimension, stop_dimension) into one."""
    shape = get_aval(operand).shape
    stop = len(shape) if stop_dimension is None else stop_dimension
    start, stop = (builtins.slice(start_dimension, stop).indices(len(shape)))[:2]
    size = int(np.prod(shape[start:stop], dtype=np.int64))
    return reshape(operand, (*shape[:start], size, *shape[stop:]))


# --- transpose, rev ---------------------------------------------------------------

transpose_p = Primitive("transpose")


def transpose(operand, permutation):
    """Permute the axes: output axis i is input axis permutation[i]."""
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return operand
    return transpose_p.bind(operand, permutation=permutation)


@transpose_p.def_abstract_eval
def _transpose_abstract_eval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(f"transpose permutation {permutation} is not a permutation of the "
                        f"{x.ndim} axes of an array of shape {x.shape}")
    return ShapedArray([x.shape[p] for p in permutation], x.dtype, x.weak_type)


transpose_p.lowering_rule = lambda ctx, x, *, permutation: ctx.op(
    "stablehlo.transpose", [x], attrs={"permutation": i64_array(permutation)})
transpose_p.key_lowering_rule = lambda ctx, x, *, permutation: transpose_p.lowering_rule(
    ctx, x, permutation=(*permutation, *_key_data_dims(ctx.avals_in[0], len(permutation))))
deflinear(transpose_p, lambda ct, x, *, permutation: [
    transpose(ct, tuple(np.argsort(permutation)))])


@transpose_p.def_batching
def _transpose_batching(axis_size, vals, dims, *, permutation):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    return transpose_p.bind(x, permutation=(0, *(p + 1 for p in permutation))), 0


rev_p = Primitive("rev")


def rev(operand, dimensions):
    """Reverse the order of elements along `dimensions`."""
    ndim = get_aval(operand).ndim
    dims = tuple(sorted({_canonical_axis(d, ndim) for d in dimensions}))
    return rev_p.bind(operand, dimensions=dims) if dims else operand


rev_p.abstract_eval_rule = lambda x, *, dimensions: x
rev_p.lowering_rule = lambda ctx, x, *, dimensions: ctx.op(
    "stablehlo.reverse", [x], attrs={"dimensions": i64_array(dimensions)})
deflinear(rev_p, lambda ct, x, *, dimensions: [rev_p.bind(ct, dimensions=dimensions)])
rev_p.batching_rule = lambda axis_size, vals, dims, *, dimensions: (
    rev_p.bind(vals[0], dimensions=_unbatched_to_batched_axes(dimensions, dims[0])), dims[0])


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


convert_element_type_p.batching_rule = lambda axis_size, vals, dims, **params: (
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
def _bitcast_batching(axis_size, vals, dims, *, new_dtype):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    return bitcast_convert_type_p.bind(x, new_dtype=new_dtype), 0


copy_p = Primitive("copy")  # the identity as an operation (a fresh buffer when eager)
copy_p.abstract_eval_rule = lambda x: x
copy_p.lowering_rule = lambda ctx, x: x
deflinear(copy_p, lambda ct, x: [ct])
copy_p.batching_rule = lambda axis_size, vals, dims: (copy_p.bind(vals[0]), dims[0])


# --- select_n ---------------------------------------------------------------------

select_n_p = Primitive("select_n")


def select(pred, on_true, on_false):
    """`on_true` where the boolean `pred` holds, else `on_false` (elementwise)."""
    return select_n(pred, on_false, on_true)


def select_n(which, *cases):
    """cases[which] elementwise; `which` is bool (2 cases) or int32, scalar or shaped
    like the cases."""
    from ._util import as_lax_operands
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
def _select_n_batching(axis_size, vals, dims):
    (which, *cases), (which_dim, *case_dims) = vals, dims
    case_ndim = get_aval(cases[0]).ndim - (case_dims[0] is not None)
    which_ndim = get_aval(which).ndim - (which_dim is not None)
    scalar_which = which_ndim == 0 and case_ndim > 0
    # the output batch dim: shared by every batched full-shape operand, else the front
    full_dims = {d for d in case_dims if d is not None}
    if not scalar_which and which_dim is not None:
        full_dims.add(which_dim)
    out_dim = full_dims.pop() if len(full_dims) == 1 else 0
    cases = [move_batch_axis(axis_size, c, d, out_dim) for c, d in zip(cases, case_dims)]
    if not scalar_which:
        which = move_batch_axis(axis_size, which, which_dim, out_dim)
    elif which_dim is not None:  # one predicate per example: broadcast it along the rest
        which = broadcast_in_dim(which, get_aval(cases[0]).shape, (out_dim,))
    return select_n_p.bind(which, *cases), out_dim


# --- slice ------------------------------------------------------------------------

slice_p = Primitive("slice")


def slice(operand, start_indices, limit_indices, strides=None):
    """operand[start:limit:stride] along every axis (static bounds)."""
    start = tuple(int(i) for i in start_indices)
    limit = tuple(int(i) for i in limit_indices)
    strides = None if strides is None or all(s == 1 for s in strides) else \
        tuple(int(s) for s in strides)
    if start == (0,) * len(start) and limit == get_aval(operand).shape and strides is None:
        return operand
    return slice_p.bind(operand, start_indices=start, limit_indices=limit, strides=strides)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """`slice` along one axis; None and negative bounds count as in Python."""
    aval = get_aval(operand)
    axis = _canonical_axis(axis, aval.ndim)
    start, limit = [0] * aval.ndim, list(aval.shape)
    strides = [1] * aval.ndim
    n = aval.shape[axis]
    start_index = 0 if start_index is None else start_index + n * (start_index < 0)
    limit_index = n if limit_index is None else limit_index + n * (limit_index < 0)
    start[axis], limit[axis], strides[axis] = start_index, limit_index, stride
    return slice(operand, start, limit, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """operand[..., index, ...] at `axis` (static index), keeping the axis if asked."""
    aval = get_aval(operand)
    axis = _canonical_axis(axis, aval.ndim)
    n = aval.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {n}")
    index = index % n
    out = slice_in_dim(operand, index, index + 1, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


@slice_p.def_abstract_eval
def _slice_abstract_eval(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    if len(start_indices) != x.ndim or len(limit_indices) != x.ndim or any(
            not 0 <= s <= l <= d for s, l, d in zip(start_indices, limit_indices, x.shape)):
        raise IndexError(f"slice indices {start_indices}:{limit_indices} out of bounds for "
                         f"shape {x.shape}")
    if len(strides) != x.ndim or any(st <= 0 for st in strides):
        raise ValueError(f"slice strides must be positive, one per axis; got {strides}")
    shape = [(l - s + st - 1) // st for s, l, st in zip(start_indices, limit_indices, strides)]
    return ShapedArray(shape, x.dtype, x.weak_type)


@slice_p.def_lowering
def _slice_lowering(ctx, x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    return ctx.op("stablehlo.slice", [x], attrs={
        "start_indices": i64_array(start_indices), "limit_indices": i64_array(limit_indices),
        "strides": i64_array(strides)})


@slice_p.def_key_lowering
def _slice_key_lowering(ctx, x, *, start_indices, limit_indices, strides):
    data_shape = ctx.avals_in[0].shape[len(start_indices):]
    return _slice_lowering(ctx, x, start_indices=(*start_indices, *(0 for _ in data_shape)),
                           limit_indices=(*limit_indices, *data_shape),
                           strides=(*(strides or (1,) * len(start_indices)),
                                    *(1 for _ in data_shape)))


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    # scatter the cotangent back: pad with zeros before, after and between the picks
    shape = x.aval.shape
    strides = strides or (1,) * len(shape)
    ct_shape = get_aval(ct).shape
    high = [d - (s + (c - 1) * st + 1) if c else d - s
            for d, s, c, st in zip(shape, start_indices, ct_shape, strides)]
    interior = [st - 1 if c else 0 for st, c in zip(strides, ct_shape)]
    zero = np.zeros((), dtype=get_aval(ct).dtype)
    return [pad(ct, zero, tuple(zip(start_indices, high, interior)))]


deflinear(slice_p, _slice_transpose)


@slice_p.def_batching
def _slice_batching(axis_size, vals, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = vals, dims
    start, limit = list(start_indices), list(limit_indices)
    start.insert(d, 0)
    limit.insert(d, axis_size)
    if strides is not None:
        strides = list(strides)
        strides.insert(d, 1)
        strides = tuple(strides)
    return slice_p.bind(x, start_indices=tuple(start), limit_indices=tuple(limit),
                        strides=strides), d


# --- pad --------------------------------------------------------------------------

pad_p = Primitive("pad")


def pad(operand, padding_value, padding_config):
    """Pad each axis by (low, high, interior) elements of `padding_value`; negative
    low/high remove elements."""
    config = tuple((int(lo), int(hi), int(interior)) for lo, hi, interior in padding_config)
    aval = get_aval(operand)
    if isinstance(padding_value, (bool, int, float, complex)):
        padding_value = np.asarray(padding_value).astype(aval.dtype)
    return pad_p.bind(operand, padding_value, padding_config=config)


@pad_p.def_abstract_eval
def _pad_abstract_eval(x, padding_value, *, padding_config):
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        raise TypeError(f"pad needs a scalar padding_value of the operand's dtype "
                        f"{x.dtype}, got {padding_value.str_short()}")
    if len(padding_config) != x.ndim:
        raise ValueError(f"pad: padding_config has {len(padding_config)} entries for an "
                         f"operand of rank {x.ndim}")
    shape = [lo + hi + d + builtins.max(d - 1, 0) * interior
             for d, (lo, hi, interior) in zip(x.shape, padding_config)]
    if any(interior < 0 for _, _, interior in padding_config) or any(d < 0 for d in shape):
        raise ValueError(f"pad: padding_config {padding_config} is invalid for shape "
                         f"{x.shape} (interior padding must be >= 0 and the result "
                         f"non-empty-or-zero, got {tuple(shape)})")
    return ShapedArray(shape, x.dtype, x.weak_type)


@pad_p.def_lowering
def _pad_lowering(ctx, x, padding_value, *, padding_config):
    lo, hi, interior = (list(c) for c in zip(*padding_config)) if padding_config else ([],) * 3
    return ctx.op("stablehlo.pad", [x, padding_value], attrs={
        "edge_padding_low": i64_array(lo), "edge_padding_high": i64_array(hi),
        "interior_padding": i64_array(interior)})


def _pad_transpose(ct, operand, padding_value, *, padding_config):
    # the operand's cotangent: crop the edges, then keep every (interior+1)-th element;
    # the padding value's: everything that was not picked for the operand (as in JAX)
    from ._reductions import reduce_sum
    from ._elementwise import sub
    ct_aval = get_aval(ct)
    unpadded = pad(ct, np.zeros((), ct_aval.dtype),
                   [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    shape = get_aval(unpadded).shape
    t_operand = slice(unpadded, (0,) * len(shape), shape,
                      [interior + 1 for _, _, interior in padding_config])
    t_padding_value = None
    if is_undefined(padding_value):
        axes = tuple(range(ct_aval.ndim))
        t_padding_value = sub(reduce_sum(ct, axes), reduce_sum(t_operand, axes))
    return [t_operand if is_undefined(operand) else None, t_padding_value]


deflinear(pad_p, _pad_transpose)


@pad_p.def_batching
def _pad_batching(axis_size, vals, dims, *, padding_config):
    (x, padding_value), (x_dim, value_dim) = vals, dims
    if value_dim is None:
        config = list(padding_config)
        config.insert(x_dim, (0, 0, 0))
        return pad_p.bind(x, padding_value, padding_config=tuple(config)), x_dim
    # one padding value per example: pad with zeros, then select the padded positions
    x = bdim_at_front(axis_size, x, x_dim)
    aval = get_aval(x)
    config = ((0, 0, 0), *padding_config)
    out = pad_p.bind(x, np.zeros((), aval.dtype), padding_config=config)
    inside = pad(full(aval.shape, True, _dtypes.bool_), False, config)
    values = broadcast_in_dim(padding_value, get_aval(out).shape, (0,))
    return select_n(inside, values, out), 0


# --- concatenate ------------------------------------------------------------------

concatenate_p = Primitive("concatenate")


def concatenate(operands, dimension):
    """Join `operands` (same dtype, same shape but along `dimension`) along `dimension`."""
    operands = list(operands)
    if not operands:
        raise ValueError("concatenate needs at least one operand")
    if len(operands) == 1:
        return operands[0]
    dimension = _canonical_axis(dimension, builtins.max(get_aval(operands[0]).ndim, 1))
    return concatenate_p.bind(*operands, dimension=dimension)


@concatenate_p.def_abstract_eval
def _concatenate_abstract_eval(*avals, dimension):
    first = avals[0]
    if first.ndim == 0:
        raise TypeError("zero-dimensional arrays cannot be concatenated")
    if any(a.dtype != first.dtype for a in avals):
        raise TypeError(f"concatenate requires operands of one dtype, got "
                        f"{[a.str_short() for a in avals]}")
    others = [s for i, s in enumerate(first.shape) if i != dimension]
    if any(a.ndim != first.ndim or [s for i, s in enumerate(a.shape) if i != dimension]
           != others for a in avals):
        raise TypeError(f"concatenate along axis {dimension} needs equal shapes on the other "
                        f"axes, got {[a.str_short() for a in avals]}")
    shape = list(first.shape)
    shape[dimension] = builtins.sum(a.shape[dimension] for a in avals)
    return ShapedArray(shape, first.dtype, all(a.weak_type for a in avals))


concatenate_p.lowering_rule = lambda ctx, *xs, dimension: ctx.op(
    "stablehlo.concatenate", list(xs), attrs={"dimension": f"{dimension} : i64"})


def _concatenate_transpose(ct, *operands, dimension):
    cts, start = [], 0
    for x in operands:
        size = _aval_of(x).shape[dimension]
        cts.append(slice_in_dim(ct, start, start + size, axis=dimension)
                   if is_undefined(x) else None)
        start += size
    return cts


deflinear(concatenate_p, _concatenate_transpose)


@concatenate_p.def_batching
def _concatenate_batching(axis_size, vals, dims, *, dimension):
    vals = [bdim_at_front(axis_size, x, d) for x, d in zip(vals, dims)]
    return concatenate_p.bind(*vals, dimension=dimension + 1), 0


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
    from jax import tree_util
    return tree_util.tree_map(_stop_gradient_leaf, x)


stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.abstract_eval_rule = lambda x: x
stop_gradient_p.lowering_rule = lambda ctx, x: x
stop_gradient_p.jvp_rule = lambda primals, tangents: (
    stop_gradient_p.bind(*primals), Zero(tangent_aval(get_aval(primals[0]))))
stop_gradient_p.batching_rule = lambda axis_size, vals, dims: (
    stop_gradient_p.bind(*vals), dims[0])
stop_gradient_p.def_impl(lambda x: x)
_accepts_keys(broadcast_in_dim_p, reshape_p, squeeze_p, transpose_p, rev_p, copy_p,
              select_n_p, slice_p, concatenate_p, stop_gradient_p)


def _stop_gradient_leaf(x):
    return stop_gradient_p.bind(x)
