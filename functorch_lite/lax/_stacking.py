"""split, stack, unstack and tile: the primitives `jax.lax` has for them (so programs
show `split`/`stack`/... equations as JAX's jaxprs do). Each is linear; they lower to
the slices, broadcasts, reshapes and concatenations JAX emits."""

__all__ = ["split", "stack", "unstack", "tile", "split_p", "stack_p", "unstack_p", "tile_p"]
import builtins

import numpy as np

from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, deflinear, instantiate, is_undefined
from .._batching import bdim_at_front
from ._util import canonicalize_axis, check_same_dtypes
from ._structural import i64_array
from ._slicing import concatenate
from ._reductions import reduce_sum
from ._structural import reshape


def _aval(x):
    return x.aval if is_undefined(x) else get_aval(x)


def _slice_op(ctx, x, aval_in, aval_out, start, axis):
    starts = [0] * aval_in.ndim
    limits = list(aval_in.shape)
    starts[axis], limits[axis] = start, start + aval_out.shape[axis]
    return ctx.op("stablehlo.slice", [x], [aval_out], attrs={
        "start_indices": i64_array(starts), "limit_indices": i64_array(limits),
        "strides": i64_array([1] * aval_in.ndim)})


# --- split ------------------------------------------------------------------------

split_p = Primitive("split", multiple_results=True)


def split(operand, sizes, axis=0):
    """Pieces of `operand` along `axis` with the given sizes (which sum to its length)."""
    axis = canonicalize_axis(axis, get_aval(operand).ndim)
    return split_p.bind(operand, sizes=tuple(int(s) for s in sizes), axis=axis)


@split_p.def_abstract_eval
def _split_abstract_eval(x, *, sizes, axis):
    if any(s < 0 for s in sizes):
        raise ValueError(f"Sizes passed to split must be nonnegative, got {list(sizes)}")
    if x.shape[axis] != builtins.sum(sizes):
        raise ValueError(f"Sum of sizes {builtins.sum(sizes)} must be equal to dimension "
                         f"{axis} of the operand shape {list(x.shape)}\n"
                         f"  at {user_source_line()}")
    shapes = [x.shape[:axis] + (s,) + x.shape[axis + 1:] for s in sizes]
    return [x.update(shape=s) for s in shapes]


@split_p.def_lowering
def _split_lowering(ctx, x, *, sizes, axis):
    outs, start = [], 0
    for aval in ctx.avals_out:
        outs.append(_slice_op(ctx, x, ctx.avals_in[0], aval, start, axis))
        start += aval.shape[axis]
    return outs


def _split_transpose(cts, x, *, sizes, axis):
    if all(isinstance(c, Zero) for c in cts):
        return [Zero(x.aval)]
    return [concatenate([instantiate(c) for c in cts], axis)]


deflinear(split_p, _split_transpose)


@split_p.def_batching
def _split_batching(axis_data, vals, dims, *, sizes, axis):
    (x,), (d,) = vals, dims
    outs = split_p.bind(x, sizes=sizes, axis=axis + 1 if axis >= d else axis)
    return outs, [d] * len(sizes)


# --- stack / unstack --------------------------------------------------------------

stack_p = Primitive("stack")


def stack(operands, axis=0):
    """Stack equal-shape arrays along a new axis `axis`."""
    operands = list(operands)
    if not operands:
        raise ValueError("stack expects at least one operand, got 0.")
    axis = canonicalize_axis(axis, get_aval(operands[0]).ndim + 1)
    return stack_p.bind(*operands, axis=axis)


@stack_p.def_abstract_eval
def _stack_abstract_eval(*xs, axis):
    if len({x.shape for x in xs}) != 1:
        raise ValueError(f"All input arrays must have the same shape. Got "
                         f"{', '.join(str(x.shape) for x in xs)}.\n  at {user_source_line()}")
    check_same_dtypes("stack", *xs)
    shape = list(xs[0].shape)
    shape.insert(axis, len(xs))
    return ShapedArray(shape, xs[0].dtype, all(x.weak_type for x in xs))


@stack_p.def_lowering
def _stack_lowering(ctx, *xs, axis):
    aval = ctx.avals_in[0]
    expanded_shape = list(aval.shape)
    expanded_shape.insert(axis, 1)
    dims = [i for i in range(aval.ndim + 1) if i != axis]
    expanded = [ctx.op("stablehlo.broadcast_in_dim", [x], [a.update(shape=expanded_shape)],
                       attrs={"broadcast_dimensions": i64_array(dims)})
                for x, a in zip(xs, ctx.avals_in)]
    return ctx.op("stablehlo.concatenate", expanded, attrs={"dimension": f"{axis} : i64"})


