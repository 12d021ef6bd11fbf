"""Reductions over axes (reduce_sum/max/min/prod/and/or/xor), argmax/argmin, and the
cumulative reductions (cumsum, cumprod, cummax, cummin, cumlogsumexp).

Lowerings follow JAX: `stablehlo.reduce` with a scalar region; argmax/argmin are a
variadic reduce over (value, iota index) pairs; cumulative ops are a
`stablehlo.reduce_window` whose window spans the whole axis, padded in front."""

__all__ = ["reduce", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and",
           "reduce_or", "reduce_xor", "argmax", "argmin", "cumsum", "cumprod", "cummax",
           "cummin", "cumlogsumexp"]
import weakref

import numpy as np
from jax import tree_util

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, defjvp, deflinear, instantiate, tangent_aval
from .._batching import bdim_at_front
from ._logaddexp import logaddexp_p
from ._util import canonicalize_axis
from .._lowering import LoweringContext, ir_type
from ._associative_scan import associative_scan
from ._structural import expand_dims, broadcast_in_dim, i64_array, reshape, transpose
from ._values import convert_element_type, full
from ._slicing import pad, slice_in_dim
from . import _elementwise, _elementwise as ew
from .._staging import trace_to_program


# --- regions ------------------------------------------------------------------------

def scalar_region(ctx, dtypes, body):
    """Region text whose block takes one scalar argument per entry of `dtypes`.

    `body(inner_ctx, *arg_names)` emits the region's ops with `inner_ctx.op` and
    returns the list of SSA names to return."""
    scalars = [ShapedArray((), d) for d in dtypes]
    args = []
    for aval in scalars:
        name = ctx.module.fresh()
        ctx.module.types[name] = ir_type(aval)
        args.append(name)
    lines = []
    inner = LoweringContext(ctx.module, lines, scalars, scalars[:1])
    results = body(inner, *args)
    types = [ctx.module.types[r] for r in results]
    lines.append(f'"stablehlo.return"({", ".join(results)}) : ({", ".join(types)}) -> ()')
    head = ", ".join(f"{a}: {ctx.module.types[a]}" for a in args)
    text = "\n".join("      " + l for l in lines)
    return f"{{\n    ^bb0({head}):\n{text}\n    }}"


def binary_region(ctx, hlo_op, dtype):
    """Region `^bb0(%a, %b): return hlo_op(%a, %b)` on scalars of `dtype`."""
    return scalar_region(ctx, [dtype, dtype], lambda c, a, b: [c.op(hlo_op, [a, b])])


def compare_scalars(ctx, a, b, direction, dtype, total_order=False):
    """`stablehlo.compare` of two scalars of `dtype` (inside a region)."""
    if _dtypes.is_inexact(dtype):
        kind = "TOTALORDER" if total_order else "FLOAT"
    else:
        kind = "UNSIGNED" if _dtypes.is_unsigned(dtype) or dtype == _dtypes.bool_ \
            else "SIGNED"
    return ctx.op("stablehlo.compare", [a, b], [ShapedArray((), np.bool_)], attrs={
        "comparison_direction": f"#stablehlo<comparison_direction {direction}>",
        "compare_type": f"#stablehlo<comparison_type {kind}>"})


# --- monoid reductions ----------------------------------------------------------------

def _reduce_abstract_eval(x, *, axes):
    axes = tuple(axes)
    if any(not 0 <= a < x.ndim for a in axes):
        raise ValueError(f"reduction axes {axes} out of range for shape {x.shape}")
    return ShapedArray([d for i, d in enumerate(x.shape) if i not in axes], x.dtype,
                       x.weak_type)


def _reduce_batching(prim):
    def rule(axis_data, vals, dims, *, axes):
        x = bdim_at_front(axis_data.size, vals[0], dims[0])
        return prim.bind(x, axes=tuple(a + 1 for a in axes)), 0
    return rule


def _canonical_axes(x, axes):
    ndim = get_aval(x).ndim
    return tuple(sorted({canonicalize_axis(int(a), ndim) for a in axes}))


