"""Elementwise primitives. Each block: the primitive, its user-facing wrapper, and all
of its rules. Families are one line each thanks to `unary`, `binary`, `compare`."""

__all__ = ["neg", "add", "sub", "mul", "div", "max", "min", "exp", "log", "sin", "cos", "tanh", "logistic", "sqrt", "rsqrt", "abs", "sign", "eq", "ne", "lt", "le", "gt", "ge", "add_any"]
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, defjvp, instantiate, is_undefined, tangent_aval
from .._batching import broadcast_batcher
from ._util import (check_same_dtypes, as_lax_operands, unary_dtype_check,
                    standard_lowering)

FLOAT = "float"            # floating (and complex) operands only
NUMERIC = "numeric"        # any number
INTEGER = "integer"        # integers and booleans
ANY = "any"


def unary(name, jvp, hlo_op, kinds=FLOAT, lowering=None):
    """An elementwise unary primitive and its wrapper `fn(x)`."""
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, **params):
        unary_dtype_check(name, x.dtype, kinds)
        return x

    prim.lowering_rule = lowering or standard_lowering(hlo_op)
    if jvp is not None:
        defjvp(prim, jvp)
    broadcast_batcher(prim)

    def wrapper(x):
        return prim.bind(x)
    wrapper.__name__ = name
    return prim, wrapper


def binary(name, jvps, hlo_op, kinds=NUMERIC, lowering=None, out_dtype=None):
    """An elementwise binary primitive on equal shapes and dtypes, and `fn(x, y)`."""
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, y, **params):
        check_same_dtypes(name, x, y)
        unary_dtype_check(name, x.dtype, kinds)
        if x.shape != y.shape:
            raise TypeError(f"{name} got incompatible shapes {x.shape} and {y.shape}; "
                            f"lax operations need equal shapes (jnp functions broadcast)."
                            f"\n  at {user_source_line()}")
        dtype = x.dtype if out_dtype is None else out_dtype
        return ShapedArray(x.shape, dtype, x.weak_type and y.weak_type)

    prim.lowering_rule = lowering or standard_lowering(hlo_op)
    if jvps is not None:
        defjvp(prim, *jvps)
    broadcast_batcher(prim)

    def wrapper(x, y):
        return prim.bind(*as_lax_operands(x, y))
    wrapper.__name__ = name
    return prim, wrapper


# --- arithmetic -------------------------------------------------------------------

def _neg_transpose(ct, x):
    return [neg(ct)]


neg_p, neg = unary("neg", lambda g, ans, x: neg(g), "stablehlo.negate", NUMERIC)
neg_p.transpose_rule = _neg_transpose

add_p, add = binary("add", [lambda g, ans, x, y: g, lambda g, ans, x, y: g], "stablehlo.add")
add_p.transpose_rule = lambda ct, x, y: [ct if is_undefined(x) else None,
                                         ct if is_undefined(y) else None]

sub_p, sub = binary("sub", [lambda g, ans, x, y: g, lambda g, ans, x, y: neg(g)],
                    "stablehlo.subtract")
sub_p.transpose_rule = lambda ct, x, y: [ct if is_undefined(x) else None,
                                         neg(ct) if is_undefined(y) else None]

mul_p, mul = binary("mul", [lambda g, ans, x, y: mul(g, y), lambda g, ans, x, y: mul(x, g)],
                    "stablehlo.multiply")


@mul_p.def_transpose
def _mul_transpose(ct, x, y):
    if is_undefined(x) and is_undefined(y):
        raise TypeError("mul of two values linear in the differentiated inputs is not linear")
    return [mul(ct, y), None] if is_undefined(x) else [None, mul(x, ct)]


div_p, div = binary("div", [lambda g, ans, x, y: div(g, y),
                            lambda g, ans, x, y: neg(mul(g, div(ans, y)))],
                    "stablehlo.divide")


