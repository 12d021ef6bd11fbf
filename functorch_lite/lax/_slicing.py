"""Slicing and joining primitives: slice (slice_in_dim, index_in_dim), pad, concatenate.

Each block holds a primitive, its wrapper and all of its rules. Batching rules keep the
batch dimension where it is when the operation allows it (slice, pad)."""
from ._elementwise import sub

__all__ = [
    "slice", "slice_in_dim", "index_in_dim", "pad", "concatenate", "slice_p", "pad_p",
    "concatenate_p",
]
import builtins

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import deflinear, is_undefined
from .._batching import bdim_at_front
from ._structural import (_accepts_keys, _aval_of, _canonical_axis, broadcast_in_dim,
                          i64_array, squeeze)
from ._values import full, select_n


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
def _slice_batching(axis_data, vals, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = vals, dims
    start, limit = list(start_indices), list(limit_indices)
    start.insert(d, 0)
    limit.insert(d, axis_data.size)
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
    from ._reductions import reduce_sum  # _reductions imports this module
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
def _pad_batching(axis_data, vals, dims, *, padding_config):
    (x, padding_value), (x_dim, value_dim) = vals, dims
    if value_dim is None:
        config = list(padding_config)
        config.insert(x_dim, (0, 0, 0))
        return pad_p.bind(x, padding_value, padding_config=tuple(config)), x_dim
    # one padding value per example: pad with zeros, then select the padded positions
    x = bdim_at_front(axis_data.size, x, x_dim)
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
def _concatenate_batching(axis_data, vals, dims, *, dimension):
    vals = [bdim_at_front(axis_data.size, x, d) for x, d in zip(vals, dims)]
    return concatenate_p.bind(*vals, dimension=dimension + 1), 0


_accepts_keys(slice_p, concatenate_p)
