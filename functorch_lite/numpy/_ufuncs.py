"""Elementwise functions with NumPy broadcasting and JAX type promotion (weak Python
scalars included). Each function mirrors the jax.numpy function of the same name: same
result dtype and weak type, same values (including corner cases such as integer
floor division, `remainder`'s sign, NaN handling in `fmax`, ties in `logaddexp`)."""

__all__ = [
    # arithmetic
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder",
    "mod", "fmod", "divmod", "power", "pow", "float_power", "negative", "positive", "sign",
    "absolute", "abs", "fabs", "square", "reciprocal", "maximum", "minimum", "fmax", "fmin",
    "clip", "where", "heaviside", "copysign", "signbit", "nextafter",
    # rounding
    "floor", "ceil", "trunc", "fix", "rint", "round", "around",
    # exponentials, logarithms, trigonometry
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2",
    "sqrt", "cbrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "asin",
    "acos", "atan", "atan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "asinh", "acosh", "atanh", "deg2rad", "rad2deg", "degrees", "radians",
    # bitwise and logical
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert", "invert",
    "bitwise_count", "left_shift", "right_shift", "bitwise_left_shift",
    "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not",
    # comparisons and predicates
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "isfinite",
    "isnan", "isinf", "isposinf", "isneginf", "isclose", "allclose", "nan_to_num",
    # complex parts
    "real", "imag", "conj", "conjugate", "angle", "isreal", "iscomplex",
]
import operator

import numpy as np

from .. import _dtypes, _jax_versions, lax
from .._core import Tracer, get_aval
from ..lax._logaddexp import logaddexp as logaddexp_lax, logaddexp2 as logaddexp2_lax
from ._util import asarray, broadcast_arrays_, check_no_out, is_scalar
from ._reductions import all as all_
from ._sorting import nonzero
from ._promotion import (_array, _is_int_or_bool, _lax_const, _like, _promote,
                         _promote_inexact, _promote_numeric, _strong_const, _where)


# --- one jnp function per lax primitive -----------------------------------------------

def _unary(lax_fn, name, promote=_promote):
    def fn(x, /):
        return lax_fn(*promote(x))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `jnp.{name}`."
    return fn


def _binary(lax_fn, name, promote=_promote):
    def fn(x, y, /):
        return lax_fn(*promote(x, y))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `jnp.{name}` with broadcasting."
    return fn


# --- arithmetic ---------------------------------------------------------------------

def add(x, y, /):
    """x + y (logical or for booleans)."""
    x, y = _promote(x, y)
    return lax.bitwise_or(x, y) if get_aval(x).dtype == _dtypes.bool_ else lax.add(x, y)


def multiply(x, y, /):
    """x * y (logical and for booleans)."""
    x, y = _promote(x, y)
    return lax.bitwise_and(x, y) if get_aval(x).dtype == _dtypes.bool_ else lax.mul(x, y)


subtract = _binary(lax.sub, "subtract")
true_divide = _binary(lax.div, "true_divide", _promote_inexact)
divide = _binary(lax.div, "divide", _promote_inexact)
maximum = _binary(lax.max, "maximum")
minimum = _binary(lax.min, "minimum")
nextafter = _binary(lax.nextafter, "nextafter", _promote_inexact)
negative = _unary(lax.neg, "negative")
positive = _unary(lambda x: x, "positive")
sign = _unary(lax.sign, "sign")
square = _unary(lax.square, "square", _promote_numeric)
fabs = _unary(lax.abs, "fabs", _promote_inexact)
reciprocal = _unary(lambda x: lax.integer_pow(x, -1), "reciprocal", _promote_inexact)


def absolute(x, /):
    """|x| (booleans and unsigned integers are returned as they are)."""
    x = _array(x)
    dtype = get_aval(x).dtype
    return x if dtype == _dtypes.bool_ or _dtypes.is_unsigned(dtype) else lax.abs(x)


abs = absolute


def floor_divide(x1, x2, /):
    """x1 // x2, rounding toward -inf (integers stay integers)."""
    x1, x2 = _promote_numeric(x1, x2)
    dtype = get_aval(x1).dtype
    if _dtypes.is_unsigned(dtype):
        return lax.div(x1, x2)
    if _dtypes.is_integer(dtype):
        quotient = lax.div(x1, x2)
        fix = lax.bitwise_and(lax.ne(lax.sign(x1), lax.sign(x2)),
                              lax.ne(lax.rem(x1, x2), _like(x1, 0)))
        return lax.select_n(fix, quotient, lax.sub(quotient, _like(quotient, 1)))
    if _dtypes.is_complex(dtype):
        raise TypeError("floor_divide does not support complex-valued inputs")
    return _float_divmod(x1, x2)[0]


