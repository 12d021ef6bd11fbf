"""`while_loop` and `fori_loop`.

while_p(*cond_consts, *body_consts, *carry; cond_program, body_program, cond_nconsts,
body_nconsts) iterates `carry = body(carry)` while `cond(carry)`. Lowered to
`stablehlo.while` (consts travel as loop-carried values, as JAX emits them).

`fori_loop` with static bounds is a `scan` (so it has reverse mode);
`while_loop(..., max_steps=N)` is a scan of N steps of `cond(pred, body, identity)`,
which makes a data-dependent loop reverse-differentiable (beyond JAX)."""

__all__ = ["while_loop", "fori_loop"]
import weakref

import numpy as np
from jax import tree_util

from .. import _core, _dtypes
from .._config import config
from .._core import Primitive, Tracer, get_aval
from .._partial_eval import partial_eval_program
from .._ad import Zero, instantiate, jvp_program, tangent_aval
from .._batching import batch_program, move_batch_axis
from .._ir import Program, dead_code_elimination, eval_program, memo
from .._staging import trace_closed
from .._traceback_util import api_boundary
from ._cf_util import (trace_body, abstractify, jvp_fixed_point, batch_fixed_point,
                       reorder_inputs, with_unused_inputs,
                       check_carry_tree, check_carry_types, promote_weak_carry,
                       carry_arg_name, region_with_args, inline_program, split_list)
from ._python_loops import python_while
from ._cond import cond
from ._scan import scan
from ._elementwise import lt, add, gt
from ._values import convert_element_type, select_n
from ._structural import broadcast_in_dim
from ._reductions import reduce_max

while_p = Primitive("while", multiple_results=True)
while_p.accepts_keys = True  # typed PRNG keys pass through


@api_boundary
def while_loop(cond_fun, body_fun, init_val, max_steps=None):
    """Repeat `val = body_fun(val)` while `cond_fun(val)`; returns the final val.

    Arguments:
      cond_fun: carry -> boolean scalar.
      body_fun: carry -> carry of the same pytree structure and types.
      init_val: the initial carry.
      max_steps: optional static bound. With it the loop runs as a scan of
        `max_steps` guarded steps and supports reverse-mode differentiation; the
        result equals the unbounded loop whenever that finishes within `max_steps`
        iterations (otherwise it is the carry after `max_steps` iterations).

    >>> import functorch_lite as fl
    >>> int(fl.lax.while_loop(lambda i: i < 10, lambda i: i + 3, 0))
    12
    """
    if config.jax_disable_jit and max_steps is None:
        result = python_while(cond_fun, body_fun, init_val)
        if result is not None:
            return result
    init_tree = tree_util.tree_structure(init_val)
    (body_prog, init_leaves), body_consts = _trace_checked_body(body_fun, init_val,
                                                                "while_loop body")
    if max_steps is not None:
        return _bounded_while(cond_fun, body_fun,
                              tree_util.tree_unflatten(init_tree, init_leaves), max_steps)
    avals = abstractify(init_leaves)
    in_tree = tree_util.tree_structure((init_val,))
    cond_prog, cond_consts, cond_tree = trace_body(cond_fun, in_tree, avals, "while_cond",
                                                   cache_key=cond_fun)
    out_avals = cond_prog.out_avals
    if len(out_avals) != 1 or out_avals[0].shape != () or \
            out_avals[0].dtype != _dtypes.bool_:
        raise TypeError(f"cond_fun must return a boolean scalar, but got output type(s) "
                        f"{[a.str_short() for a in out_avals]}.")
    outs = while_p.bind(*cond_consts, *body_consts, *init_leaves, cond_program=cond_prog,
                        body_program=body_prog, cond_nconsts=len(cond_consts),
                        body_nconsts=len(body_consts))
    return tree_util.tree_unflatten(init_tree, outs)