def reducer(name, hlo_op, init, kinds="any"):
    """A reduction primitive with a monoid `hlo_op` and identity `init(dtype)`."""
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, *, axes):
        if kinds == "integer" and _dtypes.is_inexact(x.dtype):
            raise TypeError(f"{name} requires boolean or integer operands, got "
                            f"{x.dtype.name}")
        return _reduce_abstract_eval(x, axes=axes)

    def lowering(ctx, x, *, axes):
        dtype = ctx.avals_in[0].dtype
        init_val = ctx.constant(init(dtype), dtype)
        return ctx.op("stablehlo.reduce", [x, init_val],
                      regions=[binary_region(ctx, hlo_op, dtype)],
                      attrs={"dimensions": i64_array(axes)})
    prim.lowering_rule = lowering
    prim.batching_rule = _reduce_batching(prim)

    def wrapper(operand, axes):
        return prim.bind(operand, axes=_canonical_axes(operand, axes))
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = f"Reduce `operand` over `axes` with {hlo_op}."
    return prim, wrapper


def _max_identity(dtype):
    if _dtypes.is_inexact(dtype):
        return -np.inf
    return False if dtype == _dtypes.bool_ else np.iinfo(dtype).min


def _min_identity(dtype):
    if _dtypes.is_inexact(dtype):
        return np.inf
    return True if dtype == _dtypes.bool_ else np.iinfo(dtype).max


def _all_ones(dtype):
    return True if dtype == _dtypes.bool_ else np.array(-1).astype(dtype)


reduce_sum_p, reduce_sum = reducer("reduce_sum", "stablehlo.add", lambda d: 0)
reduce_prod_p, reduce_prod = reducer("reduce_prod", "stablehlo.multiply", lambda d: 1)
reduce_max_p, reduce_max = reducer("reduce_max", "stablehlo.maximum", _max_identity)
reduce_min_p, reduce_min = reducer("reduce_min", "stablehlo.minimum", _min_identity)
reduce_and_p, reduce_and = reducer("reduce_and", "stablehlo.and", _all_ones, "integer")
reduce_or_p, reduce_or = reducer("reduce_or", "stablehlo.or", lambda d: 0, "integer")
reduce_xor_p, reduce_xor = reducer("reduce_xor", "stablehlo.xor", lambda d: 0, "integer")


def _kept_dims(shape, axes):
    return [i for i in range(len(shape)) if i not in axes]


def _reduce_sum_transpose(ct, x, *, axes):
    shape = x.aval.shape
    return [broadcast_in_dim(ct, shape, _kept_dims(shape, axes))]


deflinear(reduce_sum_p, _reduce_sum_transpose)


def _reduce_chooser_jvp(g, ans, x, *, axes):
    # the tangent is averaged over the positions that attain the extremum (as JAX does)
    shape = get_aval(x).shape
    location = convert_element_type(
        ew.eq(x, broadcast_in_dim(ans, shape, _kept_dims(shape, axes))), get_aval(g).dtype)
    counts = reduce_sum(location, axes)
    return ew.div(reduce_sum(ew.mul(g, location), axes), counts)


defjvp(reduce_max_p, _reduce_chooser_jvp)
defjvp(reduce_min_p, _reduce_chooser_jvp)


def _reduce_prod_jvp(primals, tangents, *, axes):
    # JAX's rule: a pairwise product tree over the reduced entries, differentiated
    # factor by factor (exact with zeros; at inf and NaN entries the same numbers as
    # JAX). The primal is the tree's product, as in JAX.
    (x,), (g,) = primals, tangents
    aval = get_aval(x)
    kept = _kept_dims(aval.shape, axes)
    kept_shape = [aval.shape[d] for d in kept]
    n = int(np.prod([aval.shape[a] for a in axes], dtype=np.int64))
    if n == 0:
        ones = full(kept_shape, 1, aval.dtype, weak_type=aval.weak_type)
        return ones, Zero(tangent_aval(get_aval(ones)))
    x, g = [reshape(transpose(v, (*axes, *kept)), (n, *kept_shape)) for v in (x, instantiate(g))]
    while n > 1:
        half = (n + 1) // 2
        x1, x2 = slice_in_dim(x, 0, half), slice_in_dim(x, half, n)
        g1, g2 = slice_in_dim(g, 0, half), slice_in_dim(g, half, n)
        if n - half != half:  # pad the shorter half with the identity (tangent 0)
            config = [(0, 1, 0)] + [(0, 0, 0)] * len(kept)
            x2 = pad(x2, np.ones((), aval.dtype), config)
            g2 = pad(g2, np.zeros((), get_aval(g).dtype), config)
        x, g = ew.mul_p.jvp_rule([x1, x2], [g1, g2])
        n = half
    return reshape(x, kept_shape), reshape(g, kept_shape)


