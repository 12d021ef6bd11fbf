"""NumPy indexing of traced arrays (`x[idx]`), `x.at[idx]` functional updates, take,
take_along_axis and put_along_axis, following jax.numpy's semantics.

An index expression is parsed against the array's shape into one entry per indexed
axis (`_parse_index`), then computed in the cheapest way that applies:
  static    ints, slices, None            -> lax.slice (+ rev for negative steps)
  dynamic   also traced scalar ints       -> lax.dynamic_slice
  gather    integer arrays, boolean masks -> lax.gather (NumPy's advanced indexing)
Updates always use the gather form, as a scatter. Out-of-bounds indices behave as in
jnp: reads clamp (mode='fill' reads fill_value), writes are dropped.
"""

__all__ = ["_rewriting_take", "AtIndexer", "take", "take_along_axis", "put_along_axis"]
import operator
from typing import NamedTuple

import numpy as np

from .. import _dtypes, lax
from .._core import ConcretizationTypeError, Tracer, get_aval
from .._errors import NonConcreteBooleanIndexError
from ..lax._indexing import FILL_OR_DROP, GatherDimensionNumbers, GatherScatterMode, stack_last
from ._util import asarray, broadcast_shapes, broadcast_to_shape


class _Entry(NamedTuple):
    """One parsed index entry: kind is 'none', 'slice', 'int' (a static Python int) or
    'array' (an integer array, numpy or traced, any rank)."""
    kind: str
    value: object


def _is_array(x):
    return isinstance(x, (Tracer, np.ndarray)) or hasattr(x, "aval")


def _index_dtype(shape):
    big = any(d >= 2**31 for d in shape)
    return np.dtype(np.int64) if big and _dtypes.default_int() == np.int64 else np.dtype(np.int32)


def _concrete_mask(mask):
    if isinstance(mask, Tracer):
        value = mask.concrete_value()
        if value is None:
            raise NonConcreteBooleanIndexError(mask)
        mask = value
    return np.asarray(mask)


def _as_index_array(e):
    """An array-like index entry as a numpy array or a traced/device array."""
    if isinstance(e, (list, tuple)):
        if any(_is_array(v) for v in np.asarray(e, dtype=object).ravel()):
            return asarray(e)
        value = np.asarray(e)
        return value.astype(np.int32) if value.size == 0 else value
    return e


