"""Elementwise primitives. Each block: the primitive, its user-facing wrapper, and all
of its rules. Families are one line each thanks to `unary`, `binary` (from
`_elementwise_families`) and `compare`.

Derivatives follow JAX's rules, corner cases included (abs at 0 has slope 1, sqrt at 0
has slope inf, max/min ties split the tangent, pow at x=0 ...)."""

__all__ = [
    # arithmetic
    "neg", "sign", "floor", "ceil", "round", "RoundingMethod", "is_finite", "abs",
    "add", "sub", "mul", "div", "rem", "pow", "integer_pow", "square", "reciprocal",
    "max", "min", "clamp", "nextafter", "add_any",
    # transcendental and special functions
    "exp", "exp2", "log", "log2", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "tan",
    "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "sqrt",
    "rsqrt", "cbrt", "erf", "erfc", "erf_inv", "lgamma", "digamma", "polygamma",
    # bitwise (integers and booleans)
    "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor", "population_count", "clz",
    "shift_left", "shift_right_logical", "shift_right_arithmetic",
    # complex parts
    "real", "imag", "conj", "complex",
    # comparisons
    "eq", "ne", "lt", "le", "gt", "ge",
]
import enum

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, defjvp, deflinear, instantiate, is_undefined, tangent_aval
from .._batching import broadcast_batcher, bdim_at_front
from ._util import check_same_dtypes
from ._structural import broadcast_in_dim
from ._values import convert_element_type
from ._elementwise_families import (ANY, COMPLEX, FLOAT, INT, INTEGER, NUMERIC, REAL_FLOAT,
                                    ZERO, _check_same_shapes, _full_like, _select, binary,
                                    broadcast_operands, check_kind, unary)


def _replace_zero(x):
    return _select(eq(x, _full_like(x, 0)), _full_like(x, 1), x)


# --- arithmetic ---------------------------------------------------------------------

neg_p, neg = unary("neg", lambda g, ans, x: neg(g), "stablehlo.negate", NUMERIC)
neg_p.transpose_rule = lambda ct, x: [neg(ct)]

def _sign_lowering(ctx, x):
    aval = ctx.avals_in[0]
    if not _dtypes.is_unsigned(aval.dtype):
        return ctx.op("stablehlo.sign", [x])
    # stablehlo.sign takes signed operands only: unsigned sign is (x != 0)
    nonzero = ctx.op("stablehlo.compare", [x, ctx.constant(0, aval.dtype, aval.shape)],
                     [aval.update(dtype=_dtypes.bool_)], attrs={
                         "comparison_direction": "#stablehlo<comparison_direction NE>",
                         "compare_type": "#stablehlo<comparison_type UNSIGNED>"})
    return ctx.op("stablehlo.convert", [nonzero])


sign_p, sign = unary("sign", ZERO, None, NUMERIC, lowering=_sign_lowering)
floor_p, floor = unary("floor", ZERO, "stablehlo.floor", REAL_FLOAT)
ceil_p, ceil = unary("ceil", ZERO, "stablehlo.ceil", REAL_FLOAT)
is_finite_p, is_finite = unary("is_finite", ZERO, "stablehlo.is_finite", REAL_FLOAT,
                               out_dtype=lambda d: _dtypes.bool_)


class RoundingMethod(enum.IntEnum):
    """How `round` breaks ties (same values as `jax.lax.RoundingMethod`)."""
    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


round_p, _round = unary("round", ZERO, None, REAL_FLOAT, lowering=lambda ctx, x, *,
                        rounding_method: ctx.op(
                            "stablehlo.round_nearest_even" if rounding_method ==
                            RoundingMethod.TO_NEAREST_EVEN else "stablehlo.round_nearest_afz",
                            [x]))


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):
    """Round to the nearest integer; ties away from zero unless TO_NEAREST_EVEN."""
    return round_p.bind(x, rounding_method=RoundingMethod(int(rounding_method)))


def _abs_jvp(g, ans, x):
    if _dtypes.is_complex(get_aval(x).dtype):
        return real(mul(g, div(conj(x), _replace_zero(convert_element_type(
            ans, get_aval(x).dtype)))))
    return _select(ge(x, _full_like(x, 0)), g, neg(g))


