"""dynamic_slice and dynamic_update_slice (scalar, possibly traced start indices that XLA
clamps so the window fits), with their rules, and the one-axis conveniences. Under vmap
with batched start indices they become a gather / a scatter, as in JAX. Re-exported by
`lax/_indexing.py`."""
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, defjvp, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front
from ._elementwise import add, lt
from ._values import convert_element_type, full, select_n
from ._structural import i64_array, reshape
from ._slicing import slice as static_slice
from ._indexing import (CLIP, GatherDimensionNumbers, ScatterDimensionNumbers, _check,
                        _gather_batching, _index_dtype, stack_last)


# --- dynamic_slice ----------------------------------------------------------------

dynamic_slice_p = Primitive("dynamic_slice")


def _start_index_list(start_indices):
    if isinstance(start_indices, (list, tuple)):
        return list(start_indices)
    if isinstance(start_indices, np.ndarray):
        return [int(i) for i in start_indices]
    aval = get_aval(start_indices)
    if aval.ndim != 1:
        raise ValueError(f"start indices must be a sequence or a 1-D array, got shape "
                         f"{aval.shape}")
    return [reshape(static_slice(start_indices, (k,), (k + 1,)), ())
            for k in range(aval.shape[0])]


def _dynamic_slice_indices(shape, start_indices, allow_negative_indices):
    """Scalar start indices of one integer dtype; negative ones count from the end."""
    start_indices = _start_index_list(start_indices)
    if len(start_indices) != len(shape):
        raise ValueError(f"dynamic slice needs one start index per dimension of the "
                         f"operand: got {len(start_indices)} for shape {shape}")
    allow = [allow_negative_indices] * len(shape) \
        if isinstance(allow_negative_indices, bool) else list(allow_negative_indices)
    arrays = [i for i in start_indices if not isinstance(i, (int, np.integer))]
    dtype = get_aval(arrays[0]).dtype if arrays else _index_dtype()
    out = []
    for i, size, negative_ok in zip(start_indices, shape, allow):
        if isinstance(i, (int, np.integer)):
            i = int(i)
            if i < 0 and negative_ok:
                i += size
            out.append(np.asarray(max(i, 0), dtype))
            continue
        if get_aval(i).dtype != dtype:
            i = convert_element_type(i, dtype)
        if negative_ok and not _dtypes.is_unsigned(dtype):
            zero, size_ = np.asarray(0, dtype), np.asarray(size, dtype)
            i = select_n(lt(i, zero), i, add(i, size_))
        out.append(i)
    return out


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    """The slice of size `slice_sizes` at (possibly traced) `start_indices`; starts are
    clamped so that the slice fits, as in XLA.

    >>> import numpy as np, functorch_lite.lax as lax
    >>> np.asarray(lax.dynamic_slice(np.arange(6.0), (4,), (3,))).tolist()
    [3.0, 4.0, 5.0]
    """
    shape = get_aval(operand).shape
    idx = _dynamic_slice_indices(shape, start_indices, allow_negative_indices)
    return dynamic_slice_p.bind(operand, *idx, slice_sizes=tuple(int(s) for s in slice_sizes))


def _check_start_indices(name, operand, indices):
    _check(len(indices) == operand.ndim, f"{name} needs one start index per operand "
           f"dimension: got {len(indices)} for shape {operand.shape}")
    _check(all(i.ndim == 0 and _dtypes.is_integer(i.dtype) for i in indices) and
           len({i.dtype for i in indices}) <= 1,
           f"{name} start indices must be integer scalars of one dtype, got "
           f"{[i.str_short() for i in indices]}")


@dynamic_slice_p.def_abstract_eval
def _dynamic_slice_abstract_eval(operand, *indices, slice_sizes):
    _check_start_indices("dynamic_slice", operand, indices)
    _check(len(slice_sizes) == operand.ndim and
           all(0 <= s <= n for s, n in zip(slice_sizes, operand.shape)),
           f"dynamic_slice slice_sizes {slice_sizes} do not fit the operand {operand.shape}")
    return ShapedArray(slice_sizes, operand.dtype, operand.weak_type)