def _float_divmod(x1, x2):
    mod = lax.rem(x1, x2)
    x1_corrected = _where(lax.eq(x2, _like(x2, 0)), x1, lax.sub(x1, mod))
    quotient = lax.div(x1_corrected, x2)
    fix = lax.bitwise_and(lax.ne(mod, _like(mod, 0)), lax.ne(lax.sign(x2), lax.sign(mod)))
    mod = lax.select_n(fix, mod, lax.add(mod, x2))
    quotient = lax.select_n(fix, quotient, lax.sub(quotient, _like(quotient, 1)))
    return lax.round(quotient), mod


def remainder(x1, x2, /):
    """x1 mod x2 with the sign of x2 (as Python's %)."""
    x1, x2 = _promote_numeric(x1, x2)
    zero = _strong_const(x1, 0)
    if _dtypes.is_integer(get_aval(x2).dtype):
        x2 = lax.select_n(lax.eq(x2, zero), x2, _like(x2, 1))
    trunc_mod = lax.rem(x1, x2)
    do_plus = lax.bitwise_and(lax.ne(lax.lt(trunc_mod, zero), lax.lt(x2, zero)),
                              lax.ne(trunc_mod, zero))
    return lax.select_n(do_plus, trunc_mod, lax.add(trunc_mod, x2))


mod = remainder


def fmod(x1, x2, /):
    """x1 mod x2 with the sign of x1 (as C's fmod)."""
    x1, x2 = _promote_numeric(x1, x2)
    if _dtypes.is_integer(get_aval(x2).dtype):
        x2 = lax.select_n(lax.eq(x2, _like(x2, 0)), x2, _like(x2, 1))
    return lax.rem(x1, x2)


def divmod(x1, x2, /):
    """(floor_divide(x1, x2), remainder(x1, x2))."""
    x1, x2 = _promote_numeric(x1, x2)
    if _is_int_or_bool(x1):
        return floor_divide(x1, x2), remainder(x1, x2)
    return _float_divmod(x1, x2)


def _static_int(x):
    """x as a Python int when it is a concrete integer scalar, else None."""
    if isinstance(x, Tracer) or isinstance(x, (bool, np.bool_)):
        return None
    try:
        return operator.index(x)
    except TypeError:
        return None


def power(x1, x2, /):
    """x1 ** x2. A concrete integer exponent uses repeated multiplication (exact for
    integers, differentiable at x1 == 0); otherwise `lax.pow`."""
    n = _static_int(x2)
    if n is not None:
        (x1,) = _promote_numeric(x1)
        return lax.integer_pow(x1, n)
    x1, x2 = _array(x1), _array(x2)
    d1, d2 = get_aval(x1).dtype, get_aval(x2).dtype
    p1, p2 = _promote_numeric(x1, x2)
    if _is_int_or_bool(p1):
        return _pow_int_int(p1, p2)
    if _dtypes.is_inexact(d1) and _dtypes.is_integer(d2):
        return lax.pow(*broadcast_arrays_(x1, x2))
    return lax.pow(p1, p2)


pow = power


def _pow_int_int(x1, x2):
    """Integer power by binary exponentiation over the exponent's low 6 bits."""
    zero, one = _strong_const(x2, 0), _strong_const(x2, 1)
    acc = lax.select_n(lax.bitwise_and(lax.eq(x1, zero), lax.ne(x2, zero)), one, zero)
    for _ in range(6):
        acc = lax.select_n(lax.ne(lax.bitwise_and(x2, one), zero), acc, lax.mul(acc, x1))
        x1 = lax.mul(x1, x1)
        x2 = lax.shift_right_logical(x2, one)
    return acc


float_power = _binary(lax.pow, "float_power", _promote_inexact)


def fmax(x1, x2, /):
    """Elementwise maximum that ignores NaNs."""
    return _where(logical_or(greater(x1, x2), isnan(x2)), x1, x2)


def fmin(x1, x2, /):
    """Elementwise minimum that ignores NaNs."""
    return _where(logical_or(less(x1, x2), isnan(x2)), x1, x2)


