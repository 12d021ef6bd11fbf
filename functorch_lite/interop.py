"""Explicit interop: run a JAX function (e.g. an optax update) inside functorch_lite
transformations as one black-box primitive.

This is the one place the library asks JAX to trace a function: `call_jax(fn, *args)`
stages `fn` as a `jax_call` equation; its lowering embeds the StableHLO that JAX writes
for `fn` as a private function of our module, so `jit(train_step)` with an optax
update inside compiles to one executable. Forward mode uses `jax.jvp` and batching
uses `jax.vmap` on the embedded function; reverse mode through it is not supported.
With functorch_lite's x64 mode on, JAX runs the function with its own x64 flag on too
(for that call only), so 64-bit operands reach it as they are.

>>> import optax, functorch_lite as fl, functorch_lite.numpy as jnp
>>> opt = optax.sgd(0.1)
>>> step = fl.jit(lambda p, s: fl.interop.call_jax(opt.update, p, s, p))
>>> updates, _ = step(jnp.ones(2), opt.init(jnp.ones(2)))
>>> updates.tolist()
[-0.10000000149011612, -0.10000000149011612]
"""
import contextlib
import re

import numpy as np
import jax
from jax import tree_util

from . import _core, _dtypes
from ._config import config
from ._core import Primitive, ShapedArray, get_aval
from ._ad import Zero, tangent_aval
from ._batching import batched_avals
from ._traceback_util import api_boundary
from ._lowering import target_platform
from ._to_jax import to_jax  # noqa: F401  (our functions inside JAX's transformations)

jax_call_p = Primitive("jax_call", multiple_results=True)


class JaxFunction:
    """A flat JAX function of array leaves (hashable by identity: a primitive param)."""

    def __init__(self, flat_fun, in_avals, name):
        self.flat_fun = flat_fun
        self.in_avals = tuple(in_avals)
        self.__name__ = name
        structs = [jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                   for a in self.in_avals]
        with jax_precision():
            outs = jax.eval_shape(flat_fun, *structs)
        self.out_avals = [ShapedArray(o.shape, o.dtype, getattr(o, "weak_type", False))
                          for o in outs]
        self.cache = {}

    def module_text(self):
        structs = [jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                   for a in self.in_avals]
        with jax_precision():
            traced = jax.jit(self.flat_fun, keep_unused=True).trace(*structs)
            return traced.lower(lowering_platforms=(target_platform(),)).as_text()


def jax_precision():
    """JAX's x64 flag on for this thread while JAX traces or runs an embedded function,
    when functorch_lite's is on (else JAX's setting stays as it is)."""
    if config.jax_enable_x64 and not jax.enable_x64.value:
        return jax.enable_x64(True)
    return contextlib.nullcontext()


_functions = {}


@api_boundary
def call_jax(fun, *args):
    """Apply the JAX function `fun` to pytree `args` inside any functorch_lite
    transformation (eagerly it simply calls `fun`)."""
    if _core.current_trace() is _core.eval_trace:
        with jax_precision():
            return fun(*args)
    leaves, in_tree = tree_util.tree_flatten(args)
    avals = tuple(get_aval(x) for x in leaves)
    key = (fun, in_tree, avals)
    entry = _functions.get(key)
    if entry is None:
        out_trees = []

        def flat_fun(*flat):
            out = fun(*tree_util.tree_unflatten(in_tree, flat))
            out_leaves, tree = tree_util.tree_flatten(out)
            out_trees.append(tree)
            return out_leaves
        jf = JaxFunction(flat_fun, avals, getattr(fun, "__name__", "jax_fn"))
        entry = _functions[key] = (jf, out_trees[0])
    jf, out_tree = entry
    outs = jax_call_p.bind(*leaves, function=jf)
    return tree_util.tree_unflatten(out_tree, outs)


@jax_call_p.def_abstract_eval
def _jax_call_abstract_eval(*avals, function):
    return function.out_avals


@jax_call_p.def_impl
def _jax_call_impl(*args, function):
    with jax_precision():
        return list(function.flat_fun(*args))


