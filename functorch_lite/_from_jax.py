"""`interop.from_jax`: JAX code translated into functorch_lite's IR.

JAX traces the function once per input types (`jax.make_jaxpr` on abstract values);
the jaxpr is then evaluated equation by equation with functorch_lite's own `lax`
functions, so under our transformations each JAX equation becomes our primitive with
our rules. Call-like equations (`jit`, `closed_call`, `remat`) are inlined or become
our `checkpoint`; `custom_jvp_call` and `custom_vjp_call` become our `custom_jvp` and
`custom_vjp` (rules translated from JAX's JVP / VJP of the call); `cond`, `while`,
`scan` and `custom_linear_solve` become ours with translated bodies.
A JAX primitive without a counterpart (see `_from_jax_table`) runs as one opaque
`jax_call` equation, whose rules come from `jax.jvp`, `jax.vjp` and `jax.vmap`; its
name is recorded in `from_jax(fn).unsupported`.
"""
import functools

import numpy as np
import jax
from jax import tree_util
from jax.extend import core as jax_core

from . import _core, lax
from ._dispatch import LRUCache
from ._core import Tracer, get_aval
from ._custom import custom_jvp
from ._custom_vjp import custom_vjp
from ._checkpoint import checkpoint
from . import _from_jax_table as table
from ._jax_call import call_jax, jax_precision


def _is_array_leaf(x):
    return isinstance(x, (jax.Array, np.ndarray, np.generic, Tracer))


class FromJax:
    """A JAX function made usable inside every functorch_lite transformation.

    Array leaves of the arguments (`jax.Array`, NumPy arrays, our tracers) are inputs;
    every other leaf (Python numbers, strings, functions: e.g. an Equinox module's
    activation) is static, part of the cache key, as in `equinox.filter_jit`.
    """

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn, updated=())
        self._traced = LRUCache()  # per argument signature, bounded as jit's
        self._derived = {}          # (kind, id(eqn)) -> (eqn, JAX function or jaxprs)
        self.mapped = set()        # JAX primitives translated into ours
        self.unsupported = set()   # JAX primitives run as an opaque jax_call

    def __call__(self, *args, **kwargs):
        leaves, tree = tree_util.tree_flatten((args, kwargs))
        if _core.current_trace() is _core.eval_trace and \
                not any(isinstance(x, Tracer) for x in leaves):
            with jax_precision():
                return self.fn(*args, **kwargs)
        dynamic = [_is_array_leaf(x) for x in leaves]
        key = (tree, tuple(get_aval(x) if d else _static_key(x)
                           for x, d in zip(leaves, dynamic)))
        entry = self._traced.get(key)
        if entry is None:
            entry = self._trace(leaves, dynamic, tree)
            self._traced.put(key, entry)
        closed, out_tree = entry
        outs = Translator(self).eval(closed, [x for x, d in zip(leaves, dynamic) if d])
        return tree_util.tree_unflatten(out_tree, outs)

    def _trace(self, leaves, dynamic, tree):
        out_trees = []

        def flat_fun(*dyn):
            it = iter(dyn)
            full = [next(it) if d else x for x, d in zip(leaves, dynamic)]
            args, kwargs = tree_util.tree_unflatten(tree, full)
            out_leaves, out_tree = tree_util.tree_flatten(self.fn(*args, **kwargs))
            out_trees.append(out_tree)
            return out_leaves
        structs = []
        for x in (x for x, d in zip(leaves, dynamic) if d):
            a = get_aval(x)
            structs.append(jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type))
        try:
            with jax_precision():
                closed = jax.make_jaxpr(flat_fun)(*structs)
        except Exception as e:
            if _closes_over_tracer(self.fn):
                raise TypeError(
                    f"from_jax({getattr(self.fn, '__name__', self.fn)}): the JAX function "
                    f"closes over a traced value of a functorch_lite transformation (e.g. "
                    f"a learning rate being differentiated), which JAX cannot trace. Fix: "
                    f"pass the value as an argument; for an optax hyperparameter, build "
                    f"the optimizer with optax.inject_hyperparams and set "
                    f"opt_state.hyperparams[name] = value.") from e
            raise
        return closed, out_trees[0]

    def derived(self, kind, eqn, make):
        """What `make(eqn)` derives from a JAX equation of this function's traces,
        made once per equation."""
        entry = self._derived.get((kind, id(eqn)))
        if entry is None or entry[0] is not eqn:
            entry = self._derived[(kind, id(eqn))] = (eqn, make(eqn))
        return entry[1]

    def __repr__(self):
        return f"from_jax({getattr(self.fn, '__name__', self.fn)})"


