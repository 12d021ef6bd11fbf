"""`x.at[idx]` functional updates (as scatters), take, take_along_axis and
put_along_axis. Re-exported by `numpy/_indexing.py`."""
import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ..lax._indexing import (CLIP, FILL_OR_DROP, PROMISE_IN_BOUNDS, GatherDimensionNumbers,
                             ScatterDimensionNumbers)
from ._util import (asarray, broadcast_shapes, broadcast_to_shape, check_no_out,
                    promote_dtypes)
from ._ufuncs import divide, power, remainder
from ._indexing import (_entries_of, _expand_for_bools, _gather_plan, _index_dtype,
                        _rewriting_take, _wrap_negative)


def _as_values(x_aval, y):
    if isinstance(y, int) and not isinstance(y, bool) and _dtypes.is_integer(x_aval.dtype) \
            and np.iinfo(x_aval.dtype).min <= y <= np.iinfo(x_aval.dtype).max:
        return asarray(y, x_aval.dtype)
    return asarray(y)


def _scatter_update(x, idx, y, scatter_op, indices_are_sorted=False, unique_indices=False,
                    mode=None, normalize_indices=True):
    """The value `x[idx] op= y` would leave in x, computed without mutation: the update
    is broadcast to the shape of x[idx] and scattered with `scatter_op`."""
    x = asarray(x)
    x_aval = get_aval(x)
    y = _as_values(x_aval, y)
    entries, bool_dims = _entries_of(idx, x_aval.shape)
    x = _expand_for_bools(x, bool_dims)
    plan = _gather_plan(get_aval(x).shape, entries, normalize_indices)
    if 0 in plan.slice_shape:
        return lax.reshape(x, x_aval.shape)
    x, y = promote_dtypes(x, y)
    y = broadcast_to_shape(y, plan.slice_shape)
    y = lax.reshape(y, [d for i, d in enumerate(plan.slice_shape) if i not in plan.newaxis_dims])
    indices = plan.indices if plan.indices is not None else np.zeros((0,), np.int32)
    d = plan.dnums
    out = scatter_op(x, indices, y,
                     ScatterDimensionNumbers(d.offset_dims, d.collapsed_slice_dims,
                                             d.start_index_map),
                     indices_are_sorted=indices_are_sorted or plan.sorted,
                     unique_indices=unique_indices or plan.unique, mode=mode)
    out = lax.reshape(out, x_aval.shape)
    return lax.convert_element_type(out, x_aval.dtype, x_aval.weak_type)


def _scatter_sub(x, indices, y, dnums, **kwargs):
    return lax.scatter_add(x, indices, lax.neg(y), dnums, **kwargs)


def _ones_like(x):
    x = asarray(x)
    aval = get_aval(x)
    return lax.full(aval.shape, 1, aval.dtype, weak_type=aval.weak_type)


class AtIndexer:
    """`x.at[idx]`: pure versions of NumPy's indexed assignments.

    `x.at[idx].set(y)` is `x` with `x[idx] = y` applied, without mutating `x`; likewise
    add, subtract, multiply (mul), divide, power, min, max, apply(func) and get().
    Repeated indices accumulate for add/multiply/min/max; out-of-bounds updates are
    dropped unless mode='clip'.

    >>> import numpy as np, functorch_lite as fl
    >>> np.asarray(fl.jit(lambda x: x.at[np.array([0, 0, 2])].add(1.0))(np.zeros(3))).tolist()
    [2.0, 0.0, 1.0]
    """
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"AtIndexer({self.array!r})"


