"""Shared machinery of the control-flow primitives (cond, while, scan).

A body is traced into a closed sub-Program whose closed-over values become explicit
operands. The primitives' rules transform those sub-programs with the program-level
functions of each interpretation, memoised on the program so a rule applied twice
yields the same Program (and so one compiled executable):

  _ad.jvp_program                  primals + nonzero tangents -> outs + tangents
  _ad.transpose_program            residuals + cotangents -> input cotangents
  _partial_eval.partial_eval_program  split into a known and an unknown program
  _batching.batch_program          batched inputs -> outputs batched at 0 (or unbatched)

Here are the loop fixed points over them, carry checks and lowering helpers.

Lowering helpers build regions whose block arguments are given explicitly.
"""
import functools
import weakref

import numpy as np
from jax import tree_util

from .. import _dtypes
from .._config import config
from .._core import Tracer, get_aval
from .._ad import jvp_program
from .._batching import batch_program
from .._ir import Var, Program
from .._lowering import LoweringContext, ir_type, lower_equations
from .._staging import trace_to_program
from ._values import convert_element_type
import inspect


# --- tracing bodies ---------------------------------------------------------------

_trace_cache = weakref.WeakKeyDictionary()  # user function -> {signature: trace}


def clear_body_traces():
    _trace_cache.clear()


def trace_body(fun, in_tree, in_avals, description, cache_key=None):
    """Trace `fun(*tree_unflatten(in_tree, leaves))` into a Program.

    Returns (program, consts, out_tree); the program's inputs are the consts (values
    the body closed over, outer tracers included) followed by the leaves. With
    `cache_key` (the user's function) the trace is reused for the same signature, as
    JAX does, so eager calls compile once; traces that captured tracers are not kept.
    """
    if cache_key is not None:
        try:
            per_fun = _trace_cache.setdefault(cache_key, {})
        except TypeError:  # not weakly referenceable
            return trace_body(fun, in_tree, in_avals, description)
        sig = (in_tree, tuple(in_avals), description, config.trace_context)
        hit = per_fun.get(sig)
        if hit is None:
            hit = trace_body(fun, in_tree, in_avals, description)
            if not any(isinstance(c, Tracer) for c in hit[1]):
                per_fun[sig] = hit
        return hit
    out_trees = []

    def flat_fun(*leaves):
        out = fun(*tree_util.tree_unflatten(in_tree, leaves))
        out_leaves, out_tree = tree_util.tree_flatten(out)
        out_trees.append(out_tree)
        return [_as_value(x) for x in out_leaves]

    program, consts = trace_to_program(flat_fun, in_avals, description)
    return program, consts, out_trees[0]


def _as_value(x):
    if isinstance(x, Tracer) or hasattr(x, "aval"):
        return x
    if isinstance(x, (bool, int, float, complex, np.generic, np.ndarray)):
        return x
    raise TypeError(f"a control-flow body returned {type(x).__name__} {x!r:.60}, which "
                    f"is not an array; bodies must return pytrees of arrays")


def abstractify(leaves):
    return [get_aval(x) for x in leaves]


# --- program surgery (Vars are compared by identity, so these are cheap) -----------

def reorder_inputs(program, order):
    """The same program taking its inputs in the order `order` (indices)."""
    return Program([program.in_vars[i] for i in order], program.equations, program.outs)


def reorder_outputs(program, order):
    return Program(program.in_vars, program.equations, [program.outs[i] for i in order])


def with_unused_inputs(program, before=(), after=()):
    """`program` taking extra leading/trailing inputs of the given avals, ignored."""
    return Program([*[Var(a) for a in before], *program.in_vars, *[Var(a) for a in after]],
                   program.equations, program.outs)


def is_differentiable(aval):
    return _dtypes.is_inexact(aval.dtype)


# --- fixed points of loop carries ------------------------------------------------

def jvp_fixed_point(program, nonzero_in, carry_slice_in, carry_slice_out):
    """Grow the nonzero pattern of loop carries until the body maps it into itself.

    `carry_slice_in`/`carry_slice_out` locate the carry among the body's inputs and
    outputs. Returns the carry pattern."""
    nonzero_in = list(nonzero_in)
    carry_avals = program.in_avals[carry_slice_in]
    while True:
        _, out_nz = jvp_program(program, nonzero_in, [False] * len(program.outs))
        carry = nonzero_in[carry_slice_in]
        new = [(c or o) and is_differentiable(a)
               for c, o, a in zip(carry, out_nz[carry_slice_out], carry_avals)]
        if new == carry:
            return carry
        nonzero_in[carry_slice_in] = new


def depends_on(program, input_mask):
    """For each output of `program`, whether it depends on an input in `input_mask`."""
    tainted = {v for v, m in zip(program.in_vars, input_mask) if m}
    for eqn in program.equations:
        if any(isinstance(a, Var) and a in tainted for a in eqn.inputs):
            tainted.update(eqn.outputs)
    return [isinstance(a, Var) and a in tainted for a in program.outs]


