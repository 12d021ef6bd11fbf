"""`custom_vmap` (a function with a user-defined batching rule) and `sequential_vmap`,
as `jax.custom_batching`.

Outside `vmap` the function runs; under a transformation it is staged as
`custom_vmap_call_p`, whose batching rule calls the user's
`rule(axis_size, in_batched, *args) -> (out, out_batched)` on the arguments with their
batch axis first. Its JVP, as JAX's, is a `custom_vmap_call_p` of the function's JVP
whose batching rule is the JVP of the user's rule; like JAX 0.10, reverse mode of the
call itself is refused (the JVP is not linear in the tangents), while reverse mode of
its batched form (`grad` of `vmap(f)`) differentiates the rule.
"""
import functools

from jax import tree_util

from . import _core
from ._ad import Zero, instantiate, jvp_traced, tangent_aval
from ._batching import move_batch_axis, vmap_traced_dims
from ._core import Primitive, get_aval
from ._custom import resolve_args, trace_flat, _name
from ._ir import eval_program
from ._jit import define_program_call
from ._staging import trace_to_program
from ._traceback_util import api_boundary
from .lax import map as lax_map


class custom_vmap:
    """A function with a custom batching rule, set with `f.def_vmap(rule)` where
    `rule(axis_size, in_batched, *args) -> (out, out_batched)`: `in_batched` has one
    pytree of bools per argument, the batched arguments have their batch axis first,
    and `out_batched` says which outputs carry it (first)."""

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun, self.vmap_rule = fun, None
        self.__name__ = _name(fun)

    def def_vmap(self, vmap_rule):
        self.vmap_rule = vmap_rule
        return vmap_rule

    @api_boundary
    def __call__(self, *args, **kwargs):
        args = resolve_args(self.fun, args, kwargs)
        if self.vmap_rule is None:
            raise AttributeError(f"No batching rule defined for custom_vmap function "
                                 f"{self.__name__} using def_vmap.")
        if _core.current_trace() is _core.eval_trace:
            return self.fun(*args)
        leaves, in_tree = tree_util.tree_flatten(args)
        program, consts, out_tree = trace_flat(
            self.fun, lambda a: a, in_tree, [get_aval(x) for x in leaves],
            f"custom_vmap({self.__name__})")
        rule = _FlatVmapRule(self.vmap_rule, in_tree, out_tree, self.__name__)
        outs = custom_vmap_call_p.bind(*consts, *leaves, program=program, rule=rule,
                                       num_consts=len(consts), name=self.__name__)
        return tree_util.tree_unflatten(out_tree, outs)


class _FlatVmapRule:
    """The user's rule over flat leaves: (axis_size, flat in_batched, *flat args) ->
    (flat outs, flat out_batched), with JAX's checks of what it returns."""

    def __init__(self, rule, in_tree, out_tree, fun_name):
        self.rule, self.in_tree, self.out_tree = rule, in_tree, out_tree
        self.fun_name = fun_name
        self.__name__ = _name(rule)

    def __call__(self, axis_size, in_batched, *leaves):
        args = tree_util.tree_unflatten(self.in_tree, leaves)
        batched = list(tree_util.tree_unflatten(self.in_tree, in_batched))
        result = self.rule(axis_size, batched, *args)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError(f"custom vmap rule ({self.__name__}) for {self.fun_name} must "
                            f"return a pair (output, output batching spec), got "
                            f"{result!r:.200}")
        out, out_batched = result
        out_leaves, tree = tree_util.tree_flatten(out)
        spec_leaves, spec_tree = tree_util.tree_flatten(out_batched)
        if tree != spec_tree:
            raise ValueError(f"structure of output value and output batching "
                             f"specification returned by custom vmap rule "
                             f"({self.__name__}) do not match.\nOutput values: {tree}\n"
                             f"Batching spec: {spec_tree}")
        if tree != self.out_tree:
            raise ValueError(f"structure of output returned by custom vmap rule "
                             f"({self.__name__}) does not match that of original custom-"
                             f"vmapped function ({self.fun_name}).\nOriginal output: "
                             f"{self.out_tree}\nRule output: {tree}")
        return out_leaves, [bool(b) for b in spec_leaves]


custom_vmap_call_p = Primitive("custom_vmap_call", multiple_results=True)


define_program_call(custom_vmap_call_p)


