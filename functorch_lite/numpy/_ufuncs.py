"""Elementwise functions with NumPy broadcasting and JAX type promotion."""

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "negative", "exp", "log", "sin", "cos", "tanh", "sqrt", "absolute", "abs", "sign", "power", "square", "where"]
import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ._util import promote_and_broadcast, promote_to_inexact, broadcast_arrays_, asarray


def _binary(lax_fn, name, inexact=False):
    def fn(x, y, /):
        if inexact:
            x, y = promote_to_inexact(x, y)
        return lax_fn(*promote_and_broadcast(x, y))
    fn.__name__ = name
    return fn


def _unary(lax_fn, name, inexact=False):
    def fn(x, /):
        x = asarray(x) if not hasattr(x, "aval") and not hasattr(x, "_trace") else x
        if inexact:
            (x,) = promote_to_inexact(x)
        return lax_fn(x)
    fn.__name__ = name
    return fn


add = _binary(lax.add, "add")
subtract = _binary(lax.sub, "subtract")
multiply = _binary(lax.mul, "multiply")
true_divide = divide = _binary(lax.div, "divide", inexact=True)
maximum = _binary(lax.max, "maximum")
minimum = _binary(lax.min, "minimum")
equal = _binary(lax.eq, "equal")
not_equal = _binary(lax.ne, "not_equal")
less = _binary(lax.lt, "less")
less_equal = _binary(lax.le, "less_equal")
greater = _binary(lax.gt, "greater")
greater_equal = _binary(lax.ge, "greater_equal")

negative = _unary(lax.neg, "negative")
exp = _unary(lax.exp, "exp", inexact=True)
log = _unary(lax.log, "log", inexact=True)
sin = _unary(lax.sin, "sin", inexact=True)
cos = _unary(lax.cos, "cos", inexact=True)
tanh = _unary(lax.tanh, "tanh", inexact=True)
sqrt = _unary(lax.sqrt, "sqrt", inexact=True)
absolute = abs = _unary(lax.abs, "absolute")
sign = _unary(lax.sign, "sign")


def power(x, y, /):
    if isinstance(y, int) and not isinstance(y, bool):
        # integer powers by repeated squaring (as lax.integer_pow)
        (x,) = [asarray(x) if not hasattr(x, "aval") and not hasattr(x, "_trace") else x]
        return _integer_pow(x, y)
    x, y = promote_to_inexact(x, y)
    x, y = broadcast_arrays_(x, y)
    return lax.exp(lax.mul(y, lax.log(x)))


def _integer_pow(x, n):
    if n == 0:
        return lax.full(get_aval(x).shape, 1, get_aval(x).dtype)
    if n < 0:
        (x,) = promote_to_inexact(x)
        return lax.div(lax.full(get_aval(x).shape, 1, get_aval(x).dtype), _integer_pow(x, -n))
    acc = None
    base = x
    while n:
        if n & 1:
            acc = base if acc is None else lax.mul(acc, base)
        n >>= 1
        if n:
            base = lax.mul(base, base)
    return acc


def square(x, /):
    return multiply(x, x)


def where(condition, x=None, y=None):
    if x is None and y is None:
        raise NotImplementedError("one-argument where is jnp.nonzero")
    condition = asarray(condition) if not hasattr(condition, "aval") and not hasattr(condition, "_trace") else condition
    x, y = promote_dtypes_pair(x, y)
    c, x, y = broadcast_arrays_(condition, x, y)
    c = lax.convert_element_type(c, np.bool_)
    return lax.select_n(c, y, x)


def promote_dtypes_pair(x, y):
    from ._util import promote_dtypes
    return promote_dtypes(x, y)