abs_p, abs = unary("abs", _abs_jvp, "stablehlo.abs", NUMERIC, out_dtype=lambda d: (
    np.dtype(np.float32 if d == _dtypes.complex64 else np.float64)
    if _dtypes.is_complex(d) else d))

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
                            lambda g, ans, x, y: mul(mul(neg(g), x), integer_pow(y, -2))],
                    "stablehlo.divide")


@div_p.def_transpose
def _div_transpose(ct, x, y):
    if not is_undefined(x) or is_undefined(y):
        raise TypeError("div is linear only in its numerator")
    return [div(ct, y), None]


rem_p, rem = binary(
    "rem", [lambda g, ans, x, y: g,
            lambda g, ans, x, y: mul(neg(g), mul(sign(div(x, y)), floor(abs(div(x, y)))))],
    "stablehlo.remainder")

# add_any: sums tangents/cotangents (any dtype, including ints of custom rules)
add_any_p, add_any = binary("add_any", None, "stablehlo.add", ANY)
add_any.__doc__ = "x + y for tangents and cotangents (any dtype): what AD emits to sum them."
add_any_p.jvp_rule = lambda primals, tangents: (
    add_any(*primals), add_any(*map(instantiate, tangents)))
add_any_p.transpose_rule = lambda ct, x, y: [ct, ct]


def _balanced_eq(x, z, y):
    """1 where x is the result, 1/2 where x and y tie (as JAX does), else 0."""
    aval = get_aval(z)
    is_result = convert_element_type(eq(x, z), aval.dtype, aval.weak_type)
    tie = convert_element_type(eq(y, z), aval.dtype, aval.weak_type)
    return div(is_result, add(_full_like(z, 1), tie))


max_p, max = binary(
    "max", [lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
            lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x))], "stablehlo.maximum", ANY)
min_p, min = binary(
    "min", [lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
            lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x))], "stablehlo.minimum", ANY)

nextafter_p, nextafter = binary("nextafter", None, "chlo.next_after", REAL_FLOAT)

# --- powers -------------------------------------------------------------------------

pow_p = Primitive("pow")


def pow(x, y):
    """x ** y elementwise; x is inexact, y has x's dtype or is an integer."""
    return pow_p.bind(*broadcast_operands(x, y))


@pow_p.def_abstract_eval
def _pow_abstract_eval(x, y):
    check_kind("pow", x.dtype, FLOAT)
    if not (y.dtype == x.dtype or _dtypes.is_integer(y.dtype)):
        raise TypeError(f"pow needs an exponent of the base's dtype {x.dtype.name} or an "
                        f"integer exponent, got {y.dtype.name}.\n  at {user_source_line()}"
                        f"\nFix: cast the exponent with .astype(...).")
    _check_same_shapes("pow", x, y)
    return ShapedArray(x.shape, x.dtype, x.weak_type and y.weak_type)


@pow_p.def_lowering
def _pow_lowering(ctx, x, y):
    x_aval, y_aval = ctx.avals_in
    if y_aval.dtype != x_aval.dtype:
        y = ctx.op("stablehlo.convert", [y], [x_aval])
    return ctx.op("stablehlo.power", [x, y])


def _pow_jvp_x(g, ans, x, y):
    if _dtypes.is_integer(get_aval(y).dtype):
        y_float = convert_element_type(y, get_aval(x).dtype)
        jac = _select(eq(y, _full_like(y, 0)), _full_like(x, 0),
                      mul(y_float, pow(x, sub(y, _full_like(y, 1)))))
    else:  # (JAX casts the operands to strong types here: so is the derivative)
        x, y = [convert_element_type(v, get_aval(v).dtype) for v in (x, y)]
        jac = mul(y, pow(x, sub(y, _full_like(y, 1))))
    return mul(g, jac)


def _pow_jvp_y(g, ans, x, y):
    # d/dy x**y = log(x) x**y, taken as 0 where x == 0, strongly typed (as JAX does)
    out = mul(g, mul(log(_replace_zero(x)), ans))
    return convert_element_type(out, get_aval(out).dtype)


defjvp(pow_p, _pow_jvp_x, _pow_jvp_y)
broadcast_batcher(pow_p)

