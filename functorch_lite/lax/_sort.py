"""sort (several operands sorted together by the first `num_keys`, optionally stable)
and top_k.

The comparator is JAX's: floats compare in total order after -0.0 becomes 0.0 and every
NaN the same NaN (so NaNs sort last, in a stable order); complex numbers compare by
real part, then imaginary part; several keys compare lexicographically."""

__all__ = ["sort", "sort_key_val", "top_k"]
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front
from ._reductions import scalar_region, compare_scalars, take_along_axis
from ._util import canonicalize_axis
from ._values import broadcasted_iota
from ._structural import i64_array

_BOOL = ShapedArray((), np.bool_)


# --- the comparator ---------------------------------------------------------------------

def _canonical_float(c, x, dtype):
    """-0.0 -> 0.0 and any NaN -> the canonical NaN (inside a region)."""
    scalar = ShapedArray((), dtype)
    zero = c.constant(0, dtype)
    x = c.op("stablehlo.select", [compare_scalars(c, x, zero, "EQ", dtype), zero, x], [scalar])
    nan = c.constant(np.nan, dtype)
    return c.op("stablehlo.select", [compare_scalars(c, x, x, "NE", dtype), nan, x], [scalar])


def _sort_keys(c, x, dtype):
    """The scalars a key compares by, most significant first, and their dtype."""
    if _dtypes.is_complex(dtype):
        part = _dtypes.float32 if dtype == _dtypes.complex64 else _dtypes.float64
        re = c.op("stablehlo.real", [x], [ShapedArray((), part)])
        im = c.op("stablehlo.imag", [x], [ShapedArray((), part)])
        return [(_canonical_float(c, re, part), part), (_canonical_float(c, im, part), part)]
    if _dtypes.is_float(dtype):
        return [(_canonical_float(c, x, dtype), dtype)]
    return [(x, dtype)]


def _less_than_region(ctx, dtypes, num_keys):
    """Comparator region for stablehlo.sort: lexicographic `<` over the first keys."""
    arg_dtypes = [d for d in dtypes for _ in range(2)]

    def body(c, *args):
        lhs, rhs = [], []
        for i in range(num_keys):
            lhs += _sort_keys(c, args[2 * i], dtypes[i])
            rhs += _sort_keys(c, args[2 * i + 1], dtypes[i])
        result = None
        for (a, dtype), (b, _) in reversed(list(zip(lhs, rhs))):
            less = compare_scalars(c, a, b, "LT", dtype, total_order=True)
            if result is not None:
                equal = compare_scalars(c, a, b, "EQ", dtype, total_order=True)
                tie = c.op("stablehlo.and", [equal, result], [_BOOL])
                less = c.op("stablehlo.or", [less, tie], [_BOOL])
            result = less
        return [result]
    return scalar_region(ctx, arg_dtypes, body)


# --- sort -------------------------------------------------------------------------------