class _IndexUpdateRef:
    """`x.at[idx]`, waiting for the update method."""
    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
            fill_value=None, wrap_negative_indices=True):
        """`x[idx]`; mode='fill' reads `fill_value` out of bounds, 'clip' clamps."""
        return _rewriting_take(self.array, self.index, indices_are_sorted=indices_are_sorted,
                               unique_indices=unique_indices, mode=mode,
                               fill_value=fill_value, normalize_indices=wrap_negative_indices)

    def _update(self, values, op, indices_are_sorted, unique_indices, mode,
                wrap_negative_indices, target=None):
        return _scatter_update(self.array if target is None else target, self.index, values,
                               op, indices_are_sorted, unique_indices, mode,
                               wrap_negative_indices)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            wrap_negative_indices=True):
        """`x[idx] = values`."""
        return self._update(values, lax.scatter, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            wrap_negative_indices=True):
        """`x[idx] += values` (repeated indices accumulate)."""
        return self._update(values, lax.scatter_add, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
                 wrap_negative_indices=True):
        """`x[idx] -= values`."""
        return self._update(values, _scatter_sub, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
                 wrap_negative_indices=True):
        """`x[idx] *= values`."""
        return self._update(values, lax.scatter_mul, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
               wrap_negative_indices=True):
        """`x[idx] /= values`."""
        factors = self._update(values, lax.scatter_mul, indices_are_sorted, unique_indices,
                               mode, wrap_negative_indices, _ones_like(self.array))
        return divide(self.array, factors)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
              wrap_negative_indices=True):
        """`x[idx] **= values`."""
        exponents = self._update(values, lax.scatter_mul, indices_are_sorted, unique_indices,
                                 mode, wrap_negative_indices, _ones_like(self.array))
        return power(self.array, exponents)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            wrap_negative_indices=True):
        """`x[idx] = minimum(x[idx], values)`."""
        return self._update(values, lax.scatter_min, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            wrap_negative_indices=True):
        """`x[idx] = maximum(x[idx], values)`."""
        return self._update(values, lax.scatter_max, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None,
              wrap_negative_indices=True):
        """`x[idx] = func(x[idx])`, applied once per occurrence of an index (not
        differentiable, as in JAX)."""
        def scatter_apply(x, indices, y, dnums, **kwargs):
            return lax.scatter_apply(x, indices, func, dnums, update_shape=get_aval(y).shape,
                                     **kwargs)
        zero = np.zeros((), get_aval(self.array).dtype)
        return self._update(zero, scatter_apply, indices_are_sorted, unique_indices, mode,
                            wrap_negative_indices)


# --- take, take_along_axis, put_along_axis ----------------------------------------

def _index_array(indices):
    if isinstance(indices, (list, tuple, np.ndarray, int, np.integer)):
        return np.asarray(indices)
    return asarray(indices)


def _shape(x):
    return x.shape if isinstance(x, np.ndarray) else get_aval(x).shape


def _reshape(x, shape):
    return np.reshape(x, shape) if isinstance(x, np.ndarray) else lax.reshape(x, shape)


def _ravel(a):
    return lax.reshape(a, (get_aval(a).size,))


def _canonical_axis(axis, ndim, name):
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of rank {ndim}")
    return axis % ndim


