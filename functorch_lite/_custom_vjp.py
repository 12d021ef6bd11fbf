"""custom_vjp: user-defined reverse-mode rules, differentiable in forward mode too.

As in JAX, outside every transformation the function simply runs, and under forward or
reverse mode it is not traced: `fwd` runs on the arguments' primal values (concrete
ones, outside `jit`), and a call whose arguments the transformation does not trace goes
to the enclosing one (`call_in_parent`). Otherwise (under `jit` or `vmap`)
`custom_vjp_call_p` carries the staged function (for evaluation, lowering, batching)
and the user's `fwd`/`bwd`. Its JVP rule runs `fwd` on the primals and applies
`custom_lin_p` to the tangents: a linear primitive whose transpose calls `bwd`. Under
`grad`/`vjp` the tangents are unknown, so `custom_lin_p` is staged into the linear
program and transposition calls `bwd` (as JAX does). When `custom_lin_p` is evaluated
forwards (`jvp`, `jacfwd`, `hessian`), it transposes `bwd`, which is linear in the
cotangent: the transpose of `ct -> J^T ct` is `t -> J t`. JAX cannot do this
(jax-ml/jax#16049, #3996).
"""
import functools

import numpy as np
from jax import tree_util

from . import _ad, _core, _dtypes
from ._ad import JVPTrace, Zero, instantiate, tangent_aval
from ._batching import batch_program, move_batch_axis, vmap_traced
from ._core import Primitive, get_aval, set_current_trace
from ._custom import (resolve_args, stage_call, cacheable,
                      float0_tangent_placeholder, _name, call_in_parent, STAGE,
                      traces_an_argument, split_nondiff)
from ._jit import jit_p, define_program_call
from ._staging import trace_to_program
from ._traceback_util import api_boundary
from .lax import convert_element_type


class custom_vjp:
    """A function with a user-defined VJP: `f.defvjp(fwd, bwd)` where
    `fwd(*args) -> (out, residuals)` and `bwd(residuals, g) -> tuple` with one
    cotangent per argument (None for a zero cotangent). With `nondiff_argnums`, `bwd`
    receives those arguments first: `bwd(*nondiff, residuals, g)`.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> @fl.custom_vjp
    ... def f(x):
    ...     return jnp.sin(x)
    >>> f.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda cos_x, g: (2.0 * cos_x * g,))
    >>> round(float(fl.grad(f)(0.0)), 3), round(float(fl.jvp(f, (0.0,), (1.0,))[1]), 3)
    (2.0, 2.0)

    Forward mode (`jvp`, `jacfwd`, `hessian`) works by transposing `bwd`, which must
    then be linear in `g` and built from differentiable primitives.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.__name__ = _name(fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None
        self._cache = {}

    def defvjp(self, fwd, bwd, symbolic_zeros=False, optimize_remat=False):
        """Set the forward rule and the backward rule."""
        if symbolic_zeros:
            raise NotImplementedError("custom_vjp with symbolic_zeros=True is not supported")
        self.fwd, self.bwd = fwd, bwd
        self._cache.clear()

    def __get__(self, instance, owner):
        return self if instance is None else functools.partial(self, instance)

    @api_boundary
    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {self.__name__} "
                                 f"using defvjp.")
        args = resolve_args(self.fun, args, kwargs)
        trace = _core.current_trace()
        if trace is _core.eval_trace:
            return self.fun(*args)
        out = call_in_parent(self, trace, args)
        if out is not STAGE:
            return out
        if isinstance(trace, JVPTrace) and traces_an_argument(trace, args):
            return self._fwd_on_values(trace, args)
        leaves, program, consts, out_tree, rules = stage_call(
            self, args, "custom_vjp",
            lambda nondiff, merge, in_tree, avals, out_tree, program: _FlatRules(
                self, nondiff, merge, in_tree, avals, out_tree, program.out_avals))
        outs = custom_vjp_call_p.bind(*consts, *leaves, program=program, fwd=rules.fwd,
                                      bwd=rules.bwd,
                                      num_consts=len(consts), name=self.__name__)
        return tree_util.tree_unflatten(out_tree, outs)

    def _fwd_on_values(self, trace, args):
        """Forward mode as in JAX: `fwd` runs in the enclosing transformation on the
        arguments' primal values; the function itself is not traced."""
        nondiff, diff, merge = split_nondiff(args, self.nondiff_argnums)
        leaves, in_tree = tree_util.tree_flatten(diff)
        primals, tangents = zip(*map(trace.lift, leaves)) if leaves else ((), ())
        rules = _FlatRules(self, nondiff, merge, in_tree, [get_aval(p) for p in primals],
                           None, None)
        try:
            with _core.watching(trace), set_current_trace(trace.parent):
                outs, touts = jvp_by_fwd(list(primals), list(tangents), rules.fwd,
                                         rules.bwd, None, self.__name__)
        except _core.TracerOfWatchedTrace as e:
            if e.trace is not trace:
                raise
            raise _closure_error(self.__name__) from None
        return tree_util.tree_unflatten(rules.out_tree, [trace.wrap(p, t)
                                                         for p, t in zip(outs, touts)])