reduce_prod_p.jvp_rule = _reduce_prod_jvp


# --- argmax / argmin --------------------------------------------------------------------

def _arg_reducer(name, direction, identity):
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, *, axes, index_dtype):
        if not all(0 <= a < x.ndim for a in axes):
            raise ValueError(f"{name} axis {axes[0]} out of range for shape {x.shape}")
        if not _dtypes.is_integer(index_dtype):
            raise TypeError(f"{name} index_dtype must be an integer type, got {index_dtype}")
        if x.shape[axes[0]] == 0:
            raise ValueError(f"{name} of an empty axis: axis {axes[0]} of shape {x.shape} "
                             f"has size 0, so there is no index to return")
        return ShapedArray([d for i, d in enumerate(x.shape) if i not in axes], index_dtype)

    @prim.def_lowering
    def lowering(ctx, x, *, axes, index_dtype):
        # JAX's comparator: take the left value if it compares `direction` or is NaN;
        # take the left index if so, or on equal values with a smaller index.
        aval = ctx.avals_in[0]
        dtype = aval.dtype
        iota = ctx.op("stablehlo.iota", [], [ShapedArray(aval.shape, index_dtype)],
                      attrs={"iota_dimension": f"{axes[0]} : i64"})
        inits = [ctx.constant(identity(dtype), dtype), ctx.constant(0, index_dtype)]

        def body(c, a_val, a_idx, b_val, b_idx):
            pick = compare_scalars(c, a_val, b_val, direction, dtype)
            if _dtypes.is_inexact(dtype):
                pick = c.op("stablehlo.or", [pick, compare_scalars(c, a_val, a_val, "NE", dtype)],
                            [ShapedArray((), np.bool_)])
            tie = c.op("stablehlo.and", [compare_scalars(c, a_val, b_val, "EQ", dtype),
                                         compare_scalars(c, a_idx, b_idx, "LT", index_dtype)],
                       [ShapedArray((), np.bool_)])
            pick_idx = c.op("stablehlo.or", [pick, tie], [ShapedArray((), np.bool_)])
            return [c.op("stablehlo.select", [pick, a_val, b_val], [ShapedArray((), dtype)]),
                    c.op("stablehlo.select", [pick_idx, a_idx, b_idx],
                         [ShapedArray((), index_dtype)])]
        out_shape = ctx.avals_out[0].shape
        outs = ctx.op("stablehlo.reduce", [x, iota, *inits],
                      [ShapedArray(out_shape, dtype), ShapedArray(out_shape, index_dtype)],
                      regions=[scalar_region(ctx, [dtype, index_dtype, dtype, index_dtype],
                                             body)],
                      attrs={"dimensions": i64_array(axes)})
        return outs[1]

    @prim.def_jvp
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        return out, Zero(tangent_aval(get_aval(out)))

    @prim.def_batching
    def batching(axis_data, vals, dims, *, axes, index_dtype):
        x = bdim_at_front(axis_data.size, vals[0], dims[0])
        return prim.bind(x, axes=(axes[0] + 1,), index_dtype=index_dtype), 0

    def wrapper(operand, axis, index_dtype):
        axis = canonicalize_axis(int(axis), get_aval(operand).ndim)
        return prim.bind(operand, axes=(axis,),
                         index_dtype=_dtypes.canonicalize_dtype(index_dtype))
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = (f"Index of the {'largest' if direction == 'GT' else 'smallest'} "
                       f"element along `axis` (first one on ties; NaN counts as extreme).")
    return prim, wrapper


argmax_p, argmax = _arg_reducer("argmax", "GT", _max_identity)
argmin_p, argmin = _arg_reducer("argmin", "LT", _min_identity)


# --- cumulative reductions ------------------------------------------------------------

def _logaddexp_region_body(c, a, b):
    # log(exp(a) + exp(b)) = max(a, b) + log1p(exp(-|a - b|)); a - b is NaN when both
    # are the same infinity, where a + b is the answer (as in JAX's region).
    scalar = c.avals_in[0]
    amax = c.op("stablehlo.maximum", [a, b], [scalar])
    delta = c.op("stablehlo.subtract", [a, b], [scalar])
    isnan = compare_scalars(c, delta, delta, "NE", scalar.dtype)
    total = c.op("stablehlo.add", [a, b], [scalar])
    tail = c.op("stablehlo.log_plus_one", [c.op("stablehlo.exponential", [
        c.op("stablehlo.negate", [c.op("stablehlo.abs", [delta], [scalar])], [scalar])],
        [scalar])], [scalar])
    return [c.op("stablehlo.select", [isnan, total, c.op("stablehlo.add", [amax, tail],
                                                          [scalar])], [scalar])]


