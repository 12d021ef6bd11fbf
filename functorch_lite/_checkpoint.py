"""checkpoint / remat: trade compute for memory in reverse mode.

`checkpoint(f)` stages `f` into a Program and binds `checkpoint_p`. When reverse mode
splits a checkpointed block into its forward (known) and backward (unknown) parts, the
forward part keeps only what the policy allows (by default nothing but the block's
inputs), and the backward part recomputes the rest of the forward computation inside
the block. With `prevent_cse`, the recomputation's inputs pass through an XLA
optimization barrier so that XLA cannot merge it with the original forward pass.
"""
import functools
import types

from jax import tree_util

from . import _core
from ._core import Primitive, get_aval, set_current_trace
from ._ir import (Var, Program, Equation, eval_program, dead_code_elimination,
                  has_effects)
from ._jit import jit_p
from ._partial_eval import split_equations
from ._staging import trace_to_program
from ._ad import Zero, is_undefined, jvp_program, tangent_aval, transpose_program
from ._batching import batch_program
from ._traceback_util import api_boundary, check_callable

__all__ = ["checkpoint", "remat", "checkpoint_policies"]


# --- policies: which intermediate values the forward pass may save -----------------
# A policy is `policy(primitive, *in_avals, **params) -> bool` (True: save the output
# of that equation instead of recomputing it), as in JAX.

def nothing_saveable(prim, *avals, **params):
    """Save nothing: the backward pass recomputes the block from its inputs."""
    return False


def everything_saveable(prim, *avals, **params):
    """Save every intermediate (no rematerialisation)."""
    return True


def dots_saveable(prim, *avals, **params):
    """Save the results of matrix products (dot_general); recompute the rest."""
    return prim.name == "dot_general"


def dots_with_no_batch_dims_saveable(prim, *avals, **params):
    """Save the results of dot_generals without batch dimensions."""
    if prim.name != "dot_general":
        return False
    (_, _), (lhs_batch, rhs_batch) = params["dimension_numbers"]
    return not lhs_batch and not rhs_batch


checkpoint_policies = types.SimpleNamespace(
    nothing_saveable=nothing_saveable,
    everything_saveable=everything_saveable,
    dots_saveable=dots_saveable,
    checkpoint_dots=dots_saveable,
    dots_with_no_batch_dims_saveable=dots_with_no_batch_dims_saveable,
    checkpoint_dots_with_no_batch_dims=dots_with_no_batch_dims_saveable,
)


# --- the public wrapper -----------------------------------------------------------

def checkpoint(fun, prevent_cse=True, policy=None, static_argnums=()):
    """Make reverse mode recompute `fun`'s intermediates instead of storing them.

    Arguments:
      fun: the function (block) to rematerialise.
      prevent_cse: keep XLA from merging the recomputation with the forward pass.
      policy: which intermediates may be saved (`checkpoint_policies.*`); None saves
        nothing but the inputs.
      static_argnums: arguments that are Python values baked into the block.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> f = fl.checkpoint(lambda x: jnp.sin(jnp.sin(x)))
    >>> round(float(fl.grad(f)(1.0)), 4)
    0.36
    """
    check_callable(fun, "checkpoint")
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(static_argnums)
    cache = {}
    name = getattr(fun, "__name__", "fun")

    @api_boundary
    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        n = len(args)
        if any(not -n <= i < n for i in static_argnums):
            raise ValueError(f"checkpoint({name}): static_argnums={static_argnums} is out of "
                             f"range for a call with {n} positional arguments.")
        static_pos = {i % n for i in static_argnums}
        statics = tuple(args[i] for i in sorted(static_pos))
        dyn = tuple(a for i, a in enumerate(args) if i not in static_pos)
        leaves, in_tree = tree_util.tree_flatten((dyn, kwargs))
        avals = tuple(map(get_aval, leaves))
        try:
            key = (in_tree, avals, statics)
            hash(key)
        except TypeError:
            key = None
        entry = cache.get(key) if key is not None else None
        if entry is None:
            entry = _trace(fun, args, static_pos, in_tree, avals, name)
            if key is not None and not any(isinstance(c, _core.Tracer) for c in entry[1]):
                cache[key] = entry
        program, consts, out_tree = entry
        outs = checkpoint_p.bind(*consts, *leaves, program=program, prevent_cse=prevent_cse,
                                 policy=policy, differentiated=False, name=name)
        return tree_util.tree_unflatten(out_tree, outs)
    return checkpointed