def _stack_transpose(ct, *xs, axis):
    cts = unstack_p.bind(ct, axis=axis)
    return [c if is_undefined(x) else None for c, x in zip(cts, xs)]


deflinear(stack_p, _stack_transpose)


@stack_p.def_batching
def _stack_batching(axis_data, vals, dims, *, axis):
    d = dims[0]
    if d is not None and all(e == d for e in dims):
        return stack_p.bind(*vals, axis=axis if axis <= d else axis + 1), \
            d + 1 if axis <= d else d
    vals = [bdim_at_front(axis_data.size, x, e) for x, e in zip(vals, dims)]
    return stack_p.bind(*vals, axis=axis + 1), 0


unstack_p = Primitive("unstack", multiple_results=True)


def unstack(x, axis=0):
    """The slices of `x` along `axis`, as a tuple (the inverse of `stack`)."""
    aval = get_aval(x)
    if aval.ndim == 0:
        raise ValueError(f"unstack requires arrays with rank > 0, however a scalar array of "
                         f"shape {aval.shape} was passed.")
    return tuple(unstack_p.bind(x, axis=canonicalize_axis(axis, aval.ndim)))


@unstack_p.def_abstract_eval
def _unstack_abstract_eval(x, *, axis):
    shape = x.shape[:axis] + x.shape[axis + 1:]
    return [x.update(shape=shape)] * x.shape[axis]


@unstack_p.def_lowering
def _unstack_lowering(ctx, x, *, axis):
    aval_in = ctx.avals_in[0]
    piece = aval_in.update(shape=aval_in.shape[:axis] + (1,) + aval_in.shape[axis + 1:])
    return [ctx.op("stablehlo.reshape", [_slice_op(ctx, x, aval_in, piece, i, axis)], [out])
            for i, out in enumerate(ctx.avals_out)]


def _unstack_transpose(cts, x, *, axis):
    if all(isinstance(c, Zero) for c in cts):
        return [Zero(x.aval)]
    return [stack_p.bind(*map(instantiate, cts), axis=axis)]


deflinear(unstack_p, _unstack_transpose)


@unstack_p.def_batching
def _unstack_batching(axis_data, vals, dims, *, axis):
    (x,), (d,) = vals, dims
    outs = unstack_p.bind(x, axis=axis if axis < d else axis + 1)
    return outs, [d - 1 if axis < d else d] * len(outs)


# --- tile -------------------------------------------------------------------------

tile_p = Primitive("tile")


def tile(operand, reps):
    """Repeat `operand` reps[i] times along each axis i (len(reps) == operand.ndim)."""
    return tile_p.bind(operand, reps=tuple(int(r) for r in reps))


@tile_p.def_abstract_eval
def _tile_abstract_eval(x, *, reps):
    if x.ndim != len(reps):
        raise TypeError(f"reps length must be equal to the ndim of x, got len(reps)="
                        f"{len(reps)} and x.ndim={x.ndim}.\n  at {user_source_line()}")
    return x.update(shape=tuple(int(d) for d in np.multiply(x.shape, reps)))


@tile_p.def_lowering
def _tile_lowering(ctx, x, *, reps):
    aval = ctx.avals_in[0]
    expanded = aval.update(shape=tuple(j for d in aval.shape for j in (1, d)))
    x = ctx.op("stablehlo.reshape", [x], [expanded])
    wide = aval.update(shape=tuple(k for pair in zip(reps, aval.shape) for k in pair))
    x = ctx.op("stablehlo.broadcast_in_dim", [x], [wide], attrs={
        "broadcast_dimensions": i64_array(range(2 * aval.ndim))})
    return ctx.op("stablehlo.reshape", [x])


def _tile_transpose(ct, x, *, reps):
    shape = x.aval.shape
    pairs = reshape(ct, tuple(k for pair in zip(reps, shape) for k in pair))
    return [reduce_sum(pairs, tuple(2 * i for i in range(len(shape))))]


deflinear(tile_p, _tile_transpose)


@tile_p.def_batching
def _tile_batching(axis_data, vals, dims, *, reps):
    (x,), (d,) = vals, dims
    reps = list(reps)
    reps.insert(d, 1)
    return tile_p.bind(x, reps=tuple(reps)), d