class _FlatRule:
    """A callable param (hashable by identity, printed by name) with a cache."""

    def __init__(self, fn, name):
        self.fn, self.__name__, self.cache = fn, name, {}

    def __call__(self, *args):
        return self.fn(*args)


class _FlatRules:
    """The user's fwd and bwd over flat leaves, with checks of what they return.

    fwd(primals) -> (outs, residuals); bwd(residuals, cts) -> cotangents of the
    floating-point argument leaves (cts has one entry per output leaf). Without the
    function's output types (it was not traced), fwd's first output gives them."""

    def __init__(self, f, nondiff, merge, in_tree, in_avals, out_tree, out_avals):
        self.f, self.nondiff, self.merge = f, nondiff, merge
        self.in_tree, self.in_avals = in_tree, in_avals
        self.out_tree, self.out_avals = out_tree, out_avals
        self.res_tree = None
        self.fwd = _FlatRule(self._fwd, _name(f.fwd))
        self.bwd = _FlatRule(self._bwd, _name(f.bwd))

    def _fwd(self, primals):
        args = self.merge(tree_util.tree_unflatten(self.in_tree, primals))
        result = self.f.fwd(*args)
        where = f"Custom VJP fwd rule {_name(self.f.fwd)} for function {self.f.__name__}"
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError(f"{where} must produce a pair (list or tuple of length two) "
                            f"where the first element represents the primal output and "
                            f"the second the residuals, got {result!r:.200}")
        out_leaves, tree = tree_util.tree_flatten(result[0])
        if self.out_tree is None:
            self.out_tree, self.out_avals = tree, [get_aval(o) for o in out_leaves]
        if tree != self.out_tree:
            raise TypeError(f"{where} must produce a primal output with the container "
                            f"(pytree) structure of the function's output: expected "
                            f"{self.out_tree}, got {tree}")
        for o, aval in zip(out_leaves, self.out_avals):
            o_aval = get_aval(o)
            if o_aval.shape != aval.shape or o_aval.dtype != aval.dtype:
                raise TypeError(f"{where} must produce primal outputs with the shapes and "
                                f"dtypes of the function's outputs: expected "
                                f"{aval.str_short()}, got {o_aval.str_short()}")
        res_leaves, self.res_tree = tree_util.tree_flatten(result[1])
        return out_leaves, res_leaves

    def _bwd(self, res_leaves, ct_leaves):
        res = tree_util.tree_unflatten(self.res_tree, res_leaves)
        ct = tree_util.tree_unflatten(self.out_tree, ct_leaves)
        cts = self.f.bwd(*self.nondiff, res, ct)
        diff_args = tree_util.tree_unflatten(self.in_tree, [None] * self.in_tree.num_leaves)
        where = f"Custom VJP bwd rule {_name(self.f.bwd)} for function {self.f.__name__}"
        if not isinstance(cts, (tuple, list)) or len(cts) != len(diff_args):
            raise TypeError(f"{where} must produce a tuple with one cotangent per "
                            f"differentiable argument ({len(diff_args)}), got "
                            f"{cts!r:.200}")
        arg_trees = tree_util.tree_unflatten(
            self.in_tree, list(range(self.in_tree.num_leaves)))
        out = []
        for i, (ct_i, arg_i) in enumerate(zip(cts, arg_trees)):
            arg_tree = tree_util.tree_structure(arg_i)
            if ct_i is None:
                out.extend([None] * arg_tree.num_leaves)
                continue
            try:
                out.extend(arg_tree.flatten_up_to(ct_i))
            except (ValueError, TypeError):
                raise TypeError(f"{where}: cotangent {i} has structure "
                                f"{tree_util.tree_structure(ct_i)}, but the argument has "
                                f"{arg_tree}") from None
        result = []
        for ct_leaf, aval in zip(out, self.in_avals):
            if not _dtypes.is_inexact(aval.dtype):
                continue
            if ct_leaf is None:
                result.append(_ad.zeros_like_aval(aval))
                continue
            c_aval = get_aval(ct_leaf)
            if c_aval.shape != aval.shape:
                raise ValueError(f"{where} produced a cotangent of shape "
                                 f"{c_aval.str_short()} for an argument of shape "
                                 f"{aval.str_short()}")
            if isinstance(ct_leaf, (bool, int, float, complex)):
                ct_leaf = np.asarray(ct_leaf, aval.dtype)
            elif c_aval.dtype != aval.dtype:
                ct_leaf = convert_element_type(ct_leaf, aval.dtype)
            result.append(ct_leaf)
        return result


