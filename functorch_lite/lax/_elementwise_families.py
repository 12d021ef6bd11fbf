"""The machinery of the elementwise primitives: operand kinds (with the error that names
the expected kind and the fix), the broadcasting of operands, and the `unary` /
`binary` families that make one primitive (wrapper, abstract evaluation, lowering,
JVP, batching) from one line."""
import sys

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, defjvp, tangent_aval
from .._batching import broadcast_batcher
from ._util import check_same_dtypes, as_lax_operands, standard_lowering
from ._structural import broadcast_in_dim
from ._values import full, select_n


# --- operand kinds and their error messages ---------------------------------------

FLOAT = "float"            # floating (and complex) operands only
REAL_FLOAT = "real_float"  # floating, not complex
NUMERIC = "numeric"        # any number (not bool)
INTEGER = "integer"        # integers and booleans
INT = "int"                # integers only (not bool)
COMPLEX = "complex"        # complex only
ANY = "any"

_KINDS = {
    FLOAT: (_dtypes.is_inexact, "floating-point",
            "cast with x.astype(jnp.float32), or call the jnp function, which promotes "
            "integers to float"),
    REAL_FLOAT: (_dtypes.is_float, "real floating-point",
                 "cast with x.astype(jnp.float32) (take jnp.real/jnp.abs of complex values)"),
    NUMERIC: (lambda d: d != _dtypes.bool_, "numeric (non-boolean)",
              "cast with x.astype(jnp.int32), or use the jnp.logical_* functions on "
              "booleans"),
    INTEGER: (lambda d: _dtypes.is_integer(d) or d == _dtypes.bool_, "integer or boolean",
              "bitwise operations need integers: cast with x.astype(jnp.int32), or compare "
              "(x > 0) to get booleans"),
    INT: (_dtypes.is_integer, "integer",
          "cast with x.astype(jnp.int32) first (this operation is defined on integer bits)"),
    COMPLEX: (_dtypes.is_complex, "complex",
              "use jnp.real / jnp.imag, which also accept real input"),
    ANY: (lambda d: True, "any", ""),
}


def check_kind(name, dtype, kind):
    """TypeError naming the op, the dtype, the user's line and the fix."""
    test, need, fix = _KINDS[kind]
    if not test(np.dtype(dtype)):
        raise TypeError(f"{name} requires {need} operands, got {np.dtype(dtype).name}."
                        f"\n  at {user_source_line()}\nFix: {fix}.")


def _check_same_shapes(name, *avals):
    if len({a.shape for a in avals}) > 1:
        shapes = " and ".join(str(a.shape) for a in avals)
        raise TypeError(f"{name} got incompatible shapes {shapes}; lax operations need "
                        f"equal shapes (jnp functions broadcast).\n  at {user_source_line()}")


def broadcast_operands(*xs):
    """As JAX's n-ary lax ops: rank-0 operands and size-1 axes (of equal-rank operands)
    broadcast; anything else is left for the abstract evaluation to reject."""
    xs = as_lax_operands(*xs)
    avals = [get_aval(x) for x in xs]
    if len({a.shape for a in avals}) == 1:
        return xs
    ranked = [a.shape for a in avals if a.ndim]
    if len({len(s) for s in ranked}) != 1:
        return xs
    shape = []
    for sizes in zip(*ranked):
        sizes = set(sizes) - {1}
        if len(sizes) > 1:
            return xs
        shape.append(sizes.pop() if sizes else 1)
    shape = tuple(shape)
    return [x if a.shape == shape else broadcast_in_dim(
        x, shape, tuple(range(a.ndim))) for x, a in zip(xs, avals)]


# --- families -----------------------------------------------------------------------

ZERO = "zero"  # the op is piecewise constant: its tangent is a symbolic zero


def _zero_jvp(prim):
    def jvp_rule(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        return ans, Zero(tangent_aval(get_aval(ans)))
    prim.jvp_rule = jvp_rule


def _register_jvp(prim, jvps):
    if jvps == ZERO:
        _zero_jvp(prim)
    elif callable(jvps):
        defjvp(prim, jvps)
    elif jvps is not None:
        defjvp(prim, *jvps)


def _name_wrapper(wrapper, display):
    """Name a primitive's wrapper `lax.<display>` (for reprs, tracebacks and the API
    reference), place it in the module that made it (the caller of the factory), and
    say what it is."""
    wrapper.__name__ = wrapper.__qualname__ = display
    wrapper.__module__ = sys._getframe(2).f_globals["__name__"]
    wrapper.__doc__ = f"Elementwise `{display}`, as `jax.lax.{display}`."


def unary(name, jvp, hlo_op, kinds=FLOAT, lowering=None, out_dtype=None, display=None):
    """An elementwise unary primitive and its wrapper `fn(x)`. `jvp` is a function
    `(g, ans, x, **params) -> tangent`, ZERO, or None (not differentiable);
    `out_dtype` maps the input dtype to the output dtype (default: the same)."""
    prim = Primitive(name)
    display = display or name

    @prim.def_abstract_eval
    def abstract_eval(x, **params):
        check_kind(display, x.dtype, kinds)
        return x if out_dtype is None else x.update(dtype=out_dtype(x.dtype))

    prim.lowering_rule = lowering or standard_lowering(hlo_op)
    _register_jvp(prim, jvp)
    broadcast_batcher(prim)

    def wrapper(x):
        return prim.bind(x)
    _name_wrapper(wrapper, display)
    return prim, wrapper


def binary(name, jvps, hlo_op, kinds=NUMERIC, lowering=None, out_dtype=None, display=None):
    """An elementwise binary primitive on equal shapes and dtypes, and `fn(x, y)`;
    arguments as for `unary`, with one tangent function per operand."""
    prim = Primitive(name)
    display = display or name

    @prim.def_abstract_eval
    def abstract_eval(x, y, **params):
        check_same_dtypes(display, x, y)
        check_kind(display, x.dtype, kinds)
        _check_same_shapes(display, x, y)
        dtype = x.dtype if out_dtype is None else out_dtype(x.dtype)
        return ShapedArray(x.shape, dtype, x.weak_type and y.weak_type)

    prim.lowering_rule = lowering or standard_lowering(hlo_op)
    _register_jvp(prim, jvps)
    broadcast_batcher(prim)

    def wrapper(x, y):
        return prim.bind(*broadcast_operands(x, y))
    _name_wrapper(wrapper, display)
    return prim, wrapper


def _full_like(x, value):
    """`value` in the shape, dtype and weak type of x (JAX's full_like: so derivatives
    at Python scalars stay weakly typed)."""
    aval = get_aval(x)
    return full(aval.shape, value, aval.dtype, weak_type=aval.weak_type)


def _select(pred, on_true, on_false):
    return select_n(pred, on_false, on_true)
