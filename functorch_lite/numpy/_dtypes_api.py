"""Dtype objects and constants of `jax.numpy`: `jnp.float32(x)` makes an array."""
import numpy as np

from .. import _dtypes
from ._util import asarray
from .._core import Tracer

__all__ = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool_", "complex64", "complex128",
           "dtype", "iinfo", "finfo", "issubdtype", "promote_types", "integer", "floating",
           "inexact", "number", "signedinteger", "unsignedinteger", "complexfloating",
           "pi", "e", "inf", "nan", "newaxis", "euler_gamma", "float_", "int_", "ndarray",
           "bool", "single", "double", "csingle", "cdouble", "complex_", "uint", "generic",
           "character", "flexible", "object_", "ComplexWarning", "isdtype", "can_cast",
           "iscomplexobj", "isrealobj", "isscalar", "iterable", "printoptions",
           "get_printoptions", "set_printoptions", "array_repr", "array_str",
           *[t.name for t in _dtypes.NARROW_FLOATS + _dtypes.NARROW_SIGNED +
             _dtypes.NARROW_UNSIGNED]]


class _ScalarType:
    """A dtype usable as `jnp.float32` in dtype arguments and as a constructor."""

    def __init__(self, np_type):
        self.dtype = np.dtype(np_type)
        self.type = np.dtype(np_type).type
        self.__name__ = self.dtype.name

    def __call__(self, x):
        return asarray(x, dtype=self.dtype)

    def __eq__(self, other):
        return np.dtype(self.dtype) == other

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"functorch_lite.numpy.{self.dtype.name}"


float16 = _ScalarType(np.float16)
bfloat16 = _ScalarType(_dtypes.bfloat16)
float32 = _ScalarType(np.float32)
float64 = _ScalarType(np.float64)
int8, int16, int32, int64 = (_ScalarType(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (_ScalarType(t) for t in (np.uint8, np.uint16, np.uint32,
                                                          np.uint64))
bool_ = _ScalarType(np.bool_)
complex64, complex128 = _ScalarType(np.complex64), _ScalarType(np.complex128)
float_ = float64
int_ = int64
bool = bool_  # noqa: A001  (jnp.bool, as in NumPy 2)
single, double = float32, float64
csingle, cdouble = complex64, complex128
complex_ = complex128
uint = uint64
for _t in _dtypes.NARROW_FLOATS + _dtypes.NARROW_SIGNED + _dtypes.NARROW_UNSIGNED:
    globals()[_t.name] = _ScalarType(_t)   # float8_e4m3fn, int4, ... (ml_dtypes)
generic, character, flexible, object_ = np.generic, np.character, np.flexible, np.object_
ComplexWarning = np.exceptions.ComplexWarning
can_cast = np.can_cast
iterable = np.iterable
printoptions, get_printoptions, set_printoptions = (np.printoptions, np.get_printoptions,
                                                    np.set_printoptions)
array_repr, array_str = np.array_repr, np.array_str

_DTYPE_KINDS = {
    "bool": lambda d: d == _dtypes.bool_,
    "signed integer": lambda d: _dtypes.is_integer(d) and not _dtypes.is_unsigned(d),
    "unsigned integer": _dtypes.is_unsigned,
    "integral": _dtypes.is_integer,
    "real floating": _dtypes.is_float,
    "complex floating": _dtypes.is_complex,
    "numeric": lambda d: _dtypes.is_integer(d) or _dtypes.is_inexact(d),
}


def isdtype(dtype, kind):
    """Whether `dtype` is of `kind` (a dtype, a kind name such as 'real floating' or
    'integral', or a tuple of them), as the array API's isdtype."""
    the_dtype = np.dtype(dtype)
    for k in kind if isinstance(kind, tuple) else (kind,):
        if isinstance(k, str) and k in _DTYPE_KINDS:
            if _DTYPE_KINDS[k](the_dtype):
                return True
            continue
        try:
            if the_dtype == np.dtype(k):
                return True
        except TypeError as e:
            if isinstance(k, str):
                raise ValueError(f"Unrecognized kind={k!r} expected one of "
                                 f"{list(_DTYPE_KINDS)}, or a compatible input for "
                                 f"jnp.dtype()") from None
            raise TypeError(f"Expected kind to be a dtype, string, or tuple; got "
                            f"kind={k!r}") from e
    return False


def iscomplexobj(x):
    """Whether x has a complex type (checks the type, not the values)."""
    if isinstance(x, (complex, np.complexfloating)):
        return True
    if x is None or isinstance(x, (int, float, str, np.generic)):
        return False
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = asarray(x).dtype
    return np.issubdtype(dtype, np.complexfloating)


def isrealobj(x):
    """Whether x does not have a complex type."""
    return not iscomplexobj(x)


def isscalar(element):
    """True for Python/NumPy scalars and 0-d arrays (traced ones included)."""
    if np.isscalar(element):
        return True
    if isinstance(element, (np.ndarray, _jax.Array, Tracer)):
        return element.ndim == 0
    if getattr(element, "__jax_array__", None) is not None:
        return asarray(element).ndim == 0
    return False
dtype = np.dtype
iinfo = np.iinfo
finfo = _dtypes.finfo
issubdtype = _dtypes.issubdtype
promote_types = _dtypes.promote_types
integer, floating, inexact, number = np.integer, np.floating, np.inexact, np.number
signedinteger, unsignedinteger, complexfloating = (np.signedinteger, np.unsignedinteger,
                                                   np.complexfloating)
pi, e, inf, nan, euler_gamma = np.pi, np.e, np.inf, np.nan, np.euler_gamma
newaxis = None

class _ArrayMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, (_jax.Array, Tracer))


class ndarray(metaclass=_ArrayMeta):
    """`isinstance(x, jnp.ndarray)` holds for concrete arrays and for traced arrays."""


import jax as _jax  # noqa: E402
