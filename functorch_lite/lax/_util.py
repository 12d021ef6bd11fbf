"""Shared checks and lowering helpers for primitive definitions."""
import numpy as np

from .. import _dtypes
from .._core import get_aval, user_source_line
from ._values import full


def standard_lowering(hlo_op):
    """Lowering for a primitive that is one StableHLO op on its operands."""
    def lowering(ctx, *args, **params):
        return ctx.op(hlo_op, list(args))
    return lowering


def unary_dtype_check(name, dtype, kinds):
    ok = {
        "float": _dtypes.is_inexact(dtype),
        "numeric": dtype != _dtypes.bool_,
        "integer": _dtypes.is_integer(dtype) or dtype == _dtypes.bool_,
        "any": True,
    }[kinds]
    if not ok:
        need = {"float": "floating-point", "numeric": "numeric (non-boolean)",
                "integer": "integer or boolean"}[kinds]
        raise TypeError(f"{name} requires {need} operands, got {np.dtype(dtype).name}. "
                        f"Fix: cast with .astype(...) first.\n  at {user_source_line()}")


def check_same_dtypes(name, *avals):
    dtypes = {a.dtype for a in avals}
    if len(dtypes) > 1:
        raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                        f"{', '.join(a.dtype.name for a in avals)}. Fix: cast one with "
                        f".astype(...) or use the jnp function, which promotes types."
                        f"\n  at {user_source_line()}")


def as_lax_operands(*xs):
    """Python scalars among lax operands take the dtype and shape of the others."""
    if all(not isinstance(x, (bool, int, float, complex)) for x in xs):
        return xs
    ref = next((get_aval(x) for x in xs if not isinstance(x, (bool, int, float, complex))),
               None)
    if ref is None:
        return xs
    return tuple(full(ref.shape, x, ref.dtype, weak_type=True)
                 if isinstance(x, (bool, int, float, complex)) else x for x in xs)


def canonicalize_axis(axis, ndim):
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"axis {axis} is out of bounds for an array of rank {ndim}")
    return axis % max(ndim, 1)