def _entries_of(idx, shape):
    """Parse `idx` into (entries, scalar_bool_dims): one entry per axis of the array with
    new size-1 axes inserted at scalar_bool_dims (NumPy's x[True]), and None entries."""
    if not isinstance(idx, tuple):
        if isinstance(idx, list):
            raise TypeError("Using a non-tuple sequence for multidimensional indexing is "
                            "not allowed; use `arr[array(seq)]` or `arr[tuple(seq)]` "
                            "instead of `arr[seq]`.")
        idx = (idx,)
    raw = []  # (kind, value, consumed axes)
    for e in idx:
        if e is None:
            raw.append(("none", None, 0))
        elif e is Ellipsis:
            raw.append(("ellipsis", None, 0))
        elif isinstance(e, slice):
            raw.append(("slice", _static_slice(e, len(raw)), 1))
        elif isinstance(e, (bool, np.bool_)):
            raw.append(("bool", bool(e), 0))
        elif isinstance(e, (int, np.integer)):
            raw.append(("int", operator.index(e), 1))
        elif _is_array(e) or isinstance(e, (list, tuple)):
            e = _as_index_array(e)
            dtype = get_aval(e).dtype if not isinstance(e, np.ndarray) else e.dtype
            if dtype == np.bool_:
                mask = _concrete_mask(e)
                if mask.ndim == 0:
                    raw.append(("bool", bool(mask), 0))
                else:
                    raw.append(("mask", mask, mask.ndim))
            elif np.issubdtype(dtype, np.integer):
                if isinstance(e, np.ndarray) and e.ndim == 0:
                    raw.append(("int", int(e), 1))
                else:
                    raw.append(("array", e, 1))
            else:
                raise TypeError(f"Indexer must have integer or boolean type, got indexer "
                                f"with type {np.dtype(dtype).name}")
        elif isinstance(e, (float, complex, np.generic, str)):
            raise TypeError(f"Indexer must be an integer, a slice, None, an ellipsis or an "
                            f"integer/boolean array; got {e!r}")
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), newaxis "
                             f"(`None`) and integer or boolean arrays are valid indices. "
                             f"Got {e!r}")
    if sum(k == "ellipsis" for k, _, _ in raw) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(n for _, _, n in raw)
    if consumed > len(shape):
        raise IndexError(f"Too many indices: array is {len(shape)}-dimensional, but "
                         f"{consumed} were indexed")
    entries, bool_dims, axis, empty_axis = [], [], 0, None
    for kind, value, n in raw:
        if kind == "ellipsis":
            entries += [_Entry("slice", slice(None))] * (len(shape) - consumed)
            axis += len(shape) - consumed
        elif kind == "bool":  # a new axis of size 1, indexed by [0] (True) or [] (False)
            bool_dims.append(axis + len(bool_dims))
            entries.append(_Entry("array", np.arange(int(value), dtype=np.int32)))
        elif kind == "mask":
            want = shape[axis:axis + n]
            if any(s not in (0, w) for s, w in zip(value.shape, want)):
                raise IndexError(f"boolean index did not match shape of indexed array: got "
                                 f"{value.shape}, expected {want}")
            entries += [_Entry("array", i.astype(np.int32)) for i in np.nonzero(value)]
            axis += n
        else:
            entries.append(_Entry(kind, value))
            if _is_scalar_index(entries[-1]) and shape[axis] == 0:
                empty_axis = axis
            axis += n
    entries += [_Entry("slice", slice(None))] * (len(shape) - axis)
    if empty_axis is not None and not _has_advanced(entries):  # nothing to clamp to
        raise IndexError(f"index is out of bounds for axis {empty_axis} with size 0")
    return entries, bool_dims


def _static_slice(s, position):
    parts = [s.start, s.stop, s.step]
    for i, p in enumerate(parts):
        if p is None:
            continue
        if isinstance(p, Tracer):
            try:
                p = p.to_concrete("a slice bound")
            except ConcretizationTypeError:
                raise IndexError(f"Slice entries must be static integers. Got {s} at "
                                 f"position {position}; use lax.dynamic_slice for traced "
                                 f"starts.") from None
        parts[i] = operator.index(p) if not hasattr(p, "aval") else int(p)
    return slice(*parts)


def _expand_for_bools(x, bool_dims):
    if not bool_dims:
        return x
    shape = list(get_aval(x).shape)
    for d in bool_dims:
        shape.insert(d, 1)
    return lax.reshape(x, shape)


def _is_scalar_index(e):
    return e.kind == "int" or (e.kind == "array" and get_aval(e.value).ndim == 0)


def _has_advanced(entries):
    return any(e.kind == "array" and get_aval(e.value).ndim > 0 for e in entries)


def _result_shape(shape, entries):
    """Shape of x[entries] for basic indexing (ints, slices, None)."""
    out, axis = [], 0
    for e in entries:
        if e.kind == "none":
            out.append(1)
            continue
        if e.kind == "slice":
            out.append(len(range(*e.value.indices(shape[axis]))))
        axis += 1
    return out


def _try_static(x, entries):
    """x[entries] with lax.slice/rev/reshape when every entry is static and in bounds."""
    shape = get_aval(x).shape
    start, limit, strides, reverse, axis = [], [], [], [], 0
    for e in entries:
        if e.kind == "none":
            continue
        n = shape[axis]
        if e.kind == "int":
            i = e.value + n if e.value < 0 else e.value
            if not 0 <= i < n:
                return None  # out of bounds: clamp like jnp, through dynamic_slice
            start.append(i), limit.append(i + 1), strides.append(1)
        elif e.kind == "slice":
            lo, hi, step = e.value.indices(n)
            size = len(range(lo, hi, step))
            if step < 0 and size:
                lo, hi, step = lo + step * (size - 1), lo + 1, -step
                reverse.append(axis)
            elif size == 0:  # (an empty result: any step, e.g. x[::-1] of an empty axis)
                lo, hi, step = 0, 0, 1
            start.append(lo), limit.append(hi), strides.append(step)
        else:
            return None
        axis += 1
    y = lax.slice(x, start, limit, strides)
    y = lax.rev(y, reverse) if reverse else y
    return lax.reshape(y, _result_shape(shape, entries))


