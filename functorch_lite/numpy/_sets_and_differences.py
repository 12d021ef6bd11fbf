"""Differences, membership and counting: diff, ediff1d, isin, bincount, array_equal,
array_equiv, as in jax.numpy."""
import operator

import numpy as np

from .. import _core, _dtypes, lax
from .._core import get_aval
from ..lax._util import canonicalize_axis
from ._util import asarray
from ._shape import concatenate, broadcast_to, ravel
from ._reductions import any as any_, all as all_
from ._ufuncs import equal, clip, isnan, logical_or, logical_and
from ._creation import zeros

__all__ = ["diff", "ediff1d", "isin", "bincount", "array_equal", "array_equiv"]


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The n-th discrete difference along `axis` (a[1:] - a[:-1], n times)."""
    a = asarray(a)
    axis = canonicalize_axis(axis, get_aval(a).ndim)
    pieces = [a]
    shape = list(get_aval(a).shape)
    if prepend is not None:
        p = asarray(prepend)
        if get_aval(p).ndim == 0:
            p = broadcast_to(p, tuple(shape[:axis] + [1] + shape[axis + 1:]))
        pieces.insert(0, p)
    if append is not None:
        p = asarray(append)
        if get_aval(p).ndim == 0:
            p = broadcast_to(p, tuple(shape[:axis] + [1] + shape[axis + 1:]))
        pieces.append(p)
    if len(pieces) > 1:
        a = concatenate(pieces, axis=axis)
    for _ in range(int(n)):
        size = get_aval(a).shape[axis]  # (an empty axis stays empty, as a[1:] - a[:-1])
        hi = lax.slice_in_dim(a, min(1, size), size, axis=axis)
        lo = lax.slice_in_dim(a, 0, max(size - 1, 0), axis=axis)
        a = lax.ne(hi, lo) if get_aval(a).dtype == _dtypes.bool_ else lax.sub(hi, lo)
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array, with optional values at either end."""
    out = diff(ravel(asarray(ary)))
    parts = [ravel(asarray(to_begin, get_aval(out).dtype))] if to_begin is not None else []
    parts.append(out)
    if to_end is not None:
        parts.append(ravel(asarray(to_end, get_aval(out).dtype)))
    return concatenate(parts) if len(parts) > 1 else out


def isin(element, test_elements, assume_unique=False, invert=False):
    """Whether each entry of `element` occurs in `test_elements` (compared all-pairs)."""
    element, tests = asarray(element), ravel(asarray(test_elements))
    found = any_(equal(lax.expand_dims(element, (get_aval(element).ndim,)), tests), axis=-1)
    return lax.bitwise_not(found) if invert else found


def bincount(x, weights=None, minlength=0, *, length=None):
    """Counts (or summed weights) of each value of the 1-D integer (or boolean) `x`;
    negative values count in bin 0, values past `length` are dropped, as jax.numpy.

    Under a transformation the output size must be static: pass `length`."""
    x = asarray(x)
    if get_aval(x).dtype == _dtypes.bool_:
        x = lax.convert_element_type(x, np.int32)
    if not _dtypes.is_integer(get_aval(x).dtype):
        raise TypeError(f"x argument to bincount must have an integer type; got "
                        f"{get_aval(x).dtype}")
    if get_aval(x).ndim != 1:
        raise ValueError(f"bincount requires a 1-D input, got shape {get_aval(x).shape}")
    minlength = operator.index(minlength)
    if length is None:
        if isinstance(x, _core.Tracer):
            raise _core.ConcretizationTypeError(x, "bincount without a static length=")
        values = np.asarray(x)
        length = max(minlength, values.size and int(max(0, values.max())) + 1)
    if weights is None:
        weights = lax.full(get_aval(x).shape, 1, _dtypes.default_int())
    weights = asarray(weights)
    if get_aval(weights).shape != get_aval(x).shape:
        raise ValueError(f"type of weights must match type of x. Got x of shape "
                         f"{get_aval(x).shape} and weights of shape "
                         f"{get_aval(weights).shape}")
    out = zeros((int(length),), get_aval(weights).dtype)
    return out.at[clip(x, 0)].add(weights, mode="drop")


def array_equal(a1, a2, equal_nan=False):
    """True when the arrays have one shape and equal elements."""
    a1, a2 = asarray(a1), asarray(a2)
    if get_aval(a1).shape != get_aval(a2).shape:
        return asarray(False)
    eq = equal(a1, a2)
    if equal_nan:
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))
    return all_(eq)


def array_equiv(a1, a2):
    """True when the arrays broadcast to one shape with equal elements."""
    try:
        return all_(equal(asarray(a1), asarray(a2)))
    except ValueError:
        return asarray(False)