remat = checkpoint


def _trace(fun, args, static_pos, in_tree, avals, name):
    out_tree = []

    def flat(*leaves):
        dyn, kwargs = tree_util.tree_unflatten(in_tree, leaves)
        it = iter(dyn)
        full = [args[i] if i in static_pos else next(it) for i in range(len(args))]
        out_leaves, tree = tree_util.tree_flatten(fun(*full, **kwargs))
        out_tree.append(tree)
        return out_leaves
    program, consts = trace_to_program(flat, avals, f"checkpoint({name})")
    return program, consts, out_tree[0]


# --- checkpoint_p -------------------------------------------------------------------

checkpoint_p = Primitive("checkpoint", multiple_results=True)
checkpoint_p.accepts_keys = True  # typed PRNG keys pass through


@checkpoint_p.def_abstract_eval
def _checkpoint_abstract_eval(*avals, program, prevent_cse, policy, differentiated, name):
    return program.out_avals


@checkpoint_p.def_impl
def _checkpoint_impl(*args, program, prevent_cse, policy, differentiated, name):
    return jit_p.bind(*args, program=program, name=f"checkpoint_{name}")


@checkpoint_p.def_lowering
def _checkpoint_lowering(ctx, *args, program, prevent_cse, policy, differentiated, name):
    args = list(args)
    if prevent_cse and differentiated and args:
        # the recomputation must not be merged with the forward computation it repeats
        types_ = [ctx.type_of(a) for a in args]
        barrier = ctx.op("stablehlo.optimization_barrier", args, out_types=types_)
        args = [barrier] if len(args) == 1 else list(barrier)
    return ctx.call(program, args, hint=f"checkpoint_{name}")


@checkpoint_p.def_jvp
def _checkpoint_jvp(primals, tangents, *, program, **params):
    nonzero = [not isinstance(t, Zero) for t in tangents]
    new_program, out_nonzero = jvp_program(program, nonzero)
    outs = checkpoint_p.bind(*primals, *[t for t in tangents if not isinstance(t, Zero)],
                             program=new_program, **params)
    n = len(program.outs)
    it = iter(outs[n:])
    touts = [next(it) if nz else Zero(tangent_aval(a))
             for a, nz in zip(program.out_avals, out_nonzero)]
    return outs[:n], touts


@checkpoint_p.def_transpose
def _checkpoint_transpose(cts, *args, program, **params):
    linear = [is_undefined(x) for x in args]
    nonzero = [not isinstance(c, Zero) for c in cts]
    new_program = transpose_program(program, linear, nonzero)
    outs = iter(checkpoint_p.bind(*[x for x in args if not is_undefined(x)],
                                  *[c for c in cts if not isinstance(c, Zero)],
                                  program=new_program, **params))
    return [next(outs) if lin else None for lin in linear]


def _checkpoint_batching(axis_data, vals, dims, *, program, **params):
    new_program, out_batched = batch_program(program, dims, axis_data.size,
                                             axis_data.name)
    return (checkpoint_p.bind(*vals, program=new_program, **params),
            [0 if b else None for b in out_batched])


checkpoint_p.batching_rule = _checkpoint_batching


# --- partial evaluation: save the inputs (and what the policy allows), recompute ---