def _wrap_negative(i, n, dtype):
    """A traced integer index array as `dtype`, with negative entries counted from n."""
    unsigned = _dtypes.is_unsigned(get_aval(i).dtype)
    i = lax.convert_element_type(i, dtype)
    if unsigned:
        return i
    shape = get_aval(i).shape
    return lax.select_n(lax.lt(i, lax.full(shape, 0, dtype)), i,
                        lax.add(i, lax.full(shape, n, dtype)))


def _try_dynamic(x, entries, normalize):
    """x[entries] with lax.dynamic_slice when the only non-static entries are traced
    scalar integers (and slices have step 1)."""
    shape = get_aval(x).shape
    dtype = _index_dtype(shape)
    starts, sizes, axis = [], [], 0
    for e in entries:
        if e.kind == "none":
            continue
        n = shape[axis]
        if e.kind == "slice":
            lo, hi, step = e.value.indices(n)
            if step != 1:
                return None
            starts.append(np.asarray(lo, dtype)), sizes.append(max(hi - lo, 0))
        elif _is_scalar_index(e):
            if e.kind == "int":
                i = np.asarray(e.value + n if e.value < 0 and normalize else e.value, dtype)
            else:
                i = _wrap_negative(e.value, n, dtype) if normalize else \
                    lax.convert_element_type(e.value, dtype)
            starts.append(i), sizes.append(1)
        else:
            return None
        axis += 1
    y = lax.dynamic_slice(x, starts, sizes, allow_negative_indices=False)
    return lax.reshape(y, _result_shape(shape, entries))


class _GatherPlan(NamedTuple):
    indices: object            # index array (..., k), or None if nothing is gathered
    dnums: GatherDimensionNumbers
    slice_sizes: tuple         # gather slice sizes
    slice_shape: tuple         # shape of x[idx] (with None axes)
    newaxis_dims: tuple        # positions of None axes in slice_shape
    unique: bool               # no advanced indices: windows neither repeat nor overlap
    sorted: bool


def _normalized_array(a, n, dtype, normalize):
    if isinstance(a, np.ndarray):
        a = np.where(a < 0, a + n, a) if normalize and a.dtype.kind == "i" else a
        return a.astype(dtype)
    return _wrap_negative(a, n, dtype) if normalize else lax.convert_element_type(a, dtype)


def _broadcast_index(a, shape):
    if isinstance(a, np.ndarray):
        return np.broadcast_to(a, shape)
    return broadcast_to_shape(a, shape)