sort_p = Primitive("sort", multiple_results=True)


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sort `operand` (an array, or a sequence of same-shape arrays sorted together by
    the first `num_keys` of them) along `dimension`.

    >>> import functorch_lite.lax as lax
    >>> lax.sort([3., 1., 2.]).tolist()  # doctest: +SKIP
    [1.0, 2.0, 3.0]
    """
    if isinstance(operand, (list, tuple)):
        operands = tuple(operand)
        single = False
    else:
        operands, single = (operand,), True
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"sort needs 1 <= num_keys <= {len(operands)}, got {num_keys}")
    dimension = canonicalize_axis(int(dimension), get_aval(operands[0]).ndim)
    outs = sort_p.bind(*operands, dimension=dimension, is_stable=bool(is_stable),
                       num_keys=int(num_keys))
    return outs[0] if single else tuple(outs)


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """Sort `keys` along `dimension` and permute `values` the same way."""
    k, v = sort((keys, values), dimension, is_stable, num_keys=1)
    return k, v


@sort_p.def_abstract_eval
def _sort_abstract_eval(*operands, dimension, is_stable, num_keys):
    shape = operands[0].shape
    if any(o.shape != shape for o in operands):
        raise TypeError(f"sort operands must have equal shapes, got "
                        f"{[o.str_short() for o in operands]}")
    if not 0 <= dimension < max(len(shape), 1):
        raise ValueError(f"sort dimension {dimension} out of range for shape {shape}")
    return list(operands)


@sort_p.def_lowering
def _sort_lowering(ctx, *operands, dimension, is_stable, num_keys):
    dtypes = [a.dtype for a in ctx.avals_in]
    outs = ctx.op("stablehlo.sort", list(operands),
                  regions=[_less_than_region(ctx, dtypes, num_keys)],
                  attrs={"dimension": f"{dimension} : i64",
                         "is_stable": "true" if is_stable else "false"})
    return [outs] if len(operands) == 1 else outs


def _iota_like(operand, dimension):
    return broadcasted_iota(np.int32, get_aval(operand).shape, dimension)


@sort_p.def_jvp
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    # Tangents move with their primals: sort them as extra operands under the same keys.
    # Both sorts are stable so that ties are permuted identically.
    keys = primals[:num_keys]
    outs = sort_p.bind(*primals, dimension=dimension, is_stable=True, num_keys=num_keys)
    moving = [i for i, t in enumerate(tangents) if not isinstance(t, Zero)]
    sorted_t = sort_p.bind(*keys, *[tangents[i] for i in moving], dimension=dimension,
                           is_stable=True, num_keys=num_keys)[num_keys:]
    out_tangents = [Zero(tangent_aval(get_aval(p))) for p in primals]
    for i, t in zip(moving, sorted_t):
        out_tangents[i] = t
    return outs, out_tangents


@sort_p.def_transpose
def _sort_transpose(cts, *operands, dimension, is_stable, num_keys):
    # Linear only in non-key operands (keys are known): un-permute the cotangents by
    # sorting them by the permutation the keys define.
    keys = operands[:num_keys]
    if any(is_undefined(k) for k in keys):
        raise TypeError("sort is not linear in its keys")
    result = [None] * len(operands)
    linear = [i for i, o in enumerate(operands) if is_undefined(o)]
    if not linear:
        return result
    perm = sort_p.bind(*keys, _iota_like(keys[0], dimension), dimension=dimension,
                       is_stable=True, num_keys=num_keys)[-1]
    restored = sort_p.bind(perm, *[instantiate(cts[i]) for i in linear],
                           dimension=dimension, is_stable=True, num_keys=1)[1:]
    for i, ct in zip(linear, restored):
        result[i] = ct
    return result


@sort_p.def_batching
def _sort_batching(axis_data, vals, dims, *, dimension, is_stable, num_keys):
    vals = [bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims)]
    outs = sort_p.bind(*vals, dimension=dimension + 1, is_stable=is_stable,
                       num_keys=num_keys)
    return outs, [0] * len(outs)


# --- top_k ------------------------------------------------------------------------------

top_k_p = Primitive("top_k", multiple_results=True)


def top_k(operand, k, *, axis=-1):
    """The `k` largest entries along `axis` (descending; ties: lower index first) and
    their int32 indices."""
    axis = canonicalize_axis(int(axis), get_aval(operand).ndim)
    return top_k_p.bind(operand, k=int(k), axis=axis)  # a list, as in JAX


@top_k_p.def_abstract_eval
def _top_k_abstract_eval(x, *, k, axis):
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"top_k needs 0 <= k <= {x.shape[axis]} (the size of axis {axis}), "
                         f"got k={k}")
    shape = list(x.shape)
    shape[axis] = k
    return [ShapedArray(shape, x.dtype, x.weak_type), ShapedArray(shape, np.int32)]


@top_k_p.def_lowering
def _top_k_lowering(ctx, x, *, k, axis):
    aval = ctx.avals_in[0]
    last = aval.ndim - 1
    if axis == last:
        return ctx.op("chlo.top_k", [x], attrs={"k": f"{k} : i64"})
    # chlo.top_k works on the last axis: swap `axis` there and back
    perm = list(range(aval.ndim))
    perm[axis], perm[last] = last, axis
    moved = ctx.op("stablehlo.transpose", [x],
                   [ShapedArray([aval.shape[p] for p in perm], aval.dtype)],
                   attrs={"permutation": i64_array(perm)})
    out_shape = [ctx.avals_out[0].shape[p] for p in perm]
    values, indices = ctx.op("chlo.top_k", [moved],
                             [ShapedArray(out_shape, aval.dtype),
                              ShapedArray(out_shape, np.int32)],
                             attrs={"k": f"{k} : i64"})
    return [ctx.op("stablehlo.transpose", [v], [out_aval],
                   attrs={"permutation": i64_array(perm)})
            for v, out_aval in zip((values, indices), ctx.avals_out)]


@top_k_p.def_jvp
def _top_k_jvp(primals, tangents, *, k, axis):
    (x,), (t,) = primals, tangents
    values, indices = top_k_p.bind(x, k=k, axis=axis)
    return [values, indices], [take_along_axis(t, indices, axis),
                               Zero(tangent_aval(get_aval(indices)))]


@top_k_p.def_batching
def _top_k_batching(axis_data, vals, dims, *, k, axis):
    (x,), (d,) = vals, dims
    new_axis = axis + 1 if d <= axis else axis
    outs = top_k_p.bind(x, k=k, axis=new_axis)
    return outs, [d, d]