def batch_fixed_point(program, in_dims, carry_slice_in, carry_slice_out, axis_size,
                      axis_name):
    """Which loop carries end up batched: grow until the body maps the pattern into
    itself. Returns a list of booleans for the carries."""
    in_dims = list(in_dims)
    n_out = len(program.outs)
    while True:
        carry = [d is not None for d in in_dims[carry_slice_in]]
        force = [False] * n_out
        force[carry_slice_out] = carry
        _, out_batched = batch_program(program, in_dims, axis_size, axis_name, force)
        new = [c or o for c, o in zip(carry, out_batched[carry_slice_out])]
        if new == carry:
            return carry
        in_dims[carry_slice_in] = [0 if b else None for b in new]


# --- carry checks -----------------------------------------------------------------

def _carry_component(name, path):
    return f"the input carry component {name}{tree_util.keystr(path)}" if path else \
        f"the input carry {name}"


def describe_fun(fun):
    """'name at file:line' of a user function (its definition), for error messages."""
    inner = fun
    while isinstance(inner, functools.partial) or hasattr(inner, "__wrapped__"):
        inner = inner.func if isinstance(inner, functools.partial) else inner.__wrapped__
    code = getattr(inner, "__code__", None) or getattr(
        getattr(type(inner), "__call__", None), "__code__", None)
    name = getattr(inner, "__name__", type(inner).__name__)
    return f"{name} at {code.co_filename}:{code.co_firstlineno}" if code else name


def check_carry_tree(what, carry_name, in_tree, out_tree, fun=None):
    if in_tree == out_tree:
        return
    defined = f"\n\nThe function is {describe_fun(fun)}." if fun is not None else ""
    raise TypeError(
        f"{what} function carry input and carry output must have the same pytree "
        f"structure, but they differ:\n\nthe input carry {carry_name} has structure\n"
        f"  {in_tree}\nbut the carry output has structure\n  {out_tree}{defined}\n\n"
        f"Revise the function so that the carry output has the same pytree structure as "
        f"the carry input.")


def check_carry_types(what, carry_name, carry_example, in_avals, out_avals, fun=None):
    """Raise a TypeError naming every carry component whose shape or dtype changes."""
    paths = [p for p, _ in tree_util.tree_flatten_with_path(carry_example)[0]]
    diffs = []
    for path, a, b in zip(paths, in_avals, out_avals):
        if a.shape == b.shape and a.dtype == b.dtype:
            continue
        why = [w for w, bad in (("the dtypes do not match", a.dtype != b.dtype),
                                ("the shapes do not match", a.shape != b.shape)) if bad]
        diffs.append(f"{_carry_component(carry_name, path)} has type {a.str_short()} but "
                     f"the corresponding output carry component has type "
                     f"{b.str_short()}, so {' and '.join(why)}")
    if not diffs:
        return
    if len(diffs) == 1:
        text = diffs[0][0].upper() + diffs[0][1:] + ".\n"
    else:
        text = "".join(f"  * {d};\n" for d in diffs)
    defined = f"The function is {describe_fun(fun)}.\n\n" if fun is not None else ""
    raise TypeError(f"{what} function carry input and carry output must have equal "
                    f"types, but they differ:\n\n{text}\n{defined}Revise the function so "
                    f"that all output types match the corresponding input types.")


def promote_weak_carry(init_leaves, in_avals, out_avals):
    """Weakly typed init values (Python scalars) take the body's output dtype, as JAX
    does; returns (new leaves, changed?)."""
    changed, out = False, []
    for x, a, b in zip(init_leaves, in_avals, out_avals):
        if a.weak_type and (a.dtype != b.dtype or a.weak_type != b.weak_type) and \
                a.shape == b.shape:
            dtype = _dtypes.result_type_of([(a.dtype, True), (b.dtype, b.weak_type)])[0]
            x = convert_element_type(x, dtype, weak_type=b.weak_type)
            changed = changed or get_aval(x) != a
        out.append(x)
    return out, changed


def carry_arg_name(fun, default="carry"):
    try:
        params = list(inspect.signature(fun, follow_wrapped=False).parameters)
    except (TypeError, ValueError):
        return default
    return params[0] if params else default


# --- lowering helpers -------------------------------------------------------------

def region_with_args(ctx, block_avals, build):
    """Text of a region with block arguments typed `block_avals`; `build(inner_ctx,
    arg_names)` emits the body and returns the names to return."""
    module = ctx.module
    names = []
    for a in block_avals:
        name = module.fresh()
        module.types[name] = ir_type(a)
        names.append(name)
    lines = []
    inner = LoweringContext(module, lines, [], [])
    results = build(inner, names)
    types = ", ".join(module.types[r] for r in results)
    lines.append(f'"stablehlo.return"({", ".join(results)}) : ({types}) -> ()')
    head = f"^bb0({', '.join(f'{n}: {ir_type(a)}' for n, a in zip(names, block_avals))}):\n"
    body = "\n".join("      " + l for l in lines)
    return "{\n    " + (head if names else "") + body + "\n    }"


def inline_program(ctx, program, inputs):
    """Emit `program`'s equations into ctx's block; returns the output names."""
    return lower_equations(ctx.module, program, dict(zip(program.in_vars, inputs)),
                           ctx.lines)


def split_list(xs, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(list(xs[start:start + s]))
        start += s
    out.append(list(xs[start:]))
    return out