def clip(arr=None, /, min=None, max=None, *, a=None, a_min=None, a_max=None):
    """Limit values to [min, max]; either bound may be None. Accepts NumPy's
    `a_min`/`a_max` names as well as `min`/`max`."""
    arr = a if arr is None else arr
    if arr is None:
        raise ValueError("No input was provided to the clip function.")
    min = a_min if min is None else min
    max = a_max if max is None else max
    if min is not None:
        arr = maximum(min, arr)
    if max is not None:
        arr = minimum(max, arr)
    return _array(arr)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """x where condition else y; the one-argument form is `nonzero(condition)`."""
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("Either both or neither of the x and y arguments should be "
                         "provided to jnp.where.")
    return _where(condition, x, y)


def heaviside(x1, x2, /):
    """0 for x1 < 0, x2 for x1 == 0, 1 for x1 > 0 (NaN stays NaN)."""
    x1, x2 = _promote_inexact(x1, x2)
    zero, one = _lax_const(x1, 0), _lax_const(x1, 1)
    return _where(lax.lt(x1, zero), zero,
                  _where(lax.gt(x1, zero), one, _where(lax.ne(x1, x1), x1, x2)))


def signbit(x, /):
    """True where the sign bit is set (-0.0 and negative NaNs included)."""
    (x,) = _promote(x)
    dtype = get_aval(x).dtype
    if _dtypes.is_integer(dtype):
        return lax.lt(x, _strong_const(x, 0))
    if dtype == _dtypes.bool_:
        return lax.full(get_aval(x).shape, False, np.bool_)
    if not _dtypes.is_float(dtype):
        raise ValueError(f"jnp.signbit is not well defined for {dtype}")
    int_type = {2: np.int16, 4: np.int32, 8: np.int64}[dtype.itemsize]
    bits = lax.bitcast_convert_type(x, int_type)
    return lax.lt(bits, lax.full(get_aval(bits).shape, 0, int_type))


def copysign(x1, x2, /):
    """|x1| with the sign of x2."""
    x1, x2 = _promote_inexact(x1, x2)
    if _dtypes.is_complex(get_aval(x1).dtype):
        raise TypeError("copysign does not support complex-valued inputs")
    return _where(signbit(x2), lax.neg(lax.abs(x1)), lax.abs(x1))


# --- rounding -----------------------------------------------------------------------

def floor(x, /):
    """Round down (integers are returned as they are)."""
    x = _array(x)
    return x if _is_int_or_bool(x) else lax.floor(*_promote_inexact(x))


def ceil(x, /):
    """Round up (integers are returned as they are)."""
    x = _array(x)
    return x if _is_int_or_bool(x) else lax.ceil(*_promote_inexact(x))


def trunc(x, /):
    """Round toward zero (integers are returned as they are)."""
    x = _array(x)
    if _is_int_or_bool(x):
        return x
    return _where(lax.lt(x, _lax_const(x, 0)), lax.ceil(x), lax.floor(x))


fix = trunc


def rint(x, /):
    """Round to the nearest integer, ties to even; integers become floats."""
    x = _array(x)
    if _is_int_or_bool(x):
        return lax.convert_element_type(x, _dtypes.default_float())
    return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)


def round(a, decimals=0, out=None):
    """Round to `decimals` decimal places, ties to even."""
    check_no_out(out, "round")
    a = _array(a)
    decimals = operator.index(decimals)
    dtype = get_aval(a).dtype
    if _dtypes.is_integer(dtype):
        if decimals < 0:
            raise NotImplementedError("integer np.round not implemented for decimals < 0")
        return a
    if decimals == 0:
        return lax.round(a, lax.RoundingMethod.TO_NEAREST_EVEN)
    if decimals > np.log10(float(_dtypes.finfo(dtype).max)):
        return a
    x = lax.convert_element_type(a, np.float32) if dtype == _dtypes.float16 else a
    factor = _lax_const(x, 10 ** decimals)
    out = lax.div(lax.round(lax.mul(x, factor), lax.RoundingMethod.TO_NEAREST_EVEN), factor)
    return lax.convert_element_type(out, dtype) if dtype == _dtypes.float16 else out


around = round

# --- exponentials, logarithms, trigonometry ------------------------------------------

exp = _unary(lax.exp, "exp", _promote_inexact)
exp2 = _unary(lax.exp2, "exp2", _promote_inexact)
expm1 = _unary(lax.expm1, "expm1", _promote_inexact)
log = _unary(lax.log, "log", _promote_inexact)
log1p = _unary(lax.log1p, "log1p", _promote_inexact)
log2 = _unary(lax.log2 if _jax_versions.LOG2_PRIMITIVE else  # as the installed JAX
              lambda x: lax.div(lax.log(x), lax.log(_strong_const(x, 2))), "log2",
              _promote_inexact)
