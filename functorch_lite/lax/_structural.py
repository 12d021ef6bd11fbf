"""Shape primitives: broadcast_in_dim, reshape, squeeze, transpose, rev, and the
composites built directly on them (broadcast, expand_dims, collapse); their siblings
are `_values` (iota, conversions, select_n, full, stop_gradient) and `_slicing` (slice,
pad, concatenate).

Each block holds a primitive, its wrapper and all of its rules. Batching rules keep the
batch dimension where it is when the operation allows it (rev, squeeze)."""

__all__ = [
    "broadcast_in_dim", "broadcast", "reshape", "squeeze", "expand_dims", "collapse",
    "transpose", "rev", "broadcast_in_dim_p", "reshape_p", "squeeze_p", "transpose_p",
    "rev_p",
]
import builtins

import numpy as np

from .._core import Primitive, ShapedArray, canonicalize_shape, get_aval, user_source_line
from .._ad import deflinear, is_undefined
from .._batching import bdim_at_front


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
    from ._reductions import reduce_sum  # _reductions imports this module
    in_shape = x.aval.shape
    expanded = [broadcast_dimensions[i] for i, d in enumerate(in_shape)
                if d == 1 and shape[broadcast_dimensions[i]] != 1]
    new = [i for i in range(len(shape)) if i not in broadcast_dimensions]
    summed = reduce_sum(ct, tuple(sorted(set(new) | set(expanded))))
    return [reshape(summed, in_shape)]


deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


@broadcast_in_dim_p.def_batching
def _broadcast_in_dim_batching(axis_data, vals, dims, *, shape, broadcast_dimensions):
    x = bdim_at_front(axis_data.size, vals[0], dims[0])
    out = broadcast_in_dim_p.bind(x, shape=(axis_data.size, *shape),
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
def _reshape_batching(axis_data, vals, dims, *, new_sizes):
    x = bdim_at_front(axis_data.size, vals[0], dims[0])
    return reshape_p.bind(x, new_sizes=(axis_data.size, *new_sizes)), 0


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
def _squeeze_batching(axis_data, vals, dims, *, dimensions):
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
def _transpose_batching(axis_data, vals, dims, *, permutation):
    x = bdim_at_front(axis_data.size, vals[0], dims[0])
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
rev_p.batching_rule = lambda axis_data, vals, dims, *, dimensions: (
    rev_p.bind(vals[0], dimensions=_unbatched_to_batched_axes(dimensions, dims[0])), dims[0])




_accepts_keys(broadcast_in_dim_p, reshape_p, squeeze_p, transpose_p, rev_p)
