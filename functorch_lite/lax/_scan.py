"""`scan` and `map`: a loop carrying state and stacking per-step outputs.

scan_p(*consts, *init, *xs; program, length, reverse, num_consts, num_carry, unroll)
runs `carry, y = program(consts, carry, x)` over the leading axis of xs and returns
(final carry, stacked ys). Lowered to `stablehlo.while` with a step counter and
dynamic_slice / dynamic_update_slice of xs and ys.

Reverse mode: partial evaluation splits the body into a known scan, which also
stacks the per-step residuals as extra ys (loop-invariant residuals are computed once
outside), and a linear scan that consumes them; the transpose of that is a scan in
the opposite direction."""

__all__ = ["scan", "map"]
import builtins

import numpy as np
from jax import tree_util

from .. import _core
from .._config import config
from .._core import Primitive, ShapedArray, get_aval, is_array_like
from .._partial_eval import partial_eval_program
from .._ad import (Zero, jvp_program, UndefinedPrimal, add_tangents, backward_pass, instantiate,
                   is_undefined, tangent_aval)
from .._batching import batch_program, move_batch_axis, vmap_traced
from .._ir import Program, Var, dead_code_elimination, eval_program, memo
from .._staging import trace_closed
from .._traceback_util import api_boundary
from ._cf_util import (trace_body, abstractify, jvp_fixed_point,
                       describe_fun, batch_fixed_point, reorder_inputs, reorder_outputs, depends_on,
                       check_carry_tree, check_carry_types, promote_weak_carry,
                       carry_arg_name, region_with_args, inline_program, split_list)
from ._python_loops import python_scan
from ._values import full
from ._slicing import concatenate, slice_in_dim
from ._structural import reshape

scan_p = Primitive("scan", multiple_results=True)
scan_p.accepts_keys = True  # typed PRNG keys pass through


@api_boundary
def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _cache_key=None):
    """Loop `carry, y = f(carry, x)` over the leading axis of `xs`.

    Returns `(final_carry, stacked_ys)`. `xs` may be None when `length` is given;
    `reverse=True` walks xs from the end (ys stay aligned with xs); `unroll` runs
    that many steps per loop iteration (True: all).

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> c, ys = fl.lax.scan(lambda c, x: (c + x, c), 0.0, jnp.arange(4.0))
    >>> float(c), ys.tolist()
    (6.0, [0.0, 0.0, 1.0, 3.0])
    """
    if not callable(f):
        raise TypeError("lax.scan: f argument should be callable.")
    _cache_key = f if _cache_key is None else _cache_key
    xs_leaves, xs_tree = tree_util.tree_flatten(xs)
    length = _scan_length(xs_leaves, length)
    if config.jax_disable_jit:
        return python_scan(f, init, xs, length, reverse)
    x_avals = [ShapedArray(get_aval(x).shape[1:], get_aval(x).dtype, get_aval(x).weak_type)
               for x in xs_leaves]
    init_leaves, init_tree = tree_util.tree_flatten(init)
    in_tree = tree_util.tree_structure((init, xs))
    name = carry_arg_name(f)

    def body(carry, x):
        out = f(carry, x)
        if not isinstance(out, tuple) or len(out) != 2:
            got = (f"a tuple of length {len(out)}" if isinstance(out, tuple) else
                   f"{get_aval(out).str_short()}" if is_array_like(out) else
                   f"a {type(out).__name__}")
            raise TypeError(f"scan body output must be a pair (carry, y), but "
                            f"{describe_fun(f)} returned {got}. Fix: return `carry, y` "
                            f"(y may be None).")
        return out

    for _ in range(2):
        avals = abstractify(init_leaves)
        program, consts, out_tree = trace_body(body, in_tree, avals + x_avals, "scan",
                                               cache_key=_cache_key)
        carry_tree, y_tree = tree_util.treedef_children(out_tree)
        check_carry_tree("scan body", name, init_tree, carry_tree, f)
        n_carry = len(init_leaves)
        init_leaves, changed = promote_weak_carry(init_leaves, avals,
                                                  program.out_avals[:n_carry])
        if not changed:
            break
    check_carry_types("scan body", name, init, abstractify(init_leaves),
                      program.out_avals[:n_carry], f)
    if isinstance(unroll, bool):
        unroll = builtins.max(length, 1) if unroll else 1
    outs = scan_p.bind(*consts, *init_leaves, *xs_leaves, program=program,
                       length=length, reverse=bool(reverse), num_consts=len(consts),
                       num_carry=n_carry, unroll=builtins.max(int(unroll), 1))
    return (tree_util.tree_unflatten(init_tree, outs[:n_carry]),
            tree_util.tree_unflatten(y_tree, outs[n_carry:]))