def _gather_plan(shape, entries, normalize=True):
    """NumPy indexing as one gather (JAX's `_index_to_gather`): basic scalar indices and
    strided slices become index columns, step-1 slices become windows, and the advanced
    indices (broadcast together) go where NumPy puts them: in place when they are
    adjacent, else first."""
    dtype = _index_dtype(shape)
    advanced = _has_advanced(entries)
    adv_pos = [p for p, e in enumerate(entries) if advanced and e.kind in ("int", "array")]
    contiguous = all(b - a == 1 for a, b in zip(adv_pos, adv_pos[1:]))
    x_axes, axis = {}, 0
    for p, e in enumerate(entries):
        if e.kind != "none":
            x_axes[p], axis = axis, axis + 1
    offset_dims, collapsed, start_index_map = [], [], []
    columns, columns_shape = [], []    # index arrays with the column position they start at
    slice_shape, newaxis_dims, slice_sizes = [], [], []
    sorted_ = not advanced
    for p, e in enumerate(entries):
        if adv_pos and p == (adv_pos[0] if contiguous else 0):
            arrays = [_normalized_array(np.asarray(entries[q].value) if entries[q].kind ==
                                        "int" else entries[q].value, shape[x_axes[q]], dtype,
                                        normalize) for q in adv_pos]
            adv_shape = broadcast_shapes(*[np.shape(a) if isinstance(a, np.ndarray)
                                           else get_aval(a).shape for a in arrays])
            columns += [(_broadcast_index(a, adv_shape), len(columns_shape)) for a in arrays]
            columns_shape += adv_shape
            start_index_map += [x_axes[q] for q in adv_pos]
            collapsed += [x_axes[q] for q in adv_pos]
            slice_shape += adv_shape
        if p in adv_pos:
            slice_sizes.append(1)
        elif e.kind == "none":
            newaxis_dims.append(len(slice_shape))
            slice_shape.append(1)
        elif _is_scalar_index(e):
            value = np.asarray(e.value) if e.kind == "int" else e.value
            n = shape[x_axes[p]]
            columns.append((_normalized_array(value, n, dtype, normalize), len(columns_shape)))
            collapsed.append(x_axes[p]), start_index_map.append(x_axes[p])
            slice_sizes.append(1)
        else:  # a slice
            n = shape[x_axes[p]]
            lo, hi, step = e.value.indices(n)
            size = len(range(lo, hi, step))
            if step == 1:
                if size != n:
                    columns.append((np.asarray(lo, dtype), len(columns_shape)))
                    start_index_map.append(x_axes[p])
                offset_dims.append(len(slice_shape) - len(newaxis_dims))
                slice_sizes.append(size)
            else:
                columns.append((np.arange(lo, hi, step, dtype=dtype), len(columns_shape)))
                columns_shape.append(size)
                collapsed.append(x_axes[p]), start_index_map.append(x_axes[p])
                slice_sizes.append(1)
                sorted_ = sorted_ and step > 0
            slice_shape.append(size)
    indices = _stack_columns(columns, columns_shape) if columns else None
    dnums = GatherDimensionNumbers(tuple(offset_dims), tuple(sorted(collapsed)),
                                   tuple(start_index_map))
    return _GatherPlan(indices, dnums, tuple(slice_sizes), tuple(slice_shape),
                       tuple(newaxis_dims), not advanced, sorted_)


def _stack_columns(columns, shape):
    """Index columns (array, first dim) broadcast to `shape` and stacked on a last axis."""
    dims = [tuple(range(start, start + np.ndim(a) if isinstance(a, np.ndarray)
                        else start + get_aval(a).ndim)) for a, start in columns]
    if all(isinstance(a, np.ndarray) for a, _ in columns):
        expanded = []
        for (a, start), d in zip(columns, dims):
            view = np.reshape(a, [shape[i] if i in d else 1 for i in range(len(shape))])
            expanded.append(np.broadcast_to(view, shape))
        return np.stack(expanded, axis=-1)
    return stack_last([a for a, _ in columns], tuple(shape), dims)


def _rewriting_take(arr, idx, *, indices_are_sorted=False, unique_indices=False, mode=None,
                    fill_value=None, normalize_indices=True):
    """`arr[idx]` with NumPy semantics (called by `Tracer.__getitem__` and
    `x.at[idx].get(...)`). Out-of-bounds reads clamp; mode='fill' reads `fill_value`."""
    arr = asarray(arr)
    entries, bool_dims = _entries_of(idx, get_aval(arr).shape)
    arr = _expand_for_bools(arr, bool_dims)
    clamping = mode is None or GatherScatterMode.from_any(mode) != FILL_OR_DROP
    if clamping and not _has_advanced(entries):
        out = _try_static(arr, entries) if normalize_indices else None
        if out is None:
            out = _try_dynamic(arr, entries, normalize_indices)
        if out is not None:
            return out
    aval = get_aval(arr)
    plan = _gather_plan(aval.shape, entries, normalize_indices)
    if 0 in plan.slice_shape:
        return lax.full(plan.slice_shape, 0, aval.dtype)
    y = arr
    if plan.indices is not None:
        y = lax.gather(arr, plan.indices, plan.dnums, plan.slice_sizes,
                       unique_indices=unique_indices or plan.unique,
                       indices_are_sorted=indices_are_sorted or plan.sorted,
                       mode=mode, fill_value=fill_value)
    return lax.reshape(y, plan.slice_shape)


from ._indexing_updates import AtIndexer, take, take_along_axis, put_along_axis  # noqa: E402