log10 = _unary(lambda x: lax.mul(lax.log(x), _strong_const(x, 0.4342944819032518)), "log10",
               _promote_inexact)
sqrt = _unary(lax.sqrt, "sqrt", _promote_inexact)
cbrt = _unary(lax.cbrt, "cbrt", _promote_inexact)
sin = _unary(lax.sin, "sin", _promote_inexact)
cos = _unary(lax.cos, "cos", _promote_inexact)
tan = _unary(lax.tan, "tan", _promote_inexact)
arcsin = asin = _unary(lax.asin, "arcsin", _promote_inexact)
arccos = acos = _unary(lax.acos, "arccos", _promote_inexact)
arctan = atan = _unary(lax.atan, "arctan", _promote_inexact)
sinh = _unary(lax.sinh, "sinh", _promote_inexact)
cosh = _unary(lax.cosh, "cosh", _promote_inexact)
tanh = _unary(lax.tanh, "tanh", _promote_inexact)
arcsinh = asinh = _unary(lax.asinh, "arcsinh", _promote_inexact)
arccosh = acosh = _unary(lax.acosh, "arccosh", _promote_inexact)
arctanh = atanh = _unary(lax.atanh, "arctanh", _promote_inexact)
arctan2 = atan2 = _binary(lax.atan2, "arctan2", _promote_inexact)
deg2rad = radians = _unary(lambda x: lax.mul(x, _lax_const(x, np.pi / 180)), "deg2rad",
                           _promote_inexact)