def _scan_length(xs_leaves, length):
    lengths = set()
    for x in xs_leaves:
        shape = get_aval(x).shape
        if not shape:
            raise ValueError(f"scan got value with no leading axis to scan over: "
                             f"{get_aval(x).str_short()}")
        lengths.add(shape[0])
    if length is not None:
        length = int(length)
        if lengths and lengths != {length}:
            raise ValueError(f"scan got `length` argument of {length} which disagrees "
                             f"with leading axis sizes {sorted(lengths)}.")
        return length
    if not lengths:
        raise ValueError("scan got no values to scan over and `length` not provided.")
    if len(lengths) > 1:
        raise ValueError(f"scan got values with different leading axis sizes: "
                         f"{', '.join(str(get_aval(x).shape[0]) for x in xs_leaves)}.")
    return lengths.pop()


@api_boundary
def map(f, xs, batch_size=None):
    """`stack([f(x) for x in xs])` as a scan (`batch_size`: vmap within each step).

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> fl.lax.map(lambda x: x * 2.0, jnp.arange(3.0)).tolist()
    [0.0, 2.0, 4.0]
    """
    if batch_size is None:
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    leaves, tree = tree_util.tree_flatten(xs)
    n = _scan_length(leaves, None)

    def vmapped_f(*chunk_leaves):  # f over a chunk's leading axis: vmap(f)
        out_tree = []

        def flat_f(*xs):
            out_leaves, out_def = tree_util.tree_flatten(f(tree_util.tree_unflatten(tree, xs)))
            out_tree.append(out_def)
            return out_leaves
        outs = vmap_traced(flat_f, chunk_leaves, [0] * len(chunk_leaves),
                           get_aval(chunk_leaves[0]).shape[0])
        return tree_util.tree_unflatten(out_tree[0], outs)
    return chunked_map(vmapped_f, leaves, n, int(batch_size))


def chunked_map(batched_fun, leaves, n, chunk):
    """Apply `batched_fun` (over a leading batch axis) to `leaves` in chunks of
    `chunk` rows, scanning over the full chunks; the remainder is one more call."""
    num, rem = divmod(n, chunk)
    if num == 0:
        return batched_fun(*leaves)

    def main_rows(x):
        aval = get_aval(x)
        return reshape(slice_in_dim(x, 0, num * chunk, axis=0), (num, chunk, *aval.shape[1:]))
    main = [main_rows(x) for x in leaves]
    _, ys = scan(lambda _, ls: ((), batched_fun(*ls)), (), main)
    ys = tree_util.tree_map(lambda y: reshape(y, (num * chunk, *get_aval(y).shape[2:])), ys)
    if not rem:
        return ys
    rest = batched_fun(*[slice_in_dim(x, num * chunk, n, axis=0) for x in leaves])
    return tree_util.tree_map(lambda a, b: concatenate([a, b], 0), ys, rest)


# --- abstract evaluation and lowering ---------------------------------------------

@scan_p.def_abstract_eval
def _scan_abstract_eval(*args, program, length, reverse, num_consts, num_carry, unroll):
    outs = program.out_avals
    ys = [ShapedArray((length, *a.shape), a.dtype, a.weak_type) for a in outs[num_carry:]]
    return [*outs[:num_carry], *ys]