def _trace_checked_body(body_fun, init_val, what):
    """Trace `body_fun: carry -> carry`, check the carry types (promoting weakly typed
    init values as JAX does). Returns ((program, init_leaves), consts)."""
    init_leaves, init_tree = tree_util.tree_flatten(init_val)
    in_tree = tree_util.tree_structure((init_val,))
    name = carry_arg_name(body_fun)
    for _ in range(2):
        avals = abstractify(init_leaves)
        program, consts, out_tree = trace_body(body_fun, in_tree, avals, what,
                                               cache_key=body_fun)
        check_carry_tree(what, name, init_tree, out_tree, body_fun)
        init_leaves, changed = promote_weak_carry(init_leaves, avals, program.out_avals)
        if not changed:
            break
    check_carry_types(what, name, init_val, abstractify(init_leaves), program.out_avals,
                      body_fun)
    return (program, init_leaves), consts


def _bounded_while(cond_fun, body_fun, init_val, max_steps):
    max_steps = int(max_steps)

    def step(carry, _):
        return cond(cond_fun(carry), body_fun, lambda c: c, carry), None
    return scan(step, init_val, None, length=max_steps)[0]


@api_boundary
def fori_loop(lower, upper, body_fun, init_val, unroll=None):
    """`for i in range(lower, upper): val = body_fun(i, val)`; returns val.

    With concrete (Python or NumPy integer) bounds this is a `scan`, so reverse-mode
    differentiation works; traced bounds give a `while_loop`.

    >>> import functorch_lite as fl
    >>> float(fl.lax.fori_loop(0, 4, lambda i, x: x * 2.0, 1.0))
    16.0
    """
    if not callable(body_fun):
        raise TypeError("lax.fori_loop: body_fun argument should be callable.")
    static = not isinstance(lower, Tracer) and not isinstance(upper, Tracer)
    if static:
        try:
            lower_, upper_ = int(lower), int(upper)
        except TypeError:
            static = False
    if static:
        length = max(upper_ - lower_, 0)

        def scan_body(carry, _):
            i, x = carry
            return (i + 1, body_fun(i, x)), None
        scan_body.__wrapped__ = body_fun  # error messages name the user's body
        start = lower_  # a Python int: a weakly typed counter, as in JAX
        unroll = 1 if unroll is None or unroll is False else unroll
        (_, result), _ = scan(scan_body, (start, init_val), None, length=length,
                              unroll=unroll, _cache_key=_fori_key(body_fun))
        return result
    if unroll not in (None, False, 1):
        raise ValueError("Can only use `unroll` in `fori_loop` if the loop bounds are "
                         "statically known.")
    lower, upper = _common_bound_dtype(lower, upper)

    def cond_fun(carry):
        i, upper, _ = carry
        return lt(i, upper)

    def while_body(carry):
        i, upper, x = carry
        return add(i, np.ones((), get_aval(i).dtype)), upper, body_fun(i, x)
    return while_loop(cond_fun, while_body, (lower, upper, init_val))[2]


class _ForiKey:
    """Stands for `body_fun` wrapped as a fori scan body in the trace cache."""


_FORI_KEYS = weakref.WeakKeyDictionary()


def _fori_key(body_fun):
    try:
        return _FORI_KEYS.setdefault(body_fun, _ForiKey())
    except TypeError:
        return None


def _common_bound_dtype(lower, upper):
    la, ua = get_aval(lower), get_aval(upper)
    if la.dtype == ua.dtype:
        dtype = la.dtype
    elif la.weak_type and not ua.weak_type:
        dtype = ua.dtype
    elif ua.weak_type and not la.weak_type:
        dtype = la.dtype
    else:
        raise TypeError(f"lower and upper arguments to fori_loop must have equal types, "
                        f"got {la.dtype.name} and {ua.dtype.name}")
    return convert_element_type(lower, dtype), convert_element_type(upper, dtype)


# --- rules ------------------------------------------------------------------------

@while_p.def_abstract_eval
def _while_abstract_eval(*args, cond_program, body_program, cond_nconsts, body_nconsts):
    return body_program.out_avals


