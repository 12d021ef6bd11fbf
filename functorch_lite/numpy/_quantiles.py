"""Order statistics: quantile, percentile, median and their NaN-ignoring variants
(exported by `_sorting`). As in jnp: sort along the reduced axis, then interpolate
between the two neighbouring order statistics; `q` may be traced."""

__all__ = ["quantile", "percentile", "median", "nanquantile", "nanpercentile", "nanmedian"]
import math

import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ..lax._reductions import take_along_axis
from ..lax._util import canonicalize_axis
from ._reductions import isnan, select, any as _any, sum as _sum
from ._util import asarray, promote_to_inexact

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _move_reduced_axes_last(a, axis):
    """(a with the reduced axes merged into its last axis, keepdims shape)."""
    shape = get_aval(a).shape
    if axis is None:
        return lax.reshape(a, (get_aval(a).size,)), (1,) * len(shape)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = [canonicalize_axis(int(d), len(shape)) for d in axes]
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    kept = [d for d in range(len(shape)) if d not in axes]
    moved = lax.transpose(a, (*kept, *axes))
    merged = (*[shape[d] for d in kept], math.prod(shape[d] for d in axes))
    keep_shape = tuple(1 if d in axes else s for d, s in enumerate(shape))
    return lax.reshape(moved, merged), keep_shape


def _bcast(x, shape):
    """Broadcast x (shape a prefix or suffix-compatible) by trailing alignment."""
    aval = get_aval(x)
    return lax.broadcast_in_dim(x, shape, tuple(range(len(shape) - aval.ndim, len(shape))))


def _quantile(a, q, axis, method, keepdims, squash_nans):
    if method not in _METHODS:
        raise ValueError(f"method can only be one of {', '.join(map(repr, _METHODS))} "
                         f"(weighted 'inverted_cdf' is not supported)")
    a, q = asarray(a), asarray(q)
    (a,) = promote_to_inexact(a)
    if not _dtypes.is_inexact(get_aval(q).dtype):
        (q,) = promote_to_inexact(q)
    if _dtypes.is_complex(get_aval(a).dtype):
        raise ValueError("quantile does not support complex input, as the operation is "
                         "poorly defined.")
    q_shape = get_aval(q).shape
    if len(q_shape) > 1:
        raise ValueError(f"q must be have rank <= 1, got shape {q_shape}")
    a, keep_shape = _move_reduced_axes_last(a, axis)
    rest, n = get_aval(a).shape[:-1], get_aval(a).shape[-1]
    last = len(rest)
    q_dtype = get_aval(q).dtype
    out_shape = (*q_shape, *rest)          # q's dimension first, as in jnp
    if n == 0:
        result = _quantile_of_nothing(a, out_shape, squash_nans)
        return lax.reshape(result, (*q_shape, *keep_shape)) if keepdims else result

    def as_q(x):
        return lax.convert_element_type(x, q_dtype)

    if squash_nans:   # NaNs (made positive) sort last; interpolate among the others
        a = lax.sort(select(isnan(a), lax.full_like(a, np.nan), a), dimension=last)
        counts = _bcast(_sum(lax.bitwise_not(isnan(a)), axis=last, dtype=q_dtype), out_shape)
    else:             # any NaN along the axis makes the result NaN
        has_nan = _any(isnan(a), axis=last, keepdims=True)
        a = lax.sort(select(has_nan, lax.full_like(a, np.nan), a), dimension=last)
        counts = lax.full(out_shape, n, q_dtype)
    one = lax.full(out_shape, 1, q_dtype)
    position = lax.mul(lax.broadcast_in_dim(q, out_shape, tuple(range(len(q_shape)))),
                       lax.sub(counts, one))
    low, high = lax.floor(position), lax.ceil(position)
    high_weight = lax.sub(position, low)
    low_weight = lax.sub(one, high_weight)
    zero, top = lax.full(out_shape, 0, q_dtype), lax.sub(counts, one)
    low = lax.max(zero, lax.min(low, top))
    high = lax.max(zero, lax.min(high, top))
    low_value, high_value = (_take_order_statistic(a, i, len(q_shape)) for i in (low, high))

    if method == "linear":
        result = lax.add(lax.mul(as_q(low_value), low_weight),
                         lax.mul(as_q(high_value), high_weight))
    elif method == "lower":
        result = low_value
    elif method == "higher":
        result = high_value
    elif method == "nearest":
        result = select(lax.le(high_weight, lax.full_like(high_weight, 0.5)), low_value,
                        high_value)
    else:  # midpoint
        result = lax.mul(lax.add(low_value, high_value), lax.full_like(low_value, 0.5))
    result = lax.convert_element_type(result, get_aval(a).dtype)
    if keepdims:
        result = lax.reshape(result, (*q_shape, *keep_shape))
    return result


