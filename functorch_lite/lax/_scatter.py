"""The scatter family: scatter (set), scatter_add, scatter_sub, scatter_mul, scatter_min,
scatter_max and scatter_apply, with their rules. Re-exported by `lax/_indexing.py`, which holds the
dimension-number classes, modes and gather."""
import weakref

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front
from ._elementwise import add, div, eq, mul, sub, max as _max, min as _min, neg
from ._reductions import binary_region
from ._structural import broadcast_in_dim
from ._values import full, select_n
from ._util import check_same_dtypes
from ._indexing import (CLIP, FILL_OR_DROP, GatherScatterMode, ScatterDimensionNumbers, _bool_text,
                        _check, _dims_text, _gather_dnums_of, _int_tuples, _shift, gather,
                        lower_composite)
from .._lowering import ir_type
from .._ir import Equation, Literal, Program
from .._staging import trace_to_program


def _scatter_abstract_eval(operand, indices, updates, *, dimension_numbers, **_):
    d = dimension_numbers
    check_same_dtypes("scatter", operand, updates)
    _check(_dtypes.is_integer(indices.dtype),
           f"scatter indices must have an integer type, got {indices.dtype.name}")
    _check(indices.ndim >= 1, "scatter indices need an index vector (last) dimension")
    _check(len(d.scatter_dims_to_operand_dims) == indices.shape[-1],
           f"scatter_dims_to_operand_dims {d.scatter_dims_to_operand_dims} must have one "
           f"entry per element of the index vector (indices shape {indices.shape})")
    _check(updates.ndim == indices.ndim - 1 + len(d.update_window_dims),
           f"scatter updates of shape {updates.shape} must have rank "
           f"{indices.ndim - 1} (scatter dims) + {len(d.update_window_dims)} (window dims)")
    _check(len(d.update_window_dims) + len(d.inserted_window_dims) +
           len(d.operand_batching_dims) == operand.ndim,
           f"scatter dimension numbers {d} do not account for every dimension of an "
           f"operand of rank {operand.ndim}")
    window = _window_sizes(operand.shape, updates.shape, d)
    _check(all(w <= n for i, (w, n) in enumerate(zip(window, operand.shape))
               if i not in d.inserted_window_dims and i not in d.operand_batching_dims),
           f"scatter window {tuple(window)} is larger than the operand {operand.shape}")
    scatter_dims = [i for i in range(updates.ndim) if i not in d.update_window_dims]
    _check([updates.shape[i] for i in scatter_dims] == list(indices.shape[:-1]),
           f"scatter updates {updates.shape} must have the indices' batch shape "
           f"{indices.shape[:-1]} in their scatter dimensions ({d})")
    return operand


def _window_sizes(operand_shape, updates_shape, d):
    """The slice size in each operand dimension that one update window covers."""
    sizes, pos = [], 0
    for i in range(len(operand_shape)):
        if i in d.inserted_window_dims or i in d.operand_batching_dims:
            sizes.append(1)
        else:
            sizes.append(updates_shape[d.update_window_dims[pos]])
            pos += 1
    return sizes


def _scatter_dnums_attr(d, index_vector_dim):
    parts = [_dims_text("update_window_dims", d.update_window_dims),
             _dims_text("inserted_window_dims", d.inserted_window_dims)]
    if d.operand_batching_dims:
        parts += [_dims_text("input_batching_dims", d.operand_batching_dims),
                  _dims_text("scatter_indices_batching_dims", d.scatter_indices_batching_dims)]
    parts += [_dims_text("scatter_dims_to_operand_dims", d.scatter_dims_to_operand_dims),
              f"index_vector_dim = {index_vector_dim}"]
    return f"#stablehlo.scatter<{', '.join(parts)}>"


def _clamp_indices(indices, operand_shape, updates_shape, d):
    """CLIP mode: clamp each index so its whole window lies inside the operand."""
    aval = get_aval(indices)
    window = _window_sizes(operand_shape, updates_shape, d)
    limit = np.iinfo(aval.dtype).max
    upper = np.array([min(operand_shape[i] - window[i], limit)
                      for i in d.scatter_dims_to_operand_dims], aval.dtype)
    upper = broadcast_in_dim(upper, aval.shape, (aval.ndim - 1,))
    return _max(full(aval.shape, 0, aval.dtype), _min(indices, upper))


