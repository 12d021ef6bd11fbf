"""custom_jvp: user-defined forward-mode derivative rules (custom_vjp lives in
`_custom_vjp.py` and is re-exported here).

As in JAX, outside every transformation `f` simply runs, and under forward mode or
reverse mode (a JVP trace, possibly over partial evaluation) `f` is not traced: the
rule runs on the arguments' primal values (concrete ones, outside `jit`), and a call
whose arguments the transformation does not trace goes to the enclosing one
(`call_in_parent`), so that Python control flow on the values works. Otherwise (under
`jit`, `vmap`, or when `f` closes over a value the transformation traces) a call stages
`f` into a Program (closed-over values become leading const inputs) and binds
`custom_jvp_call_p`, whose params are that program and the user's rule. Evaluation,
lowering and batching use the program; the JVP rule calls the user's rule.
"""
import functools
import inspect

import numpy as np
from jax import tree_util

from . import _core, _dtypes
from ._ad import JVPTrace, Zero, add_tangents, instantiate, tangent_aval
from ._batching import BatchTrace, batch_program, move_batch_axis, vmap_traced
from ._core import Primitive, Tracer, get_aval, set_current_trace
from ._ir import eval_program
from ._jit import define_program_call
from ._partial_eval import PartialEvalTrace
from ._staging import trace_to_program
from ._traceback_util import api_boundary
from .lax import full, convert_element_type

__all__ = ["custom_jvp", "custom_vjp"]


# --- helpers shared with custom_vjp -----------------------------------------------

def resolve_args(fun, args, kwargs):
    """Positional arguments only: keyword arguments are bound to their positions."""
    if not kwargs:
        return tuple(args)
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"could not bind the arguments of {_name(fun)}: {e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"keyword-only arguments {sorted(bound.kwargs)} of the custom "
                        f"derivative function {_name(fun)} are not supported; make them "
                        f"positional")
    return tuple(bound.args)


STAGE = object()  # call_in_parent's answer when the call must be staged


def call_in_parent(custom, trace, args):
    """JAX's semantics for a custom-rule function called under forward mode, partial
    evaluation or vmap when none of its arguments belongs to that transformation: the
    enclosing transformation gets the call (eagerly, the function runs on concrete
    values). Returns the result, or STAGE when this does not apply or the function turns
    out to use `trace` (a closed-over value of it, or its vmap axis name); its Python
    code then runs once more, staged."""
    if not isinstance(trace, (JVPTrace, PartialEvalTrace, BatchTrace)) or \
            traces_an_argument(trace, args):
        return STAGE
    try:
        with _core.watching(trace), set_current_trace(trace.parent):
            return custom(*args)
    except _core.TracerOfWatchedTrace as e:
        if e.trace is not trace:
            raise
        return STAGE


def traces_an_argument(trace, args):
    return any(isinstance(x, Tracer) and x._trace is trace
               for x in tree_util.tree_leaves(args))


def split_nondiff(args, nondiff_argnums):
    """(nondiff values, diff args, merge) where merge(diff) rebuilds all the args."""
    n = len(args)
    positions = sorted({i % n for i in nondiff_argnums if -n <= i < n})
    if len(positions) != len(set(nondiff_argnums)):
        raise ValueError(f"nondiff_argnums={tuple(nondiff_argnums)} is out of range for a "
                         f"call with {n} positional arguments")
    nondiff = tuple(args[i] for i in positions)
    diff = tuple(a for i, a in enumerate(args) if i not in positions)

    def merge(diff_args):
        it_diff, it_nondiff, full = iter(diff_args), iter(nondiff), []
        for i in range(n):
            full.append(next(it_nondiff) if i in positions else next(it_diff))
        return full
    return nondiff, diff, merge


def signature_key(in_tree, avals, nondiff):
    """A cache key for one call signature, or None when a nondiff value is unhashable."""
    try:
        hash(nondiff)
    except TypeError:
        return None
    return (in_tree, avals, tuple((type(v), v) for v in nondiff))