dynamic_slice_p.lowering_rule = lambda ctx, operand, *indices, slice_sizes: ctx.op(
    "stablehlo.dynamic_slice", [operand, *indices],
    attrs={"slice_sizes": i64_array(slice_sizes)})


def _zero_indices(ctx, indices, count):
    """Start indices 0 for the key-data dimensions of a lowered key array."""
    dtype = ctx.avals_in[-1].dtype if indices else np.dtype(np.int32)
    return [ctx.constant(0, dtype) for _ in range(count)]


@dynamic_slice_p.def_key_lowering
def _dynamic_slice_key_lowering(ctx, operand, *indices, slice_sizes):
    data_shape = ctx.avals_in[0].shape[len(slice_sizes):]
    return dynamic_slice_p.lowering_rule(
        ctx, operand, *indices, *_zero_indices(ctx, indices, len(data_shape)),
        slice_sizes=(*slice_sizes, *data_shape))
defjvp(dynamic_slice_p, lambda g, ans, operand, *indices, slice_sizes: dynamic_slice_p.bind(
    g, *indices, slice_sizes=slice_sizes))


@dynamic_slice_p.def_transpose
def _dynamic_slice_transpose(ct, operand, *indices, slice_sizes):
    assert is_undefined(operand)
    zeros = full(operand.aval.shape, 0, get_aval(ct).dtype)
    return [dynamic_update_slice_p.bind(zeros, ct, *indices)] + [None] * len(indices)


def _batched_start_indices(axis_size, indices, bdims):
    """Scalar start indices (some batched, shape (axis_size,)) as one index array:
    shape (n,) when none is batched, else (axis_size, n) with batch dim 0."""
    if all(b is None for b in bdims):
        return stack_last(indices, (), [()] * len(indices)), None
    dims = [() if b is None else (0,) for b in bdims]
    return stack_last(indices, (axis_size,), dims), 0


@dynamic_slice_p.def_batching
def _dynamic_slice_batching(axis_data, vals, dims, *, slice_sizes):
    (operand, *indices), (operand_bdim, *index_bdims) = vals, dims
    if not indices:  # a 0-d operand: the slice is the operand
        return operand, operand_bdim
    every = tuple(range(len(indices)))
    index, index_bdim = _batched_start_indices(axis_data.size, indices, index_bdims)
    return _gather_batching(axis_data, [operand, index], [operand_bdim, index_bdim],
                            dimension_numbers=GatherDimensionNumbers(every, (), every),
                            slice_sizes=slice_sizes, unique_indices=True,
                            indices_are_sorted=True, mode=CLIP, fill_value=None)


# --- dynamic_update_slice ---------------------------------------------------------

dynamic_update_slice_p = Primitive("dynamic_update_slice")


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    """`operand` with the block `update` written at (possibly traced) `start_indices`;
    starts are clamped so that the block fits, as in XLA."""
    shape = get_aval(operand).shape
    idx = _dynamic_slice_indices(shape, start_indices, allow_negative_indices)
    return dynamic_update_slice_p.bind(operand, update, *idx)


@dynamic_update_slice_p.def_abstract_eval
def _dynamic_update_slice_abstract_eval(operand, update, *indices):
    _check_start_indices("dynamic_update_slice", operand, indices)
    _check(update.ndim == operand.ndim and
           all(u <= n for u, n in zip(update.shape, operand.shape)),
           f"dynamic_update_slice update {update.shape} does not fit the operand "
           f"{operand.shape}")
    _check(update.dtype == operand.dtype, f"dynamic_update_slice needs update and operand "
           f"of one dtype, got {update.dtype.name} and {operand.dtype.name}")
    return operand


dynamic_update_slice_p.lowering_rule = lambda ctx, operand, update, *indices: ctx.op(
    "stablehlo.dynamic_update_slice", [operand, update, *indices])
dynamic_update_slice_p.key_lowering_rule = lambda ctx, operand, update, *indices: ctx.op(
    "stablehlo.dynamic_update_slice", [operand, update, *indices, *_zero_indices(
        ctx, indices, ctx.avals_in[0].ndim - len(indices))])
