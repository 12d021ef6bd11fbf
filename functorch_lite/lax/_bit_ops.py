"""Elementwise operations defined on the bits of numbers: mulhi (the high half of an
integer product), reduce_precision (rounding to a narrower float format), and the
total-order comparisons eq_to/le_to/lt_to (-0 < +0, NaNs ordered by their bits) that
JAX's sort comparators use."""

__all__ = ["mulhi", "reduce_precision", "mulhi_p", "reduce_precision_p", "eq_to_p",
           "le_to_p", "lt_to_p"]
import operator

from .. import _dtypes
from .._core import Primitive
from .._ad import deflinear
from .._batching import broadcast_batcher
from ._elementwise_families import INT, REAL_FLOAT, ANY, ZERO, binary, check_kind


def _mulhi_lowering(ctx, x, y):
    return ctx.op("chlo.mulhi", [x, y])


mulhi_p, _mulhi = binary("mulhi", ZERO, None, INT, lowering=_mulhi_lowering)


def mulhi(x, y, /):
    """The high half of the double-width product of integers `x` and `y` (signed or
    unsigned as their dtype), as `jax.lax.mulhi`."""
    return _mulhi(x, y)


# --- reduce_precision ---------------------------------------------------------------

reduce_precision_p = Primitive("reduce_precision")


def reduce_precision(operand, exponent_bits, mantissa_bits):
    """Round `operand` to the float format with the given exponent and mantissa widths
    (keeping its dtype): e.g. (8, 7) rounds float32 values to bfloat16 ones."""
    exponent_bits, mantissa_bits = operator.index(exponent_bits), operator.index(mantissa_bits)
    return reduce_precision_p.bind(operand, exponent_bits=exponent_bits,
                                   mantissa_bits=mantissa_bits)


@reduce_precision_p.def_abstract_eval
def _reduce_precision_abstract_eval(x, *, exponent_bits, mantissa_bits):
    check_kind("reduce_precision", x.dtype, REAL_FLOAT)
    if exponent_bits < 1:
        raise ValueError(f"reduce_precision: exponent_bits must be positive; got "
                         f"{exponent_bits}")
    if mantissa_bits < 0:
        raise ValueError(f"reduce_precision: mantissa_bits must be non-negative; got "
                         f"{mantissa_bits}")
    return x


@reduce_precision_p.def_lowering
def _reduce_precision_lowering(ctx, x, *, exponent_bits, mantissa_bits):
    return ctx.op("stablehlo.reduce_precision", [x], attrs={
        "exponent_bits": f"{exponent_bits} : i32", "mantissa_bits": f"{mantissa_bits} : i32"})


deflinear(reduce_precision_p, lambda ct, x, **params: [reduce_precision_p.bind(ct, **params)])
broadcast_batcher(reduce_precision_p)


# --- total-order comparisons ----------------------------------------------------------

def _total_order_compare(name, direction):
    def lowering(ctx, x, y):
        dtype = ctx.avals_in[0].dtype
        kind = ("TOTALORDER" if _dtypes.is_inexact(dtype) else
                "UNSIGNED" if _dtypes.is_unsigned(dtype) or dtype == _dtypes.bool_ else
                "SIGNED")
        return ctx.op("stablehlo.compare", [x, y], attrs={
            "comparison_direction": f"#stablehlo<comparison_direction {direction}>",
            "compare_type": f"#stablehlo<comparison_type {kind}>"})
    prim, _ = binary(name, ZERO, None, ANY, lowering=lowering,
                     out_dtype=lambda d: _dtypes.bool_)
    return prim


eq_to_p = _total_order_compare("eq_to", "EQ")
le_to_p = _total_order_compare("le_to", "LE")
lt_to_p = _total_order_compare("lt_to", "LT")