def _set_region(ctx, dtype):
    """Update computation `(old, new) -> new`."""
    t = ir_type(ShapedArray((), dtype))
    a, b = ctx.module.fresh(), ctx.module.fresh()
    return (f"{{\n    ^bb0({a}: {t}, {b}: {t}):\n"
            f'      "stablehlo.return"({b}) : ({t}) -> ()\n    }}')


def _scatter_lowering(region, ctx, operand, indices, updates, *, dimension_numbers,
                      indices_are_sorted, unique_indices, mode, **params):
    op_aval, idx_aval, upd_aval = ctx.avals_in
    if mode == CLIP:
        indices = lower_composite(
            ctx, lambda i: _clamp_indices(i, op_aval.shape, upd_aval.shape, dimension_numbers),
            [indices], [idx_aval])
    # FILL_OR_DROP and PROMISE_IN_BOUNDS: XLA's scatter skips out-of-bounds windows
    return ctx.op("stablehlo.scatter", [operand, indices, updates],
                  regions=[region(ctx, op_aval.dtype, **params)], attrs={
                      "indices_are_sorted": _bool_text(indices_are_sorted),
                      "scatter_dimension_numbers": _scatter_dnums_attr(
                          dimension_numbers, idx_aval.ndim - 1),
                      "unique_indices": _bool_text(unique_indices)})


def _scatter_batching(prim, axis_size, vals, dims, *, dimension_numbers, **params):
    (operand, indices, updates), (operand_bdim, indices_bdim, updates_bdim) = vals, dims
    d = dimension_numbers
    operand = bdim_at_front(axis_size, operand, operand_bdim)
    updates = bdim_at_front(axis_size, updates, updates_bdim)
    if indices_bdim is None:
        # the batch dim is one more window dim, written whole
        dn = ScatterDimensionNumbers((0, *_shift(d.update_window_dims)),
                                     _shift(d.inserted_window_dims),
                                     _shift(d.scatter_dims_to_operand_dims),
                                     _shift(d.operand_batching_dims),
                                     d.scatter_indices_batching_dims)
    else:
        # pair the batch dims of operand and indices with XLA's batching dims
        indices = bdim_at_front(axis_size, indices, indices_bdim)
        dn = ScatterDimensionNumbers(_shift(d.update_window_dims),
                                     _shift(d.inserted_window_dims),
                                     _shift(d.scatter_dims_to_operand_dims),
                                     (0, *_shift(d.operand_batching_dims)),
                                     (0, *_shift(d.scatter_indices_batching_dims)))
    return prim.bind(operand, indices, updates, dimension_numbers=dn, **params), 0


def _scatter_primitive(name, region):
    prim = Primitive(name)
    prim.abstract_eval_rule = _scatter_abstract_eval
    prim.lowering_rule = lambda ctx, *args, **params: _scatter_lowering(region, ctx, *args,
                                                                        **params)
    prim.batching_rule = lambda axis_data, vals, dims, **params: _scatter_batching(
        prim, axis_data.size, vals, dims, **params)
    return prim


def _op_region(hlo_op):
    return lambda ctx, dtype: binary_region(ctx, hlo_op, dtype)


scatter_p = _scatter_primitive("scatter", _set_region)
scatter_add_p = _scatter_primitive("scatter-add", _op_region("stablehlo.add"))
scatter_sub_p = _scatter_primitive("scatter-sub", _op_region("stablehlo.subtract"))
scatter_mul_p = _scatter_primitive("scatter-mul", _op_region("stablehlo.multiply"))
scatter_min_p = _scatter_primitive("scatter-min", _op_region("stablehlo.minimum"))
scatter_max_p = _scatter_primitive("scatter-max", _op_region("stablehlo.maximum"))


