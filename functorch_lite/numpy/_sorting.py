"""Sorting, searching and counting: sort, argsort, lexsort, sort_complex, partition,
argpartition, searchsorted, argmax/argmin (and their nan variants), nonzero,
flatnonzero, argwhere and unique; the order statistics (quantile, percentile, median)
live in `_quantiles` and are exported from here.

Functions whose output size depends on the data (nonzero, unique, ...) need concrete
input, or a static `size=` to work under jit: the selected positions are compacted to
the front by a stable sort on "is selected", so no scatter is needed."""

__all__ = ["sort", "argsort", "lexsort", "sort_complex", "partition", "argpartition",
           "searchsorted", "argmax", "argmin", "nanargmax", "nanargmin", "nonzero",
           "flatnonzero", "argwhere", "unique", "quantile", "percentile", "median",
           "nanquantile", "nanpercentile", "nanmedian"]
import math

import numpy as np

from .. import _dtypes, lax
from .._core import ConcretizationTypeError, get_aval
from ..lax._reductions import take_along_axis
from ..lax._util import canonicalize_axis
from ._reductions import isnan, select, all as _all, sum as _sum
from ._util import asarray, check_no_out, promote_dtypes
from ._quantiles import quantile, percentile, median, nanquantile, nanpercentile, nanmedian


def _ravel(a):
    return lax.reshape(a, (get_aval(a).size,))


def _index_dtype():
    return _dtypes.default_int()


def _swap_to_last(a, axis):
    ndim = get_aval(a).ndim
    perm = list(range(ndim))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return lax.transpose(a, perm)


def _check_sort_args(name, kind, order):
    if kind is not None:
        raise TypeError(f"'kind' argument to {name} is not supported. Use stable=True or "
                        f"stable=False to specify sort stability.")
    if order is not None:
        raise TypeError(f"'order' argument to {name} is not supported.")


# --- sorting ----------------------------------------------------------------------------