_HOST_CALLBACK = re.compile(r"xla_\w*python_\w*callback")
_SYMBOL = re.compile(r"func\.func\s+(?:public\s+|private\s+)?@([\w$.\-]+)")


@jax_call_p.def_lowering
def _jax_call_lowering(ctx, *args, function):
    module = ctx.module
    key = ("jax_call", id(function))
    if key not in module.function_names:
        text = function.module_text()
        if _HOST_CALLBACK.search(text):  # its index names a function in JAX's list
            raise NotImplementedError(
                f"call_jax({function.__name__}) under a transformation: the JAX function "
                f"uses a host callback (jax.debug.print, jax.pure_callback, ...), whose "
                f"Python function JAX keeps to itself. Fix: call functorch_lite.debug."
                f"print / pure_callback outside the JAX function instead")
        body = text[text.index("func.func"):text.rindex("}")]  # the module's functions
        prefix = f"jaxfn{len(module.functions)}_"
        for name in set(_SYMBOL.findall(body)):
            body = re.sub(rf"@{re.escape(name)}\b", f"@{prefix}{name}", body)
        body = body.replace("func.func public", "func.func private")
        module.functions.append(body)
        module.function_names[key] = f"{prefix}main"
    from ._lowering import ir_type
    out_types = [ir_type(a) for a in function.out_avals]
    outs = ctx.op("func.call", list(args), out_types=out_types,
                  attrs={"callee": f"@{module.function_names[key]}"})
    return [outs] if len(out_types) == 1 else list(outs)


@jax_call_p.def_jvp
def _jax_call_jvp(primals, tangents, *, function):
    n = len(primals)
    nonzero = [not isinstance(t, Zero) for t in tangents]
    out_inexact = [_dtypes.is_inexact(a.dtype) for a in function.out_avals]

    def flat_jvp(*args):
        ps, ts = list(args[:n]), iter(args[n:])
        full_ts = [next(ts) if nz else np.zeros(a.shape, tangent_aval(a).dtype)
                   for a, nz in zip(function.in_avals, nonzero)]
        outs, touts = jax.jvp(function.flat_fun, ps, full_ts)
        return [*outs, *[t for t, f in zip(touts, out_inexact) if f]]
    key = ("jvp", tuple(nonzero))
    if key not in function.cache:
        avals = [*function.in_avals, *[tangent_aval(a) for a, nz in
                                       zip(function.in_avals, nonzero) if nz]]
        function.cache[key] = JaxFunction(flat_jvp, avals, f"jvp_{function.__name__}")
    outs = jax_call_p.bind(*primals, *[t for t in tangents if not isinstance(t, Zero)],
                           function=function.cache[key])
    m = len(function.out_avals)
    touts = iter(outs[m:])
    return outs[:m], [next(touts) if f else Zero(tangent_aval(a))
                      for a, f in zip(function.out_avals, out_inexact)]


def _jax_call_partial_eval(trace, args, *, function):
    raise NotImplementedError(
        f"reverse-mode differentiation (grad, vjp) through interop.call_jax("
        f"{function.__name__.removeprefix('jvp_')}) is not supported: the embedded JAX function is opaque to "
        f"functorch_lite's transposition. Compute the gradient outside the call (e.g. "
        f"take grad of the loss, then pass the gradient to call_jax), or use jvp/jacfwd.")


jax_call_p.partial_eval_rule = _jax_call_partial_eval


@jax_call_p.def_batching
def _jax_call_batching(axis_size, vals, dims, *, function):
    key = ("vmap", tuple(dims), axis_size)
    if key not in function.cache:
        batched = jax.vmap(function.flat_fun, in_axes=list(dims), out_axes=0,
                           axis_size=axis_size)
        avals = batched_avals(function.in_avals, dims, axis_size)
        function.cache[key] = JaxFunction(lambda *xs: list(batched(*xs)), avals,
                                          f"vmap_{function.__name__}")
    outs = jax_call_p.bind(*vals, function=function.cache[key])
    return outs, [0] * len(outs)
