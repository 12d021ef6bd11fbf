"""Reductions and statistics with `axis`, `keepdims`, `dtype`, `initial` and `where`,
matching jax.numpy's values and result dtypes: sum, prod, max, min, all, any, mean,
var, std, ptp, average, count_nonzero, the nan-ignoring variants, and the cumulative
reductions."""

__all__ = ["sum", "prod", "max", "min", "amax", "amin", "all", "any", "mean", "var", "std",
           "ptp", "average", "count_nonzero", "nansum", "nanprod", "nanmax", "nanmin",
           "nanmean", "nanvar", "nanstd", "cumsum", "cumprod", "cumulative_sum",
           "cumulative_prod", "nancumsum", "nancumprod"]
import builtins
import math

import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ..lax._util import canonicalize_axis
from ._util import asarray, broadcast_to_shape, check_no_out, promote_to_inexact


# --- helpers ------------------------------------------------------------------------

def reduction_axes(axis, ndim, name="reduction"):
    """`axis` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    canon = [canonicalize_axis(int(a), ndim) if ndim else _axis_of_scalar(a, name)
             for a in axes]
    if len(set(canon)) != len(canon):
        raise ValueError(f"duplicate value in 'axis' of jnp.{name}: {axis}")
    return tuple(sorted(canon))


def _axis_of_scalar(a, name):
    if int(a) not in (0, -1):
        raise ValueError(f"axis {a} is out of bounds for a 0-d array in jnp.{name}")
    return 0


def isnan(x):
    """Elementwise NaN test (False for non-floating types)."""
    if not _dtypes.is_inexact(get_aval(x).dtype):
        return lax.full(get_aval(x).shape, False, np.bool_)
    return lax.ne(x, x)


def select(pred, on_true, on_false):
    """`where(pred, on_true, on_false)` for a boolean `pred` broadcastable to the cases."""
    shape = get_aval(on_true).shape
    return lax.select_n(broadcast_to_shape(pred, shape), on_false, on_true)


def _const_like(x, value):
    aval = get_aval(x)
    return lax.full(aval.shape, value, aval.dtype)


def _promote_integer_dtype(dtype):
    """bool and small integers accumulate in the default (u)int, as in jnp.sum."""
    if dtype == _dtypes.bool_:
        return _dtypes.default_int()
    if _dtypes.is_integer(dtype):
        wide = _dtypes.canonicalize_dtype(np.uint64 if _dtypes.is_unsigned(dtype) else np.int64)
        return wide if dtype.itemsize < wide.itemsize else dtype
    return dtype


def _upcast_f16(dtype):
    return _dtypes.float32 if dtype in (_dtypes.float16, _dtypes.bfloat16) else dtype


def _user_dtype(dtype):
    return None if dtype is None else _dtypes.canonicalize_dtype(dtype)


def _check_where(name, where):
    if where is None:
        return None
    where = asarray(where)
    if get_aval(where).dtype != _dtypes.bool_:
        raise ValueError(f"jnp.{name}: where must be None or a boolean array; got "
                         f"dtype={get_aval(where).dtype}")
    return where


def _identity_value(dtype, value):
    """`value` (0, 1, +-inf, True ...) as an identity of `dtype` (clipped for ints)."""
    if dtype == _dtypes.bool_:
        return np.array(value > 0, dtype)
    if _dtypes.is_integer(dtype) and np.isinf(value):
        info = np.iinfo(dtype)
        return np.array(info.min if value < 0 else info.max, dtype)
    return np.array(value, dtype)


def _reduction(a, name, lax_reduce, combine, identity, *, has_identity=True, preproc=None,
               bool_reduce=None, upcast_f16=False, axis=None, dtype=None, out=None,
               keepdims=False, initial=None, where=None, promote_integers=False):
    """jnp's reduction skeleton: dtype policy, `where` masking, `initial`, keepdims."""
    check_no_out(out, name)
    a = asarray(a)
    where = _check_where(name, where)
    if initial is None and not has_identity and where is not None:
        raise ValueError(f"reduction operation {name} does not have an identity, so to use "
                         f"a where mask one has to specify 'initial'")
    if preproc is not None:
        a = preproc(a)
    aval = get_aval(a)
    axes = reduction_axes(axis, aval.ndim, name)
    if initial is None and not has_identity and builtins.any(aval.shape[d] == 0 for d in axes):
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    dtype = _user_dtype(dtype)
    result_dtype = dtype if dtype is not None else (
        _promote_integer_dtype(aval.dtype) if promote_integers else aval.dtype)
    compute_dtype = _upcast_f16(result_dtype) if upcast_f16 and \
        _dtypes.is_inexact(result_dtype) else result_dtype
    a = lax.convert_element_type(a, compute_dtype)
    if compute_dtype == _dtypes.bool_ and bool_reduce is not None:
        lax_reduce = bool_reduce
    if where is not None:
        a = select(where, a, lax.full(get_aval(a).shape, _identity_value(compute_dtype, identity),
                                      compute_dtype))
    result = lax_reduce(a, axes)
    if initial is not None:
        init = lax.convert_element_type(asarray(initial), compute_dtype)
        if get_aval(init).shape != ():
            raise ValueError(f"initial value must be a scalar. Got array of shape "
                             f"{get_aval(init).shape}")
        result = combine(lax.full(get_aval(result).shape, init, compute_dtype), result)
    if keepdims:
        result = lax.expand_dims(result, axes)
    return lax.convert_element_type(result, result_dtype)


