"""Shape and type primitives: broadcast_in_dim, reshape, transpose, convert_element_type,
select_n, and the composites built directly on them (full, expand_dims)."""

__all__ = ["broadcast_in_dim", "reshape", "transpose", "convert_element_type", "select_n", "full", "expand_dims", "slice", "slice_in_dim", "stop_gradient"]
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, deflinear, defjvp, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front, move_batch_axis


def _i64_array(values):
    return f"array<i64{': ' if len(values) else ''}{', '.join(str(int(v)) for v in values)}>"


i64_array = _i64_array

# --- broadcast_in_dim -------------------------------------------------------------

broadcast_in_dim_p = Primitive("broadcast_in_dim")


def broadcast_in_dim(x, shape, broadcast_dimensions):
    """Broadcast `x` to `shape`; operand dim i becomes output dim broadcast_dimensions[i]."""
    shape, dims = tuple(int(d) for d in shape), tuple(int(d) for d in broadcast_dimensions)
    if get_aval(x).shape == shape and dims == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=dims)


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract_eval(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim or any(
            x.shape[i] not in (1, shape[d]) for i, d in enumerate(broadcast_dimensions)):
        raise TypeError(f"broadcast_in_dim cannot broadcast shape {x.shape} to {shape} with "
                        f"broadcast_dimensions={broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


@broadcast_in_dim_p.def_lowering
def _broadcast_in_dim_lowering(ctx, x, *, shape, broadcast_dimensions):
    return ctx.op("stablehlo.broadcast_in_dim", [x],
                  attrs={"broadcast_dimensions": _i64_array(broadcast_dimensions)})


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    from ._reductions import reduce_sum
    in_shape = x.aval.shape
    unit = [broadcast_dimensions[i] for i, d in enumerate(in_shape)
            if d == 1 and shape[broadcast_dimensions[i]] != 1]
    new = [i for i in range(len(shape)) if i not in broadcast_dimensions]
    summed = reduce_sum(ct, tuple(sorted(set(new) | set(unit))))
    return [reshape(summed, in_shape)]


deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


@broadcast_in_dim_p.def_batching
def _broadcast_in_dim_batching(axis_size, vals, dims, *, shape, broadcast_dimensions):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    out = broadcast_in_dim_p.bind(x, shape=(axis_size, *shape),
                                  broadcast_dimensions=(0, *(d + 1 for d in broadcast_dimensions)))
    return out, 0


# --- reshape ----------------------------------------------------------------------

reshape_p = Primitive("reshape")


def reshape(x, new_sizes, dimensions=None):
    """Reshape `x` (row-major); `dimensions` transposes first, as in lax.reshape."""
    if dimensions is not None and tuple(dimensions) != tuple(range(len(dimensions))):
        x = transpose(x, dimensions)
    new_sizes = tuple(int(d) for d in new_sizes)
    if get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


@reshape_p.def_abstract_eval
def _reshape_abstract_eval(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) into "
                        f"shape {new_sizes}\n  at {user_source_line()}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


reshape_p.lowering_rule = lambda ctx, x, *, new_sizes: ctx.op("stablehlo.reshape", [x])
deflinear(reshape_p, lambda ct, x, *, new_sizes: [reshape(ct, x.aval.shape)])


@reshape_p.def_batching
def _reshape_batching(axis_size, vals, dims, *, new_sizes):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    return reshape_p.bind(x, new_sizes=(axis_size, *new_sizes)), 0


# --- transpose --------------------------------------------------------------------

transpose_p = Primitive("transpose")


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


@transpose_p.def_abstract_eval
def _transpose_abstract_eval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(f"transpose permutation {permutation} is not a permutation of the "
                        f"{x.ndim} axes of an array of shape {x.shape}")
    return ShapedArray([x.shape[p] for p in permutation], x.dtype, x.weak_type)


transpose_p.lowering_rule = lambda ctx, x, *, permutation: ctx.op(
    "stablehlo.transpose", [x], attrs={"permutation": _i64_array(permutation)})
deflinear(transpose_p, lambda ct, x, *, permutation: [
    transpose(ct, tuple(np.argsort(permutation)))])


@transpose_p.def_batching
def _transpose_batching(axis_size, vals, dims, *, permutation):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    return transpose_p.bind(x, permutation=(0, *(p + 1 for p in permutation))), 0


# --- convert_element_type ---------------------------------------------------------

convert_element_type_p = Primitive("convert_element_type")


def convert_element_type(x, new_dtype, weak_type=False):
    new_dtype = _dtypes.canonicalize_dtype(new_dtype)
    aval = get_aval(x)
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type))


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
        x = ctx.op("stablehlo.real", [x], [ShapedArray(in_aval.shape, np.float32 if
                                                        in_aval.dtype.itemsize == 8 else np.float64)])
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


# --- select_n ---------------------------------------------------------------------

select_n_p = Primitive("select_n")


def select_n(which, *cases):
    """cases[which] elementwise; `which` is bool (2 cases) or int32."""
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
    return ShapedArray(c0.shape, c0.dtype, all(c.weak_type for c in cases))


