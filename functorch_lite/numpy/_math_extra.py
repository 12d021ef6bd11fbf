"""Number-theoretic and floating-point functions of jax.numpy: ldexp, frexp, modf, gcd,
lcm, spacing, i0, packbits and unpackbits, written as jax.numpy writes them (so values,
dtypes and derivatives agree, frexp's custom JVP included)."""

__all__ = ["ldexp", "frexp", "modf", "gcd", "lcm", "spacing", "i0", "packbits",
           "unpackbits"]
import numpy as np

from .. import _dtypes, lax, numpy as jnp
from .._core import get_aval, user_source_line
from .._custom import custom_jvp
from ._util import asarray, compiled, promote_dtypes, promote_to_inexact
from ._promotion import _promote_inexact
from .._api import jvp

_INT_OF_BITS = {16: np.int16, 32: np.int32, 64: np.int64}


def _dtype(x):
    return get_aval(x).dtype


# --- frexp / ldexp / modf / spacing ----------------------------------------------------

def _normalize_float(x):
    info = _dtypes.finfo(_dtype(x))
    int_type = _INT_OF_BITS[info.bits]
    tiny = jnp.abs(x) < info.tiny
    x1 = jnp.where(tiny, x * np.asarray(1 << info.nmant, _dtype(x)), x)
    x2 = jnp.where(tiny, int_type(-info.nmant), int_type(0))
    return lax.bitcast_convert_type(x1, int_type), x2


@custom_jvp
def _frexp(x):
    dtype = _dtype(x)
    info = _dtypes.finfo(dtype)
    int_type = _INT_OF_BITS[info.bits]
    mask = (1 << info.nexp) - 1
    bias = 1 - info.minexp
    x1, x2 = _normalize_float(x)
    x2 = x2 + ((x1 >> int_type(info.nmant)) & int_type(mask)) - int_type(bias - 1)
    x1 = x1 & int_type(~(mask << info.nmant))
    x1 = x1 | int_type((bias - 1) << info.nmant)
    x1 = lax.bitcast_convert_type(x1, dtype)
    special = jnp.isinf(x) | jnp.isnan(x) | (x == 0)
    x2 = jnp.where(special, jnp.zeros_like(x2), x2)
    return jnp.where(special, x, x1), lax.convert_element_type(x2, np.int32)


@_frexp.defjvp
def _frexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    m, e = _frexp(x)
    return (m, e), (t * jnp.exp2(-e.astype(_dtype(t))), np.zeros(get_aval(e).shape,
                                                                  _dtypes.float0))


@compiled()
def frexp(x, /):
    """(mantissa, exponent) with x = mantissa * 2**exponent and 0.5 <= |mantissa| < 1."""
    (x,) = promote_to_inexact(asarray(x))
    if _dtypes.is_complex(_dtype(x)):
        raise TypeError("frexp does not support complex-valued inputs")
    return _frexp(x)


@compiled()
def ldexp(x1, x2, /):
    """x1 * 2**x2 for integer x2, without overflow in the intermediate power."""
    x1, x2 = asarray(x1), asarray(x2)
    if _dtypes.is_complex(_dtype(x1)) or _dtypes.is_inexact(_dtype(x2)):
        raise ValueError(f"ldexp not supported for input types {(_dtype(x1), _dtype(x2))}")
    (x1,) = _promote_inexact(x1)
    x2 = lax.convert_element_type(x2, _dtype(x1))
    m, e = frexp(x1)
    e = (e.astype(_dtype(x2)) + x2).astype(_dtype(x1))
    m = jnp.where(e > 0, m * 2, m)
    e = jnp.where(e > 0, e - 1, e)
    x = m * (2 ** e.astype(_dtype(m)))
    return jnp.where(jnp.isinf(x1) | (x1 == 0), x1, x)