@while_p.def_lowering
def _while_lowering(ctx, *args, cond_program, body_program, cond_nconsts, body_nconsts):
    avals = ctx.avals_in
    n_cc, n_bc = cond_nconsts, body_nconsts

    def cond_region(inner, names):
        cc, bc, carry = split_list(names, [n_cc, n_bc])
        return inline_program(inner, cond_program, cc + carry)

    def body_region(inner, names):
        cc, bc, carry = split_list(names, [n_cc, n_bc])
        return [*cc, *bc, *inline_program(inner, body_program, bc + carry)]

    regions = [region_with_args(ctx, avals, cond_region),
               region_with_args(ctx, avals, body_region)]
    outs = ctx.op("stablehlo.while", list(args), avals, regions=regions)
    outs = [outs] if len(avals) == 1 else list(outs)
    return outs[n_cc + n_bc:]


@while_p.def_jvp
def _while_jvp(primals, tangents, *, cond_program, body_program, cond_nconsts,
               body_nconsts):
    n_cc, n_bc = cond_nconsts, body_nconsts
    cc, bc, carry = split_list(primals, [n_cc, n_bc])
    _, bc_t, carry_t = split_list(tangents, [n_cc, n_bc])
    nz_bc = [not isinstance(t, Zero) for t in bc_t]
    nz_carry = [not isinstance(t, Zero) for t in carry_t]
    n_carry = len(carry)
    carry_nz = jvp_fixed_point(body_program, nz_bc + nz_carry,
                               slice(n_bc, None), slice(0, None))
    jvp_body, out_nz = jvp_program(body_program, nz_bc + carry_nz, carry_nz)
    n_bt, n_ct = sum(nz_bc), sum(carry_nz)
    # [bc, carry, bc_t, carry_t] -> [bc, bc_t, carry, carry_t]
    order = [*range(n_bc), *range(n_bc + n_carry, n_bc + n_carry + n_bt),
             *range(n_bc, n_bc + n_carry), *range(n_bc + n_carry + n_bt,
                                                  n_bc + n_carry + n_bt + n_ct)]
    body = memo(jvp_body, ("order", tuple(order)), lambda: reorder_inputs(jvp_body, order))
    t_avals = tuple(tangent_aval(a) for a, nz in zip(body_program.out_avals, carry_nz)
                    if nz)
    cond = memo(cond_program, ("pad_after", t_avals),
                lambda: with_unused_inputs(cond_program, after=t_avals))
    init_t = [instantiate(t) if nz and isinstance(t, Zero) else t
              for t, nz in zip(carry_t, carry_nz)]
    outs = while_p.bind(*cc, *bc, *[t for t in bc_t if not isinstance(t, Zero)], *carry,
                        *[t for t, nz in zip(init_t, carry_nz) if nz],
                        cond_program=cond, body_program=body, cond_nconsts=n_cc,
                        body_nconsts=n_bc + n_bt)
    it = iter(outs[n_carry:])
    touts = [next(it) if nz else Zero(tangent_aval(a))
             for a, nz in zip(body_program.out_avals, carry_nz)]
    return outs[:n_carry], touts


