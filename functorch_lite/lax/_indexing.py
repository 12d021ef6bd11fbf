"""gather, scatter (set/add/mul/min/max/apply), dynamic_slice and dynamic_update_slice.

Conventions follow `jax.lax`: the index vector of `start_indices`/`scatter_indices` is
always their LAST dimension; dimension numbers are NamedTuples of int tuples (hashable,
so they can be primitive parameters); `mode` is a `GatherScatterMode`:

  CLIP               clamp indices so the whole window is in bounds;
  FILL_OR_DROP       gather: out-of-bounds windows read `fill_value`;
                     scatter: out-of-bounds windows are dropped;
  PROMISE_IN_BOUNDS  no checks (XLA clamps gathers and drops scatters).
"""

__all__ = ["GatherDimensionNumbers", "ScatterDimensionNumbers", "GatherScatterMode",
           "gather", "scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min",
           "scatter_max", "scatter_apply", "dynamic_slice", "dynamic_update_slice", "dynamic_slice_in_dim",
           "dynamic_index_in_dim", "dynamic_update_slice_in_dim",
           "dynamic_update_index_in_dim"]
import enum
import math
from typing import NamedTuple

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, Tracer, get_aval
from .._ad import Zero, defjvp, is_undefined
from .._batching import bdim_at_front
from ._elementwise import ge, gt, le, mul
from ._reductions import reduce_min
from ._structural import broadcast_in_dim, i64_array
from ._slicing import concatenate
from ._values import convert_element_type, full, select_n
from .._staging import trace_to_program
from .._lowering import lower_equations


class GatherDimensionNumbers(NamedTuple):
    """How operand, start_indices and output dimensions of a gather relate (as XLA's
    Gather, with index_vector_dim = the last dimension of start_indices)."""
    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class ScatterDimensionNumbers(NamedTuple):
    """How operand, scatter_indices and updates dimensions of a scatter relate (as XLA's
    Scatter, with index_vector_dim = the last dimension of scatter_indices)."""
    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


class GatherScatterMode(enum.Enum):
    """How out-of-bounds indices are handled (see the module docstring)."""
    CLIP = enum.auto()
    FILL_OR_DROP = enum.auto()
    PROMISE_IN_BOUNDS = enum.auto()

    @staticmethod
    def from_any(s):
        if isinstance(s, GatherScatterMode):
            return s
        if s == "clip":
            return GatherScatterMode.CLIP
        if s is None or s == "fill" or s == "drop":
            return GatherScatterMode.FILL_OR_DROP
        if s == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        raise ValueError(f'Unknown gather mode "{s}"')


CLIP = GatherScatterMode.CLIP
FILL_OR_DROP = GatherScatterMode.FILL_OR_DROP
PROMISE_IN_BOUNDS = GatherScatterMode.PROMISE_IN_BOUNDS


def _int_tuples(dnums, cls):
    return cls(*(tuple(int(d) for d in field) for field in dnums))


def _bool_text(b):
    return "true" if b else "false"


def _dims_text(name, dims):
    return f"{name} = [{', '.join(str(int(d)) for d in dims)}]"


def _index_dtype():
    return _dtypes.default_int()


def lower_composite(ctx, fn, args, avals):
    """Lower `fn` (written with lax functions) inline at this point of the module."""
    program, consts = trace_to_program(lambda *xs: [fn(*xs)], list(avals), "lowering")
    env = {v: ctx.constant(np.asarray(c), v.aval.dtype, v.aval.shape)
           for v, c in zip(program.in_vars, consts)}
    env.update(zip(program.in_vars[len(consts):], args))
    return lower_equations(ctx.module, program, env, ctx.lines)[0]


def stack_last(arrays, shape, dims):
    """Broadcast arrays[k] to `shape` (its dims going to dims[k]) and stack them along a
    new last axis: the result has shape `shape + (len(arrays),)`."""
    col_shape = tuple(shape) + (1,)
    return concatenate([broadcast_in_dim(a, col_shape, d) for a, d in zip(arrays, dims)],
                       len(col_shape) - 1)


# --- gather -----------------------------------------------------------------------

gather_p = Primitive("gather")


