"""`cond` and `switch`: choose one of several branches by a traced index.

cond_p(index, *operands, branches) runs `branches[index]` on the operands; every
branch is a Program over all operands (branch-specific closed-over values included,
ignored by the other branches). Lowered to `stablehlo.case`."""

__all__ = ["cond", "switch"]
import numpy as np
from jax import tree_util

from .. import _dtypes, _core
from .._config import config
from .._core import Primitive, Tracer, get_aval
from .._ad import Zero, is_undefined, jvp_program, tangent_aval, transpose_program
from .._ir import Var, Program, eval_program, memo
from .._staging import trace_closed
from .._batching import batch_program, move_batch_axis, vmap_traced_dims
from .._traceback_util import api_boundary
from .._partial_eval import partial_eval_program
from ._cf_util import trace_body, abstractify, describe_fun
from ._values import convert_element_type, full, select_n
from ._structural import broadcast_in_dim
from ._elementwise import max as lax_max, min as lax_min, ne

cond_p = Primitive("cond", multiple_results=True)
cond_p.accepts_keys = True  # typed PRNG keys pass through


@api_boundary
def switch(index, branches, *operands):
    """Apply `branches[index](*operands)`; the index is clamped to the valid range.

    >>> import functorch_lite as fl
    >>> float(fl.lax.switch(1, [lambda x: x, lambda x: 2 * x], 3.0))
    6.0
    """
    branches = tuple(branches)
    if not branches:
        raise ValueError("switch needs at least one branch")
    index_aval = get_aval(index)
    if index_aval.shape != () or not _dtypes.is_integer(index_aval.dtype):
        raise TypeError(f"switch index must be a scalar integer, got {index_aval.str_short()}")
    if config.jax_disable_jit and not isinstance(index, Tracer):  # as JAX
        return branches[int(np.clip(int(index), 0, len(branches) - 1))](*operands)
    if isinstance(index, (int, np.integer)):
        index = np.int32(np.clip(int(index), 0, len(branches) - 1))
    else:
        index = convert_element_type(index, np.int32)
        if len(branches) > 1:
            index = lax_min(lax_max(index, np.int32(0)), np.int32(len(branches) - 1))
    return _bind_cond(index, branches, operands, [f"branch {i}" for i in
                                                   range(len(branches))], "switch",
                      list(range(len(branches))))


@api_boundary
def cond(pred, true_fun, false_fun, *operands):
    """`true_fun(*operands)` if `pred` else `false_fun(*operands)`, both traced.

    `pred` is a scalar boolean or integer (nonzero means true). Both branches must
    return the same pytree of array types.

    >>> import functorch_lite as fl
    >>> float(fl.lax.cond(True, lambda x: x + 1.0, lambda x: x - 1.0, 1.0))
    2.0
    """
    if not callable(true_fun) or not callable(false_fun):
        raise TypeError("cond: true_fun and false_fun must be callable")
    pred_aval = get_aval(pred)
    if pred_aval.shape != ():
        raise TypeError(f"Pred must be a scalar, got {pred} of shape {pred_aval.shape}.")
    if pred_aval.dtype != _dtypes.bool_ and not _dtypes.is_integer(pred_aval.dtype):
        raise TypeError(f"Pred type must be either boolean or number, got "
                        f"{pred_aval.dtype.name}.")
    if config.jax_disable_jit and not isinstance(pred, Tracer):  # as JAX
        return true_fun(*operands) if pred else false_fun(*operands)
    if isinstance(pred, (bool, int, np.bool_, np.integer)):
        index = np.int32(bool(pred))
    else:
        if pred_aval.dtype != _dtypes.bool_:
            pred = ne(pred, np.zeros((), pred_aval.dtype))
        index = convert_element_type(pred, np.int32)
    return _bind_cond(index, (false_fun, true_fun), operands, ["false_fun", "true_fun"],
                      "cond", [1, 0])


def _bind_cond(index, funs, operands, names, what, display_order):
    """`display_order`: the branch order error messages use (cond: true_fun first)."""
    leaves, in_tree = tree_util.tree_flatten(operands)
    avals = abstractify(leaves)
    traced = [trace_body(lambda *args, f=f: f(*args), in_tree, avals, what, cache_key=f)
              for f in funs]
    _check_branches(what, [(names[i], funs[i], traced[i][2], traced[i][0].out_avals)
                           for i in display_order])
    out_tree = traced[0][2]
    # every branch takes all branches' closed-over values, then the operands
    const_avals = [abstractify(c) for _, c, _ in traced]
    branches = []
    for i, (program, consts, _) in enumerate(traced):
        before = tuple(a for j in range(i) for a in const_avals[j])
        after = tuple(a for j in range(i + 1, len(traced)) for a in const_avals[j])
        branches.append(memo(program, ("cond_branch_inputs", before, after),
                             lambda p=program, b=before, a=after, n=len(consts): Program(
                                 [*[Var(x) for x in b], *p.in_vars[:n], *[Var(x) for x in a],
                                  *p.in_vars[n:]], p.equations, p.outs)))
    all_consts = [c for _, consts, _ in traced for c in consts]
    outs = cond_p.bind(index, *all_consts, *leaves, branches=tuple(branches))
    return tree_util.tree_unflatten(out_tree, outs)


