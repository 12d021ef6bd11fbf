"""Operators and methods of traced arrays (`x + y`, `x.sum()`, `x.T`, ...)."""
from .._core import Tracer
from . import _ufuncs, _reductions


def _swap(f):
    return lambda self, other: f(other, self)


def _matmul(a, b):
    from ._linalg_basic import matmul
    return matmul(a, b)


_OPERATORS = {
    "__add__": _ufuncs.add, "__radd__": _swap(_ufuncs.add),
    "__sub__": _ufuncs.subtract, "__rsub__": _swap(_ufuncs.subtract),
    "__mul__": _ufuncs.multiply, "__rmul__": _swap(_ufuncs.multiply),
    "__truediv__": _ufuncs.divide, "__rtruediv__": _swap(_ufuncs.divide),
    "__pow__": _ufuncs.power, "__rpow__": _swap(_ufuncs.power),
    "__neg__": _ufuncs.negative, "__pos__": lambda x: x, "__abs__": _ufuncs.absolute,
    "__eq__": _ufuncs.equal, "__ne__": _ufuncs.not_equal, "__lt__": _ufuncs.less,
    "__le__": _ufuncs.less_equal, "__gt__": _ufuncs.greater, "__ge__": _ufuncs.greater_equal,
    "__matmul__": _matmul, "__rmatmul__": _swap(_matmul),
}

_METHODS = {
    "sum": _reductions.sum, "mean": _reductions.mean, "max": _reductions.max,
    "min": _reductions.min,
}


def install():
    for name, fn in _OPERATORS.items():
        setattr(Tracer, name, fn)
    for name, fn in _METHODS.items():
        setattr(Tracer, name, fn)