def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy of `a` along `axis` (None: flattened). NaNs sort to the end."""
    _check_sort_args("sort", kind, order)
    a = asarray(a)
    if axis is None:
        a, axis = _ravel(a), 0
    dimension = canonicalize_axis(int(axis), get_aval(a).ndim)
    result = lax.sort(a, dimension=dimension, is_stable=stable)
    return lax.rev(result, (dimension,)) if descending else result


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False, dtype=None):
    """Indices that sort `a` along `axis` (stable by default; ties keep their order,
    also when `descending`)."""
    _check_sort_args("argsort", kind, order)
    a = asarray(a)
    if axis is None:
        a, axis = _ravel(a), 0
    dimension = canonicalize_axis(int(axis), get_aval(a).ndim)
    index_dtype = _index_dtype() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    iota = lax.broadcasted_iota(index_dtype, get_aval(a).shape, dimension)
    if descending and stable:
        # reverse first, so that equal elements keep their order after the final reverse
        a, iota = lax.rev(a, (dimension,)), lax.rev(iota, (dimension,))
    _, indices = lax.sort_key_val(a, iota, dimension=dimension, is_stable=stable)
    return lax.rev(indices, (dimension,)) if descending else indices


def lexsort(keys, axis=-1):
    """Indices sorting by several keys; the LAST key is the primary one."""
    keys = [asarray(k) for k in keys]
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    if len({get_aval(k).shape for k in keys}) > 1:
        raise ValueError("all keys need to be the same shape")
    shape = get_aval(keys[0]).shape
    if not shape:
        return lax.full((), 0, _index_dtype())
    axis = canonicalize_axis(int(axis), len(shape))
    iota = lax.broadcasted_iota(_index_dtype(), shape, axis)
    return lax.sort((*keys[::-1], iota), dimension=axis, num_keys=len(keys))[-1]


def sort_complex(a):
    """`a` sorted along the last axis (by real, then imaginary part), as complex."""
    a = lax.sort(asarray(a))
    dtype = get_aval(a).dtype
    if not _dtypes.is_complex(dtype):
        dtype = _dtypes.complex128 if dtype in (_dtypes.float64, _dtypes.int64, _dtypes.uint64) \
            else _dtypes.default_complex()
    return lax.convert_element_type(a, _dtypes.canonicalize_dtype(dtype))


def _bottom_k(arr, k):
    """The k smallest entries along the last axis (ascending) and their indices."""
    if _dtypes.is_unsigned(get_aval(arr).dtype):
        one = lax.full_like(arr, 1)   # -(x + 1) keeps 0 the largest key after wrapping
        values, indices = lax.top_k(lax.neg(lax.add(arr, one)), k)
        return lax.sub(lax.neg(values), lax.full_like(values, 1)), indices
    values, indices = lax.top_k(lax.neg(arr), k)
    return lax.neg(values), indices


def partition(a, kth, axis=-1):
    """A copy of `a` with the `kth` smallest value at position kth along `axis`, smaller
    values before it (ascending) and larger ones after it (as jnp: via top_k)."""
    arr = asarray(a)
    if _dtypes.is_complex(get_aval(arr).dtype):
        raise NotImplementedError("jnp.partition for complex dtype is not implemented.")
    axis = canonicalize_axis(int(axis), get_aval(arr).ndim)
    kth = canonicalize_axis(int(kth), get_aval(arr).shape[axis])
    arr = _swap_to_last(arr, axis)
    bottom, _ = _bottom_k(arr, kth + 1)
    top = lax.top_k(arr, get_aval(arr).shape[-1] - kth - 1)[0]
    out = lax.concatenate([bottom, top], get_aval(arr).ndim - 1)
    return _swap_to_last(out, axis)


def argpartition(a, kth, axis=-1):
    """Indices that would partition `a` (see `partition`)."""
    arr = asarray(a)
    if _dtypes.is_complex(get_aval(arr).dtype):
        raise NotImplementedError("jnp.argpartition for complex dtype is not implemented.")
    axis = canonicalize_axis(int(axis), get_aval(arr).ndim)
    kth = canonicalize_axis(int(kth), get_aval(arr).shape[axis])
    arr = _swap_to_last(arr, axis)
    shape = get_aval(arr).shape
    _, bottom = _bottom_k(arr, kth + 1)
    # the rest in index order: top_k of a proxy that is 0 at the bottom indices, else 1
    hit_shape = (*shape[:-1], kth + 1, shape[-1])
    hits = lax.eq(lax.broadcast_in_dim(bottom, hit_shape, tuple(range(len(shape)))),
                  lax.broadcasted_iota(np.int32, hit_shape, len(shape)))
    in_bottom = lax.reduce_or(hits, (len(shape) - 1,))
    proxy = select(in_bottom, lax.full(shape, 0.0, np.float32), lax.full(shape, 1.0, np.float32))
    top = lax.top_k(proxy, shape[-1] - kth - 1)[1]
    out = lax.concatenate([bottom, top], len(shape) - 1)
    return _swap_to_last(out, axis)


# --- searching --------------------------------------------------------------------------

def _canonical_float(x):
    """-0.0 -> 0.0 and every NaN -> +NaN, as sort's comparator sees them."""
    x = select(lax.eq(x, lax.full_like(x, 0)), lax.full_like(x, 0), x)
    return select(isnan(x), lax.full_like(x, np.nan), x)


def _total_order_parts(x):
    dtype = get_aval(x).dtype
    if _dtypes.is_complex(dtype):
        return [_canonical_float(lax.real(x)), _canonical_float(lax.imag(x))]
    if _dtypes.is_float(dtype):
        return [_canonical_float(x)]
    return [x]


def sort_less_than(x, y):
    """Elementwise `x < y` in the order `sort` uses (NaN last, -0.0 == 0.0, complex
    lexicographic). x and y have equal shapes and dtypes."""
    result = None
    for a, b in reversed(list(zip(_total_order_parts(x), _total_order_parts(y)))):
        less, equal = lax.lt(a, b), lax.eq(a, b)
        if _dtypes.is_inexact(get_aval(a).dtype):
            nan_a, nan_b = isnan(a), isnan(b)
            less = lax.bitwise_or(less, lax.bitwise_and(nan_b, lax.bitwise_not(nan_a)))
            equal = lax.bitwise_or(equal, lax.bitwise_and(nan_a, nan_b))
        result = less if result is None else lax.bitwise_or(less, lax.bitwise_and(equal, result))
    return result


def _searchsorted_compare_all(a, v, side, dtype):
    n, v_shape = get_aval(a).shape[0], get_aval(v).shape
    shape = (n, *v_shape)
    a_b = lax.broadcast_in_dim(a, shape, (0,))
    v_b = lax.broadcast_in_dim(v, shape, tuple(range(1, len(shape))))
    # left: count a[i] < v; right: count a[i] <= v, i.e. not (v < a[i])
    before = sort_less_than(a_b, v_b) if side == "left" else \
        lax.bitwise_not(sort_less_than(v_b, a_b))
    return lax.reduce_sum(lax.convert_element_type(before, dtype), (0,))


