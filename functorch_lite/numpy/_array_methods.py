"""Operators and methods of traced arrays (`x + y`, `x.sum()`, `x.T`, `x.at[...]`).

Methods resolve to the `functorch_lite.numpy` function of the same name at call time,
so a function implemented anywhere in the package is a method as soon as it is listed
here."""
from .._core import Tracer


def _np():
    from .. import numpy  # the package installs these methods
    return numpy


def _fn(name):
    def call(*args, **kwargs):
        return getattr(_np(), name)(*args, **kwargs)
    call.__name__ = name
    return call


def _swapped(name):
    def call(self, other):
        return getattr(_np(), name)(other, self)
    call.__name__ = "r" + name
    return call


_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
           "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
           "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
           "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift",
           "divmod": "divmod"}
_COMPARE = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
            "gt": "greater", "ge": "greater_equal"}
_UNARY = {"neg": "negative", "abs": "absolute", "invert": "invert"}
_METHODS = ["sum", "mean", "max", "min", "prod", "var", "std", "argmax", "argmin", "any",
            "all", "cumsum", "cumprod", "reshape", "transpose", "swapaxes", "squeeze",
            "ravel", "flatten", "clip", "round", "sort", "argsort", "dot", "conj",
            "conjugate", "diagonal", "trace", "take", "repeat", "nonzero",
            "astype", "copy", "searchsorted", "ptp"]


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return _np().reshape(self, shape, order)


def _transpose(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return _np().transpose(self, axes or None)


def _astype(self, dtype, copy=True, device=None):
    return _np().astype(self, dtype, copy=copy, device=device)


def _flatten(self, order="C"):
    return _np().ravel(self, order)


def _getitem(self, index):
    return _np()._rewriting_take(self, index)


def _at(self):
    return _np()._indexing.AtIndexer(self)


def install():
    for dunder, name in _BINARY.items():
        setattr(Tracer, f"__{dunder}__", _fn(name))
        setattr(Tracer, f"__r{dunder}__", _swapped(name))
    for dunder, name in {**_COMPARE, **_UNARY}.items():
        setattr(Tracer, f"__{dunder}__", _fn(name))
    Tracer.__pos__ = lambda self: self
    for name in _METHODS:
        setattr(Tracer, name, _fn(name))
    Tracer.reshape = _reshape
    Tracer.transpose = _transpose
    Tracer.astype = _astype
    Tracer.flatten = _flatten
    Tracer.__getitem__ = _getitem
    Tracer.T = property(lambda self: _np().transpose(self))
    Tracer.mT = property(lambda self: _np().swapaxes(self, -1, -2))
    Tracer.at = property(_at)
    Tracer.real = property(lambda self: _np().real(self))
    Tracer.imag = property(lambda self: _np().imag(self))
