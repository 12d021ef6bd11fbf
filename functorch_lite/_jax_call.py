"""The opaque `jax_call` primitive: a JAX function embedded whole in our program (its
StableHLO becomes a private function of our module), with forward mode through
`jax.jvp`, reverse mode by transposing the JVP's linear part with `jax.vjp`, and
batching through `jax.vmap`. `interop.call_jax` stages it; `from_jax` falls back to it
for JAX primitives it cannot translate."""
import contextlib
import re

import numpy as np
import jax
from jax import tree_util

from . import _core, _dtypes
from ._config import config
from ._dispatch import LRUCache
from ._core import Primitive, ShapedArray, get_aval
from . import _ad
from ._ad import Zero, is_undefined, tangent_aval
from ._batching import batched_avals
from ._traceback_util import api_boundary
from ._lowering import target_platform, ir_type

jax_call_p = Primitive("jax_call", multiple_results=True)


class JaxFunction:
    """A flat JAX function of array leaves (hashable by identity: a primitive param)."""

    def __init__(self, flat_fun, in_avals, name, linear_from=None):
        self.flat_fun = flat_fun
        self.linear_from = linear_from  # inputs from this index on enter linearly
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


_functions = LRUCache()  # (fun, tree, avals) -> (JaxFunction, out tree), bounded


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
        entry = (jf, out_trees[0])
        _functions.put(key, entry)
    jf, out_tree = entry
    outs = jax_call_p.bind(*leaves, function=jf)
    return tree_util.tree_unflatten(out_tree, outs)


@jax_call_p.def_abstract_eval
def _jax_call_abstract_eval(*avals, function):
    return function.out_avals


@jax_call_p.def_impl
def _jax_call_impl(*args, function):
    with jax_precision():  # a Python number out (e.g. 2.0 * 3) becomes an array
        return [jax.device_put(o) for o in function.flat_fun(*args)]


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
    out_types = [ir_type(a) for a in function.out_avals]
    outs = ctx.op("func.call", list(args), out_types=out_types,
                  attrs={"callee": f"@{module.function_names[key]}"})
    return [outs] if len(out_types) == 1 else list(outs)


@jax_call_p.def_jvp
def _jax_call_jvp(primals, tangents, *, function):
    """Primal outputs from `function` itself, out tangents from a second JAX function
    linear in the tangents (so reverse mode can transpose it through `jax.vjp`)."""
    nonzero = tuple(not isinstance(t, Zero) for t in tangents)
    out_inexact = [_dtypes.is_inexact(a.dtype) for a in function.out_avals]
    outs = jax_call_p.bind(*primals, function=function)
    key = ("jvp", nonzero)
    if key not in function.cache:
        function.cache[key] = _linearized(function, nonzero, out_inexact)
    linear = function.cache[key]
    touts = iter(jax_call_p.bind(*primals, *[t for t in tangents if not isinstance(t, Zero)],
                                 function=linear))
    return outs, [next(touts) if f else Zero(tangent_aval(a))
                  for a, f in zip(function.out_avals, out_inexact)]


def _linearized(function, nonzero, out_inexact):
    """(primals, nonzero tangents) -> inexact out tangents, linear in the tangents."""
    n = len(function.in_avals)

    def flat_lin(*args):
        ps, ts = list(args[:n]), list(args[n:])

        def of_varying(*varying):  # inputs with a zero tangent stay fixed
            it = iter(varying)
            return function.flat_fun(*[next(it) if nz else p for p, nz in zip(ps, nonzero)])
        _, touts = jax.jvp(of_varying, [p for p, nz in zip(ps, nonzero) if nz], ts)
        return [t for t, f in zip(touts, out_inexact) if f]
    avals = [*function.in_avals, *[tangent_aval(a) for a, nz in
                                   zip(function.in_avals, nonzero) if nz]]
    return JaxFunction(flat_lin, avals, f"jvp_{function.__name__}", linear_from=n)


@jax_call_p.def_transpose
def _jax_call_transpose(cts, *args, function):
    """Cotangents of the linear inputs (those from `function.linear_from` on) by
    `jax.vjp` of the JAX function in them, the other inputs held fixed."""
    start = function.linear_from
    if start is None or any(is_undefined(a) for a in args[:start]):
        raise NotImplementedError(
            f"transposing interop.call_jax({function.__name__}) in its non-linear "
            f"inputs: only the JVP of an embedded JAX function is linear")
    if "transpose" not in function.cache:
        def flat_transpose(*xs):
            fixed, cts_ = list(xs[:start]), list(xs[start:])
            zeros = [np.zeros(a.shape, a.dtype) for a in function.in_avals[start:]]
            _, vjp = jax.vjp(lambda *lin: function.flat_fun(*fixed, *lin), *zeros)
            return list(vjp(cts_))
        avals = [*function.in_avals[:start], *function.out_avals]
        function.cache["transpose"] = JaxFunction(
            flat_transpose, avals, f"transpose_{function.__name__}", linear_from=start)
    cts = [_ad.instantiate(c) if isinstance(c, Zero) else c for c in cts]
    outs = jax_call_p.bind(*args[:start], *cts, function=function.cache["transpose"])
    return [None] * start + list(outs)


@jax_call_p.def_batching
def _jax_call_batching(axis_data, vals, dims, *, function):
    key = ("vmap", tuple(dims), axis_data.size)
    if key not in function.cache:
        batched = jax.vmap(function.flat_fun, in_axes=list(dims), out_axes=0,
                           axis_size=axis_data.size)
        avals = batched_avals(function.in_avals, dims, axis_data.size)
        function.cache[key] = JaxFunction(lambda *xs: list(batched(*xs)), avals,
                                          f"vmap_{function.__name__}",
                                          linear_from=function.linear_from)
    outs = jax_call_p.bind(*vals, function=function.cache[key])
    return outs, [0] * len(outs)
