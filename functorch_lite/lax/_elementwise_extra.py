"""Elementwise primitives JAX added after 0.10 (present in `jax.lax` 0.12): log2,
one_minus_square (1 - x^2 without cancellation, derivative -2x) and polynomial
(Horner's rule, derivatives as lower-degree polynomials). Lowered as JAX lowers them."""

__all__ = ["log2", "one_minus_square", "polynomial", "log2_p", "one_minus_square_p",
           "polynomial_p"]
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, add_tangents, is_undefined, tangent_aval
from .._batching import broadcast_batcher
from ._elementwise_families import FLOAT, NUMERIC, broadcast_operands, check_kind, unary
from ._elementwise import add, div, mul, sub
from ._indexing import lower_composite
from ._reductions import reduce_sum
from ._structural import reshape
from ._values import full_like

_INV_LN2 = 1.4426950408889634


def _log2_lowering(ctx, x):
    aval = ctx.avals_in[0]
    log_x = ctx.op("stablehlo.log", [x])
    real = np.finfo(aval.dtype).dtype if _dtypes.is_complex(aval.dtype) else aval.dtype
    scale = ctx.constant(_INV_LN2, real, aval.shape)
    if not _dtypes.is_complex(aval.dtype):
        return ctx.op("stablehlo.multiply", [log_x, scale])
    parts = [ctx.op(f"stablehlo.{p}", [log_x], [aval.update(dtype=real)])
             for p in ("real", "imag")]
    scaled = [ctx.op("stablehlo.multiply", [p, scale], [aval.update(dtype=real)])
              for p in parts]
    return ctx.op("stablehlo.complex", scaled)


log2_p, log2 = unary(
    "log2", lambda g, ans, x: div(g, mul(x, full_like(x, np.log(2)))), None, FLOAT,
    lowering=_log2_lowering)
log2.__doc__ = "Elementwise base-2 logarithm (log(x) / ln 2), as `jax.lax.log2`."

one_minus_square_p, one_minus_square = unary(
    "one_minus_square", lambda g, ans, x: mul(g, mul(full_like(x, -2), x)), None, NUMERIC,
    lowering=lambda ctx, x: lower_composite(
        ctx, lambda v: mul(add(full_like(v, 1), v), sub(full_like(v, 1), v)), [x],
        ctx.avals_in))
one_minus_square.__doc__ = ("Elementwise 1 - x**2 computed as (1 + x)(1 - x); its "
                            "derivative is -2x exactly.")


# --- polynomial -----------------------------------------------------------------------

polynomial_p = Primitive("polynomial")


def polynomial(x, coeffs, *, unroll=None):
    """a_0 + x (a_1 + x (a_2 + ...)) for `coeffs = (a_0, ..., a_N)` (lowest degree
    first), elementwise, with size-1 dimensions broadcasting."""
    coeffs = list(coeffs)
    if not coeffs:
        raise ValueError("polynomial needs at least one coefficient")
    args = broadcast_operands(x, *coeffs)
    params = {} if unroll is None else {"unroll": int(unroll)}
    return polynomial_p.bind(*args, **params)


@polynomial_p.def_abstract_eval
def _polynomial_abstract_eval(*avals, unroll=None):
    for a in avals:
        check_kind("polynomial", a.dtype, NUMERIC)
    if len({a.dtype for a in avals}) > 1:
        raise TypeError(f"polynomial requires arguments of one dtype, got "
                        f"{[a.dtype.name for a in avals]}\n  at {user_source_line()}")
    shape = np.broadcast_shapes(*[a.shape for a in avals])
    return ShapedArray(shape, avals[0].dtype, all(a.weak_type for a in avals))


def _horner(x, *coeffs):
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = add(mul(acc, x), c)
    return acc


@polynomial_p.def_lowering
def _polynomial_lowering(ctx, *args, unroll=None):
    # JAX switches to a scan above `unroll` terms; the arithmetic is the same sequence
    return lower_composite(ctx, _horner, list(args), ctx.avals_in)


@polynomial_p.def_jvp
def _polynomial_jvp(primals, tangents, unroll=None):
    x, *coeffs = primals
    dx, *dcoeffs = tangents
    params = {} if unroll is None else {"unroll": unroll}
    y = polynomial_p.bind(x, *coeffs, **params)
    dy = Zero(tangent_aval(get_aval(y)))
    if not isinstance(dx, Zero) and len(coeffs) > 1:
        deriv = [mul(full_like(c, k), c) for k, c in enumerate(coeffs[1:], 1)]
        dy = add_tangents(dy, mul(dx, polynomial(x, deriv, unroll=unroll)))
    if any(not isinstance(d, Zero) for d in dcoeffs):
        concrete = [full_like(c, 0) if isinstance(d, Zero) else d
                    for c, d in zip(coeffs, dcoeffs)]
        dy = add_tangents(dy, polynomial(x, concrete, unroll=unroll))
    return y, dy


@polynomial_p.def_transpose
def _polynomial_transpose(ct, x, *coeffs, unroll=None):
    if is_undefined(x):
        raise ValueError("polynomial is not linear in x")
    cts, power = [None], ct
    for k, c in enumerate(coeffs):
        if is_undefined(c):
            shape = c.aval.shape
            summed = [i for i, (n, m) in enumerate(zip(shape, get_aval(power).shape))
                      if n != m]
            cts.append(reshape(reduce_sum(power, tuple(summed)), shape) if summed
                       else power)
        else:
            cts.append(None)
        if k + 1 < len(coeffs):
            power = mul(power, x)
    return cts


broadcast_batcher(polynomial_p)