def _check_branches(what, branches):
    """Every branch must return the pytree structure and the types of the first one
    (`branches`: (name, function, out_tree, out_avals) in display order)."""
    (name0, _, tree0, avals0), rest = branches[0], branches[1:]
    defined = "".join(f"{name} is {describe_fun(fun)}\n" for name, fun, _, _ in branches)
    for name, _, tree, avals in rest:
        if tree != tree0:
            raise TypeError(
                f"{what} branch outputs must have the same pytree structure, but they "
                f"differ:\n\n{defined}\n{name0} returns {tree0}\nbut {name} returns "
                f"{tree}.\n\nRevise {name0} and/or {name} so that they have the same "
                f"pytree structure.")
        paths = [tree_util.keystr(p) for p, _ in tree_util.tree_flatten_with_path(
            tree_util.tree_unflatten(tree0, range(tree0.num_leaves)))[0]]
        diffs = []
        for path, a, b in zip(paths, avals0, avals):
            why = [w for w, bad in (("the shapes do not match", a.shape != b.shape),
                                    ("the dtypes do not match", a.dtype != b.dtype)) if bad]
            if why:
                at = f" at path {path}" if path else ""
                diffs.append(f"The output of {name0}{at} has type {a.str_short()} but the "
                             f"corresponding output of {name} has type {b.str_short()}, so "
                             f"{' and '.join(why)}.")
        if diffs:
            raise TypeError(
                f"{what} branches must have equal output types but they differ.\n\n"
                f"{defined}\n" + "\n".join(diffs) + f"\n\nRevise {name0} and/or {name} "
                f"so that all output types match.")


@cond_p.def_abstract_eval
def _cond_abstract_eval(index, *operands, branches):
    if index.shape != () or index.dtype != np.int32:
        raise TypeError(f"cond index must be an int32 scalar, got {index.str_short()}")
    outs = branches[0].out_avals
    weak = [all(b.out_avals[i].weak_type for b in branches) for i in range(len(outs))]
    return [a.update(weak_type=w) for a, w in zip(outs, weak)]


@cond_p.def_lowering
def _cond_lowering(ctx, index, *operands, branches):
    regions = [ctx.region(b, list(operands)) for b in branches]
    outs = ctx.op("stablehlo.case", [index], ctx.avals_out, regions=regions)
    return [outs] if len(ctx.avals_out) == 1 else list(outs)


# --- JVP: every branch differentiated with one common output tangent pattern --------

@cond_p.def_jvp
def _cond_jvp(primals, tangents, *, branches):
    index, *ops = primals
    op_tangents = tangents[1:]
    nonzero = [not isinstance(t, Zero) for t in op_tangents]
    none = [False] * len(branches[0].outs)
    out_nz = [any(p) for p in zip(*[jvp_program(b, nonzero, none)[1] for b in branches])]
    new_branches = tuple(jvp_program(b, nonzero, out_nz)[0] for b in branches)
    outs = cond_p.bind(index, *ops, *[t for t in op_tangents if not isinstance(t, Zero)],
                       branches=new_branches)
    n = len(branches[0].outs)
    it = iter(outs[n:])
    touts = [next(it) if nz else Zero(tangent_aval(a))
             for a, nz in zip(branches[0].out_avals, out_nz)]
    return outs[:n], touts


# --- partial evaluation: known branches compute known outputs and residuals; the
# unknown cond takes every branch's residuals (zeros from the branches not taken) ----

