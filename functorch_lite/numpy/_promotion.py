"""How the elementwise functions of jax.numpy take their operands: arrays or weak Python
scalars, promoted to one dtype (numeric, inexact) and broadcast, as
`jax.numpy.util.promote_args*` do."""
import numpy as np

from .. import _dtypes, lax
from .._core import current_trace, eval_trace, get_aval, user_source_line
from ._util import (asarray, broadcast_arrays_, check_rank_promotion, is_scalar,
                    _result_type_weak)


# --- promotion helpers (as jax.numpy.util.promote_args*) -----------------------------

def _arraylike(x):
    """Python scalars stay (they are weak); lists and tuples become arrays."""
    return asarray(x) if isinstance(x, (list, tuple)) else x


_PYTHON_KIND = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def _scalar_as(x, dtype, weak):
    """Python scalar x as a constant of `dtype` that tracing writes as a literal: a
    Python scalar when weak (weak types are the default dtypes), else a 0-d NumPy
    array. A Python int the dtype cannot hold is an OverflowError (as in JAX), never a
    silently wrapped value."""
    if type(x) is int and np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= x <= info.max:
            raise OverflowError(f"Python int {x} too large to convert to {np.dtype(dtype)}"
                                f"\n  at {user_source_line()}")
    if weak:
        value = _PYTHON_KIND[np.dtype(dtype).kind](x)
        if _dtypes.python_scalar_dtype(value) == dtype:
            return value
    return np.asarray(x, dtype)


def _convert(x, dtype, weak):
    if is_scalar(x):  # a literal when traced; a device scalar when eager
        scalar = _scalar_as(x, dtype, weak)
        return asarray(scalar) if current_trace() is eval_trace else scalar
    aval = get_aval(x)
    if aval.dtype != dtype or aval.weak_type != weak:
        return lax.convert_element_type(x, dtype, weak)
    return x


def _promote(*args, to=None):
    """Convert args to their common dtype (then `to(dtype)`), broadcast to one shape."""
    args = [_arraylike(a) for a in args]
    dtype, weak = _result_type_weak(*args)
    if to is not None:
        dtype = to(dtype)
    out = [_convert(a, dtype, weak) for a in args]
    if len(out) == 1:
        return out
    # JAX's class for incompatible shapes: TypeError from the lax op when the ranks are
    # equal (no broadcasting step), ValueError from broadcasting otherwise
    same_rank = len({get_aval(a).ndim for a in out}) == 1
    if not same_rank:
        check_rank_promotion([get_aval(a).shape for a in out])
    return broadcast_arrays_(*out, error=TypeError if same_rank else ValueError)


def _inexact(dtype):
    return dtype if _dtypes.is_inexact(dtype) else _dtypes.default_float()


def _numeric(dtype):
    return _dtypes.default_int() if dtype == _dtypes.bool_ else dtype


def _promote_inexact(*args):
    return _promote(*args, to=_inexact)


def _promote_numeric(*args):
    return _promote(*args, to=_numeric)


def _array(x):
    """x as an array; Python bools are never weakly typed."""
    if isinstance(x, bool):
        return asarray(x, dtype=np.bool_)
    return asarray(_arraylike(x))


# Constants follow jax.numpy's source: a Python literal there takes x's dtype and weak
# type (`_like`), `lax._const` is weak only for weak 0-d x (`_lax_const`), and
# `_constant_like` is never weak (`_strong_const`). Result weak types depend on it.

def _like(x, value):
    aval = get_aval(x)
    return lax.full(aval.shape, value, aval.dtype, weak_type=aval.weak_type)


def _lax_const(x, value):
    aval = get_aval(x)
    return lax.full(aval.shape, value, aval.dtype, weak_type=aval.weak_type and not aval.shape)


def _strong_const(x, value):
    aval = get_aval(x)
    return lax.full(aval.shape, value, aval.dtype)


def _is_int_or_bool(x):
    dtype = get_aval(x).dtype
    return _dtypes.is_integer(dtype) or dtype == _dtypes.bool_


def _where(condition, x, y):
    condition = _array(condition)
    x, y = _promote(x, y)  # the condition's rank is not checked, as in JAX
    c, x, y = broadcast_arrays_(condition, x, y)
    if get_aval(c).dtype != _dtypes.bool_:
        c = lax.convert_element_type(c, np.bool_)
    return lax.select_n(c, y, x)