def _wrapper(prim, name, doc):
    def fn(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted=False,
           unique_indices=False, mode=None):
        return prim.bind(operand, scatter_indices, updates,
                         dimension_numbers=_int_tuples(dimension_numbers,
                                                       ScatterDimensionNumbers),
                         indices_are_sorted=bool(indices_are_sorted),
                         unique_indices=bool(unique_indices),
                         mode=GatherScatterMode.from_any(mode))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"XLA Scatter where {doc}. Prefer `x.at[idx]` updates. `mode=None` "
                  f"drops out-of-bounds windows; 'clip' clamps their indices.")
    return fn


scatter = _wrapper(scatter_p, "scatter", "updates replace operand values")
scatter_add = _wrapper(scatter_add_p, "scatter_add", "updates are added to operand values")
scatter_sub = _wrapper(scatter_sub_p, "scatter_sub",
                       "updates are subtracted from operand values")
scatter_mul = _wrapper(scatter_mul_p, "scatter_mul", "operand values are multiplied by updates")
scatter_min = _wrapper(scatter_min_p, "scatter_min", "values become min(operand, updates)")
scatter_max = _wrapper(scatter_max_p, "scatter_max", "values become max(operand, updates)")


def _inverse_gather(x, indices, updates_shape, params, **kwargs):
    """Gather from `x` the windows a scatter with `params` writes (same shape as updates)."""
    d = params["dimension_numbers"]
    return gather(x, indices, _gather_dnums_of(d),
                  _window_sizes(get_aval(x).shape, updates_shape, d), **kwargs)


def _zeros(x, dtype=None):
    aval = get_aval(x) if not is_undefined(x) else x.aval
    return full(aval.shape, 0, dtype or aval.dtype)


def _ones(x, dtype=None):
    aval = get_aval(x)
    return full(aval.shape, 1, dtype or aval.dtype)


def _undefined_shape(x):
    return x.aval.shape if is_undefined(x) else get_aval(x).shape


# --- scatter_add: linear in operand and updates -------------------------------------

def _scatter_add_jvp(primals, tangents, **params):
    operand, indices, updates = primals
    g_operand, _, g_updates = tangents
    out = scatter_add_p.bind(operand, indices, updates, **params)
    if isinstance(g_operand, Zero) and isinstance(g_updates, Zero):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, scatter_add_p.bind(instantiate(g_operand), indices, instantiate(g_updates),
                                   **params)


def _scatter_add_transpose(ct, operand, indices, updates, **params):
    assert not is_undefined(indices)
    operand_ct = updates_ct = None
    if is_undefined(operand):
        operand_ct = ct
    if is_undefined(updates):
        updates_ct = _inverse_gather(ct, indices, updates.aval.shape, params,
                                     mode=params["mode"], fill_value=0)
    return [operand_ct, None, updates_ct]


scatter_add_p.jvp_rule = _scatter_add_jvp
scatter_add_p.transpose_rule = _scatter_add_transpose


# --- scatter_sub: linear in operand and updates (operand - scattered updates) ----------

def _scatter_sub_jvp(primals, tangents, **params):
    operand, indices, updates = primals
    g_operand, _, g_updates = tangents
    out = scatter_sub_p.bind(operand, indices, updates, **params)
    if isinstance(g_operand, Zero) and isinstance(g_updates, Zero):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, scatter_sub_p.bind(instantiate(g_operand), indices, instantiate(g_updates),
                                   **params)


def _scatter_sub_transpose(ct, operand, indices, updates, **params):
    operand_ct, _, updates_ct = _scatter_add_transpose(ct, operand, indices, updates,
                                                       **params)
    return [operand_ct, None, None if updates_ct is None else neg(updates_ct)]


scatter_sub_p.jvp_rule = _scatter_sub_jvp
scatter_sub_p.transpose_rule = _scatter_sub_transpose


# --- scatter_mul: linear in the operand; in the updates only for unique indices ------

def _scatter_mul_jvp(primals, tangents, **params):
    operand, indices, updates = primals
    g_operand, _, g_updates = tangents
    out = scatter_mul_p.bind(operand, indices, updates, **params)
    tangent = Zero(tangent_aval(get_aval(out)))
    if not isinstance(g_operand, Zero):
        tangent = scatter_mul_p.bind(g_operand, indices, updates, **params)
    if not isinstance(g_updates, Zero):
        if not params["unique_indices"]:
            raise NotImplementedError(
                "scatter_mul gradients with respect to the updates are only implemented "
                "for unique_indices=True")
        spread = scatter_add_p.bind(_zeros(operand), indices, g_updates, **params)
        t_updates = mul(operand, spread)
        tangent = t_updates if isinstance(tangent, Zero) else add(tangent, t_updates)
    return out, tangent