def _closes_over_tracer(obj, depth=0):
    """Whether one of our tracers hides in `obj`'s closure (functions, partials, and
    the containers they hold, a few levels deep)."""
    if isinstance(obj, Tracer):
        return True
    if depth > 4:  # (also ends a function's reference to itself)
        return False
    if isinstance(obj, (list, tuple)):
        children = obj
    elif isinstance(obj, dict):
        children = obj.values()
    elif isinstance(obj, functools.partial):
        children = [obj.func, *obj.args, *obj.keywords.values()]
    elif callable(obj) and getattr(obj, "__closure__", None):
        children = [_cell_value(cell) for cell in obj.__closure__]
    else:
        return False
    return any(_closes_over_tracer(c, depth + 1) for c in children)


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:  # a cell not yet filled
        return None


def _static_key(x):
    try:
        hash(x)
        return ("static", x)
    except TypeError:
        return ("static-id", id(x))


def rebind(eqn):
    """The JAX function that applies `eqn`'s primitive (as `jax.core.eval_jaxpr`)."""
    def apply(*xs):
        out = eqn.primitive.bind(*xs, **eqn.primitive.get_bind_params(eqn.params))
        return list(out) if eqn.primitive.multiple_results else [out]
    apply.__name__ = eqn.primitive.name
    return apply


class Translator:
    """Evaluates a jaxpr with functorch_lite operations."""

    def __init__(self, owner):
        self.owner = owner

    def eval(self, closed, args):
        return self.eval_jaxpr(closed.jaxpr, closed.consts, args)

    def eval_any(self, jaxpr, args):
        """A ClosedJaxpr or a Jaxpr without constants."""
        if isinstance(jaxpr, jax_core.ClosedJaxpr):
            return self.eval(jaxpr, args)
        return self.eval_jaxpr(jaxpr, (), args)

    def eval_jaxpr(self, jaxpr, consts, args):
        env = {}

        def read(v):
            return v.val if isinstance(v, jax_core.Literal) else env[v]
        for v, x in zip(jaxpr.constvars, consts):
            env[v] = x
        for v, x in zip(jaxpr.invars, args):
            env[v] = x
        for eqn in jaxpr.eqns:
            outs = self.eval_eqn(eqn, [read(v) for v in eqn.invars])
            for v, x in zip(eqn.outvars, outs):
                env[v] = x
        return [read(v) for v in jaxpr.outvars]

    def eval_eqn(self, eqn, args):
        name = eqn.primitive.name
        rule = table.translation(name, eqn.params)
        if rule is not None:
            self.owner.mapped.add(name)
            out = rule(self, eqn, *args)
            return list(out) if eqn.primitive.multiple_results else [out]
        self.owner.unsupported.add(name)
        return self.opaque(eqn, args)

    def opaque(self, eqn, args):
        """Run one JAX equation as a `jax_call` (rules from jax.jvp/jax.vjp/jax.vmap)."""
        if any(jax.dtypes.issubdtype(v.aval.dtype, jax.dtypes.extended)
               for v in [*eqn.invars, *eqn.outvars]):
            raise NotImplementedError(
                f"from_jax({self.owner.fn.__name__}): the JAX primitive "
                f"'{eqn.primitive.name}' on typed PRNG keys has no functorch_lite "
                f"translation. Fix: pass raw keys (jax.random.key_data) to the function, "
                f"or call this part outside from_jax")
        return call_jax(self.owner.derived("opaque", eqn, rebind), *args)


