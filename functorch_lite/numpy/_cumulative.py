"""Cumulative reductions (cumsum, cumprod, their nan variants and the array-API
cumulative_sum/cumulative_prod) with jnp's dtype rules; exported by `_reductions`."""

__all__ = ["cumsum", "cumprod", "cumulative_sum", "cumulative_prod", "nancumsum",
           "nancumprod"]
from .. import _dtypes, lax
from .._core import get_aval
from ..lax._util import canonicalize_axis
from ._reductions import (isnan, select, _const_like, _promote_integer_dtype,
                          _user_dtype)
from ._util import asarray, check_no_out


def _cumulative(name, lax_cumulative, a, axis, dtype, out=None, fill_nan=False, fill=0,
                promote_integers=False):
    check_no_out(out, name)
    a = asarray(a)
    aval = get_aval(a)
    if axis is None or aval.ndim == 0:
        a = lax.reshape(a, (aval.size,))
    axis = 0 if axis is None else canonicalize_axis(int(axis), get_aval(a).ndim)
    if fill_nan:
        a = select(isnan(a), lax.full_like(a, fill), a)
    a_dtype = get_aval(a).dtype
    dtype = _user_dtype(dtype)
    if dtype is None:
        result_dtype = _promote_integer_dtype(a_dtype) if promote_integers or \
            a_dtype == _dtypes.bool_ else a_dtype
        compute_dtype = result_dtype
    elif dtype == _dtypes.bool_:
        result_dtype = dtype
        if a_dtype != dtype:
            a = lax.ne(a, _const_like(a, 0))
        compute_dtype = _promote_integer_dtype(dtype)
    else:
        result_dtype = compute_dtype = dtype
    a = lax.convert_element_type(a, compute_dtype)
    return lax.convert_element_type(lax_cumulative(a, axis), result_dtype)


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along `axis` (flattened when axis is None)."""
    return _cumulative("cumsum", lax.cumsum, a, axis, dtype, out)


def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along `axis` (flattened when axis is None)."""
    return _cumulative("cumprod", lax.cumprod, a, axis, dtype, out)


def nancumsum(a, axis=None, dtype=None, out=None):
    """`cumsum` treating NaN as zero."""
    return _cumulative("nancumsum", lax.cumsum, a, axis, dtype, out, fill_nan=True, fill=0)


def nancumprod(a, axis=None, dtype=None, out=None):
    """`cumprod` treating NaN as one."""
    return _cumulative("nancumprod", lax.cumprod, a, axis, dtype, out, fill_nan=True, fill=1)


def _cumulative_array_api(name, lax_cumulative, identity, x, axis, dtype, include_initial):
    x = asarray(x)
    ndim = get_aval(x).ndim
    if ndim == 0:
        raise ValueError(f"The input must be non-scalar to take a {name}, however a scalar "
                         f"value or scalar array was given.")
    if axis is None:
        if ndim > 1:
            raise ValueError(f"The input array has rank {ndim}, however axis was not set to "
                             f"an explicit value. The axis argument is only optional for "
                             f"one-dimensional arrays.")
        axis = 0
    axis = canonicalize_axis(int(axis), ndim)
    out = _cumulative(name, lax_cumulative, x, axis, dtype, promote_integers=True)
    if include_initial:
        shape = list(get_aval(out).shape)
        shape[axis] = 1
        out = lax.concatenate([lax.full(shape, identity, get_aval(out).dtype), out], axis)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Array-API cumulative sum (integers promote; optional leading zero)."""
    return _cumulative_array_api("cumulative_sum", lax.cumsum, 0, x, axis, dtype,
                                 include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Array-API cumulative product (integers promote; optional leading one)."""
    return _cumulative_array_api("cumulative_prod", lax.cumprod, 1, x, axis, dtype,
                                 include_initial)

