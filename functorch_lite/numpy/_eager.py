"""Eager calls of common numpy functions run as one compiled program, as jax.numpy's
do: each listed function is wrapped in `jit` with its non-array parameters static and
`inline=True`, so under a transformation it is traced in place (no nested call), and
eagerly a repeated signature goes straight to its executable instead of dispatching
every primitive inside it one by one."""
from .._jit import jit
from .._traceback_util import api_boundary
import functools
import inspect

_UNARY = """exp exp2 expm1 log log2 log10 log1p sqrt cbrt sin cos tan arcsin arccos arctan
    sinh cosh tanh arcsinh arccosh arctanh asin acos atan asinh acosh atanh sinc deg2rad
    rad2deg degrees radians floor ceil trunc rint fix negative positive absolute abs fabs
    square reciprocal sign isfinite isnan isinf logical_not invert bitwise_not signbit"""
_BINARY = """add subtract multiply divide true_divide floor_divide remainder mod fmod
    maximum minimum fmax fmin arctan2 atan2 hypot logaddexp logaddexp2 equal not_equal less
    less_equal greater greater_equal logical_and logical_or logical_xor bitwise_and
    bitwise_or bitwise_xor copysign heaviside"""
# `out` stays dynamic: None passes through, an array reaches the function's own error
_REDUCTION_STATICS = ("axis", "dtype", "keepdims", "ddof", "correction",
                      "promote_integers")
_REDUCTIONS = "sum prod mean max min var std any all argmax argmin cumsum cumprod"
_PRODUCT_STATICS = ("precision", "preferred_element_type")
_OTHER = {"matmul": _PRODUCT_STATICS, "dot": _PRODUCT_STATICS, "clip": (), "take": ("axis", "mode", "unique_indices",
                                                       "indices_are_sorted", "fill_value")}


def wrap(namespace):
    """Replace the listed functions of `namespace` (a module's globals) in place."""
    for name in (_UNARY + " " + _BINARY).split():
        if name in namespace:
            namespace[name] = _eager_jit(namespace[name], ())
    for name in _REDUCTIONS.split():
        if name in namespace:
            namespace[name] = _eager_jit(namespace[name], _REDUCTION_STATICS)
    for name, statics in _OTHER.items():
        if name in namespace:
            namespace[name] = _eager_jit(namespace[name], statics)


def _eager_jit(fn, static_names):
    params = list(inspect.signature(fn).parameters)
    static = tuple(n for n in static_names if n in params)
    jitted = jit(fn, static_argnames=static, inline=True)
    if "axis" not in static:
        return jitted
    axis_pos = params.index("axis")

    @api_boundary
    @functools.wraps(fn)
    def call(*args, **kwargs):  # jnp accepts axis=[0, 1]; a static value must hash
        if isinstance(kwargs.get("axis"), list):
            kwargs["axis"] = tuple(kwargs["axis"])
        elif len(args) > axis_pos and isinstance(args[axis_pos], list):
            args = (*args[:axis_pos], tuple(args[axis_pos]), *args[axis_pos + 1:])
        return jitted(*args, **kwargs)
    return call