integer_pow_p = Primitive("integer_pow")


def integer_pow(x, y):
    """x ** y for a static Python int y (repeated multiplication)."""
    return integer_pow_p.bind(x, y=int(y))


@integer_pow_p.def_abstract_eval
def _integer_pow_abstract_eval(x, *, y):
    check_kind("integer_pow", x.dtype, NUMERIC)
    if y < 0 and not _dtypes.is_inexact(x.dtype):
        raise TypeError(f"Integers cannot be raised to negative powers, got "
                        f"integer_pow({x.str_short()}, {y}).\n  at {user_source_line()}"
                        f"\nFix: cast to float first.")
    return x


@integer_pow_p.def_lowering
def _integer_pow_lowering(ctx, x, *, y):
    aval = ctx.avals_out[0]
    if y == 0:
        return ctx.constant(1, aval.dtype, aval.shape)
    acc, base, n = None, x, -y if y < 0 else y
    while n:  # square-and-multiply
        if n & 1:
            acc = base if acc is None else ctx.op("stablehlo.multiply", [acc, base])
        n >>= 1
        if n:
            base = ctx.op("stablehlo.multiply", [base, base])
    if y < 0:
        acc = ctx.op("stablehlo.divide", [ctx.constant(1, aval.dtype, aval.shape), acc])
    return acc


def _integer_pow_jvp(g, ans, x, *, y):
    if y == 0:
        return Zero(tangent_aval(get_aval(ans)))
    if y == 1:
        return g
    return mul(g, mul(_full_like(x, y), x if y == 2 else integer_pow(x, y - 1)))


defjvp(integer_pow_p, _integer_pow_jvp)
broadcast_batcher(integer_pow_p)

square_p, square = unary("square", lambda g, ans, x: mul(g, mul(_full_like(x, 2), x)), None,
                         NUMERIC, lowering=lambda ctx, x: ctx.op("stablehlo.multiply", [x, x]))


def reciprocal(x):
    """1 / x elementwise."""
    return integer_pow(x, -1)


# --- clamp --------------------------------------------------------------------------

clamp_p = Primitive("clamp")


def clamp(min, x, max):
    """max(min(x, max), min) elementwise; `min` and `max` may be scalars."""
    dtype = get_aval(x).dtype  # Python scalar bounds take x's dtype (x's weak type rules)
    min, max = (np.asarray(v, dtype) if isinstance(v, (bool, int, float)) else v
                for v in (min, max))
    return clamp_p.bind(min, x, max)


@clamp_p.def_abstract_eval
def _clamp_abstract_eval(lo, x, hi):
    check_same_dtypes("clamp", lo, x, hi)
    check_kind("clamp", x.dtype, ANY)
    for bound in (lo, hi):
        if bound.shape not in ((), x.shape):
            raise TypeError(f"clamp bounds must be scalars or have the operand's shape "
                            f"{x.shape}, got {bound.shape}.\n  at {user_source_line()}")
    return x


@clamp_p.def_lowering
def _clamp_lowering(ctx, lo, x, hi):
    out = ctx.avals_out[0]
    lo, hi = (v if aval.shape == out.shape else ctx.op(
        "stablehlo.broadcast_in_dim", [v], [ShapedArray(out.shape, out.dtype)],
        attrs={"broadcast_dimensions": "array<i64>"})
        for v, aval in ((lo, ctx.avals_in[0]), (hi, ctx.avals_in[2])))
    return ctx.op("stablehlo.clamp", [lo, x, hi])


def _to_shape(g, x):
    shape = get_aval(x).shape
    return g if get_aval(g).shape == shape else broadcast_in_dim(g, shape, ())


def _clamp_zeros_or(pred, g, x):
    return _select(pred, _to_shape(g, x), _full_like(x, 0))


defjvp(clamp_p,
       lambda g, ans, lo, x, hi: _clamp_zeros_or(bitwise_and(gt(*_same(lo, x)),
                                                             lt(*_same(lo, hi))), g, x),
       lambda g, ans, lo, x, hi: _clamp_zeros_or(bitwise_and(gt(*_same(x, lo)),
                                                             lt(*_same(x, hi))), g, x),
       lambda g, ans, lo, x, hi: _clamp_zeros_or(lt(*_same(hi, x)), g, x))