@div_p.def_transpose
def _div_transpose(ct, x, y):
    assert is_undefined(x) and not is_undefined(y)
    return [div(ct, y), None]


# add_any: sums tangents/cotangents (any dtype, including ints of custom rules)
add_any_p, add_any = binary("add_any", None, "stablehlo.add", ANY)
add_any_p.jvp_rule = lambda primals, tangents: (
    add_any(*primals), add_any(*map(instantiate, tangents)))
add_any_p.transpose_rule = lambda ct, x, y: [ct, ct]


max_p, max = binary(
    "max", [lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
            lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x))], "stablehlo.maximum")
min_p, min = binary(
    "min", [lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
            lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x))], "stablehlo.minimum")


def _balanced_eq(x, z, y):
    """1 where x is the result, 1/2 where x and y tie (as JAX does), else 0."""
    from ._structural import convert_element_type
    dtype = get_aval(z).dtype
    is_result = convert_element_type(eq(x, z), dtype)
    tie = convert_element_type(eq(y, z), dtype)
    return div(is_result, add(_full_like(z, 1), tie))


def _full_like(x, value):
    from ._structural import full
    aval = get_aval(x)
    return full(aval.shape, value, aval.dtype)


# --- transcendental ---------------------------------------------------------------

exp_p, exp = unary("exp", lambda g, ans, x: mul(g, ans), "stablehlo.exponential")
log_p, log = unary("log", lambda g, ans, x: div(g, x), "stablehlo.log")
sin_p, sin = unary("sin", lambda g, ans, x: mul(g, cos(x)), "stablehlo.sine")
cos_p, cos = unary("cos", lambda g, ans, x: neg(mul(g, sin(x))), "stablehlo.cosine")
tanh_p, tanh = unary("tanh", lambda g, ans, x: mul(g, sub(_full_like(ans, 1), mul(ans, ans))),
                     "stablehlo.tanh")
logistic_p, logistic = unary(
    "logistic", lambda g, ans, x: mul(g, mul(ans, sub(_full_like(ans, 1), ans))),
    "stablehlo.logistic")
sqrt_p, sqrt = unary("sqrt", lambda g, ans, x: div(g, mul(ans, _full_like(ans, 2))),
                     "stablehlo.sqrt")
rsqrt_p, rsqrt = unary(
    "rsqrt", lambda g, ans, x: mul(g, mul(_full_like(ans, -0.5), div(ans, x))),
    "stablehlo.rsqrt")
abs_p, abs = unary("abs", lambda g, ans, x: mul(g, sign(x)), "stablehlo.abs", NUMERIC)
sign_p, sign = unary("sign", lambda g, ans, x: Zero(tangent_aval(get_aval(ans))),
                     "stablehlo.sign", NUMERIC)

# --- comparisons ------------------------------------------------------------------


def _compare_type(dtype):
    if _dtypes.is_inexact(dtype):
        return "FLOAT"
    return "UNSIGNED" if _dtypes.is_unsigned(dtype) or dtype == _dtypes.bool_ else "SIGNED"


def compare(name, direction):
    def lowering(ctx, x, y):
        kind = _compare_type(ctx.avals_in[0].dtype)
        return ctx.op("stablehlo.compare", [x, y], attrs={
            "comparison_direction": f"#stablehlo<comparison_direction {direction}>",
            "compare_type": f"#stablehlo<comparison_type {kind}>"})
    prim, fn = binary(name, None, None, ANY, lowering=lowering, out_dtype=_dtypes.bool_)
    prim.jvp_rule = lambda primals, tangents: (
        prim.bind(*primals), Zero(ShapedArray(get_aval(primals[0]).shape, _dtypes.float0)))
    return prim, fn


eq_p, eq = compare("eq", "EQ")
ne_p, ne = compare("ne", "NE")
lt_p, lt = compare("lt", "LT")
le_p, le = compare("le", "LE")
gt_p, gt = compare("gt", "GT")
ge_p, ge = compare("ge", "GE")