@scan_p.def_lowering
def _scan_lowering(ctx, *args, program, length, reverse, num_consts, num_carry, unroll):
    """while (i < length): x = xs[idx]; carry, y = body(consts, carry, x);
    ys[idx] = y; i += 1   (idx = i, or length - 1 - i when reverse)."""
    i32 = ShapedArray((), np.int32)
    consts, init, xs = split_list(list(args), [num_consts, num_carry])
    y_avals = ctx.avals_out[num_carry:]
    ys = [ctx.constant(0, a.dtype, a.shape) for a in y_avals]
    n_iter, rem = divmod(length, unroll)
    state_avals = [i32, *ctx.avals_in, *y_avals]

    def step(inner, i, consts, carry, xs, ys):
        idx = i if not reverse else inner.op(
            "stablehlo.subtract", [inner.constant(length - 1, np.int32), i], [i32])
        zero = inner.constant(0, np.int32)
        x_t = []
        for x, a in zip(xs, ctx.avals_in[num_consts + num_carry:]):
            piece = inner.op("stablehlo.dynamic_slice", [x, idx, *[zero] * (a.ndim - 1)],
                             [a.update(shape=(1, *a.shape[1:]))],
                             attrs={"slice_sizes": _i64(1, *a.shape[1:])})
            x_t.append(inner.op("stablehlo.reshape", [piece], [a.update(shape=a.shape[1:])]))
        outs = inline_program(inner, program, [*consts, *carry, *x_t])
        new_ys = []
        for buf, y, a in zip(ys, outs[num_carry:], y_avals):
            y1 = inner.op("stablehlo.reshape", [y], [a.update(shape=(1, *a.shape[1:]))])
            new_ys.append(inner.op("stablehlo.dynamic_update_slice",
                                   [buf, y1, idx, *[zero] * (a.ndim - 1)], [a]))
        i = inner.op("stablehlo.add", [i, inner.constant(1, np.int32)], [i32])
        return i, outs[:num_carry], new_ys

    def cond_region(inner, names):
        bound = inner.constant(n_iter * unroll, np.int32)
        return [inner.op("stablehlo.compare", [names[0], bound], [ShapedArray((), np.bool_)],
                         attrs={"comparison_direction": "#stablehlo<comparison_direction LT>",
                                "compare_type": "#stablehlo<comparison_type SIGNED>"})]

    def body_region(inner, names):
        i, consts, carry, xs, ys = split_list(names, [1, num_consts, num_carry, len(xs_)])
        i = i[0]
        for _ in range(unroll):
            i, carry, ys = step(inner, i, consts, carry, xs, ys)
        return [i, *consts, *carry, *xs, *ys]

    xs_ = xs
    state = [ctx.constant(0, np.int32), *consts, *init, *xs, *ys]
    if n_iter:
        outs = ctx.op("stablehlo.while", state, state_avals,
                      regions=[region_with_args(ctx, state_avals, cond_region),
                               region_with_args(ctx, state_avals, body_region)])
        state = [outs] if len(state_avals) == 1 else list(outs)
    i, consts, carry, xs, ys = split_list(state, [1, num_consts, num_carry, len(xs_)])
    i = i[0]
    for _ in range(rem):  # the steps that do not fill a whole unrolled iteration
        i, carry, ys = step(ctx, i, consts, carry, xs, ys)
    return [*carry, *ys]


def _i64(*values):
    return f"array<i64{': ' if values else ''}{', '.join(str(int(v)) for v in values)}>"


# --- JVP ----------------------------------------------------------------------------