@compiled()
def modf(x, /, out=None):
    """(fractional part, integral part), both with the sign of x."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.modf is not supported.")
    (x,) = promote_to_inexact(asarray(x))
    whole = jnp.where(lax.ge(x, lax.full_like(x, 0)), jnp.floor(x), jnp.ceil(x))
    return x - whole, whole


@compiled()
def spacing(x, /):
    """The distance from x to the next representable number away from zero."""
    (arr,) = _promote_inexact(x)
    if _dtypes.is_complex(_dtype(arr)):
        raise ValueError("jnp.spacing is not defined for complex inputs.")
    inf = lax.full_like(arr, np.inf)
    if _dtype(arr) == np.float16:
        return lax.nextafter(arr, inf) - arr
    result = lax.nextafter(arr, jnp.copysign(inf, arr)) - arr
    smallest = _dtypes.finfo(_dtype(arr)).smallest_subnormal
    return jnp.where(result == 0, jnp.copysign(np.asarray(smallest, _dtype(arr)), arr),
                     result)


# --- gcd / lcm ------------------------------------------------------------------------

def _check_integers(name, x):
    if not _dtypes.is_integer(_dtype(x)):
        raise ValueError(f"Arguments to jax.numpy.{name} must be integers.\n"
                         f"  at {user_source_line()}")


def _gcd_cond(xs):
    return jnp.any(xs[1] != 0)


def _gcd_body(xs):
    x1, x2 = xs
    nonzero = x2 != 0
    x1, x2 = (jnp.where(nonzero, x2, x1),
              jnp.where(nonzero, lax.rem(x1, jnp.where(nonzero, x2, 1).astype(_dtype(x2))),
                        jnp.zeros_like(x2)))
    return jnp.where(x1 < x2, x2, x1), jnp.where(x1 < x2, x1, x2)


@compiled()
def gcd(x1, x2):
    """Greatest common divisor of integers (Euclid's algorithm in a while_loop)."""
    x1, x2 = promote_dtypes(asarray(x1), asarray(x2))
    _check_integers("gcd", x1)
    x1, x2 = jnp.broadcast_arrays(x1, x2)
    return lax.while_loop(_gcd_cond, _gcd_body, (jnp.abs(x1), jnp.abs(x2)))[0]


@compiled()
def lcm(x1, x2):
    """Least common multiple of integers."""
    x1, x2 = promote_dtypes(asarray(x1), asarray(x2))
    x1, x2 = jnp.abs(x1), jnp.abs(x2)
    _check_integers("lcm", x1)
    d = gcd(x1, x2)
    return jnp.where(d == 0, jnp.zeros_like(d),
                     jnp.multiply(x1, jnp.floor_divide(x2, jnp.where(d == 0, 1, d))))


# --- i0 -------------------------------------------------------------------------------

@custom_jvp
def _i0(x):
    abs_x = lax.abs(x)
    bessel_i0e = getattr(lax, "bessel_i0e", None)
    if bessel_i0e is None:
        raise NotImplementedError(
            "jnp.i0 needs lax.bessel_i0e, which this build does not have yet (it comes "
            "with the lax special functions)")
    return lax.mul(lax.exp(abs_x), bessel_i0e(abs_x))


@_i0.defjvp
def _i0_jvp(primals, tangents):
    primal_out, tangent_out = jvp(_i0.fun, primals, tangents)
    return primal_out, jnp.where(primals[0] == 0, 0.0, tangent_out)


@compiled()
def i0(x):
    """The modified Bessel function of the first kind, order 0 (real input)."""
    (x,) = _promote_inexact(x)
    if not _dtypes.is_float(_dtype(x)):
        raise ValueError(f"Unsupported input type to jax.numpy.i0: {_dtype(x)}")
    return _i0(x)


# --- packbits / unpackbits ------------------------------------------------------------

def _check_bitorder(bitorder):
    if bitorder not in ("little", "big"):
        raise ValueError("'order' must be either 'little' or 'big'")


@compiled("axis", "bitorder")
def packbits(a, axis=None, bitorder="big"):
    """Pack the truth of each element into the bits of uint8 (8 per byte)."""
    arr = asarray(a)
    if not (_dtypes.is_integer(_dtype(arr)) or _dtype(arr) == _dtypes.bool_):
        raise TypeError("Expected an input array of integer or boolean data type")
    _check_bitorder(bitorder)
    arr = (arr != 0).astype(np.uint8)
    bits = np.arange(8, dtype=np.uint8)
    if bitorder == "big":
        bits = bits[::-1]
    if axis is None:
        arr, axis = jnp.ravel(arr), 0
    arr = jnp.swapaxes(arr, axis, -1)
    shape = get_aval(arr).shape
    remainder = shape[-1] % 8
    if remainder:
        arr = lax.pad(arr, np.uint8(0), (len(shape) - 1) * [(0, 0, 0)] +
                      [(0, 8 - remainder, 0)])
        shape = get_aval(arr).shape
    arr = arr.reshape(shape[:-1] + (shape[-1] // 8, 8))
    packed = (arr << bits).sum(-1).astype(np.uint8)
    return jnp.swapaxes(packed, axis, -1)


@compiled("axis", "count", "bitorder")
def unpackbits(a, axis=None, count=None, bitorder="big"):
    """The bits of uint8 values as an array of 0/1 uint8 (8 per byte)."""
    arr = asarray(a)
    if _dtype(arr) != np.uint8:
        raise TypeError("Expected an input array of unsigned byte data type")
    _check_bitorder(bitorder)
    bits = (np.uint8(1) << np.arange(8, dtype=np.uint8))
    if bitorder == "big":
        bits = bits[::-1]
    if axis is None:
        arr, axis = jnp.ravel(arr), 0
    arr = jnp.swapaxes(arr, axis, -1)
    unpacked = ((arr[..., None] & bits) > 0).astype(np.uint8)
    shape = get_aval(unpacked).shape
    unpacked = unpacked.reshape(shape[:-2] + (-1,))
    if count is not None:
        n = get_aval(unpacked).shape[-1]
        if count > n:
            unpacked = jnp.pad(unpacked, [(0, 0)] * (len(shape) - 2) + [(0, count - n)])
        else:
            unpacked = unpacked[..., :count]
    return jnp.swapaxes(unpacked, axis, -1)