@select_n_p.def_lowering
def _select_n_lowering(ctx, which, *cases):
    which_aval, out = ctx.avals_in[0], ctx.avals_out[0]
    if which_aval.shape != out.shape:
        which = ctx.op("stablehlo.broadcast_in_dim", [which],
                       [ShapedArray(out.shape, which_aval.dtype)],
                       attrs={"broadcast_dimensions": _i64_array([])})
    if which_aval.dtype == _dtypes.bool_:
        return ctx.op("stablehlo.select", [which, cases[1], cases[0]])
    # integer selector: a chain of selects, comparing against each case index
    result = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
        idx = ctx.constant(i, which_aval.dtype, out.shape)
        pred = ctx.op("stablehlo.compare", [which, idx], [ShapedArray(out.shape, np.bool_)],
                      attrs={"comparison_direction": "#stablehlo<comparison_direction EQ>"})
        result = ctx.op("stablehlo.select", [pred, cases[i], result])
    return result


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
    assert not is_undefined(which)
    zeros = full_like_aval(get_aval(ct), 0)
    return [None] + [select_n_p.bind(which, *[ct if j == i else zeros
                                              for j in range(len(cases))])
                     if is_undefined(c) else None for i, c in enumerate(cases)]


@select_n_p.def_batching
def _select_n_batching(axis_size, vals, dims):
    which, *cases = vals
    case_shape = next(get_aval(c).shape for c, d in zip(cases, dims[1:]) if d is None) \
        if any(d is None for d in dims[1:]) else None
    cases = [bdim_at_front(axis_size, c, d) for c, d in zip(cases, dims[1:])]
    w_aval = get_aval(which)
    if dims[0] is None and w_aval.shape == ():
        return select_n_p.bind(which, *cases), 0
    which = bdim_at_front(axis_size, which, dims[0])
    target = get_aval(cases[0]).shape
    if get_aval(which).shape != target:  # scalar-per-example predicate
        which = broadcast_in_dim(which, target, (0,) if get_aval(which).ndim == 1 else
                                 tuple(range(get_aval(which).ndim)))
    return select_n_p.bind(which, *cases), 0


# --- composites -------------------------------------------------------------------

def full(shape, fill_value, dtype=None, weak_type=False):
    """An array of `shape` filled with `fill_value`."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None:
        dtype = get_aval(fill_value).dtype
    dtype = _dtypes.canonicalize_dtype(dtype)
    if isinstance(fill_value, (bool, int, float, complex)) and weak_type and \
            _dtypes.python_scalar_dtype(fill_value) == dtype:
        scalar = fill_value
    elif isinstance(fill_value, (bool, int, float, complex, np.generic, np.ndarray)):
        scalar = np.asarray(fill_value, dtype=dtype)
        if weak_type:
            scalar = convert_element_type(scalar, dtype, weak_type=True)
    else:
        scalar = convert_element_type(fill_value, dtype, weak_type)
    return broadcast_in_dim(scalar, shape, ())


def full_like_aval(aval, fill_value):
    return full(aval.shape, fill_value, aval.dtype)


def expand_dims(x, dimensions):
    aval = get_aval(x)
    ndim = aval.ndim + len(dimensions)
    dims = sorted(d % ndim for d in dimensions)
    shape = list(aval.shape)
    for d in dims:
        shape.insert(d, 1)
    return reshape(x, shape)


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
    aval = get_aval(operand)
    axis = axis % aval.ndim
    start = [0] * aval.ndim
    limit = list(aval.shape)
    strides = [1] * aval.ndim
    n = aval.shape[axis]
    start_index = 0 if start_index is None else (start_index + n if start_index < 0 else start_index)
    limit_index = n if limit_index is None else (limit_index + n if limit_index < 0 else limit_index)
    start[axis], limit[axis], strides[axis] = start_index, limit_index, stride
    return slice(operand, start, limit, strides)


@slice_p.def_abstract_eval
def _slice_abstract_eval(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.ndim
    if len(start_indices) != x.ndim or any(
            not 0 <= s <= l <= d for s, l, d in zip(start_indices, limit_indices, x.shape)):
        raise IndexError(f"slice indices {start_indices}:{limit_indices} out of bounds for "
                         f"shape {x.shape}")
    shape = [(l - s + st - 1) // st for s, l, st in zip(start_indices, limit_indices, strides)]
    return ShapedArray(shape, x.dtype, x.weak_type)


@slice_p.def_lowering
def _slice_lowering(ctx, x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    return ctx.op("stablehlo.slice", [x], attrs={
        "start_indices": _i64_array(start_indices), "limit_indices": _i64_array(limit_indices),
        "strides": _i64_array(strides)})


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    shape = x.aval.shape
    strides = strides or (1,) * len(shape)
    ct_shape = get_aval(ct).shape
    lo = start_indices
    hi = [d - (s + (c - 1) * st + 1) if c else d - s
          for d, s, c, st in zip(shape, start_indices, ct_shape, strides)]
    interior = [st - 1 for st in strides]
    zero = np.zeros((), dtype=get_aval(ct).dtype)
    return [pad(ct, zero, tuple(zip(lo, hi, interior)))]


deflinear(slice_p, _slice_transpose)


@slice_p.def_batching
def _slice_batching(axis_size, vals, dims, *, start_indices, limit_indices, strides):
    x = bdim_at_front(axis_size, vals[0], dims[0])
    strides = (1, *strides) if strides else None
    return slice_p.bind(x, start_indices=(0, *start_indices),
                        limit_indices=(axis_size, *limit_indices), strides=strides), 0


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


def _stop_gradient_leaf(x):
    return stop_gradient_p.bind(x)