def trace_flat(fun, merge, in_tree, avals, description):
    """Stage `fun(*merge(diff_args))` over flat leaves: (program, consts, out_tree)."""
    out_tree = []

    def flat_fun(*leaves):
        out = fun(*merge(tree_util.tree_unflatten(in_tree, leaves)))
        out_leaves, tree = tree_util.tree_flatten(out)
        out_tree.append(tree)
        return out_leaves
    program, consts = trace_to_program(flat_fun, avals, description)
    return program, consts, out_tree[0]


def stage_call(custom, args, kind, make_rules):
    """Trace `custom.fun` on the differentiable leaves of `args` (once per signature)
    and build its flat rules with `make_rules(nondiff, merge, in_tree, avals, out_tree,
    program)`. Returns (leaves, program, consts, out_tree, rules)."""
    nondiff, diff, merge = split_nondiff(args, custom.nondiff_argnums)
    leaves, in_tree = tree_util.tree_flatten(diff)
    avals = tuple(map(get_aval, leaves))
    key = signature_key(in_tree, avals, nondiff)
    entry = custom._cache.get(key) if key is not None else None
    if entry is None:
        program, consts, out_tree = trace_flat(custom.fun, merge, in_tree, avals,
                                               f"{kind}({custom.__name__})")
        rules = make_rules(nondiff, merge, in_tree, avals, out_tree, program)
        entry = (program, consts, out_tree, rules)
        if key is not None and cacheable(consts):
            custom._cache[key] = entry
    return (leaves, *entry)


def cacheable(consts):
    return not any(isinstance(c, Tracer) for c in consts)


def as_tangent(t, aval):
    """A rule's tangent output as an array of the tangent type of `aval`."""
    if isinstance(t, (bool, int, float, complex, np.generic)) or (
            isinstance(t, np.ndarray) and t.shape != aval.shape):
        return full(aval.shape, t, _dtypes.tangent_dtype(aval.dtype))
    if isinstance(t, np.ndarray):  # a host array of the output's shape
        return convert_element_type(t, _dtypes.tangent_dtype(aval.dtype))
    return t


def float0_tangent_placeholder(aval, batched):
    shape = aval.shape[1:] if batched else aval.shape
    return np.zeros(shape, _dtypes.float0)


def _name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


# --- custom_jvp -------------------------------------------------------------------