def remat_partial_eval(program, unknown_inputs, policy):
    """Split a checkpointed program for reverse mode.

    Returns (known, recompute, out_unknown, num_saved, used_known) where
      known:     known inputs -> known outputs + saved values (policy)
      recompute: saved values + the known inputs listed in `used_known` (indices into
                 the known inputs) + unknown inputs -> unknown outputs; it repeats the
                 forward computation it needs.
    """
    key = ("remat_partial_eval", tuple(unknown_inputs), policy)
    if key in program.cache:
        return program.cache[key]
    known_eqns, unknown_eqns, unknown = split_equations(program, unknown_inputs)
    known_ins = [v for v, u in zip(program.in_vars, unknown_inputs) if not u]
    unknown_ins = [v for v, u in zip(program.in_vars, unknown_inputs) if u]
    # walk back from the unknown equations: a needed known value is saved when the
    # policy allows it, else recomputed from what its equation needs
    needed = {a for e in unknown_eqns for a in e.inputs
              if isinstance(a, Var) and a not in unknown}
    saved, recomputed = [], []
    for e in reversed(known_eqns):  # effects (debug prints) rerun too, as in JAX
        if not any(v in needed for v in e.outputs) and not has_effects(e):
            continue
        if policy is not None and len(e.outputs) == 1 and \
                policy(e.primitive, *[a.aval for a in e.inputs], **e.params):
            saved.append(e.outputs[0])
            continue
        recomputed.append(e)
        needed.update(a for a in e.inputs if isinstance(a, Var))
    saved.reverse()
    recomputed.reverse()
    out_unknown = [isinstance(a, Var) and a in unknown for a in program.outs]
    known_outs = [a for a, u in zip(program.outs, out_unknown) if not u]
    known = dead_code_elimination(Program(known_ins, known_eqns, known_outs + saved))
    used_known = [i for i, v in enumerate(known_ins) if v in needed]
    unknown_outs = [a for a, u in zip(program.outs, out_unknown) if u]
    recompute = dead_code_elimination(Program(
        [*saved, *[known_ins[i] for i in used_known], *unknown_ins],
        recomputed + unknown_eqns, unknown_outs))
    result = (known, recompute, out_unknown, len(saved), used_known)
    program.cache[key] = result
    return result


def _checkpoint_partial_eval(trace, args, *, program, prevent_cse, policy, differentiated,
                             name):
    unknown = [trace.is_unknown(x) for x in args]
    known, recompute, out_unknown, num_saved, used_known = remat_partial_eval(
        program, unknown, policy)
    known_args = [x for x, u in zip(args, unknown) if not u]
    with set_current_trace(trace.parent):
        known_results = eval_program(known, known_args)  # the forward pass, inlined
    num_known_outs = len(known_results) - num_saved
    staged_args = [*known_results[num_known_outs:], *[known_args[i] for i in used_known],
                   *[x for x, u in zip(args, unknown) if u]]
    unknown_results = iter(trace.stage(checkpoint_p, staged_args, dict(
        program=recompute, prevent_cse=prevent_cse, policy=policy, differentiated=True,
        name=name)))
    known_results = iter(known_results[:num_known_outs])
    return [next(unknown_results) if u else next(known_results) for u in out_unknown]


checkpoint_p.partial_eval_rule = _checkpoint_partial_eval


def _checkpoint_partial_eval_equation(eqn, unknown_inputs):
    """The same split for a checkpoint equation inside a program (grad of jit)."""
    params = eqn.params
    known, recompute, out_unknown, num_saved, used_known = remat_partial_eval(
        params["program"], unknown_inputs, params["policy"])
    saved_vars = [Var(v.aval) for v in known.outs[len(known.outs) - num_saved:]]
    known_inputs = [a for a, u in zip(eqn.inputs, unknown_inputs) if not u]
    known_eqn = Equation(checkpoint_p, known_inputs,
                         [v for v, u in zip(eqn.outputs, out_unknown) if not u] + saved_vars,
                         dict(params, program=known))
    unknown_outs = [v for v, u in zip(eqn.outputs, out_unknown) if u]
    if not unknown_outs:
        return known_eqn, None
    unknown_eqn = Equation(checkpoint_p, [*saved_vars, *[known_inputs[i] for i in used_known],
                                          *[a for a, u in zip(eqn.inputs, unknown_inputs)
                                            if u]],
                           unknown_outs, dict(params, program=recompute, differentiated=True))
    return known_eqn, unknown_eqn


checkpoint_p.partial_eval_equation_rule = _checkpoint_partial_eval_equation