def cumulative(name, region_body, identity, kinds="any"):
    """A cumulative reduction primitive `fn(operand, axis=0, reverse=False)`."""
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, *, axis, reverse):
        if not 0 <= axis < x.ndim:
            raise ValueError(f"{name} axis {axis} out of range for shape {x.shape}")
        if kinds == "float" and not _dtypes.is_inexact(x.dtype):
            raise TypeError(f"{name} requires floating-point operands, got {x.dtype.name}")
        return x

    @prim.def_lowering
    def lowering(ctx, x, *, axis, reverse):
        aval = ctx.avals_in[0]
        n = aval.shape[axis]
        if n == 0:
            return x
        window = [1] * aval.ndim
        window[axis] = n
        padding = [[0, 0] for _ in range(aval.ndim)]
        padding[axis] = [0, n - 1] if reverse else [n - 1, 0]
        ones = i64_array([1] * aval.ndim)
        init = ctx.constant(identity(aval.dtype), aval.dtype)
        return ctx.op("stablehlo.reduce_window", [x, init],
                      regions=[scalar_region(ctx, [aval.dtype] * 2, region_body)],
                      attrs={"window_dimensions": i64_array(window),
                             "window_strides": ones, "base_dilations": ones,
                             "window_dilations": ones,
                             "padding": f"dense<{padding}> : tensor<{aval.ndim}x2xi64>"})

    @prim.def_batching
    def batching(axis_data, vals, dims, *, axis, reverse):
        x = bdim_at_front(axis_data.size, vals[0], dims[0])
        return prim.bind(x, axis=axis + 1, reverse=reverse), 0

    def wrapper(operand, axis=0, reverse=False):
        axis = canonicalize_axis(int(axis), get_aval(operand).ndim)
        return prim.bind(operand, axis=axis, reverse=bool(reverse))
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = f"Cumulative {name[3:]} of `operand` along `axis` (from the end if " \
                      f"`reverse`)."
    return prim, wrapper


def _binary_body(hlo_op):
    return lambda c, a, b: [c.op(hlo_op, [a, b])]


cumsum_p, cumsum = cumulative("cumsum", _binary_body("stablehlo.add"), lambda d: 0)
cumprod_p, cumprod = cumulative("cumprod", _binary_body("stablehlo.multiply"), lambda d: 1)
cummax_p, cummax = cumulative("cummax", _binary_body("stablehlo.maximum"), _max_identity)
cummin_p, cummin = cumulative("cummin", _binary_body("stablehlo.minimum"), _min_identity)
cumlogsumexp_p, cumlogsumexp = cumulative("cumlogsumexp", _logaddexp_region_body,
                                          lambda d: -np.inf, "float")

deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [
    cumsum_p.bind(ct, axis=axis, reverse=not reverse)])


def _scan_jvp(binary_p):
    """JAX's JVP of a cumulative reduction: the associative scan of (value, tangent)
    pairs combined by the JVP of the binary primitive (JAX differentiates the scan).
    The primal is the scan's, as in JAX (it may differ from the reduce_window's in the
    last bit)."""
    def combine(a, b):
        value, tangent = binary_p.jvp_rule([a[0], b[0]], [a[1], b[1]])
        return value, instantiate(tangent)

    def rule(primals, tangents, *, axis, reverse):
        (x,), (g,) = primals, tangents
        return associative_scan(combine, (x, instantiate(g)), reverse=reverse, axis=axis)
    return rule


cumprod_p.jvp_rule = _scan_jvp(ew.mul_p)
cummax_p.jvp_rule = _scan_jvp(ew.max_p)
cummin_p.jvp_rule = _scan_jvp(ew.min_p)
cumlogsumexp_p.jvp_rule = _scan_jvp(logaddexp_p)


def take_along_axis(t, index, axis):
    """out[..., i, ...] = t[..., index[..., i, ...], ...] along `axis` (in-bounds indices;
    every other dimension of `index` matches `t`): one batched gather."""
    from ._indexing import GatherDimensionNumbers, gather  # _indexing imports this module
    ndim = get_aval(t).ndim
    others = tuple(d for d in range(ndim) if d != axis)
    dnums = GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(axis,),
                                   start_index_map=(axis,), operand_batching_dims=others,
                                   start_indices_batching_dims=others)
    return gather(t, expand_dims(index, (ndim,)), dnums, (1,) * ndim)