def _batching(axis_data, vals, dims, *, program, rule, num_consts, name):
    size = axis_data.size
    if any(d is not None for d in dims[:num_consts]):
        raise NotImplementedError(
            f"custom_vmap function {name} closes over a value batched by this vmap; "
            f"its rule cannot see it. Pass that value to {name} as an argument.")
    in_batched = [d is not None for d in dims[num_consts:]]
    args = [v if d is None else move_batch_axis(size, v, d, 0)
            for v, d in zip(vals[num_consts:], dims[num_consts:])]
    outs, out_batched = rule(size, in_batched, *args)
    for o, b, aval in zip(outs, out_batched, program.out_avals):
        want = (size, *aval.shape) if b else aval.shape
        if get_aval(o).shape != want or get_aval(o).dtype != aval.dtype:
            raise ValueError(f"custom vmap rule ({rule.__name__}) for {name} returned "
                             f"{get_aval(o).str_short()} for an output of type "
                             f"{aval.str_short()} (batched={b}); expected shape {want}")
    return outs, [0 if b else None for b in out_batched]


custom_vmap_call_p.batching_rule = _batching


def _jvp(primals, tangents, *, program, rule, num_consts, name):
    """A custom_vmap call of the JVP, batched by the JVP of the rule (as JAX)."""
    if any(not isinstance(t, Zero) for t in tangents[:num_consts]):
        raise NotImplementedError(
            f"custom_vmap function {name} closes over a value being differentiated; "
            f"pass that value to {name} as an argument.")
    consts, args = primals[:num_consts], primals[num_consts:]
    arg_tangents = [instantiate(t) for t in tangents[num_consts:]]
    n = len(args)

    def call(*ps):
        return eval_program(program, [*consts, *ps])

    def joint(*xs):
        outs, touts = jvp_traced(call, list(xs[:n]), list(xs[n:]))
        return [*outs, *[instantiate(t) for t in touts]]

    joint_program, joint_consts = trace_to_program(
        joint, [get_aval(x) for x in (*args, *arg_tangents)], f"jvp({name})")
    outs = custom_vmap_call_p.bind(
        *joint_consts, *args, *arg_tangents, program=joint_program,
        rule=_JVPOfRule(rule, n), num_consts=len(joint_consts), name=f"jvp({name})")
    m = len(program.outs)
    out_tangents = [t if _is_float(a) else Zero(tangent_aval(a))
                    for t, a in zip(outs[m:], program.out_avals)]
    return outs[:m], out_tangents


custom_vmap_call_p.jvp_rule = _jvp


def _is_float(aval):
    return tangent_aval(aval).dtype == aval.dtype


class _JVPOfRule:
    """The batching rule of the JVP, as JAX's: the user's rule, differentiated, sees
    as batched the arguments whose primal and tangent are both batched; the
    arguments batched on one side only are vmapped over around it."""

    def __init__(self, rule, num_primals):
        self.rule, self.n = rule, num_primals
        self.__name__ = f"jvp_of_{rule.__name__}"

    def __call__(self, axis_size, in_batched, *xs):
        n = self.n
        mutual = [p and t for p, t in zip(in_batched[:n], in_batched[n:])]
        extra = [0 if b and not m else None for b, m in zip(in_batched, mutual * 2)]
        out_mutual = []

        def to_jvp(*ps):
            outs, spec = self.rule(axis_size, mutual, *ps)
            out_mutual[:] = spec
            return outs

        def jvp_of_rule(*ys):
            outs, touts = jvp_traced(to_jvp, list(ys[:n]), list(ys[n:]))
            return [*outs, *[instantiate(t) for t in touts]]

        outs, dims = vmap_traced_dims(jvp_of_rule, list(xs), extra, axis_size)
        outs = [o if d is None else move_batch_axis(axis_size, o, d, 0)
                for o, d in zip(outs, dims)]
        return outs, [m or d is not None for m, d in zip(out_mutual * 2, dims)]

def sequential_vmap(f):
    """`f` as a `custom_vmap` whose batching rule loops over the batch (`lax.map`),
    as `jax.custom_batching.sequential_vmap`."""
    f = custom_vmap(f)

    @f.def_vmap
    def rule(axis_size, in_batched, *args):
        leaves, tree = tree_util.tree_flatten(args)
        flags = tree_util.tree_leaves(in_batched)

        def one(mapped):
            it = iter(mapped)
            return f(*tree_util.tree_unflatten(
                tree, [next(it) if b else x for x, b in zip(leaves, flags)]))
        out = lax_map(one, [x for x, b in zip(leaves, flags) if b])
        return out, tree_util.tree_map(lambda _: True, out)
    return f