@scan_p.def_jvp
def _scan_jvp(primals, tangents, *, program, length, reverse, num_consts, num_carry,
              unroll):
    nc, ncar = num_consts, num_carry
    consts, init, xs = split_list(primals, [nc, ncar])
    c_t, init_t, xs_t = split_list(tangents, [nc, ncar])
    nz = lambda ts: [not isinstance(t, Zero) for t in ts]  # noqa: E731
    nz_c, nz_x = nz(c_t), nz(xs_t)
    carry_nz = jvp_fixed_point(program, nz_c + nz(init_t) + nz_x, slice(nc, nc + ncar),
                               slice(0, ncar))
    n_y = len(program.outs) - ncar
    jprog, out_nz = jvp_program(program, nz_c + carry_nz + nz_x,
                                   carry_nz + [False] * n_y)
    n_ct, n_cart, n_xt = sum(nz_c), sum(carry_nz), sum(nz_x)
    n_yt = sum(out_nz[ncar:])
    nx = len(xs)
    p = nc + ncar + nx
    in_order = [*range(nc), *range(p, p + n_ct), *range(nc, nc + ncar),
                *range(p + n_ct, p + n_ct + n_cart), *range(nc + ncar, p),
                *range(p + n_ct + n_cart, p + n_ct + n_cart + n_xt)]
    q = ncar + n_y
    out_order = [*range(ncar), *range(q, q + n_cart), *range(ncar, q),
                 *range(q + n_cart, q + n_cart + n_yt)]
    body = memo(jprog, ("scan_order",), lambda: reorder_outputs(
        reorder_inputs(jprog, in_order), out_order))
    init_t = [instantiate(t) for t, z in zip(init_t, carry_nz) if z]
    outs = scan_p.bind(*consts, *[t for t in c_t if not isinstance(t, Zero)], *init,
                       *init_t, *xs, *[t for t in xs_t if not isinstance(t, Zero)],
                       program=body, length=length, reverse=reverse,
                       num_consts=nc + n_ct, num_carry=ncar + n_cart, unroll=unroll)
    carry, carry_t, ys, ys_t = split_list(outs, [ncar, n_cart, n_y])
    carry_t, ys_t = iter(carry_t), iter(ys_t)
    out_avals = _scan_abstract_eval(program=program, length=length, reverse=reverse,
                                    num_consts=nc, num_carry=ncar, unroll=unroll)
    touts = [next(carry_t) if z else Zero(tangent_aval(a))
             for z, a in zip(carry_nz, out_avals[:ncar])]
    touts += [next(ys_t) if z else Zero(tangent_aval(a))
              for z, a in zip(out_nz[ncar:], out_avals[ncar:])]
    return [*carry, *ys], touts


# --- partial evaluation -----------------------------------------------------------

def _scan_partial_eval(trace, args, *, program, length, reverse, num_consts, num_carry,
                       unroll):
    nc, ncar = num_consts, num_carry
    unknown = [trace.is_unknown(x) for x in args]
    uk_c, carry_uk, uk_x = split_list(unknown, [nc, ncar])
    n_y = len(program.outs) - ncar
    while True:
        out_uk = partial_eval_program(program, uk_c + carry_uk + uk_x,
                                         carry_uk + [False] * n_y)[2]
        new = [a or b for a, b in zip(carry_uk, out_uk[:ncar])]
        if new == carry_uk:
            break
        carry_uk = new
    plan = memo(program, ("scan_pe", tuple(uk_c), tuple(carry_uk), tuple(uk_x)),
                lambda: _plan_partial_eval(program, nc, ncar, uk_c, carry_uk, uk_x))
    known_body, invariant_prog, unknown_body, out_uk, n_inv, forwarded = plan
    consts, init, xs = split_list(args, [nc, ncar])
    known = lambda vals, uks: [v for v, u in zip(vals, uks) if not u]  # noqa: E731
    known_c, known_init, known_x = known(consts, uk_c), known(init, carry_uk), \
        known(xs, uk_x)
    with _core.set_current_trace(trace.parent):
        invariant = eval_program(invariant_prog, known_c)
        known_outs = scan_p.bind(
            *known_c, *known_init, *known_x, program=known_body, length=length,
            reverse=reverse, num_consts=len(known_c), num_carry=len(known_init),
            unroll=unroll)
    n_kcar = len(known_init)
    n_ky = n_y - sum(out_uk[ncar:])
    k_carry, k_ys, stacked = split_list(known_outs, [n_kcar, n_ky])
    stacked = iter(stacked)  # per-step residuals: stacked by the known scan, or known xs
    stacked = [known_x[j] if j is not None else next(stacked) for j in forwarded]
    uk_consts = [c for c, u in zip(consts, uk_c) if u]
    uk_init = [x for x, u in zip(init, carry_uk) if u]
    uk_xs = [x for x, u in zip(xs, uk_x) if u]
    staged = trace.stage(scan_p, [*invariant, *uk_consts, *uk_init, *stacked, *uk_xs],
                         dict(program=unknown_body, length=length, reverse=reverse,
                              num_consts=n_inv + len(uk_consts), num_carry=len(uk_init),
                              unroll=unroll))
    u_carry, u_ys = split_list(staged, [len(uk_init)])[:2]
    k_carry, k_ys, u_carry, u_ys = map_iter(k_carry, k_ys, u_carry, u_ys)
    carry_out = [next(u_carry) if u else next(k_carry) for u in carry_uk]
    ys_out = [next(u_ys) if u else next(k_ys) for u in out_uk[ncar:]]
    return [*carry_out, *ys_out]