def _same(a, b):
    """Broadcast a scalar among (a, b) to the other's shape."""
    sa, sb = get_aval(a).shape, get_aval(b).shape
    if sa == sb:
        return a, b
    return (broadcast_in_dim(a, sb, ()), b) if sa == () else (a, broadcast_in_dim(b, sa, ()))


@clamp_p.def_batching
def _clamp_batching(axis_data, vals, dims):
    x = bdim_at_front(axis_data.size, vals[1], dims[1])
    shape = get_aval(x).shape  # (axis_size, *x.shape)
    bounds = []
    for v, d in ((vals[0], dims[0]), (vals[2], dims[2])):
        if d is None and get_aval(v).shape == ():
            bounds.append(v)  # an unbatched scalar bound stays a scalar
            continue
        v = bdim_at_front(axis_data.size, v, d)
        if get_aval(v).shape != shape:  # one scalar per example
            v = broadcast_in_dim(v, shape, (0,))
        bounds.append(v)
    return clamp_p.bind(bounds[0], x, bounds[1]), 0


# --- transcendental -----------------------------------------------------------------

def _one(x):
    return _full_like(x, 1)


def _exp2_lowering(ctx, x):
    aval = ctx.avals_in[0]
    log2 = ctx.constant(np.log(2), aval.dtype, aval.shape)
    return ctx.op("stablehlo.exponential", [ctx.op("stablehlo.multiply", [log2, x])])


def _log2_lowering(ctx, x):  # log(x) * (1 / ln 2), as JAX (0.11.2+) lowers lax.log2
    aval = ctx.avals_in[0]
    log_x = ctx.op("stablehlo.log", [x])
    if not _dtypes.is_complex(aval.dtype):
        return ctx.op("stablehlo.multiply",
                      [log_x, ctx.constant(1.4426950408889634, aval.dtype, aval.shape)])
    real = aval.update(dtype=_real_dtype(aval.dtype))
    scale = ctx.constant(1.4426950408889634, real.dtype, aval.shape)
    parts = [ctx.op("stablehlo.multiply", [ctx.op(f"stablehlo.{p}", [log_x], [real]), scale],
                    [real]) for p in ("real", "imag")]
    return ctx.op("stablehlo.complex", parts)


def _logistic_lowering(ctx, x):  # 1 / (1 + exp(-x)), as JAX lowers it
    aval = ctx.avals_in[0]
    one = ctx.constant(1, aval.dtype, aval.shape)
    denom = ctx.op("stablehlo.add", [one, ctx.op("stablehlo.exponential",
                                                 [ctx.op("stablehlo.negate", [x])])])
    return ctx.op("stablehlo.divide", [one, denom])


exp_p, exp = unary("exp", lambda g, ans, x: mul(g, ans), "stablehlo.exponential")
log2_p, log2 = unary("log2", lambda g, ans, x: div(g, mul(x, log(_full_like(x, 2)))),
                     None, lowering=_log2_lowering)
exp2_p, exp2 = unary("exp2", lambda g, ans, x: mul(_full_like(x, np.log(2)), mul(g, ans)),
                     None, lowering=_exp2_lowering)
log_p, log = unary("log", lambda g, ans, x: div(g, x), "stablehlo.log")
log1p_p, log1p = unary("log1p", lambda g, ans, x: div(g, add(x, _one(x))),
                       "stablehlo.log_plus_one")
expm1_p, expm1 = unary("expm1", lambda g, ans, x: mul(g, add(ans, _one(ans))),
                       "stablehlo.exponential_minus_one")
tanh_p, tanh = unary("tanh", lambda g, ans, x: mul(add(g, mul(g, ans)), sub(_one(x), ans)),
                     "stablehlo.tanh")
logistic_p, logistic = unary("logistic", lambda g, ans, x: mul(g, mul(ans, sub(_one(ans), ans))),
                             None, lowering=_logistic_lowering)