dynamic_slice_p.accepts_keys = dynamic_update_slice_p.accepts_keys = True


@dynamic_update_slice_p.def_jvp
def _dynamic_update_slice_jvp(primals, tangents):
    operand, update, *indices = primals
    g_operand, g_update = tangents[:2]
    out = dynamic_update_slice_p.bind(operand, update, *indices)
    if isinstance(g_operand, Zero) and isinstance(g_update, Zero):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, dynamic_update_slice_p.bind(instantiate(g_operand), instantiate(g_update),
                                            *indices)


@dynamic_update_slice_p.def_transpose
def _dynamic_update_slice_transpose(ct, operand, update, *indices):
    update_shape = update.aval.shape if is_undefined(update) else get_aval(update).shape
    operand_ct = update_ct = None
    if is_undefined(operand):
        zeros = full(update_shape, 0, get_aval(ct).dtype)
        operand_ct = dynamic_update_slice_p.bind(ct, zeros, *indices)
    if is_undefined(update):
        update_ct = dynamic_slice_p.bind(ct, *indices, slice_sizes=update_shape)
    return [operand_ct, update_ct] + [None] * len(indices)


@dynamic_update_slice_p.def_batching
def _dynamic_update_slice_batching(axis_data, vals, dims):
    from ._scatter import scatter_p, _scatter_batching  # _scatter -> _indexing -> here
    (operand, update, *indices), (operand_bdim, update_bdim, *index_bdims) = vals, dims
    if not indices:  # a 0-d operand: the result is the update
        return bdim_at_front(axis_data.size, update, update_bdim), 0
    every = tuple(range(len(indices)))
    index, index_bdim = _batched_start_indices(axis_data.size, indices, index_bdims)
    return _scatter_batching(scatter_p, axis_data.size, [operand, index, update],
                             [operand_bdim, index_bdim, update_bdim],
                             dimension_numbers=ScatterDimensionNumbers(every, (), every),
                             indices_are_sorted=True, unique_indices=True, mode=CLIP)


# --- one-axis conveniences --------------------------------------------------------

def _one_axis(operand, axis, value, default, allow_negative_indices):
    ndim = get_aval(operand).ndim
    axis = int(axis) % max(ndim, 1)
    values, allow = [default] * ndim, [False] * ndim
    values[axis], allow[axis] = value, allow_negative_indices
    return axis, values, allow


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *,
                         allow_negative_indices=True):
    """`operand[..., start_index:start_index + slice_size, ...]` along `axis`."""
    axis, starts, allow = _one_axis(operand, axis, start_index, 0, allow_negative_indices)
    sizes = list(get_aval(operand).shape)
    sizes[axis] = int(slice_size)
    return dynamic_slice(operand, starts, sizes, allow_negative_indices=allow)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *,
                         allow_negative_indices=True):
    """`operand[..., index, ...]` along `axis` (kept as a dim of size 1 if keepdims)."""
    out = dynamic_slice_in_dim(operand, index, 1, axis,
                               allow_negative_indices=allow_negative_indices)
    if keepdims:
        return out
    shape = list(get_aval(out).shape)
    del shape[int(axis) % len(shape)]
    return reshape(out, shape)


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *,
                                allow_negative_indices=True):
    """Write `update` into `operand` at `start_index` along `axis` (0 elsewhere)."""
    _, starts, allow = _one_axis(operand, axis, start_index, 0, allow_negative_indices)
    return dynamic_update_slice(operand, update, starts, allow_negative_indices=allow)


def dynamic_update_index_in_dim(operand, update, index, axis, *,
                                allow_negative_indices=True):
    """Write `update` (with or without the size-1 `axis`) at `index` along `axis`."""
    ndim = get_aval(operand).ndim
    if get_aval(update).ndim + 1 == ndim:
        shape = list(get_aval(update).shape)
        shape.insert(int(axis) % ndim, 1)
        update = reshape(update, shape)
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)