scan_p.partial_eval_rule = _scan_partial_eval


def map_iter(*lists):
    return [iter(l) for l in lists]


def _plan_partial_eval(program, nc, ncar, uk_c, carry_uk, uk_x):
    """Known body (known consts, carry, xs -> known carry, ys, per-step residuals), the
    program computing loop-invariant residuals from the known consts, and the unknown
    body (invariant residuals, unknown consts, carry, per-step residuals, xs)."""
    n_y = len(program.outs) - ncar
    known, unknown, out_uk, n_res = partial_eval_program(
        program, uk_c + carry_uk + uk_x, carry_uk + [False] * n_y)
    n_kc = nc - sum(uk_c)
    n_known_out = len(known.outs) - n_res
    # residuals that depend only on known consts are computed once, outside the loop
    variant = depends_on(known, [i >= n_kc for i in range(len(known.in_vars))])
    res_outs = known.outs[n_known_out:]
    res_variant = variant[n_known_out:]
    inv_outs = [r for r, v in zip(res_outs, res_variant) if not v]
    invariant_prog = dead_code_elimination(Program(known.in_vars[:n_kc], known.equations,
                                                   inv_outs), keep_effects=False)
    var_outs = [r for r, v in zip(res_outs, res_variant) if v]
    # a per-step residual that is just a known x is read from xs, not stacked again
    known_xs = known.in_vars[n_kc + ncar - sum(carry_uk):]
    forwarded = [known_xs.index(r) if isinstance(r, Var) and r in known_xs else None
                 for r in var_outs]
    stacked_outs = [r for r, j in zip(var_outs, forwarded) if j is None]
    known_body = dead_code_elimination(Program(
        known.in_vars, known.equations, [*known.outs[:n_known_out], *stacked_outs]))
    # unknown body inputs: [residuals (in order), unknown consts, carry, xs]
    n_uc, n_ucar = sum(uk_c), sum(carry_uk)
    inv_idx = [i for i, v in enumerate(res_variant) if not v]
    var_idx = [i for i, v in enumerate(res_variant) if v]
    r = n_res
    order = [*inv_idx, *range(r, r + n_uc + n_ucar), *var_idx,
             *range(r + n_uc + n_ucar, len(unknown.in_vars))]
    unknown_body = reorder_inputs(unknown, order)
    return known_body, invariant_prog, unknown_body, out_uk, len(inv_idx), forwarded


# --- transpose --------------------------------------------------------------------

@scan_p.def_transpose
def _scan_transpose(cts, *args, program, length, reverse, num_consts, num_carry, unroll):
    nc, ncar = num_consts, num_carry
    consts, init, xs = split_list(args, [nc, ncar])
    lin_c = [is_undefined(c) for c in consts]
    lin_x = [is_undefined(x) for x in xs]
    ct_carry, ct_ys = cts[:ncar], cts[ncar:]
    nz_ys = [not isinstance(c, Zero) for c in ct_ys]
    carry_avals = program.out_avals[:ncar]
    tprog = memo(program, ("scan_transpose", tuple(lin_c), tuple(lin_x), tuple(nz_ys)),
                 lambda: _transpose_body(program, nc, ncar, lin_c, lin_x, nz_ys))
    res_c = [c for c, l in zip(consts, lin_c) if not l]
    res_x = [x for x, l in zip(xs, lin_x) if not l]
    acc = [full(c.aval.shape, 0, tangent_aval(c.aval).dtype)
           for c, l in zip(consts, lin_c) if l]
    ct_carry = [instantiate(c) if not isinstance(c, Zero) else
                full(a.shape, 0, tangent_aval(a).dtype)
                for c, a in zip(ct_carry, carry_avals)]
    outs = scan_p.bind(*res_c, *acc, *ct_carry, *res_x,
                       *[c for c in ct_ys if not isinstance(c, Zero)],
                       program=tprog, length=length, reverse=not reverse,
                       num_consts=len(res_c), num_carry=len(acc) + ncar, unroll=unroll)
    ct_consts, ct_init, ct_xs = split_list(outs, [len(acc), ncar])
    ct_consts, ct_xs = iter(ct_consts), iter(ct_xs)
    return ([next(ct_consts) if l else None for l in lin_c]
            + [c if is_undefined(x) else None for c, x in zip(ct_init, init)]
            + [next(ct_xs) if l else None for l in lin_x])