def _sorted_rank(x):
    """Position of each entry of the 1-D `x` in its stable sort."""
    iota = lax.iota(np.int32, get_aval(x).shape[0])
    permutation = lax.sort_key_val(x, iota)[1]
    return lax.sort_key_val(permutation, iota)[1]


def _searchsorted_sort(a, v, side, dtype):
    n, m = get_aval(a).shape[0], get_aval(v).size
    flat_v = _ravel(v)
    if side == "left":   # v first: a query precedes equal entries of a
        rank = lax.slice(_sorted_rank(lax.concatenate([flat_v, a], 0)), (0,), (m,))
    else:                # v last: a query follows equal entries of a
        rank = lax.slice(_sorted_rank(lax.concatenate([a, flat_v], 0)), (n,), (n + m,))
    index = lax.sub(rank, _sorted_rank(flat_v))
    return lax.convert_element_type(lax.reshape(index, get_aval(v).shape), dtype)


_COMPARE_ALL_LIMIT = 1 << 22


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Insertion indices of `v` into the sorted 1-D `a` (side 'left': first suitable
    position; 'right': last). Every method gives the same result: 'compare_all' counts
    comparisons (O(len(a) * v.size) memory), 'sort' co-sorts (O((len(a) + v.size)
    log)); 'scan' (the default) picks whichever is cheaper."""
    if side not in ("left", "right"):
        raise ValueError(f"{side!r} is an invalid value for keyword 'side'. Expected one of "
                         f"['left', 'right'].")
    if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
        raise ValueError(f"Unsupported method: {method}")
    a, v = asarray(a), asarray(v)
    if get_aval(a).ndim != 1:
        raise ValueError("a should be 1-dimensional")
    a, v = promote_dtypes(a, v)
    if sorter is not None:
        a = take_along_axis(a, asarray(sorter), 0)
    dtype = np.dtype(np.int32)
    n = get_aval(a).shape[0]
    if n == 0 or get_aval(v).size == 0:
        return lax.full(get_aval(v).shape, 0, dtype)
    big = n * get_aval(v).size > _COMPARE_ALL_LIMIT
    if method == "sort" or (method != "compare_all" and big):
        return _searchsorted_sort(a, v, side, dtype)
    return _searchsorted_compare_all(a, v, side, dtype)


def _arg_reduction(lax_fn, name, a, axis, out, keepdims):
    check_no_out(out, name)
    a = asarray(a)
    ndim = get_aval(a).ndim
    if axis is None:
        dims = tuple(range(ndim))
        a, axis = _ravel(a), 0
    else:
        axis = canonicalize_axis(int(axis), ndim)
        dims = (axis,)
    if get_aval(a).shape[axis] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    result = lax_fn(a, axis, _index_dtype())
    return lax.expand_dims(result, dims) if keepdims else result


def argmax(a, axis=None, out=None, keepdims=None):
    """Index of the maximum along `axis` (None: of the flattened array); the first one
    on ties; a NaN counts as the maximum."""
    return _arg_reduction(lax.argmax, "argmax", a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=None):
    """Index of the minimum along `axis` (None: of the flattened array); the first one
    on ties; a NaN counts as the minimum."""
    return _arg_reduction(lax.argmin, "argmin", a, axis, out, keepdims)


def _nan_arg_reduction(arg_fn, fill, a, axis, out, keepdims):
    a = asarray(a)
    if not _dtypes.is_inexact(get_aval(a).dtype):
        return arg_fn(a, axis=axis, out=out, keepdims=keepdims)
    nan = isnan(a)
    result = arg_fn(select(nan, lax.full_like(a, fill), a), axis=axis, out=out,
                    keepdims=keepdims)
    all_nan = _all(nan, axis=axis, keepdims=keepdims)
    return select(all_nan, lax.full_like(result, -1), result)


def nanargmax(a, axis=None, out=None, keepdims=None):
    """`argmax` ignoring NaNs (-1 where everything is NaN)."""
    return _nan_arg_reduction(argmax, -np.inf, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
    """`argmin` ignoring NaNs (-1 where everything is NaN)."""
    return _nan_arg_reduction(argmin, np.inf, a, axis, out, keepdims)


# --- data-dependent sizes ---------------------------------------------------------------

def _static_size(count, name):
    """`count` as a Python int; under jit an error that asks for a static size=."""
    try:
        return int(count)
    except ConcretizationTypeError:
        raise ConcretizationTypeError(
            count, f"jnp.{name} without a static `size=` argument (its output size "
                   f"depends on the input's values)") from None


def _compact(mask, size):
    """Positions of the True entries of the 1-D `mask`, in order, padded or cut to
    `size`; padding positions hold 0. Returns (positions, count of True entries)."""
    n = get_aval(mask).shape[0]
    iota = lax.iota(_index_dtype(), n)
    not_selected = lax.convert_element_type(lax.bitwise_not(mask), np.int32)
    order = lax.sort((not_selected, iota), dimension=0, num_keys=1)[1]
    if size <= n:
        order = lax.slice(order, (0,), (size,))
    else:
        order = lax.concatenate([order, lax.full((size - n,), 0, _index_dtype())], 0)
    count = _sum(mask, dtype=_index_dtype())
    valid = lax.lt(lax.iota(_index_dtype(), size), lax.full((size,), count, _index_dtype()))
    return select(valid, order, lax.full_like(order, 0)), count


def _as_mask(a):
    return a if get_aval(a).dtype == _dtypes.bool_ else lax.ne(a, lax.full_like(a, 0))


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements, one array per dimension. Under jit pass a
    static `size`: extra slots hold `fill_value` (default 0), extra hits are dropped."""
    a = asarray(a)
    shape = get_aval(a).shape
    if not shape:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                         "jnp.atleast_1d(scalar).nonzero() instead.")
    flat_mask = _ravel(_as_mask(a))
    if size is None:
        size = _static_size(_sum(flat_mask), "nonzero")
    size = int(size)
    if get_aval(a).size == 0 or size == 0:
        return tuple(lax.full((size,), 0, _index_dtype()) for _ in shape)
    positions, count = _compact(flat_mask, size)
    strides = np.cumprod(shape[::-1])[::-1] // shape
    out = [lax.rem(lax.div(positions, lax.full_like(positions, int(stride))),
                   lax.full_like(positions, dim)) for stride, dim in zip(strides, shape)]
    if fill_value is not None:
        fills = fill_value if isinstance(fill_value, tuple) else (fill_value,) * len(shape)
        if len(fills) != len(shape) or any(np.shape(f) != () for f in fills):
            raise ValueError(f"fill_value must be a scalar or a tuple of length "
                             f"{len(shape)}; got {fill_value}")
        padding = lax.ge(lax.iota(_index_dtype(), size), lax.full((size,), count, _index_dtype()))
        out = [select(padding, lax.full((size,), f, _index_dtype()), o)
               for f, o in zip(fills, out)]
    return tuple(out)


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of the flattened array."""
    return nonzero(_ravel(asarray(a)), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements as rows of a (count, ndim) array."""
    a = asarray(a)
    ndim = get_aval(a).ndim
    indices = nonzero(lax.reshape(a, (1,)) if ndim == 0 else a, size=size,
                      fill_value=fill_value)
    result = lax.concatenate([lax.expand_dims(i, (1,)) for i in indices], 1)
    if ndim == 0:
        return lax.slice(result, (0, 0), (get_aval(result).shape[0], 0))
    return result


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, size=None, fill_value=None, sorted=True):
    """Sorted unique elements of `ar` (flattened unless `axis` is given), and optionally
    the index of each one's first occurrence, the inverse map and the counts. Under jit
    pass a static `size`: slots past the number of unique values hold the smallest
    value (or `fill_value`), the first index, and count 0."""
    arr = asarray(ar)
    in_shape = get_aval(arr).shape
    flattened = axis is None
    if flattened:
        arr, axis = _ravel(arr), 0
    axis = canonicalize_axis(int(axis), get_aval(arr).ndim)
    ndim = get_aval(arr).ndim
    arr = lax.transpose(arr, (axis, *[d for d in range(ndim) if d != axis]))
    n, *rest = get_aval(arr).shape
    if n == 0:
        outputs = _unique_of_empty(arr, size, fill_value, in_shape if flattened else (0,))
        result = lax.transpose(outputs[0], (*range(1, axis + 1), 0, *range(axis + 1, ndim)))
        flags = (True, return_index, return_inverse, return_counts)
        outputs = [o for o, wanted in zip([result, *outputs[1:]], flags) if wanted]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    values, permutation, first = _sorted_groups(arr, equal_nan)
    if size is None:
        size = _static_size(_sum(first), "unique")
    size = int(size)
    starts, count = _compact(first, size)
    result = _take_rows(values, starts)
    if fill_value is not None:
        valid = lax.lt(lax.iota(_index_dtype(), size), lax.full((size,), count, _index_dtype()))
        out_aval = get_aval(result)
        fill = lax.convert_element_type(asarray(fill_value), out_aval.dtype)
        result = select(lax.broadcast_in_dim(valid, out_aval.shape, (0,)), result,
                        lax.full(out_aval.shape, fill, out_aval.dtype))
    # the unique axis goes back where it was
    result = lax.transpose(result, (*range(1, axis + 1), 0, *range(axis + 1, ndim)))
    outputs = [result]
    if return_index:
        outputs.append(take_along_axis(permutation, starts, 0))
    if return_inverse:
        inverse = _inverse(first, permutation)
        outputs.append(lax.reshape(inverse, in_shape) if flattened else inverse)
    if return_counts:
        outputs.append(_counts(first, size))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _unique_of_empty(arr, size, fill_value, inverse_shape):
    """unique's (values, index, inverse, counts) for `arr` with no rows, as jnp gives
    them: `size` slots of `fill_value` (required when size > 0); the index, inverse and
    counts stay empty."""
    _, *rest = get_aval(arr).shape
    if size:
        if fill_value is None:
            raise ValueError("jnp.unique: for zero-sized input with nonzero size argument, "
                             "fill_value must be specified")
        dtype = get_aval(arr).dtype
        arr = lax.full((int(size), *rest), lax.convert_element_type(asarray(fill_value), dtype),
                       dtype)
    empty = lax.full((0,), 0, _index_dtype())
    return arr, empty, lax.full(inverse_shape, 0, _index_dtype()), empty