def _to_numeric(a):
    aval = get_aval(a)
    if aval.dtype == _dtypes.bool_:
        return lax.convert_element_type(a, _dtypes.default_int(), aval.weak_type)
    return a


def _to_bool(a):
    return lax.convert_element_type(a, _dtypes.bool_)


def _not(x):
    return lax.eq(x, lax.full_like(x, False))


def _or(x, y):
    return lax.select_n(x, y, lax.full_like(y, True))


def _and(x, y):
    return lax.select_n(x, lax.full_like(y, False), y)


# --- the basic reductions -------------------------------------------------------------

def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
        promote_integers=True):
    """Sum of array elements over `axis` (bool and small ints accumulate in int32)."""
    return _reduction(a, "sum", lax.reduce_sum, lax.add, 0, preproc=_to_numeric,
                      bool_reduce=lax.reduce_or, upcast_f16=dtype is None, axis=axis,
                      dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where,
                      promote_integers=promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
    """Product of array elements over `axis`."""
    return _reduction(a, "prod", lax.reduce_prod, lax.mul, 1, preproc=_to_numeric,
                      bool_reduce=lax.reduce_and, upcast_f16=dtype is None, axis=axis,
                      dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where,
                      promote_integers=promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Maximum over `axis` (NaN propagates; needs `initial` for empty reductions)."""
    return _reduction(a, "max", lax.reduce_max, lax.max, -np.inf, has_identity=False,
                      axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Minimum over `axis` (NaN propagates; needs `initial` for empty reductions)."""
    return _reduction(a, "min", lax.reduce_min, lax.min, np.inf, has_identity=False,
                      axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)


amax, amin = max, min


def all(a, axis=None, out=None, keepdims=False, *, where=None):
    """Whether all elements (cast to bool) are true over `axis`."""
    return _reduction(a, "all", lax.reduce_and, _and, True, preproc=_to_bool, axis=axis,
                      out=out, keepdims=keepdims, where=where)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
    """Whether any element (cast to bool) is true over `axis`."""
    return _reduction(a, "any", lax.reduce_or, _or, False, preproc=_to_bool, axis=axis,
                      out=out, keepdims=keepdims, where=where)


def count_nonzero(a, axis=None, keepdims=False):
    """Number of nonzero elements over `axis` (int32)."""
    a = asarray(a)
    return sum(lax.ne(a, _const_like(a, 0)), axis=axis, dtype=_dtypes.default_int(),
               keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (max - min) over `axis`."""
    check_no_out(out, "ptp")
    return lax.sub(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


# --- means and moments -----------------------------------------------------------------

def _to_inexact_dtype(dtype):
    return dtype if _dtypes.is_inexact(dtype) else _dtypes.default_float()


def _count(a, axes, keepdims, where, dtype):
    """How many elements each reduced position averages over (`where` counts)."""
    aval = get_aval(a)
    if where is None:
        n = math.prod(aval.shape[d] for d in axes)
        return lax.full((), n, dtype)
    return sum(broadcast_to_shape(where, aval.shape), axes, dtype=dtype, keepdims=keepdims)


def _divide(x, y):
    """x / y with y broadcast to x's shape (y scalar or same shape)."""
    y_aval = get_aval(y)
    if y_aval.shape != get_aval(x).shape:
        y = lax.broadcast_in_dim(y, get_aval(x).shape, ())
    return lax.div(x, y)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over `axis` (integers average in float32)."""
    return _mean(a, axis, dtype, out, keepdims, where)


def _mean(a, axis, dtype, out, keepdims, where):
    check_no_out(out, "mean")
    a = asarray(a)
    where = _check_where("mean", where)
    aval = get_aval(a)
    axes = reduction_axes(axis, aval.ndim, "mean")
    dtype = _user_dtype(dtype)
    result_dtype = _to_inexact_dtype(aval.dtype) if dtype is None else dtype
    compute_dtype = _upcast_f16(result_dtype) if dtype is None and \
        _dtypes.is_inexact(result_dtype) else result_dtype
    total = sum(a, axes, dtype=compute_dtype, keepdims=keepdims, where=where)
    normalizer = _count(a, axes, keepdims, where, compute_dtype)
    return lax.convert_element_type(_divide(total, normalizer), result_dtype)


def _var_dtypes(a_dtype, dtype):
    """(computation dtype, result dtype) of var/std, as in jnp."""
    if dtype is not None:
        if _dtypes.is_complex(a_dtype) and not _dtypes.is_complex(dtype):
            raise ValueError("jnp.var does not support a real dtype for complex input")
        return _upcast_f16(dtype), dtype
    if not _dtypes.is_inexact(a_dtype):
        result = _dtypes.default_float()
        return result, result
    real = np.finfo(a_dtype).dtype if _dtypes.is_complex(a_dtype) else a_dtype
    return _upcast_f16(a_dtype), np.dtype(real)


def _abs_squared(centered):
    if _dtypes.is_complex(get_aval(centered).dtype):
        return lax.real(lax.mul(centered, lax.conj(centered)))
    return lax.mul(centered, centered)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
    """Variance over `axis`; `ddof` (or `correction`) is subtracted from the count."""
    check_no_out(out, "var")
    if correction is None:
        correction = ddof
    elif ddof:
        raise ValueError("ddof and correction can't be provided simultaneously.")
    a = asarray(a)
    where = _check_where("var", where)
    axes = reduction_axes(axis, get_aval(a).ndim, "var")
    compute_dtype, result_dtype = _var_dtypes(get_aval(a).dtype, _user_dtype(dtype))
    a = lax.convert_element_type(a, compute_dtype)
    if mean is None:
        a_mean = _mean(a, axes, compute_dtype, None, True, where)
    else:
        a_mean = lax.convert_element_type(asarray(mean), compute_dtype)
    centered = _abs_squared(_sub_broadcast(a, a_mean))
    real_dtype = get_aval(centered).dtype
    count = _count(a, axes, keepdims, where, real_dtype)
    normalizer = lax.sub(count, lax.full_like(count, correction))
    total = sum(centered, axes, dtype=real_dtype, keepdims=keepdims, where=where)
    result = lax.convert_element_type(_divide(total, normalizer), result_dtype)
    positive = lax.gt(normalizer, lax.full_like(normalizer, 0))
    return select(positive, result, lax.full(get_aval(result).shape, np.nan, result_dtype))


def _sub_broadcast(a, b):
    return lax.sub(a, broadcast_to_shape(b, get_aval(a).shape))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
    """Standard deviation over `axis` (the square root of `var`)."""
    if dtype is not None and not _dtypes.is_inexact(np.dtype(dtype)):
        raise ValueError(f"dtype argument to jnp.std must be inexact; got {dtype}")
    return lax.sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                        correction=correction))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """Weighted mean over `axis`; with `returned`, also the sum of the weights."""
    a = asarray(a)
    axes = reduction_axes(axis, get_aval(a).ndim, "average")
    if weights is None:
        (a,) = promote_to_inexact(a)
        avg = mean(a, axis=axes, keepdims=keepdims)
        n = math.prod(get_aval(a).shape[d] for d in axes)
        weights_sum = lax.full((), n, get_aval(avg).dtype)
    else:
        a, weights = promote_to_inexact(a, asarray(weights))
        a_shape, w_shape = get_aval(a).shape, get_aval(weights).shape
        if a_shape != w_shape:
            if axis is None:
                raise ValueError("Axis must be specified when shapes of a and weights differ.")
            axis_list = [axis] if np.ndim(axis) == 0 else list(axis)
            axis_list = [canonicalize_axis(int(d), len(a_shape)) for d in axis_list]
            if w_shape != tuple(a_shape[d] for d in axis_list):
                raise ValueError("Shape of weights must be consistent with shape of a along "
                                 "specified axis.")
            weights = lax.broadcast_in_dim(weights, a_shape, tuple(axis_list))
        weights_sum = sum(weights, axis=axes, keepdims=keepdims)
        avg = lax.div(sum(lax.mul(a, weights), axis=axes, keepdims=keepdims), weights_sum)
    if returned:
        if get_aval(weights_sum).shape != get_aval(avg).shape:
            weights_sum = broadcast_to_shape(weights_sum, get_aval(avg).shape)
        return avg, weights_sum
    return avg


# --- ignoring NaNs --------------------------------------------------------------------

def _nan_reduction(a, name, reduction, fill, nan_if_all_nan, axis=None, keepdims=False,
                   where=None, **kwargs):
    a = asarray(a)
    if not _dtypes.is_inexact(get_aval(a).dtype):
        return reduction(a, axis=axis, keepdims=keepdims, where=where, **kwargs)
    nan = isnan(a)
    out = reduction(select(nan, lax.full_like(a, fill), a), axis=axis, keepdims=keepdims,
                    where=where, **kwargs)
    if not nan_if_all_nan:
        return out
    return select(all(nan, axis=axis, keepdims=keepdims), lax.full_like(out, np.nan), out)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """`sum` treating NaN as zero."""
    return _nan_reduction(a, "nansum", sum, 0, False, axis=axis, keepdims=keepdims,
                          where=where, dtype=dtype, out=out, initial=initial)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """`prod` treating NaN as one."""
    return _nan_reduction(a, "nanprod", prod, 1, False, axis=axis, keepdims=keepdims,
                          where=where, dtype=dtype, out=out, initial=initial)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """`max` ignoring NaN (NaN where every element is NaN)."""
    return _nan_reduction(a, "nanmax", max, -np.inf, True, axis=axis, keepdims=keepdims,
                          where=where, out=out, initial=initial)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """`min` ignoring NaN (NaN where every element is NaN)."""
    return _nan_reduction(a, "nanmin", min, np.inf, True, axis=axis, keepdims=keepdims,
                          where=where, out=out, initial=initial)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    """`mean` over the non-NaN elements."""
    check_no_out(out, "nanmean")
    a = asarray(a)
    if not _dtypes.is_inexact(get_aval(a).dtype):
        return mean(a, axis, dtype, out, keepdims, where=where)
    dtype = _to_inexact_dtype(get_aval(a).dtype) if dtype is None else _user_dtype(dtype)
    count = sum(_not(isnan(a)), axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    return lax.div(nansum(a, axis, dtype=dtype, keepdims=keepdims, where=where), count)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
    """`var` over the non-NaN elements."""
    check_no_out(out, "nanvar")
    a = asarray(a)
    compute_dtype, result_dtype = _var_dtypes(get_aval(a).dtype, _user_dtype(dtype))
    a = lax.convert_element_type(a, compute_dtype)
    axes = reduction_axes(axis, get_aval(a).ndim, "nanvar")
    if mean is None:
        a_mean = nanmean(a, axes, dtype=compute_dtype, keepdims=True, where=where)
    else:
        a_mean = lax.convert_element_type(asarray(mean), compute_dtype)
    nan = isnan(a)
    centered = select(nan, lax.full_like(a, 0), _sub_broadcast(a, a_mean))
    centered = _abs_squared(centered)
    count = sum(_not(nan), axes, keepdims=keepdims, where=where)
    normalizer = lax.sub(count, lax.full_like(count, ddof))
    empty = lax.le(normalizer, lax.full_like(normalizer, 0))
    total = sum(centered, axes, keepdims=keepdims, where=where)
    total = select(empty, lax.full_like(total, np.nan), total)
    divisor = select(empty, lax.full_like(normalizer, 1), normalizer)
    result = lax.div(total, lax.convert_element_type(divisor, get_aval(total).dtype))
    return lax.convert_element_type(result, result_dtype)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
    """`std` over the non-NaN elements."""
    check_no_out(out, "nanstd")
    return lax.sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean))


# the cumulative reductions are listed in __all__ above and live in _cumulative
from ._cumulative import (cumsum, cumprod, cumulative_sum, cumulative_prod,  # noqa: E402
                          nancumsum, nancumprod)