def _transpose_body(program, nc, ncar, lin_c, lin_x, nz_ys):
    """(residual consts; ct accumulators of linear consts, ct carry; residual xs,
    nonzero ct ys) -> (accumulators, ct carry; ct of linear xs)."""
    consts_av, carry_av, xs_av = split_list(program.in_avals, [nc, ncar])
    y_av = program.out_avals[ncar:]
    res_c_av = [a for a, l in zip(consts_av, lin_c) if not l]
    acc_av = [tangent_aval(a) for a, l in zip(consts_av, lin_c) if l]
    res_x_av = [a for a, l in zip(xs_av, lin_x) if not l]
    cty_av = [tangent_aval(a) for a, nz in zip(y_av, nz_ys) if nz]
    ct_carry_av = [tangent_aval(a) for a in carry_av]

    def fun(*args):
        res_c, acc, ct_carry, res_x, ct_y = split_list(
            args, [len(res_c_av), len(acc_av), ncar, len(res_x_av)])
        res_c, res_x, ct_y = iter(res_c), iter(res_x), iter(ct_y)
        ins = ([UndefinedPrimal(a) if l else next(res_c) for a, l in zip(consts_av, lin_c)]
               + [UndefinedPrimal(a) for a in carry_av]
               + [UndefinedPrimal(a) if l else next(res_x) for a, l in zip(xs_av, lin_x)])
        cts_out = [*ct_carry, *[next(ct_y) if nz else Zero(tangent_aval(a))
                                for a, nz in zip(y_av, nz_ys)]]
        cts_in = backward_pass(program, ins, cts_out)
        ct_c, ct_car, ct_x = split_list(cts_in, [len(acc_av), ncar])
        new_acc = [instantiate(add_tangents(a, c)) for a, c in zip(acc, ct_c)]
        return [*new_acc, *map_list(instantiate, ct_car), *map_list(instantiate, ct_x)]
    return trace_closed(fun, [*res_c_av, *acc_av, *ct_carry_av, *res_x_av, *cty_av],
                        "scan_transpose")


def map_list(f, xs):
    return [f(x) for x in xs]


# --- batching -------------------------------------------------------------------------

def _scan_batching(axis_data, vals, dims, *, program, length, reverse, num_consts,
                   num_carry, unroll):
    size, name = axis_data.size, axis_data.name
    nc, ncar = num_consts, num_carry
    consts, init, xs = split_list(vals, [nc, ncar])
    c_d, init_d, x_d = split_list(dims, [nc, ncar])
    # xs get their batch dim at 1 (0 is the scanned axis); a step sees it at 0
    xs = [x if d is None else move_batch_axis(size, x, d, 1) for x, d in zip(xs, x_d)]
    x_body_d = [None if d is None else 0 for d in x_d]
    carry_b = batch_fixed_point(program, c_d + [None if d is None else 0 for d in init_d]
                                + x_body_d, slice(nc, nc + ncar), slice(0, ncar), size, name)
    n_y = len(program.outs) - ncar
    body, out_b = batch_program(program, c_d + [0 if b else None for b in carry_b]
                                   + x_body_d, size, name, carry_b + [False] * n_y)
    init = [move_batch_axis(size, x, d, 0) if b else x
            for x, d, b in zip(init, init_d, carry_b)]
    outs = scan_p.bind(*consts, *init, *xs, program=body, length=length, reverse=reverse,
                       num_consts=nc, num_carry=ncar, unroll=unroll)
    out_dims = [0 if b else None for b in carry_b] + \
        [1 if b else None for b in out_b[ncar:]]
    return outs, out_dims


scan_p.batching_rule = _scan_batching