class custom_jvp:
    """A function with a user-defined JVP rule.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> @fl.custom_jvp
    ... def f(x):
    ...     return jnp.sin(x)
    >>> @f.defjvp
    ... def f_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return f(x), 2.0 * t          # a deliberately different derivative
    >>> float(fl.grad(f)(0.5))
    2.0

    `nondiff_argnums` marks arguments that are not differentiated (e.g. functions or
    static values); the rule receives them first: `rule(*nondiff, primals, tangents)`.
    Tangents passed to the rule are arrays (zeros where nothing flows in).
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.__name__ = _name(fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None
        self._cache = {}

    def defjvp(self, jvp, symbolic_zeros=False):
        """Set the rule `jvp(primals, tangents) -> (primal_out, tangent_out)`."""
        if symbolic_zeros:
            raise NotImplementedError("custom_jvp with symbolic_zeros=True is not supported")
        self.jvp = jvp
        self._cache.clear()
        return jvp

    def defjvps(self, *tangent_fns):
        """One rule per argument: `fn(t, primal_out, *primals)` gives that argument's
        contribution to the output tangent (None: the argument is not differentiated)."""
        if self.nondiff_argnums:
            raise TypeError("Can't use defjvps with nondiff_argnums; use defjvp")

        def jvp(primals, tangents):
            primal_out = self(*primals)
            total = None
            for fn, t in zip(tangent_fns, tangents):
                if fn is None:
                    continue
                part = fn(t, primal_out, *primals)
                total = part if total is None else tree_util.tree_map(
                    lambda a, b: a + b, total, part)
            if total is None:
                total = tree_util.tree_map(lambda o: o * 0, primal_out)
            return primal_out, total
        self.defjvp(jvp)
        return jvp

    def __get__(self, instance, owner):
        return self if instance is None else functools.partial(self, instance)

    @api_boundary
    def __call__(self, *args, **kwargs):
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {self.__name__} "
                                 f"using defjvp.")
        args = resolve_args(self.fun, args, kwargs)
        trace = _core.current_trace()
        if trace is _core.eval_trace:
            return self.fun(*args)
        out = call_in_parent(self, trace, args)
        if out is not STAGE:
            return out
        if isinstance(trace, JVPTrace) and traces_an_argument(trace, args):
            return self._rule_on_values(trace, args)
        leaves, program, consts, out_tree, rule = stage_call(
            self, args, "custom_jvp",
            lambda nondiff, merge, in_tree, avals, out_tree, program: _FlatJVPRule(
                self.jvp, nondiff, in_tree, out_tree, program.out_avals, self.__name__))
        outs = custom_jvp_call_p.bind(*consts, *leaves, program=program, jvp=rule,
                                      num_consts=len(consts), name=self.__name__)
        return tree_util.tree_unflatten(out_tree, outs)

    def _rule_on_values(self, trace, args):
        """Forward mode as in JAX: the rule runs on the arguments' primal values and
        tangents; the function itself is not traced."""
        nondiff, diff, _ = split_nondiff(args, self.nondiff_argnums)
        leaves, in_tree = tree_util.tree_flatten(diff)
        primals, tangents = zip(*map(trace.lift, leaves)) if leaves else ((), ())
        rule = _FlatJVPRule(self.jvp, nondiff, in_tree, None, None, self.__name__)
        outs, touts = apply_jvp_rule(trace, rule, list(primals),
                                     [instantiate(t) for t in tangents])
        return tree_util.tree_unflatten(rule.out_tree, [trace.wrap(p, t)
                                                        for p, t in zip(outs, touts)])


class _FlatJVPRule:
    """The user's rule over flat leaves: (primals, tangents) -> (outs, float tangents);
    tangents of integer outputs are left out. Checks what the rule returns (against the
    function's output types when known; else they are taken from the first call)."""

    def __init__(self, rule, nondiff, in_tree, out_tree, out_avals, fun_name):
        self.rule, self.nondiff, self.in_tree = rule, nondiff, in_tree
        self.out_tree, self.out_avals, self.fun_name = out_tree, out_avals, fun_name
        self.__name__ = _name(rule)

    def __call__(self, primals, tangents):
        ps = tree_util.tree_unflatten(self.in_tree, primals)
        ts = tree_util.tree_unflatten(self.in_tree, tangents)
        result = self.rule(*self.nondiff, tuple(ps), tuple(ts))
        where = f"Custom JVP rule {self.__name__} for function {self.fun_name}"
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError(f"{where} must produce a pair (list or tuple of length two) "
                            f"representing primal and tangent outputs, got {result!r:.200}")
        out_leaves, tree = tree_util.tree_flatten(result[0])
        t_leaves, t_tree = tree_util.tree_flatten(result[1])
        if self.out_tree is None:
            self.out_tree, self.out_avals = tree, [get_aval(o) for o in out_leaves]
        if tree != self.out_tree:
            raise TypeError(f"{where} must produce primal outputs with the same container "
                            f"(pytree) structure as the function: expected "
                            f"{self.out_tree}, got {tree}")
        if t_tree != tree:
            raise TypeError(f"{where} must produce primal and tangent outputs with equal "
                            f"container (pytree) structures, got {tree} and {t_tree}")
        float_tangents = []
        for o, t, aval in zip(out_leaves, t_leaves, self.out_avals):
            o_aval, t_aval = get_aval(o), get_aval(t)
            if o_aval.shape != aval.shape or o_aval.dtype != aval.dtype:
                raise TypeError(f"{where} must produce primal outputs with the shapes and "
                                f"dtypes of the function's outputs: expected "
                                f"{aval.str_short()}, got {o_aval.str_short()}")
            if not _dtypes.is_inexact(aval.dtype):
                continue
            if t_aval.shape != aval.shape or t_aval.dtype != aval.dtype:
                raise TypeError(f"{where} must produce primal and tangent outputs with "
                                f"corresponding shapes and dtypes, got primal "
                                f"{aval.str_short()} and tangent {t_aval.str_short()}")
            float_tangents.append(as_tangent(t, aval))
        return out_leaves, float_tangents


custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.accepts_keys = True  # typed PRNG keys pass through


define_program_call(custom_jvp_call_p)


def _custom_jvp_call_jvp(trace, primals, tangents, *, program, jvp, num_consts, name):
    """The user's rule (see `apply_jvp_rule`); when only closed-over values carry
    tangents, the function itself is differentiated."""
    arg_tangents = tangents[num_consts:]
    if all(isinstance(t, Zero) for t in arg_tangents):
        with set_current_trace(trace):
            outs = eval_program(program, [trace.wrap(p, t) for p, t in zip(primals,
                                                                              tangents)])
        lifted = [trace.lift(o) for o in outs]
        return [p for p, _ in lifted], [t for _, t in lifted]
    return apply_jvp_rule(trace, jvp, primals[num_consts:],
                          [instantiate(t) for t in arg_tangents])


def apply_jvp_rule(trace, rule, primals, tangents):
    """Run the flat rule under `trace` itself on primals and tangents: values the
    function closes over that `trace` differentiates are then differentiated through
    the rule's primal computation. Returns (out primals, out tangents)."""
    with set_current_trace(trace):
        outs, float_touts = rule(primals, tangents)
    out_primals, out_tangents, it = [], [], iter(float_touts)
    for o in outs:
        primal, closure_tangent = trace.lift(o)
        out_primals.append(primal)
        aval = get_aval(primal)
        if _dtypes.is_inexact(aval.dtype):
            out_tangents.append(add_tangents(closure_tangent, trace.lift(next(it))[0]))
        else:
            out_tangents.append(Zero(tangent_aval(aval)))
    return out_primals, out_tangents


_custom_jvp_call_jvp.needs_trace = True
custom_jvp_call_p.jvp_rule = _custom_jvp_call_jvp


def _custom_jvp_call_batching(axis_data, vals, dims, *, program, jvp, num_consts, name):
    size, axis_name = axis_data.size, axis_data.name
    args = [move_batch_axis(size, v, d, 0) for v, d in zip(vals[num_consts:],
                                                            dims[num_consts:])]
    in_dims = [*dims[:num_consts], *[0] * len(args)]
    new_program, _ = batch_program(program, in_dims, size, axis_name,
                                   [True] * len(program.outs))
    rule = _BatchedJVPRule(jvp, len(program.outs), axis_data.trace)
    outs = custom_jvp_call_p.bind(*vals[:num_consts], *args, program=new_program, jvp=rule,
                                  num_consts=num_consts, name=name)
    return outs, [0] * len(outs)


custom_jvp_call_p.batching_rule = _custom_jvp_call_batching


class _BatchedJVPRule:
    """A flat JVP rule vmapped over axis 0 of every primal and tangent. While the vmap
    that batched the call is still running, the rule runs under that same BatchTrace,
    so values the rule closes over that are batched by it are recognised."""

    def __init__(self, rule, num_outs, batch_trace):
        self.rule, self.num_outs, self.batch_trace = rule, num_outs, batch_trace
        self.axis_size, self.axis_name = batch_trace.axis_size, batch_trace.axis_name
        self.__name__ = f"vmap_{rule.__name__}"

    def __call__(self, primals, tangents):
        n = len(primals)
        ts, t_dims = [], []
        for t in tangents:
            aval = get_aval(t)
            if aval.dtype == _dtypes.float0:
                ts.append(float0_tangent_placeholder(aval, batched=True))
                t_dims.append(None)
            else:
                ts.append(t)
                t_dims.append(0)

        def per_example(*xs):
            outs, touts = self.rule(list(xs[:n]), list(xs[n:]))
            return [*outs, *touts]
        args, dims = [*primals, *ts], [0] * n + t_dims
        if self.batch_trace.live:
            outs = vmap_with_trace(self.batch_trace, per_example, args, dims)
        else:
            outs = vmap_traced(per_example, args, dims, self.axis_size, self.axis_name)
        return outs[:self.num_outs], outs[self.num_outs:]


def vmap_with_trace(batch_trace, fun, args, dims):
    """`fun` over batched `args` under an existing, live BatchTrace (rather than a new
    one); outputs batched at axis 0."""
    with set_current_trace(batch_trace):
        outs = fun(*[batch_trace.wrap(a, d) for a, d in zip(args, dims)])
        lifted = [batch_trace.lift(o) for o in outs]
    return [move_batch_axis(batch_trace.axis_size, v, d, 0) for v, d in lifted]


from ._custom_vjp import custom_vjp  # noqa: E402,F401