def _float_out(aval):
    return _dtypes.is_inexact(aval.dtype)


def _closure_error(name):
    return TypeError(
        f"custom_vjp function {name} closes over a value that is being differentiated "
        f"(a traced array of an enclosing transformation). Its fwd/bwd rules cannot see "
        f"that dependence. Fix: pass the value as an explicit argument of the function.")


# --- custom_vjp_call_p: the call ----------------------------------------------------

custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.accepts_keys = True  # typed PRNG keys pass through


define_program_call(custom_vjp_call_p)


@custom_vjp_call_p.def_jvp
def _custom_vjp_call_jvp(primals, tangents, *, program, fwd, bwd, num_consts, name):
    if any(not isinstance(t, Zero) for t in tangents[:num_consts]):
        raise _closure_error(name)
    return jvp_by_fwd(primals[num_consts:], tangents[num_consts:], fwd, bwd,
                      tuple(program.out_avals), name)


def jvp_by_fwd(args, tangents, fwd, bwd, out_avals, name):
    """Outputs and tangents: `fwd` on the primals, and `custom_lin_p` (whose transpose
    is `bwd`) on the tangents. `out_avals`: the function's output types (None: those of
    fwd's outputs)."""
    outs, res = fwd(list(args))
    if out_avals is None:
        out_avals = tuple(get_aval(o) for o in outs)
    lin_in = [instantiate(t) for t, a in zip(tangents, args)
              if _dtypes.is_inexact(get_aval(a).dtype)]
    float_touts = []
    if any(map(_float_out, out_avals)):
        float_touts = custom_lin_p.bind(*res, *lin_in, bwd=bwd, num_res=len(res),
                                        out_avals=out_avals, name=name)
    it = iter(float_touts)
    return outs, [next(it) if _float_out(a) else Zero(tangent_aval(a)) for a in out_avals]