def _wrapped(indices, n, normalize=True):
    """Negative indices counted from the end (numpy or traced)."""
    if not normalize:
        return indices
    if isinstance(indices, np.ndarray):
        return np.where(indices < 0, indices + n, indices) if indices.dtype.kind == "i" \
            else indices
    return _wrap_negative(indices, n, get_aval(indices).dtype)


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
    """Elements of `a` at `indices` along `axis` (flattened when None). mode: 'fill'
    (the default: out-of-bounds reads `fill_value`), 'clip' or 'wrap'."""
    check_no_out(out, "take")
    a, indices = asarray(a), _index_array(indices)
    if axis is None:
        a, axis = _ravel(a), 0
    shape = get_aval(a).shape
    axis = _canonical_axis(axis, len(shape), "take")
    n = shape[axis]
    if mode is None or mode == "fill":
        gather_mode, indices = FILL_OR_DROP, _wrapped(indices, n)
    elif mode == "wrap":
        gather_mode = PROMISE_IN_BOUNDS
        with np.errstate(divide="ignore"):  # n == 0: any index fails the gather, as jnp
            indices = np.mod(indices, n) if isinstance(indices, np.ndarray) else \
                remainder(indices, n)
    elif mode == "clip":
        gather_mode = CLIP
    elif mode == "raise":
        raise NotImplementedError("The 'raise' mode to jnp.take is not supported.")
    else:
        raise ValueError(f"Invalid mode '{mode}' for np.take")
    idx_shape = _shape(indices)
    out_shape = shape[:axis] + tuple(idx_shape) + shape[axis + 1:]
    if n == 0:
        if int(np.prod(idx_shape)) != 0:
            raise IndexError("Cannot do a non-empty jnp.take() from an empty axis.")
        return a
    if int(np.prod(idx_shape)) == 0:
        return lax.full(out_shape, 0, get_aval(a).dtype)
    k = len(idx_shape)
    slice_sizes = list(shape)
    slice_sizes[axis] = 1
    dnums = GatherDimensionNumbers(
        tuple(range(axis)) + tuple(range(axis + k, len(shape) + k - 1)), (axis,), (axis,))
    return lax.gather(a, _reshape(indices, tuple(idx_shape) + (1,)), dnums, slice_sizes,
                      mode=gather_mode, fill_value=fill_value, unique_indices=unique_indices,
                      indices_are_sorted=indices_are_sorted)


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None):
    """Values of `arr` at `indices` along `axis`, the other axes broadcast against
    each other (e.g. with argsort results). Out-of-bounds reads `fill_value` unless
    mode='clip'."""
    a, indices = asarray(arr), _index_array(indices)
    idx_dtype = indices.dtype if isinstance(indices, np.ndarray) else get_aval(indices).dtype
    if not np.issubdtype(idx_dtype, np.integer):
        raise TypeError(f"take_along_axis indices must be of integer type, got {idx_dtype}")
    if axis is None:
        if len(_shape(indices)) != 1:
            raise ValueError(f"take_along_axis indices must be 1D if axis=None, got shape "
                             f"{_shape(indices)}")
        a, axis = _ravel(a), 0
    shape, idx_shape = get_aval(a).shape, tuple(_shape(indices))
    rank = len(shape)
    if rank != len(idx_shape):
        raise ValueError(f"indices and arr must have the same number of dimensions; "
                         f"{len(idx_shape)} vs. {rank}")
    axis = _canonical_axis(axis, rank, "take_along_axis")
    arr_shape = shape[:axis] + (1,) + shape[axis + 1:]
    out_shape = broadcast_shapes(idx_shape, arr_shape)
    if shape[axis] == 0:
        return lax.full(out_shape, 0, get_aval(a).dtype)
    index_dtype = _index_dtype(shape)
    indices = _wrapped(indices, shape[axis], mode != "promise_in_bounds")
    indices = indices.astype(index_dtype) if isinstance(indices, np.ndarray) else \
        lax.convert_element_type(indices, index_dtype)
    index_dims = [i for i, s in enumerate(idx_shape) if i == axis or s != 1]
    indices = _reshape(indices, tuple(out_shape[i] for i in index_dims) + (1,))
    slice_sizes, offset_dims, collapsed, start_map = [], [], [], []
    operand_batching, indices_batching, squeezed = [], [], []
    new_i = j = 0  # new_i: dim of the squeezed operand; j: dim of the gather indices
    for i in range(rank):
        if i == axis:
            slice_sizes.append(1), start_map.append(new_i), collapsed.append(new_i)
            new_i, j = new_i + 1, j + 1
        elif idx_shape[i] == 1:        # take the whole axis of arr
            offset_dims.append(i), slice_sizes.append(arr_shape[i])
            new_i += 1
        elif arr_shape[i] == 1:        # arr broadcasts along this axis: drop it
            squeezed.append(i)
            j += 1
        else:                          # matching axes: pair them as batch dims
            slice_sizes.append(1), operand_batching.append(new_i), indices_batching.append(j)
            new_i, j = new_i + 1, j + 1
    a = lax.reshape(a, [d for i, d in enumerate(shape) if i not in squeezed])
    dnums = GatherDimensionNumbers(tuple(offset_dims), tuple(collapsed), tuple(start_map),
                                   tuple(operand_batching), tuple(indices_batching))
    return lax.gather(a, indices, dnums, tuple(slice_sizes),
                      mode="fill" if mode is None else mode, fill_value=fill_value)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """A copy of `arr` with `values` written at `indices` along `axis` (the functional
    counterpart of numpy.put_along_axis; pass inplace=False)."""
    if inplace:
        raise ValueError("jax.numpy.put_along_axis cannot modify arrays in-place, because "
                         "arrays are immutable. Pass inplace=False to instead return an "
                         "updated array.")
    a, indices = asarray(arr), _index_array(indices)
    original_shape = get_aval(a).shape
    if axis is None:
        a, axis = _ravel(a), 0
    shape, idx_shape = get_aval(a).shape, tuple(_shape(indices))
    if len(shape) != len(idx_shape):
        raise ValueError(f"put_along_axis arguments 'arr' and 'indices' must have same ndim. "
                         f"Got {len(shape)} and {len(idx_shape)}.")
    axis = _canonical_axis(axis, len(shape), "put_along_axis")
    values = broadcast_to_shape(asarray(values), idx_shape)
    index = tuple(indices if i == axis else
                  np.arange(n).reshape([n if k == i else 1 for k in range(len(shape))])
                  for i, n in enumerate(shape))
    out = _scatter_update(a, index, values, lax.scatter, mode=mode)
    return lax.reshape(out, original_shape)