sin_p, sin = unary("sin", lambda g, ans, x: mul(g, cos(x)), "stablehlo.sine")
cos_p, cos = unary("cos", lambda g, ans, x: neg(mul(g, sin(x))), "stablehlo.cosine")
tan_p, tan = unary("tan", lambda g, ans, x: mul(g, add(_one(x), square(ans))), "stablehlo.tan")
asin_p, asin = unary("asin", lambda g, ans, x: mul(g, rsqrt(sub(_one(x), square(x)))),
                     "chlo.asin")
acos_p, acos = unary("acos", lambda g, ans, x: mul(g, neg(rsqrt(sub(_one(x), square(x))))),
                     "chlo.acos")
atan_p, atan = unary("atan", lambda g, ans, x: div(g, add(_one(x), square(x))), "chlo.atan")
sinh_p, sinh = unary("sinh", lambda g, ans, x: mul(g, cosh(x)), "chlo.sinh")
cosh_p, cosh = unary("cosh", lambda g, ans, x: mul(g, sinh(x)), "chlo.cosh")
asinh_p, asinh = unary("asinh", lambda g, ans, x: mul(g, rsqrt(add(square(x), _one(x)))),
                       "chlo.asinh")
acosh_p, acosh = unary("acosh", lambda g, ans, x: mul(g, rsqrt(sub(square(x), _one(x)))),
                       "chlo.acosh")
atanh_p, atanh = unary(
    "atanh", lambda g, ans, x: mul(reciprocal(add(_one(x), x)), div(g, sub(_one(x), x))),
    "chlo.atanh")
# sqrt at 0 has slope inf (0.5 / 0), as in JAX
sqrt_p, sqrt = unary("sqrt", lambda g, ans, x: mul(g, div(_full_like(x, 0.5), ans)),
                     "stablehlo.sqrt")
rsqrt_p, rsqrt = unary(
    "rsqrt", lambda g, ans, x: mul(g, mul(_full_like(x, -0.5), div(ans, x))), "stablehlo.rsqrt")
cbrt_p, cbrt = unary(
    "cbrt", lambda g, ans, x: mul(g, mul(_full_like(x, 1 / 3), integer_pow(ans, -2))),
    "stablehlo.cbrt", REAL_FLOAT)

atan2_p, atan2 = binary(
    "atan2", [lambda g, ans, x, y: mul(g, div(y, add(square(x), square(y)))),
              lambda g, ans, x, y: mul(g, div(neg(x), add(square(x), square(y))))],
    "stablehlo.atan2", FLOAT)

# --- special functions ---------------------------------------------------------------

_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)

erf_p, erf = unary("erf", lambda g, ans, x: mul(_full_like(x, _TWO_OVER_SQRT_PI),
                                                mul(g, exp(neg(square(x))))),
                   "chlo.erf", REAL_FLOAT)
erfc_p, erfc = unary("erfc", lambda g, ans, x: mul(_full_like(x, -_TWO_OVER_SQRT_PI),
                                                   mul(g, exp(neg(square(x))))),
                     "chlo.erfc", REAL_FLOAT)
erf_inv_p, erf_inv = unary("erf_inv", lambda g, ans, x: mul(_full_like(x, np.sqrt(np.pi) / 2),
                                                            mul(g, exp(square(ans)))),
                           "chlo.erf_inv", REAL_FLOAT)
lgamma_p, lgamma = unary("lgamma", lambda g, ans, x: mul(g, digamma(x)), "chlo.lgamma",
                         REAL_FLOAT)
digamma_p, digamma = unary("digamma", lambda g, ans, x: mul(g, polygamma(_one(x), x)),
                           "chlo.digamma", REAL_FLOAT)


def _polygamma_jvp_m(g, ans, m, x):
    raise TypeError("polygamma is not differentiable with respect to its order m")


polygamma_p, polygamma = binary(
    "polygamma", [_polygamma_jvp_m,
                  lambda g, ans, m, x: mul(g, polygamma(add(m, _one(m)), x))],
    "chlo.polygamma", REAL_FLOAT)

# --- bitwise ------------------------------------------------------------------------