@custom_vjp_call_p.def_transpose
def _custom_vjp_call_transpose(cts, *args, program, fwd, bwd, num_consts, name):
    """Used on a linear path (e.g. a custom_vjp solver inside another bwd rule that is
    transposed for forward mode), the function is linear in its undefined inputs, so
    its transpose is its VJP at zero: bwd(residuals of fwd(zeros), ct)."""
    if any(_ad.is_undefined(c) for c in args[:num_consts]):
        raise _closure_error(name)
    xs = args[num_consts:]
    _, res = fwd([_ad.zeros_like_aval(x.aval) if _ad.is_undefined(x) else x for x in xs])
    float_cts = iter(bwd(list(res), _full_cotangents(
        [c for c, a in zip(cts, program.out_avals) if _float_out(a)], program.out_avals)))
    out = [None] * num_consts
    for x in xs:
        is_float = _dtypes.is_inexact((x.aval if _ad.is_undefined(x) else get_aval(x)).dtype)
        ct = next(float_cts) if is_float else None
        out.append(ct if _ad.is_undefined(x) else None)
    return out


def _custom_vjp_call_batching(axis_data, vals, dims, *, program, fwd, bwd, num_consts,
                              name):
    size, axis_name = axis_data.size, axis_data.name
    args = [move_batch_axis(size, v, d, 0) for v, d in zip(vals[num_consts:],
                                                            dims[num_consts:])]
    in_dims = [*dims[:num_consts], *[0] * len(args)]
    new_program, _ = batch_program(program, in_dims, size, axis_name,
                                   [True] * len(program.outs))
    num_outs = len(program.outs)

    def batched_fwd(primals):
        def per_example(*xs):
            outs, res = fwd(list(xs))
            return [*outs, *res]
        outs = vmap_traced(per_example, list(primals), [0] * len(primals), size, axis_name)
        return outs[:num_outs], outs[num_outs:]
    outs = custom_vjp_call_p.bind(
        *vals[:num_consts], *args, program=new_program,
        fwd=_FlatRule(batched_fwd, f"vmap_{fwd.__name__}"),
        bwd=_batched_bwd(bwd, None, size, axis_name), num_consts=num_consts, name=name)
    return outs, [0] * len(outs)


custom_vjp_call_p.batching_rule = _custom_vjp_call_batching


def _batched_bwd(bwd, res_dims, axis_size, axis_name):
    """`bwd` vmapped: residuals batched at `res_dims` (None: all at 0), cotangents and
    results at 0 (float0 cotangents of integer outputs stay unbatched)."""
    def batched(res, cts):
        r_dims = [0] * len(res) if res_dims is None else list(res_dims)
        cs, c_dims = [], []
        for c in cts:
            aval = get_aval(c)
            if aval.dtype == _dtypes.float0:
                cs.append(float0_tangent_placeholder(aval, batched=True))
                c_dims.append(None)
            else:
                cs.append(c)
                c_dims.append(0)
        n = len(res)
        return vmap_traced(lambda *xs: bwd(list(xs[:n]), list(xs[n:])), [*res, *cs],
                           r_dims + c_dims, axis_size, axis_name)
    return _FlatRule(batched, f"vmap_{bwd.__name__}")


# --- custom_lin_p: the linear map whose transpose is bwd ----------------------------

custom_lin_p = Primitive("custom_lin", multiple_results=True)


@custom_lin_p.def_abstract_eval
def _custom_lin_abstract_eval(*avals, bwd, num_res, out_avals, name):
    return [tangent_aval(a) for a in out_avals if _float_out(a)]


def _full_cotangents(float_cts, out_avals):
    """One cotangent per output: arrays for floating outputs, float0 for the others."""
    it, full = iter(float_cts), []
    for a in out_avals:
        full.append(instantiate(next(it)) if _float_out(a) else
                    float0_tangent_placeholder(a, batched=False))
    return full