def _scatter_mul_transpose(ct, operand, indices, updates, **params):
    assert not is_undefined(indices)
    operand_ct = updates_ct = None
    if is_undefined(operand):
        operand_ct = scatter_mul_p.bind(ct, indices, updates, **params)
    if is_undefined(updates):
        if not params["unique_indices"]:
            raise NotImplementedError(
                "scatter_mul gradients with respect to the updates are only implemented "
                "for unique_indices=True")
        updates_ct = _inverse_gather(mul(ct, operand), indices, updates.aval.shape, params,
                                     mode=params["mode"], fill_value=0)
    return [operand_ct, None, updates_ct]


scatter_mul_p.jvp_rule = _scatter_mul_jvp
scatter_mul_p.transpose_rule = _scatter_mul_transpose


# --- scatter_min / scatter_max ------------------------------------------------------

def _extremal_jvp(prim):
    """Tangent of a min/max scatter: where several values tie for the result (operand
    and/or updates), their tangents are averaged, as JAX does."""
    def jvp(primals, tangents, **params):
        operand, indices, updates = primals
        g_operand, _, g_updates = tangents
        out = prim.bind(operand, indices, updates, **params)
        if isinstance(g_operand, Zero) and isinstance(g_updates, Zero):
            return out, Zero(tangent_aval(get_aval(out)))
        g_operand, g_updates = instantiate(g_operand), instantiate(g_updates)
        shape = get_aval(updates).shape
        plain = dict(dimension_numbers=params["dimension_numbers"], indices_are_sorted=False,
                     unique_indices=False, mode=FILL_OR_DROP)

        def gathered(x):
            return _inverse_gather(x, indices, shape, params)

        def count(values):
            return gathered(scatter_add_p.bind(_zeros(operand), indices, values, **plain))
        initial, target = gathered(operand), gathered(out)
        dtype = get_aval(operand).dtype
        successful = eq(updates, target)
        retained = eq(initial, target)
        zeros_u, ones_u = _zeros(updates), _ones(updates)
        num_updates = count(select_n(successful, zeros_u, ones_u))
        num_refs = count(ones_u)
        one = full(shape, 1, dtype)
        updates_normalizer = select_n(retained, div(one, num_updates),
                                      div(one, add(num_updates, one)))
        updates_coef = select_n(successful, zeros_u, updates_normalizer)
        operand_normalizer = select_n(retained, zeros_u, div(one, add(num_updates, one)))
        operand_coef = div(sub(operand_normalizer, one), num_refs)
        tangent_updates = add(mul(gathered(g_operand), operand_coef),
                              mul(g_updates, updates_coef))
        return out, scatter_add_p.bind(g_operand, indices, tangent_updates, **params)
    return jvp


scatter_min_p.jvp_rule = _extremal_jvp(scatter_min_p)
scatter_max_p.jvp_rule = _extremal_jvp(scatter_max_p)


# --- scatter (set) ------------------------------------------------------------------

@scatter_p.def_jvp
def _scatter_jvp(primals, tangents, **params):
    operand, indices, updates = primals
    g_operand, _, g_updates = tangents
    if isinstance(g_operand, Zero) and isinstance(g_updates, Zero):
        out = scatter_p.bind(operand, indices, updates, **params)
        return out, Zero(tangent_aval(get_aval(out)))
    g_operand, g_updates = instantiate(g_operand), instantiate(g_updates)
    if params["unique_indices"]:
        return (scatter_p.bind(operand, indices, updates, **params),
                scatter_p.bind(g_operand, indices, g_updates, **params))
    # Several updates may hit one place and which one wins is unspecified, so: scatter a
    # distinct id per update, gather the ids back to learn which update won each place,
    # then build value and tangent with scatter_add of the masked operand and updates.
    d = params["dimension_numbers"]
    upd_shape = get_aval(updates).shape
    ids_shape = [1 if i in d.update_window_dims else n for i, n in enumerate(upd_shape)]
    ids = np.arange(1, int(np.prod(ids_shape)) + 1, dtype=np.int32).reshape(ids_shape)
    update_ids = broadcast_in_dim(ids, upd_shape, tuple(range(len(upd_shape))))
    scattered_ids = scatter_p.bind(_zeros(operand, np.int32), indices, update_ids, **params)
    gathered_ids = _inverse_gather(scattered_ids, indices, upd_shape, params)
    operand_kept = eq(scattered_ids, _zeros(scattered_ids))
    update_won = eq(update_ids, gathered_ids)

    def combine(x, u):
        return scatter_add_p.bind(select_n(operand_kept, _zeros(x), x), indices,
                                  select_n(update_won, _zeros(u), u), **params)
    return combine(operand, updates), combine(g_operand, g_updates)


