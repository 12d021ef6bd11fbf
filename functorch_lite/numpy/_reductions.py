"""Reductions with axis and keepdims."""

__all__ = ["sum", "mean", "max", "min"]
import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ._util import asarray, promote_to_inexact


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis)) if ndim else ()


def _keep(out, axes, shape, keepdims):
    if not keepdims:
        return out
    return lax.reshape(out, [1 if i in axes else d for i, d in enumerate(shape)])


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    a = asarray(a) if not hasattr(a, "aval") and not hasattr(a, "_trace") else a
    aval = get_aval(a)
    if dtype is None and (aval.dtype == _dtypes.bool_ or (
            _dtypes.is_integer(aval.dtype) and aval.dtype.itemsize < 4)):
        dtype = _dtypes.default_int() if not _dtypes.is_unsigned(aval.dtype) else np.uint32
    if dtype is not None:
        a = lax.convert_element_type(a, dtype)
    axes = _axes(axis, aval.ndim)
    return _keep(lax.reduce_sum(a, axes), axes, aval.shape, keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    a = asarray(a) if not hasattr(a, "aval") and not hasattr(a, "_trace") else a
    aval = get_aval(a)
    (a,) = promote_to_inexact(a)
    axes = _axes(axis, aval.ndim)
    n = int(np.prod([aval.shape[i] for i in axes], dtype=np.int64))
    s = sum(a, axis=axes, keepdims=keepdims)
    return lax.div(s, lax.full(get_aval(s).shape, n, get_aval(s).dtype))


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    aval = get_aval(a)
    axes = _axes(axis, aval.ndim)
    return _keep(lax.reduce_max(a, axes), axes, aval.shape, keepdims)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    aval = get_aval(a)
    axes = _axes(axis, aval.ndim)
    return _keep(lax.reduce_min(a, axes), axes, aval.shape, keepdims)