@custom_lin_p.def_transpose
def _custom_lin_transpose(cts, *args, bwd, num_res, out_avals, name):
    res = args[:num_res]
    if any(_ad.is_undefined(r) for r in res):
        raise TypeError(f"custom_vjp {name}: residuals must not depend linearly on the "
                        f"differentiated inputs")
    return [None] * num_res + list(bwd(list(res), _full_cotangents(cts, out_avals)))


def _bwd_program(bwd, res_avals, out_avals):
    """bwd staged as a Program (consts, residuals, float cotangents) -> cotangents."""
    key = ("program", tuple(res_avals), tuple(out_avals))
    entry = bwd.cache.get(key)
    if entry is None:
        n = len(res_avals)
        ct_avals = [tangent_aval(a) for a in out_avals if _float_out(a)]
        program, consts = trace_to_program(
            lambda *xs: bwd(list(xs[:n]), _full_cotangents(xs[n:], out_avals)),
            [*res_avals, *ct_avals], "custom_vjp_bwd")
        entry = (program, consts)
        if cacheable(consts):
            bwd.cache[key] = entry
    return entry


def apply_transposed_bwd(args, *, bwd, num_res, out_avals, name):
    """custom_lin_p evaluated forwards: the transpose of `ct -> bwd(res, ct)` at the
    tangents (forward mode of a custom_vjp function)."""
    res, tangents = args[:num_res], args[num_res:]
    program, consts = _bwd_program(bwd, [get_aval(r) for r in res], out_avals)
    undefined = [_ad.UndefinedPrimal(tangent_aval(a)) for a in out_avals if _float_out(a)]
    try:
        cts = _ad.backward_pass(program, [*consts, *res, *undefined], list(tangents))
    except _core.MissingRuleError as e:
        raise TypeError(f"Forward-mode differentiation of the custom_vjp function {name} "
                        f"transposes its bwd rule, which must be linear in the cotangent "
                        f"and built from transposable operations: {e}") from e
    return [instantiate(c) for c in cts]


def _lin_program(params, avals):
    """custom_lin_p's forward computation staged: (program, consts)."""
    bwd = params["bwd"]
    key = ("forward", tuple(avals), params["out_avals"])
    entry = bwd.cache.get(key)
    if entry is None:
        entry = trace_to_program(lambda *xs: apply_transposed_bwd(xs, **params), avals,
                                 f"custom_lin({params['name']})")
        if cacheable(entry[1]):
            bwd.cache[key] = entry
    return entry


@custom_lin_p.def_impl
def _custom_lin_impl(*args, **params):
    program, consts = _lin_program(params, [get_aval(a) for a in args])
    return jit_p.bind(*consts, *args, program=program, name=f"custom_lin_{params['name']}")


@custom_lin_p.def_lowering
def _custom_lin_lowering(ctx, *args, **params):
    program, consts = _lin_program(params, ctx.avals_in)
    const_names = [ctx.constant(np.asarray(c), get_aval(c).dtype, get_aval(c).shape)
                   for c in consts]
    return ctx.call(program, [*const_names, *args], hint=f"custom_lin_{params['name']}")


@custom_lin_p.def_jvp
def _custom_lin_jvp(primals, tangents, **params):
    return _ad.jvp_traced(lambda *xs: apply_transposed_bwd(xs, **params), primals, tangents)


def _custom_lin_batching(axis_data, vals, dims, *, bwd, num_res, out_avals, name):
    size, axis_name = axis_data.size, axis_data.name
    tangents = [move_batch_axis(size, v, d, 0) for v, d in zip(vals[num_res:],
                                                                dims[num_res:])]
    batched_avals = tuple(a.update(shape=(size, *a.shape)) for a in out_avals)
    outs = custom_lin_p.bind(*vals[:num_res], *tangents,
                             bwd=_batched_bwd(bwd, dims[:num_res], size, axis_name),
                             num_res=num_res, out_avals=batched_avals, name=name)
    return outs, [0] * len(outs)


custom_lin_p.batching_rule = _custom_lin_batching