def _cond_partial_eval(trace, args, *, branches):
    index, *ops = args
    if trace.is_unknown(index):
        return trace.stage(cond_p, args, dict(branches=branches))
    unknown = [trace.is_unknown(x) for x in ops]
    n_out = len(branches[0].outs)
    none = [False] * n_out
    out_uk = [any(p) for p in zip(*[partial_eval_program(b, unknown, none)[2]
                                    for b in branches])]
    splits = [partial_eval_program(b, unknown, out_uk) for b in branches]
    known_branches, unknown_branches, res_avals = _join_cond_splits(branches, unknown,
                                                                    out_uk, splits)
    known_ops = [x for x, u in zip(ops, unknown) if not u]
    with _core.set_current_trace(trace.parent):
        known_outs = cond_p.bind(index, *known_ops, branches=known_branches)
    n_known = n_out - sum(out_uk)
    residuals = known_outs[n_known:]
    unknown_ops = [x for x, u in zip(ops, unknown) if u]
    unknown_outs = iter(trace.stage(cond_p, [index, *residuals, *unknown_ops],
                                    dict(branches=unknown_branches)))
    known_it = iter(known_outs[:n_known])
    return [next(unknown_outs) if u else next(known_it) for u in out_uk]


cond_p.partial_eval_rule = _cond_partial_eval


def _join_cond_splits(branches, unknown, out_uk, splits):
    key = ("cond_join", tuple(unknown), tuple(out_uk), tuple(branches))
    return memo(branches[0], key,
                lambda: _build_joined(branches, unknown, out_uk, splits))


def _build_joined(branches, unknown, out_uk, splits):
    res_avals = [list(k.out_avals[len(k.outs) - n:]) if n else []
                 for k, _, _, n in splits]
    all_res = [a for avals in res_avals for a in avals]
    known_in = [a for a, u in zip(branches[0].in_avals, unknown) if not u]
    known_branches = []
    for i, (known, _, _, n_res) in enumerate(splits):
        def fun(*args, known=known, i=i, n_res=n_res):
            outs = eval_program(known, args)
            n_known = len(outs) - n_res
            res = [full(a.shape, 0, a.dtype) for j in range(len(splits)) if j != i
                   for a in res_avals[j]]
            before = sum(len(res_avals[j]) for j in range(i))
            return [*outs[:n_known], *res[:before], *outs[n_known:], *res[before:]]
        known_branches.append(trace_closed(fun, known_in, "cond_known"))
    unknown_branches = []
    for i, (_, unk, _, n_res) in enumerate(splits):
        before = [a for j in range(i) for a in res_avals[j]]
        after = [a for j in range(i + 1, len(splits)) for a in res_avals[j]]
        unknown_branches.append(Program(
            [*[Var(a) for a in before], *unk.in_vars[:n_res], *[Var(a) for a in after],
             *unk.in_vars[n_res:]], unk.equations, unk.outs))
    return tuple(known_branches), tuple(unknown_branches), all_res


# --- transpose: each branch transposed with the same linear inputs ------------------

@cond_p.def_transpose
def _cond_transpose(cts, index, *ops, branches):
    if is_undefined(index):
        raise ValueError("cond index cannot be linear")
    linear = [is_undefined(x) for x in ops]
    nonzero = [not isinstance(c, Zero) for c in cts]
    if not any(nonzero):
        return [None] * (1 + len(ops))
    new_branches = tuple(transpose_program(b, linear, nonzero) for b in branches)
    outs = iter(cond_p.bind(index, *[x for x in ops if not is_undefined(x)],
                            *[c for c in cts if not isinstance(c, Zero)],
                            branches=new_branches))
    return [None] + [next(outs) if lin else None for lin in linear]


# --- batching: a batched index runs every branch and selects ------------------------

def _cond_batching(axis_data, vals, dims, *, branches):
    index, *ops = vals
    index_dim, op_dims = dims[0], dims[1:]
    size, name = axis_data.size, axis_data.name
    if index_dim is not None:
        return _batched_index_cond(size, name, index, index_dim, ops, op_dims, branches)
    n_out = len(branches[0].outs)
    none = [False] * n_out
    out_b = [any(p) for p in zip(*[batch_program(b, op_dims, size, name, none)[1]
                                   for b in branches])]
    new_branches = tuple(batch_program(b, op_dims, size, name, out_b)[0]
                         for b in branches)
    outs = cond_p.bind(index, *ops, branches=new_branches)
    return outs, [0 if b else None for b in out_b]


cond_p.batching_rule = _cond_batching


def _batched_index_cond(size, name, index, index_dim, ops, op_dims, branches):
    index = move_batch_axis(size, index, index_dim, 0)
    results = []
    for b in branches:
        outs, out_dims = vmap_traced_dims(lambda *xs, b=b: eval_program(b, xs), ops,
                                          op_dims, size, name)
        results.append([move_batch_axis(size, o, d, 0) for o, d in zip(outs, out_dims)])
    final = []
    for cases in zip(*results):
        which = broadcast_in_dim(index, get_aval(cases[0]).shape, (0,))
        final.append(select_n(which, *cases))
    return final, [0] * len(final)