def _default_fill_value(dtype):
    if _dtypes.is_inexact(dtype):
        return np.nan
    if dtype == _dtypes.bool_:
        return True
    if _dtypes.is_unsigned(dtype):
        return int(np.iinfo(dtype).max)
    return int(np.iinfo(dtype).min)


def _static_scalar(value, what):
    if isinstance(value, Tracer):
        value = value.to_concrete(what)
    value = np.asarray(value)
    if value.ndim != 0:
        raise ValueError(f"{what} must be a scalar, got shape {value.shape}")
    value = value.item()
    return np.nan if isinstance(value, float) and math.isnan(value) else value


def gather(operand, start_indices, dimension_numbers, slice_sizes, *, unique_indices=False,
           indices_are_sorted=False, mode=None, fill_value=None):
    """XLA Gather: slices of `operand` of size `slice_sizes` starting at `start_indices`.

    Prefer NumPy indexing (`x[idx]`, `x.at[idx].get(mode=...)`); this is the primitive
    it lowers to. `mode=None` promises in-bounds indices (XLA clamps them); 'fill' reads
    `fill_value` (NaN / minimum int / True by default) for out-of-bounds windows.
    """
    parsed = PROMISE_IN_BOUNDS if mode is None else GatherScatterMode.from_any(mode)
    if parsed == FILL_OR_DROP:
        dtype = get_aval(operand).dtype
        fill_value = _default_fill_value(dtype) if fill_value is None else \
            _static_scalar(fill_value, "gather fill_value")
    else:
        fill_value = None
    return gather_p.bind(operand, start_indices,
                         dimension_numbers=_int_tuples(dimension_numbers,
                                                       GatherDimensionNumbers),
                         slice_sizes=tuple(int(s) for s in slice_sizes),
                         unique_indices=bool(unique_indices),
                         indices_are_sorted=bool(indices_are_sorted), mode=parsed,
                         fill_value=fill_value)


def _check(cond, message):
    if not cond:
        raise TypeError(message)


@gather_p.def_abstract_eval
def _gather_abstract_eval(operand, indices, *, dimension_numbers, slice_sizes, **_):
    d = dimension_numbers
    _check(_dtypes.is_integer(indices.dtype),
           f"gather indices must have an integer type, got {indices.dtype.name}")
    _check(indices.ndim >= 1, "gather indices need an index vector (last) dimension")
    _check(len(d.start_index_map) == indices.shape[-1],
           f"gather start_index_map {d.start_index_map} must have one entry per element "
           f"of the index vector (indices shape {indices.shape})")
    _check(len(slice_sizes) == operand.ndim,
           f"gather slice_sizes {slice_sizes} must have one entry per operand dimension "
           f"(operand shape {operand.shape})")
    _check(len(d.offset_dims) + len(d.collapsed_slice_dims) + len(d.operand_batching_dims)
           == operand.ndim, f"gather dimension numbers {d} do not account for every "
           f"dimension of an operand of rank {operand.ndim}")
    # (as in JAX, no index means no slice is taken: any size goes)
    _check(all(0 <= s <= n for s, n in zip(slice_sizes, operand.shape)) or
           0 in indices.shape,
           f"gather slice_sizes {slice_sizes} out of range for operand {operand.shape}")
    _check(all(slice_sizes[i] <= 1 for i in d.collapsed_slice_dims + d.operand_batching_dims),
           f"gather can only collapse (or batch) dimensions of slice size 1; got "
           f"slice_sizes {slice_sizes} with {d}")
    _check(list(d.offset_dims) == sorted(set(d.offset_dims)),
           f"gather offset_dims must be sorted and unique, got {d.offset_dims}")
    _check([operand.shape[i] for i in d.operand_batching_dims] ==
           [indices.shape[i] for i in d.start_indices_batching_dims],
           f"gather batching dimensions of operand {operand.shape} and indices "
           f"{indices.shape} must match ({d})")
    batch_shape = iter(indices.shape[:-1])
    window = iter([s for i, s in enumerate(slice_sizes)
                   if i not in d.collapsed_slice_dims and i not in d.operand_batching_dims])
    rank = len(d.offset_dims) + indices.ndim - 1
    _check(all(0 <= o < rank for o in d.offset_dims),
           f"gather offset_dims {d.offset_dims} out of range for an output of rank {rank}")
    shape = [next(window) if i in d.offset_dims else next(batch_shape) for i in range(rank)]
    return ShapedArray(shape, operand.dtype, operand.weak_type)