# --- call-like and control-flow equations ----------------------------------------

def inline(jaxpr_param):
    return lambda tr, eqn, *args: tr.eval_any(eqn.params[jaxpr_param], args)


def remat(tr, eqn, *args):
    jaxpr = eqn.params["jaxpr"]
    body = checkpoint(lambda *xs: tr.eval_jaxpr(jaxpr, (), xs),
                      prevent_cse=eqn.params.get("prevent_cse", True))
    return body(*args)


def cond(tr, eqn, index, *ops):
    branches = [functools.partial(lambda b, *xs: tr.eval(b, xs), b)
                for b in eqn.params["branches"]]
    return lax.switch(index, branches, *ops)


def while_loop(tr, eqn, *args):
    p = eqn.params
    cc, bc = p["cond_nconsts"], p["body_nconsts"]
    cconsts, bconsts, init = args[:cc], args[cc:cc + bc], args[cc + bc:]
    out = lax.while_loop(lambda c: tr.eval(p["cond_jaxpr"], [*cconsts, *c])[0],
                         lambda c: tuple(tr.eval(p["body_jaxpr"], [*bconsts, *c])),
                         tuple(init))
    return list(out)


def scan(tr, eqn, *args):
    p = eqn.params
    nc, ncarry = _scan_counts(p)
    consts, init, xs = args[:nc], args[nc:nc + ncarry], args[nc + ncarry:]

    def body(carry, x):
        outs = tr.eval(p["jaxpr"], [*consts, *carry, *x])
        return tuple(outs[:ncarry]), tuple(outs[ncarry:])
    carry, ys = lax.scan(body, tuple(init), tuple(xs), length=p["length"],
                         reverse=p["reverse"])
    return [*carry, *ys]


def _scan_counts(params):
    """(number of consts, number of carries) of a JAX scan equation: parameters until
    JAX 0.11, the leaf counts of the groups of the flat tree `ft_in` (consts, carry, xs)
    after."""
    if "num_consts" in params:
        return params["num_consts"], params["num_carry"]
    consts, carry, _ = params["ft_in"].unpack()
    return len(list(consts.vals)), len(list(carry.vals))


def custom_jvp_call(tr, eqn, *args):
    """Our custom_jvp: the primal translated from `call_jaxpr`, the rule translated
    from JAX's JVP of the call (which applies the JAX function's own rule)."""
    p = eqn.params
    inexact = [jax.dtypes.issubdtype(v.aval.dtype, np.inexact) for v in eqn.invars]

    def primal(*xs):
        return tr.eval(p["call_jaxpr"], xs)
    primal.__name__ = f"from_jax_{_called_name(eqn)}"
    fun = custom_jvp(primal)

    @fun.defjvp
    def rule(primals, tangents):
        closed = tr.owner.derived("jvp", eqn, lambda e: _jvp_jaxpr(e, inexact))
        n_out = len(eqn.outvars)
        outs = tr.eval(closed, [*primals, *[t for t, f in zip(tangents, inexact) if f]])
        return outs[:n_out], outs[n_out:]
    return fun(*args)


def _called_name(eqn):
    """The JAX function a custom_jvp/custom_vjp equation calls (for our IR's names)."""
    debug = getattr(eqn.params["call_jaxpr"].jaxpr, "debug_info", None)
    return getattr(debug, "func_name", None) or eqn.primitive.name


def _jvp_jaxpr(eqn, inexact):
    apply = rebind(eqn)

    def jvp(*xs):
        n = len(inexact)
        ps, ts = xs[:n], iter(xs[n:])
        full = [next(ts) if f else np.zeros(v.aval.shape, jax.dtypes.float0)
                for v, f in zip(eqn.invars, inexact)]
        outs, touts = jax.jvp(apply, list(ps), full)
        return [*outs, *touts]
    avals = [v.aval for v in eqn.invars] + [v.aval for v, f in zip(eqn.invars, inexact)
                                            if f]
    return jax.make_jaxpr(jvp)(*[jax.ShapeDtypeStruct(a.shape, a.dtype) for a in avals])