# --- reduce with a user computation -------------------------------------------------------

reduce_p = Primitive("reduce", multiple_results=True)
_MONOIDS = {"add": (reduce_sum, 0), "mul": (reduce_prod, 1), "max": (reduce_max, None),
            "min": (reduce_min, None), "bitwise_and": (reduce_and, None),
            "bitwise_or": (reduce_or, 0), "bitwise_xor": (reduce_xor, 0)}
_computation_programs = weakref.WeakKeyDictionary()  # computation -> {signature: Program}


def reduce(operands, init_values, computation, dimensions):
    """Reduce `operands` (an array or a pytree of same-shape arrays) over `dimensions`
    with `computation(accumulated, element)` starting from `init_values`, as
    `jax.lax.reduce`. A lax monoid (add, mul, max, ...) with its identity as the
    initial value becomes reduce_sum, reduce_prod, ... (differentiable); any other
    computation is staged into the region of one `stablehlo.reduce`."""
    flat_ops, tree = tree_util.tree_flatten(operands)
    flat_init, init_tree = tree_util.tree_flatten(init_values)
    if init_tree != tree:
        raise TypeError(f"reduce: operands {tree} and init_values {init_tree} must have "
                        f"the same structure")
    axes = _canonical_axes(flat_ops[0], dimensions)
    if len(flat_ops) == 1:
        monoid = _monoid_reducer(computation, flat_ops[0], flat_init[0])
        if monoid is not None:
            return tree_util.tree_unflatten(tree, [monoid(flat_ops[0], axes)])
    program = _computation_program(computation, tree, [get_aval(x).dtype for x in flat_ops])
    outs = reduce_p.bind(*flat_ops, *flat_init, computation=program, dimensions=axes)
    return tree_util.tree_unflatten(tree, outs)


def _monoid_reducer(computation, x, init):
    for name, (reduce_fn, identity) in _MONOIDS.items():
        if computation is getattr(_elementwise, name, None):
            if identity is None:
                dtype = get_aval(x).dtype
                identity = {"max": _max_identity, "min": _min_identity,
                            "bitwise_and": _all_ones}[name](dtype)
            try:
                is_identity = bool(np.all(np.asarray(init) == np.asarray(identity)))
            except Exception:  # a traced initial value: use the general reduce
                return None
            return reduce_fn if is_identity else None
    return None


def _computation_program(computation, tree, dtypes):
    try:
        cache = _computation_programs.setdefault(computation, {})
    except TypeError:  # not weakly referenceable: trace every time
        cache = {}
    key = (tree, tuple(dtypes))
    if key not in cache:
        n = len(dtypes)

        def flat(*scalars):
            acc = tree_util.tree_unflatten(tree, scalars[:n])
            x = tree_util.tree_unflatten(tree, scalars[n:])
            return tree_util.tree_leaves(computation(acc, x))
        avals = [ShapedArray((), d) for d in dtypes] * 2
        program, consts = trace_to_program(flat, avals, "reduce computation")
        if consts:
            raise TypeError("the computation of lax.reduce may not close over arrays")
        cache[key] = program
    return cache[key]


@reduce_p.def_abstract_eval
def _reduce_general_abstract_eval(*args, computation, dimensions):
    operands = args[:len(args) // 2]
    return [_reduce_abstract_eval(x, axes=dimensions).strip_weak_type() for x in operands]


@reduce_p.def_lowering
def _reduce_general_lowering(ctx, *args, computation, dimensions):
    region = ctx.region(computation, [None] * len(computation.in_vars))
    outs = ctx.op("stablehlo.reduce", list(args), regions=[region],
                  attrs={"dimensions": i64_array(dimensions)})
    return [outs] if len(ctx.avals_out) == 1 else outs


@reduce_p.def_batching
def _reduce_general_batching(axis_data, vals, dims, *, computation, dimensions):
    n = len(vals) // 2
    if any(d is not None for d in dims[n:]):
        raise NotImplementedError("vmap of lax.reduce over batched initial values")
    operands = [bdim_at_front(axis_data.size, x, d) for x, d in zip(vals[:n], dims[:n])]
    outs = reduce_p.bind(*operands, *vals[n:], computation=computation,
                         dimensions=tuple(a + 1 for a in dimensions))
    return outs, [0] * n