def _gather_dnums_attr(d, index_vector_dim):
    parts = [_dims_text("offset_dims", d.offset_dims),
             _dims_text("collapsed_slice_dims", d.collapsed_slice_dims)]
    if d.operand_batching_dims:
        parts += [_dims_text("operand_batching_dims", d.operand_batching_dims),
                  _dims_text("start_indices_batching_dims", d.start_indices_batching_dims)]
    parts += [_dims_text("start_index_map", d.start_index_map),
              f"index_vector_dim = {index_vector_dim}"]
    return f"#stablehlo.gather<{', '.join(parts)}>"


def _gather_fill(operand, indices, *, dimension_numbers, slice_sizes, fill_value,
                 indices_are_sorted, unique_indices):
    """FILL_OR_DROP gather = in-bounds gather, then `fill_value` where a window is out of
    bounds (written with lax functions; used as the lowering)."""
    d = dimension_numbers
    op_aval, idx_aval = get_aval(operand), get_aval(indices)
    dtype = np.dtype(np.int64) if max(op_aval.shape, default=0) >= 2**31 else np.dtype(np.int32)
    indices = convert_element_type(indices, dtype)
    nbatch = idx_aval.ndim - 1
    upper = np.array([op_aval.shape[i] - slice_sizes[i] for i in d.start_index_map], dtype)
    upper = broadcast_in_dim(upper, idx_aval.shape, (nbatch,))
    in_bounds = convert_element_type(ge(indices, full(idx_aval.shape, 0, dtype)), np.int32)
    in_bounds = mul(in_bounds, convert_element_type(le(indices, upper), np.int32))
    in_bounds = gt(reduce_min(in_bounds, (nbatch,)), full(idx_aval.shape[:-1], 0, np.int32))
    out = gather_p.bind(operand, indices, dimension_numbers=d, slice_sizes=slice_sizes,
                        unique_indices=unique_indices, indices_are_sorted=indices_are_sorted,
                        mode=PROMISE_IN_BOUNDS, fill_value=None)
    out_aval = get_aval(out)
    batch_dims = [i for i in range(out_aval.ndim) if i not in d.offset_dims]
    mask = broadcast_in_dim(in_bounds, out_aval.shape, batch_dims)
    return select_n(mask, full(out_aval.shape, fill_value, out_aval.dtype), out)


@gather_p.def_lowering
def _gather_lowering(ctx, operand, indices, *, dimension_numbers, slice_sizes,
                     unique_indices, indices_are_sorted, mode, fill_value):
    out = ctx.avals_out[0]
    if mode == FILL_OR_DROP:
        def fill(x, i):
            return _gather_fill(x, i, dimension_numbers=dimension_numbers,
                                slice_sizes=slice_sizes, fill_value=fill_value,
                                indices_are_sorted=indices_are_sorted,
                                unique_indices=unique_indices)
        return lower_composite(ctx, fill, [operand, indices], ctx.avals_in)
    if out.size == 0:
        return ctx.constant(0, out.dtype, out.shape)
    # CLIP and PROMISE_IN_BOUNDS: XLA's gather clamps windows into bounds
    return ctx.op("stablehlo.gather", [operand, indices], attrs={
        "dimension_numbers": _gather_dnums_attr(dimension_numbers, ctx.avals_in[1].ndim - 1),
        "indices_are_sorted": _bool_text(indices_are_sorted),
        "slice_sizes": i64_array(slice_sizes)})


@gather_p.def_key_lowering
def _gather_key_lowering(ctx, operand, indices, *, dimension_numbers, slice_sizes, **params):
    data_shape = ctx.avals_in[0].shape[len(slice_sizes):]
    out_ndim = ctx.avals_out[0].ndim - len(data_shape)  # the data dims come last
    dnums = dimension_numbers._replace(offset_dims=(
        *dimension_numbers.offset_dims, *range(out_ndim, out_ndim + len(data_shape))))
    return _gather_lowering(ctx, operand, indices, dimension_numbers=dnums,
                            slice_sizes=(*slice_sizes, *data_shape), **params)


