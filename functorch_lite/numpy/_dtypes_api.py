"""Dtype objects and constants of `jax.numpy`: `jnp.float32(x)` makes an array."""
import numpy as np

from .. import _dtypes
from ._util import asarray

__all__ = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool_", "complex64", "complex128",
           "dtype", "iinfo", "finfo", "issubdtype", "promote_types", "integer", "floating",
           "inexact", "number", "signedinteger", "unsignedinteger", "complexfloating",
           "pi", "e", "inf", "nan", "newaxis", "euler_gamma", "float_", "int_", "ndarray"]


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
        from .._core import Tracer
        return isinstance(obj, (_jax.Array, Tracer))


class ndarray(metaclass=_ArrayMeta):
    """`isinstance(x, jnp.ndarray)` holds for concrete arrays and for traced arrays."""


import jax as _jax  # noqa: E402