def _quantile_of_nothing(a, out_shape, squash_nans):
    """Quantiles over an empty axis: NaN when NaNs are ignored (as over an all-NaN
    axis, like NumPy and jnp >= 0.12); else jnp's TypeError (its gather has no
    element to take)."""
    if not squash_nans:
        raise TypeError(f"quantile of an empty reduction axis (the reduced part of the "
                        f"input has size 0): there is no order statistic to take. Fix: "
                        f"reduce over a non-empty axis, or use nanquantile, which gives NaN")
    return lax.full(out_shape, np.nan, get_aval(a).dtype)


def _take_order_statistic(sorted_a, index, q_ndim):
    """sorted_a[..., index] with `index` of shape q_shape + rest (q first)."""
    index = lax.convert_element_type(index, np.int32)
    ndim = get_aval(index).ndim
    if q_ndim == 0:
        picked = take_along_axis(sorted_a, lax.expand_dims(index, (ndim,)), ndim)
        return lax.reshape(picked, get_aval(index).shape)
    to_last = (*range(1, ndim), 0)          # (q, rest...) -> (rest..., q)
    picked = take_along_axis(sorted_a, lax.transpose(index, to_last), ndim - 1)
    return lax.transpose(picked, (ndim - 1, *range(ndim - 1)))


def _check_unsupported(out, overwrite_input, weights):
    if overwrite_input or out is not None:
        raise ValueError("jax.numpy.quantile does not support overwrite_input=True or "
                         "out != None")
    if weights is not None:
        raise NotImplementedError("weighted quantiles (method='inverted_cdf') are not "
                                  "supported")


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    """The `q`-th quantile(s) (0 <= q <= 1, scalar or 1-D) of `a` along `axis`."""
    _check_unsupported(out, overwrite_input, weights)
    return _quantile(a, q, axis, method, keepdims, squash_nans=False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    """`quantile` ignoring NaNs."""
    _check_unsupported(out, overwrite_input, weights)
    return _quantile(a, q, axis, method, keepdims, squash_nans=True)


def _percent(q):
    (q,) = promote_to_inexact(asarray(q))
    return lax.div(q, lax.full_like(q, 100))


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    """The `q`-th percentile(s) (0 <= q <= 100) of `a` along `axis`."""
    return quantile(a, _percent(q), axis, out, overwrite_input, method, keepdims,
                    weights=weights)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
    """`percentile` ignoring NaNs."""
    return nanquantile(a, _percent(q), axis, out, overwrite_input, method, keepdims,
                       weights=weights)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median along `axis` (mean of the two middle values for even counts)."""
    a = asarray(a)
    shape = get_aval(a).shape
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    if 0 in [shape[int(d)] for d in axes]:  # (as jnp >= 0.12)
        raise ValueError("jnp.median reduction axis must be non-empty: the reduced part "
                         f"of the input (shape {get_aval(a).shape}, axis={axis}) has size 0")
    return quantile(a, 0.5, axis, out, overwrite_input, "midpoint", keepdims)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """`median` ignoring NaNs."""
    return nanquantile(a, 0.5, axis, out, overwrite_input, "midpoint", keepdims)