gather_p.accepts_keys = True


def _gather_like(x, indices, params):
    fill = 0 if params["mode"] == FILL_OR_DROP else None
    return gather_p.bind(x, indices, **{**params, "fill_value": fill})


defjvp(gather_p, lambda g, ans, operand, indices, **params: _gather_like(g, indices, params),
       None)


def _scatter_dnums_of(d):
    """The scatter that puts back what the gather with dimension numbers `d` took."""
    return ScatterDimensionNumbers(d.offset_dims, d.collapsed_slice_dims, d.start_index_map,
                                   d.operand_batching_dims, d.start_indices_batching_dims)


def _gather_dnums_of(d):
    """The gather that reads what the scatter with dimension numbers `d` writes."""
    return GatherDimensionNumbers(d.update_window_dims, d.inserted_window_dims,
                                  d.scatter_dims_to_operand_dims, d.operand_batching_dims,
                                  d.scatter_indices_batching_dims)


@gather_p.def_transpose
def _gather_transpose(ct, operand, indices, *, dimension_numbers, slice_sizes,
                      unique_indices, indices_are_sorted, mode, fill_value):
    assert is_undefined(operand) and not is_undefined(indices)
    if isinstance(ct, Zero):
        return [Zero(operand.aval), None]
    zeros = full(operand.aval.shape, 0, get_aval(ct).dtype)
    return [scatter_add(zeros, indices, ct, _scatter_dnums_of(dimension_numbers),
                        unique_indices=unique_indices, indices_are_sorted=indices_are_sorted,
                        mode=mode), None]


def _shift(dims, k=1):
    return tuple(int(d) + k for d in dims)


@gather_p.def_batching
def _gather_batching(axis_data, vals, dims, *, dimension_numbers, slice_sizes,
                     unique_indices, indices_are_sorted, mode, fill_value):
    (operand, indices), (operand_bdim, indices_bdim) = vals, dims
    d = dimension_numbers
    params = dict(unique_indices=unique_indices, indices_are_sorted=indices_are_sorted,
                  mode=mode, fill_value=fill_value)
    if indices_bdim is None:
        # the batch dim of the operand becomes a full window dim in front
        operand = bdim_at_front(axis_data.size, operand, operand_bdim)
        dn = GatherDimensionNumbers((0, *_shift(d.offset_dims)), _shift(d.collapsed_slice_dims),
                                    _shift(d.start_index_map), _shift(d.operand_batching_dims),
                                    d.start_indices_batching_dims)
        return gather_p.bind(operand, indices, dimension_numbers=dn,
                             slice_sizes=(axis_data.size, *slice_sizes), **params), 0
    indices = bdim_at_front(axis_data.size, indices, indices_bdim)
    if operand_bdim is None:
        # a new leading batch dim of the indices; batched indices need not be unique
        dn = GatherDimensionNumbers(_shift(d.offset_dims), d.collapsed_slice_dims,
                                    d.start_index_map, d.operand_batching_dims,
                                    _shift(d.start_indices_batching_dims))
        params.update(unique_indices=False, indices_are_sorted=False)
        return gather_p.bind(operand, indices, dimension_numbers=dn,
                             slice_sizes=slice_sizes, **params), 0
    # both batched: pair them with XLA's operand/start_indices batching dims
    operand = bdim_at_front(axis_data.size, operand, operand_bdim)
    dn = GatherDimensionNumbers(_shift(d.offset_dims), _shift(d.collapsed_slice_dims),
                                _shift(d.start_index_map),
                                (0, *_shift(d.operand_batching_dims)),
                                (0, *_shift(d.start_indices_batching_dims)))
    return gather_p.bind(operand, indices, dimension_numbers=dn,
                         slice_sizes=(min(axis_data.size, 1), *slice_sizes), **params), 0


from ._scatter import (scatter, scatter_add, scatter_sub, scatter_mul, scatter_min,  # noqa: E402
                       scatter_max, scatter_apply)
from ._dynamic_slice import (dynamic_slice, dynamic_update_slice,  # noqa: E402
                             dynamic_slice_in_dim, dynamic_index_in_dim,
                             dynamic_update_slice_in_dim, dynamic_update_index_in_dim)
