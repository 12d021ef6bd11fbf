"""Eager calls of common numpy functions run as one compiled program, as jax.numpy's
do: each listed function is wrapped in `jit` with its non-array parameters static and
`inline=True`, so under a transformation it is traced in place (no nested call), and
eagerly a repeated signature goes straight to its executable instead of dispatching
every primitive inside it one by one."""
from .._jit import jit

_UNARY = """exp exp2 expm1 log log2 log10 log1p sqrt cbrt sin cos tan arcsin arccos arctan
    sinh cosh tanh arcsinh arccosh arctanh asin acos atan asinh acosh atanh sinc deg2rad
    rad2deg degrees radians floor ceil trunc rint fix negative positive absolute abs fabs
    square reciprocal sign isfinite isnan isinf logical_not invert bitwise_not signbit"""
_BINARY = """add subtract multiply divide true_divide floor_divide remainder mod fmod
    maximum minimum fmax fmin arctan2 atan2 hypot logaddexp logaddexp2 equal not_equal less
    less_equal greater greater_equal logical_and logical_or logical_xor bitwise_and
    bitwise_or bitwise_xor copysign heaviside"""
_REDUCTION_STATICS = ("axis", "dtype", "out", "keepdims", "ddof", "correction",
                      "promote_integers")
_REDUCTIONS = "sum prod mean max min var std any all argmax argmin cumsum cumprod"


def wrap(namespace):
    """Replace the listed functions of `namespace` (a module's globals) in place."""
    for name in (_UNARY + " " + _BINARY).split():
        if name in namespace:
            namespace[name] = _eager_jit(namespace[name], ())
    for name in _REDUCTIONS.split():
        if name in namespace:
            namespace[name] = _eager_jit(namespace[name], _REDUCTION_STATICS)


def _eager_jit(fn, static_names):
    import inspect
    params = inspect.signature(fn).parameters
    static = tuple(n for n in static_names if n in params)
    return jit(fn, static_argnames=static, inline=True)
