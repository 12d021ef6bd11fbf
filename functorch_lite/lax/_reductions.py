"""Reductions over axes: reduce_sum, reduce_max, reduce_min, reduce_prod, reduce_and,
reduce_or, reduce_xor (and later argmax/argmin and cumulative ops)."""

__all__ = ["reduce_sum", "reduce_max", "reduce_min"]
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, defjvp, deflinear, tangent_aval
from .._batching import bdim_at_front
from ._structural import broadcast_in_dim, i64_array, convert_element_type, reshape


def binary_region(ctx, hlo_op, dtype):
    """Region `^bb0(%a, %b): return hlo_op(%a, %b)` on scalars of `dtype`."""
    scalar = ShapedArray((), dtype)
    from .._lowering import ir_type
    a, b = ctx.module.fresh(), ctx.module.fresh()
    t = ir_type(scalar)
    ctx.module.types[a] = ctx.module.types[b] = t
    lines = []
    from .._lowering import LoweringContext
    inner = LoweringContext(ctx.module, lines, [scalar, scalar], [scalar])
    r = inner.op(hlo_op, [a, b])
    body = "\n".join("      " + l for l in lines)
    return (f"{{\n    ^bb0({a}: {t}, {b}: {t}):\n{body}\n"
            f'      "stablehlo.return"({r}) : ({t}) -> ()\n    }}')


def _reduce_abstract_eval(x, *, axes):
    axes = tuple(axes)
    if any(not 0 <= a < x.ndim for a in axes):
        raise ValueError(f"reduction axes {axes} out of range for shape {x.shape}")
    return ShapedArray([d for i, d in enumerate(x.shape) if i not in axes], x.dtype,
                       x.weak_type)


def _reduce_batching(prim):
    def rule(axis_size, vals, dims, *, axes):
        x = bdim_at_front(axis_size, vals[0], dims[0])
        return prim.bind(x, axes=tuple(a + 1 for a in axes)), 0
    return rule


def reducer(name, hlo_op, init):
    """A reduction primitive with a monoid `hlo_op` and identity `init(dtype)`."""
    prim = Primitive(name)
    prim.abstract_eval_rule = _reduce_abstract_eval

    def lowering(ctx, x, *, axes):
        dtype = ctx.avals_in[0].dtype
        init_val = ctx.constant(init(dtype), dtype)
        return ctx.op("stablehlo.reduce", [x, init_val],
                      regions=[binary_region(ctx, hlo_op, dtype)],
                      attrs={"dimensions": i64_array(axes)})
    prim.lowering_rule = lowering
    prim.batching_rule = _reduce_batching(prim)

    def wrapper(x, axes):
        axes = tuple(sorted(int(a) % max(get_aval(x).ndim, 1) for a in axes))
        return prim.bind(x, axes=axes)
    wrapper.__name__ = name
    return prim, wrapper


def _max_identity(dtype):
    if _dtypes.is_inexact(dtype):
        return -np.inf
    return False if dtype == _dtypes.bool_ else np.iinfo(dtype).min


def _min_identity(dtype):
    if _dtypes.is_inexact(dtype):
        return np.inf
    return True if dtype == _dtypes.bool_ else np.iinfo(dtype).max


reduce_sum_p, reduce_sum = reducer("reduce_sum", "stablehlo.add", lambda d: 0)


def _reduce_sum_transpose(ct, x, *, axes):
    shape = x.aval.shape
    kept = [i for i in range(len(shape)) if i not in axes]
    return [broadcast_in_dim(ct, shape, kept)]


deflinear(reduce_sum_p, _reduce_sum_transpose)

reduce_max_p, reduce_max = reducer("reduce_max", "stablehlo.maximum", _max_identity)
reduce_min_p, reduce_min = reducer("reduce_min", "stablehlo.minimum", _min_identity)


def _reduce_chooser_jvp(g, ans, x, *, axes):
    # the tangent is averaged over the positions that attain the extremum (as JAX does)
    from ._elementwise import eq, div, mul
    shape = get_aval(x).shape
    kept = [i for i in range(len(shape)) if i not in axes]
    location = convert_element_type(eq(x, broadcast_in_dim(ans, shape, kept)), get_aval(g).dtype)
    counts = reduce_sum(location, axes)
    return div(reduce_sum(mul(g, location), axes), counts)


defjvp(reduce_max_p, _reduce_chooser_jvp)
defjvp(reduce_min_p, _reduce_chooser_jvp)