bitwise_not_p, bitwise_not = unary("not", ZERO, "stablehlo.not", INTEGER, display="bitwise_not")
bitwise_and_p, bitwise_and = binary("and", ZERO, "stablehlo.and", INTEGER, display="bitwise_and")
bitwise_or_p, bitwise_or = binary("or", ZERO, "stablehlo.or", INTEGER, display="bitwise_or")
bitwise_xor_p, bitwise_xor = binary("xor", ZERO, "stablehlo.xor", INTEGER, display="bitwise_xor")
population_count_p, population_count = unary("population_count", ZERO, "stablehlo.popcnt", INT)
clz_p, clz = unary("clz", ZERO, "stablehlo.count_leading_zeros", INT)
shift_left_p, shift_left = binary("shift_left", ZERO, "stablehlo.shift_left", INT)
shift_right_logical_p, shift_right_logical = binary(
    "shift_right_logical", ZERO, "stablehlo.shift_right_logical", INT)
shift_right_arithmetic_p, shift_right_arithmetic = binary(
    "shift_right_arithmetic", ZERO, "stablehlo.shift_right_arithmetic", INT)

# --- complex parts (all linear) -----------------------------------------------------


def _real_dtype(dtype):
    return np.dtype(np.float32 if np.dtype(dtype) == _dtypes.complex64 else np.float64)


def _complex_dtype(dtype):
    return np.dtype(np.complex64 if np.dtype(dtype) in (_dtypes.float32, _dtypes.float16,
                                                        _dtypes.bfloat16) else np.complex128)


def _is_complex(dtype):
    return _dtypes.is_complex(dtype)


real_p, real = unary("real", None, "stablehlo.real", COMPLEX, out_dtype=_real_dtype)
imag_p, imag = unary("imag", None, "stablehlo.imag", COMPLEX, out_dtype=_real_dtype)
deflinear(real_p, lambda ct, x: [complex(ct, _full_like(ct, 0))])
deflinear(imag_p, lambda ct, x: [complex(_full_like(ct, 0), neg(ct))])

complex_p, complex = binary("complex", None, "stablehlo.complex", REAL_FLOAT,
                            out_dtype=_complex_dtype)
deflinear(complex_p, lambda ct, x, y: [real(ct) if is_undefined(x) else None,
                                       neg(imag(ct)) if is_undefined(y) else None])


def _conj_lowering(ctx, x):
    in_aval, out = ctx.avals_in[0], ctx.avals_out[0]
    part = ShapedArray(out.shape, _real_dtype(out.dtype))
    if not _is_complex(in_aval.dtype):
        if in_aval.dtype != part.dtype:
            x = ctx.op("stablehlo.convert", [x], [part])
        return ctx.op("stablehlo.complex", [x, ctx.constant(0, part.dtype, part.shape)])
    re = ctx.op("stablehlo.real", [x], [part])
    im = ctx.op("stablehlo.negate", [ctx.op("stablehlo.imag", [x], [part])], [part])
    return ctx.op("stablehlo.complex", [re, im])


conj_p, conj = unary("conj", None, None, FLOAT, lowering=_conj_lowering,
                     out_dtype=lambda d: d if _is_complex(d) else _complex_dtype(d))
deflinear(conj_p, lambda ct, x: [conj(ct) if _is_complex(x.aval.dtype)
                                 else convert_element_type(real(ct), x.aval.dtype)])

# --- comparisons --------------------------------------------------------------------


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
    return binary(name, ZERO, None, ANY, lowering=lowering, out_dtype=lambda d: _dtypes.bool_)


def _reject_complex(prim):
    """Orderings (and remainders) of complex numbers are undefined: raise, as JAX does,
    instead of comparing real parts (or crashing XLA)."""
    rule = prim.abstract_eval_rule

    def checked(*avals, **params):
        if any(_dtypes.is_complex(a.dtype) for a in avals):
            raise TypeError(f"{prim.name} does not accept complex operands, got "
                            f"{', '.join(a.dtype.name for a in avals)}"
                            f"\n  at {user_source_line()}")
        return rule(*avals, **params)
    prim.abstract_eval_rule = checked


eq_p, eq = compare("eq", "EQ")
ne_p, ne = compare("ne", "NE")
lt_p, lt = compare("lt", "LT")
le_p, le = compare("le", "LE")
gt_p, gt = compare("gt", "GT")
ge_p, ge = compare("ge", "GE")
for _p in (lt_p, le_p, gt_p, ge_p, rem_p):
    _reject_complex(_p)