rad2deg = degrees = _unary(lambda x: lax.mul(x, _lax_const(x, 180 / np.pi)), "rad2deg",
                           _promote_inexact)


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow (with JAX's derivative rule)."""
    return logaddexp_lax(*_promote_inexact(x1, x2))


def logaddexp2(x1, x2, /):
    """log2(2**x1 + 2**x2) without overflow (with JAX's derivative rule)."""
    return logaddexp2_lax(*_promote_inexact(x1, x2))


# --- bitwise and logical ------------------------------------------------------------

bitwise_and = _binary(lax.bitwise_and, "bitwise_and")
bitwise_or = _binary(lax.bitwise_or, "bitwise_or")
bitwise_xor = _binary(lax.bitwise_xor, "bitwise_xor")
bitwise_not = bitwise_invert = invert = _unary(lax.bitwise_not, "invert")
left_shift = bitwise_left_shift = _binary(lax.shift_left, "left_shift", _promote_numeric)


def right_shift(x1, x2, /):
    """x1 >> x2: logical for unsigned integers, arithmetic for signed ones."""
    x1, x2 = _promote_numeric(x1, x2)
    if _dtypes.is_unsigned(get_aval(x1).dtype):
        return lax.shift_right_logical(x1, x2)
    return lax.shift_right_arithmetic(x1, x2)


bitwise_right_shift = right_shift


def bitwise_count(x, /):
    """Number of set bits in |x|, as uint8."""
    (x,) = _promote_numeric(x)
    return lax.convert_element_type(lax.population_count(absolute(x)), np.uint8)


def _to_bool(x):
    return x if get_aval(x).dtype == _dtypes.bool_ else lax.ne(x, _lax_const(x, 0))


logical_and = _binary(lambda x, y: lax.bitwise_and(_to_bool(x), _to_bool(y)), "logical_and")
logical_or = _binary(lambda x, y: lax.bitwise_or(_to_bool(x), _to_bool(y)), "logical_or")
logical_xor = _binary(lambda x, y: lax.bitwise_xor(_to_bool(x), _to_bool(y)), "logical_xor")
logical_not = _unary(lambda x: lax.bitwise_not(_to_bool(x)), "logical_not")

# --- comparisons and predicates -----------------------------------------------------

equal = _binary(lax.eq, "equal")
not_equal = _binary(lax.ne, "not_equal")
less = _binary(lax.lt, "less")
less_equal = _binary(lax.le, "less_equal")
greater = _binary(lax.gt, "greater")
greater_equal = _binary(lax.ge, "greater_equal")


def _all_false_or_true(x, value):
    return lax.full(get_aval(x).shape, value, np.bool_)


def isfinite(x, /):
    """True where x is neither infinite nor NaN."""
    x = _array(x)
    dtype = get_aval(x).dtype
    if _dtypes.is_float(dtype):
        return lax.is_finite(x)
    if _dtypes.is_complex(dtype):
        return lax.bitwise_and(lax.is_finite(lax.real(x)), lax.is_finite(lax.imag(x)))
    return _all_false_or_true(x, True)


def isinf(x, /):
    """True where x is +inf or -inf."""
    x = _array(x)
    dtype = get_aval(x).dtype
    if _dtypes.is_float(dtype):
        return lax.eq(lax.abs(x), _strong_const(x, np.inf))
    if _dtypes.is_complex(dtype):
        return lax.bitwise_or(isinf(lax.real(x)), isinf(lax.imag(x)))
    return _all_false_or_true(x, False)


def _isposneginf(x, infinity):
    x = _array(x)
    dtype = get_aval(x).dtype
    if _dtypes.is_float(dtype):
        return lax.eq(x, _strong_const(x, infinity))
    if _dtypes.is_complex(dtype):
        raise ValueError("isposinf/isneginf are not well defined for complex types")
    return _all_false_or_true(x, False)


def isposinf(x, /):
    """True where x is +inf."""
    return _isposneginf(x, np.inf)


def isneginf(x, /):
    """True where x is -inf."""
    return _isposneginf(x, -np.inf)


def isnan(x, /):
    """True where x is NaN."""
    x = _array(x)
    return lax.ne(x, x)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise (infinities equal only to themselves)."""
    a, b = _promote_inexact(a, b)
    dtype = get_aval(a).dtype
    if _dtypes.is_complex(dtype):
        dtype = np.dtype(np.float32 if dtype == _dtypes.complex64 else np.float64)
    shape = get_aval(a).shape
    rtol, atol = (lax.full(shape, t, dtype) if is_scalar(t) else
                  lax.convert_element_type(t, dtype) for t in (rtol, atol))
    in_range = lax.le(lax.abs(lax.sub(a, b)), lax.add(atol, lax.mul(rtol, lax.abs(b))))
    out = logical_or(lax.eq(a, b), logical_and(isfinite(b), in_range))
    return logical_or(out, logical_and(isnan(a), isnan(b))) if equal_nan else out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of a is close to b (see `isclose`)."""
    return all_(isclose(a, b, rtol, atol, equal_nan))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by `nan` and infinities by `posinf`/`neginf` (default: finite
    extremes of the dtype)."""
    del copy
    x = _array(x)
    dtype = get_aval(x).dtype
    if not _dtypes.is_inexact(dtype):
        return x
    if _dtypes.is_complex(dtype):
        parts = (nan_to_num(f(x), nan=nan, posinf=posinf, neginf=neginf)
                 for f in (lax.real, lax.imag))
        return lax.complex(*parts)
    info = _dtypes.finfo(dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = _where(isnan(x), asarray(nan, dtype=dtype), x)
    out = _where(isposinf(out), asarray(posinf, dtype=dtype), out)
    return _where(isneginf(out), asarray(neginf, dtype=dtype), out)


# --- complex parts ------------------------------------------------------------------

def real(val, /):
    """The real part (real input is returned as it is)."""
    val = _array(val)
    return lax.real(val) if _dtypes.is_complex(get_aval(val).dtype) else val


def imag(val, /):
    """The imaginary part (zeros for real input)."""
    val = _array(val)
    return lax.imag(val) if _dtypes.is_complex(get_aval(val).dtype) else _like(val, 0)


def conjugate(x, /):
    """The complex conjugate (real input is returned as it is)."""
    x = _array(x)
    return lax.conj(x) if _dtypes.is_complex(get_aval(x).dtype) else x


conj = conjugate


def angle(z, deg=False):
    """The argument of complex z (0 or pi for real input), in radians or degrees."""
    z = _array(z)
    re, im = real(z), imag(z)
    z_aval, dtype = get_aval(z), get_aval(re).dtype
    if not _dtypes.is_inexact(dtype) or (_dtypes.is_float(z_aval.dtype) and z_aval.ndim == 0):
        re = lax.convert_element_type(re, _dtypes.default_float())
        im = lax.convert_element_type(im, _dtypes.default_float())
    result = lax.atan2(im, re)
    return degrees(result) if deg else result


def isreal(x, /):
    """True where the imaginary part is zero."""
    i = imag(x)
    return lax.eq(i, _lax_const(i, 0))


def iscomplex(x, /):
    """True where the imaginary part is nonzero."""
    i = imag(x)
    return lax.ne(i, _lax_const(i, 0))