def _while_partial_eval(trace, args, *, cond_program, body_program, cond_nconsts,
                        body_nconsts):
    """Known carries come from a while loop over the known part; the unknown ones
    from the whole loop, staged (it recomputes the known part)."""
    params = dict(cond_program=cond_program, body_program=body_program,
                  cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
    n_cc, n_bc = cond_nconsts, body_nconsts
    unknown = [trace.is_unknown(x) for x in args]
    uk_cc, uk_bc, carry_uk = split_list(unknown, [n_cc, n_bc])
    n_carry = len(carry_uk)
    while True:
        out_uk = partial_eval_program(body_program, uk_bc + carry_uk,
                                         [False] * n_carry)[2]
        new = [a or b for a, b in zip(carry_uk, out_uk)]
        if new == carry_uk:
            break
        carry_uk = new
    cond_split = partial_eval_program(cond_program, uk_cc + carry_uk, [False])
    if cond_split[2][0] or all(carry_uk):
        return trace.stage(while_p, args, params)
    body_split = partial_eval_program(body_program, uk_bc + carry_uk, carry_uk)
    known_body = _drop_residuals(body_split[0], body_split[3])
    known_cond = _drop_residuals(cond_split[0], cond_split[3])
    cc, bc, carry = split_list(args, [n_cc, n_bc])
    known = lambda xs, uks: [x for x, u in zip(xs, uks) if not u]  # noqa: E731
    known_cc, known_bc = known(cc, uk_cc), known(bc, uk_bc)
    with _core.set_current_trace(trace.parent):
        known_outs = iter(while_p.bind(
            *known_cc, *known_bc, *known(carry, carry_uk), cond_program=known_cond,
            body_program=known_body, cond_nconsts=len(known_cc),
            body_nconsts=len(known_bc)))
    staged = trace.stage(while_p, args, params)
    return [s if u else next(known_outs) for s, u in zip(staged, carry_uk)]


while_p.partial_eval_rule = _while_partial_eval


def _drop_residuals(program, num_res):
    def build():
        outs = program.outs[:len(program.outs) - num_res]
        return dead_code_elimination(Program(program.in_vars, program.equations, outs))
    return memo(program, ("drop_residuals", num_res), build)


@while_p.def_transpose
def _while_transpose(cts, *args, **params):
    raise ValueError(
        "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop "
        "with dynamic start/stop values. Fix: give a static bound with "
        "lax.while_loop(cond_fun, body_fun, init_val, max_steps=N) (functorch_lite "
        "supports reverse mode through it), or use lax.fori_loop with static bounds or "
        "lax.scan.")


def _while_batching(axis_data, vals, dims, *, cond_program, body_program, cond_nconsts,
                    body_nconsts):
    size, name = axis_data.size, axis_data.name
    n_cc, n_bc = cond_nconsts, body_nconsts
    cc, bc, carry = split_list(vals, [n_cc, n_bc])
    cc_d, bc_d, carry_d = split_list(dims, [n_cc, n_bc])
    carry_b = batch_fixed_point(body_program, bc_d + [None if d is None else 0
                                                      for d in carry_d],
                                slice(n_bc, None), slice(0, None), size, name)
    carry_dims = [0 if b else None for b in carry_b]
    _, pred_b = batch_program(cond_program, cc_d + carry_dims, size, name, [False])
    if pred_b[0]:
        carry_b = [True] * len(carry)
        carry_dims = [0] * len(carry)
    carry = [move_batch_axis(size, x, d, 0) if b else x
             for x, d, b in zip(carry, carry_d, carry_b)]
    body, _ = batch_program(body_program, bc_d + carry_dims, size, name, carry_b)
    cond, _ = batch_program(cond_program, cc_d + carry_dims, size, name, [False])
    if not pred_b[0]:
        outs = while_p.bind(*cc, *bc, *carry, cond_program=cond, body_program=body,
                            cond_nconsts=n_cc, body_nconsts=n_bc)
        return outs, carry_dims
    # batched predicate: loop while any lane runs; finished lanes keep their carry
    any_cond = memo(cond, ("any_lane",), lambda: _any_lane_cond(cond))
    masked = memo(body, ("masked", id(cond), n_cc), lambda: _masked_body(cond, body, n_cc))
    outs = while_p.bind(*cc, *cc, *bc, *carry, cond_program=any_cond,
                        body_program=masked, cond_nconsts=n_cc, body_nconsts=n_cc + n_bc)
    return outs, carry_dims


while_p.batching_rule = _while_batching


def _any_lane_cond(cond):

    def fun(*args):
        (pred,) = eval_program(cond, args)
        return [gt(reduce_max(convert_element_type(pred, np.int32), (0,)), np.int32(0))]
    return trace_closed(fun, cond.in_avals, "while_cond_any")


def _masked_body(cond, body, n_cc):

    def fun(*args):
        cc, rest = args[:n_cc], args[n_cc:]
        n_carry = len(body.outs)
        carry = rest[len(rest) - n_carry:]
        (pred,) = eval_program(cond, [*cc, *carry])
        new = eval_program(body, rest)
        return [select_n(broadcast_in_dim(pred, get_aval(n).shape, (0,)), old, n)
                for old, n in zip(carry, new)]
    return trace_closed(fun, [*cond.in_avals[:n_cc], *body.in_avals], "while_body_masked")