def custom_vjp_call(tr, eqn, *args):
    """Our custom_vjp: the primal translated from the call, the forward and backward
    passes translated from `jax.vjp` of the call (which runs the JAX function's own
    fwd and bwd; the pullback's leaves are the residuals)."""
    inexact = [jax.dtypes.issubdtype(v.aval.dtype, np.inexact) for v in eqn.invars]
    fwd_closed, bwd_closed = tr.owner.derived("vjp", eqn,
                                              lambda e: _vjp_jaxprs_of(e, inexact))
    n_out = len(eqn.outvars)

    def primal(*xs):
        return tr.eval(eqn.params["call_jaxpr"], xs)
    primal.__name__ = f"from_jax_{_called_name(eqn)}"
    fun = custom_vjp(primal)

    def fwd(*xs):
        outs = tr.eval(fwd_closed, xs)
        return outs[:n_out], outs[n_out:]

    def bwd(res, cts):
        cts_in = iter(tr.eval(bwd_closed, [*res, *cts]))
        return tuple(next(cts_in) if f else None for f in inexact)
    fun.defvjp(fwd, bwd)
    return fun(*args)


def _vjp_jaxprs_of(eqn, inexact):
    apply = rebind(eqn)
    pullback_tree = []

    def split(xs):
        def of_inexact(*diff):
            it = iter(diff)
            return apply(*[next(it) if f else x for x, f in zip(xs, inexact)])
        return of_inexact, [x for x, f in zip(xs, inexact) if f]

    def fwd(*xs):
        of_inexact, diff = split(xs)
        outs, pullback = jax.vjp(of_inexact, *diff)
        res, tree = tree_util.tree_flatten(pullback)
        pullback_tree.append(tree)
        return [*outs, *res]
    structs = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    fwd_closed = jax.make_jaxpr(fwd)(*structs)
    n_out = len(eqn.outvars)
    res_avals = [v.aval for v in fwd_closed.jaxpr.outvars[n_out:]]

    def bwd(*xs):
        res, cts = xs[:len(res_avals)], xs[len(res_avals):]
        return list(tree_util.tree_unflatten(pullback_tree[0], res)(list(cts)))
    ct_structs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in res_avals] + \
        [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.outvars]
    return fwd_closed, jax.make_jaxpr(bwd)(*ct_structs)


def custom_linear_solve(tr, eqn, *args):
    """Our custom_linear_solve, each of JAX's functions (matvec, solve, transpose_solve)
    translated with its constants."""
    lengths, jaxprs = eqn.params["const_lengths"], eqn.params["jaxprs"]
    it = iter(args)
    consts = {name: [next(it) for _ in range(getattr(lengths, name))]
              for name in ("matvec", "vecmat", "solve", "transpose_solve")}
    b = tuple(it)

    def run(name):
        return lambda x: tuple(tr.eval_any(getattr(jaxprs, name), [*consts[name], *x]))
    transpose_solve = None if jaxprs.transpose_solve is None else \
        (lambda _, x: run("transpose_solve")(x))
    return list(lax.custom_linear_solve(run("matvec"), b, lambda _, x: run("solve")(x),
                                        transpose_solve))


table.SUB_PROGRAM_RULES.update({
    "jit": inline("jaxpr"), "pjit": inline("jaxpr"),
    "closed_call": inline("call_jaxpr"), "core_call": inline("call_jaxpr"),
    "checkpoint": remat, "remat": remat,
    "cond": cond, "while": while_loop, "scan": scan,
    "custom_jvp_call": custom_jvp_call, "custom_vjp_call": custom_vjp_call,
    "custom_linear_solve": custom_linear_solve,
})