def _sorted_groups(arr, equal_nan):
    """Rows of `arr` (n, ...) sorted lexicographically; returns (sorted rows, the
    permutation, mask of the first row of each group of equal rows)."""
    n, *rest = get_aval(arr).shape
    m = math.prod(rest)
    dtype = get_aval(arr).dtype
    if _dtypes.is_complex(dtype):   # NaN in either part: the same NaN (as jnp)
        arr = select(isnan(arr), lax.full_like(arr, np.nan), arr)
    columns = [lax.reshape(lax.slice(lax.reshape(arr, (n, m)), (0, j), (n, j + 1)), (n,))
               for j in range(m)]
    *columns, permutation = lax.sort((*columns, lax.iota(_index_dtype(), n)), dimension=0,
                                     num_keys=max(m, 1))
    differs = None
    for col in columns:
        later, earlier = lax.slice(col, (1,), (n,)), lax.slice(col, (0,), (n - 1,))
        ne = lax.ne(later, earlier)
        if equal_nan and _dtypes.is_inexact(dtype):
            both_nan = lax.bitwise_and(isnan(later), isnan(earlier))
            ne = lax.bitwise_and(ne, lax.bitwise_not(both_nan))
        differs = ne if differs is None else lax.bitwise_or(differs, ne)
    if differs is None:   # rows without elements are all equal
        differs = lax.full((n - 1,), False, np.bool_)
    first = lax.concatenate([lax.full((1,), True, np.bool_), differs], 0)
    stacked = lax.concatenate([lax.expand_dims(c, (1,)) for c in columns], 1) if columns \
        else lax.full((n, 0), 0, dtype)
    return lax.reshape(stacked, (n, *rest)), permutation, first


def _take_rows(values, rows):
    n, *rest = get_aval(values).shape
    m = math.prod(rest)
    flat = lax.reshape(values, (n, m))
    index = lax.broadcast_in_dim(rows, (get_aval(rows).shape[0], m), (0,))
    return lax.reshape(take_along_axis(flat, index, 0), (get_aval(rows).shape[0], *rest))


def _inverse(first, permutation):
    """For each original row, the index of its group (unsorting the group ids)."""
    group = lax.sub(lax.cumsum(lax.convert_element_type(first, _index_dtype())),
                    lax.full_like(permutation, 1))
    return lax.sort_key_val(permutation, group)[1]


def _counts(first, size):
    n = get_aval(first).shape[0]
    starts, _ = _compact(first, size + 1)
    later = lax.slice(starts, (1,), (size + 1,))
    later = select(lax.ne(later, lax.full_like(later, 0)), later, lax.full_like(later, n))
    return lax.sub(later, lax.concatenate([lax.slice(starts, (0,), (1,)),
                                          lax.slice(later, (0,), (size - 1,))], 0)) \
        if size > 0 else lax.full((0,), 0, _index_dtype())