@scatter_p.def_transpose
def _scatter_transpose(ct, operand, indices, updates, **params):
    if not params["unique_indices"]:
        raise NotImplementedError("scatter transpose is only implemented where "
                                  "unique_indices=True")
    assert not is_undefined(indices)
    operand_ct = updates_ct = None
    upd_shape = _undefined_shape(updates)
    if is_undefined(operand):
        # the places that were overwritten get no cotangent
        operand_ct = scatter_p.bind(ct, indices, full(upd_shape, 0, get_aval(ct).dtype),
                                    **params)
    if is_undefined(updates):
        updates_ct = _inverse_gather(ct, indices, upd_shape, params, mode=params["mode"],
                                     fill_value=0)
    return [operand_ct, None, updates_ct]


# --- scatter_apply: updates are func(old value); not differentiable, as in JAX -------

scatter_apply_p = _scatter_primitive("scatter_apply", None)
_apply_programs = weakref.WeakKeyDictionary()


def _apply_region(ctx, dtype, *, update_program):
    return ctx.region(update_program, [None, None])


scatter_apply_p.lowering_rule = lambda ctx, *args, **params: _scatter_lowering(
    _apply_region, ctx, *args, **params)


def _with_literal_consts(program, consts):
    """`program` with its scalar constant inputs written in as literals (the update
    computation of a scatter is a closed region)."""
    n = len(consts)
    literal = {v: Literal(np.asarray(c), v.aval) for v, c in zip(program.in_vars[:n], consts)}
    equations = [Equation(e.primitive, [literal.get(a, a) if not isinstance(a, Literal)
                                        else a for a in e.inputs], e.outputs, e.params)
                 for e in program.equations]
    outs = [literal.get(a, a) if not isinstance(a, Literal) else a for a in program.outs]
    return Program(program.in_vars[n:], equations, outs)


def _update_program(func, dtype):
    try:
        per_func = _apply_programs.setdefault(func, {})
    except TypeError:  # func cannot be weakly referenced: trace it every time
        per_func = {}
    if dtype not in per_func:
        scalar = ShapedArray((), dtype)
        program, consts = trace_to_program(lambda x, _: [func(x)], [scalar, scalar],
                                           "scatter_apply")
        if any(np.ndim(c) for c in consts) or program.out_avals[0].shape != () or \
                program.out_avals[0].dtype != dtype:
            raise TypeError("scatter_apply func must map a scalar to a scalar of the same "
                            "dtype without capturing arrays")
        per_func[dtype] = _with_literal_consts(program, consts)
    return per_func[dtype]


def scatter_apply(operand, scatter_indices, func, dimension_numbers, *, update_shape=(),
                  indices_are_sorted=False, unique_indices=False, mode=None):
    """XLA Scatter where each addressed value `v` becomes `func(v)` (applied once per
    occurrence of its index). `func` maps a scalar to a scalar."""
    dtype = get_aval(operand).dtype
    return scatter_apply_p.bind(
        operand, scatter_indices, full(update_shape, 0, dtype),
        dimension_numbers=_int_tuples(dimension_numbers, ScatterDimensionNumbers),
        indices_are_sorted=bool(indices_are_sorted), unique_indices=bool(unique_indices),
        mode=GatherScatterMode.from_any(mode), update_program=_update_program(func, dtype))
