"""`interop.to_jax(f)`: one of our functions as a JAX function.

`f` is traced by OUR tracer into a Program (once per input types and pytree
structure); the Program is then evaluated with JAX, equation by equation, through the
`jax.lax` calls of `_to_jax_rules`. What JAX sees is therefore ordinary `jax.lax` code,
which every JAX transformation (jit, grad, vmap, jvp, scan, checkpoint, export)
accepts. Programs inside equations are translated the same way: cond, while and scan
become `lax.switch`, `lax.while_loop` and `lax.scan`; jit calls are inlined;
checkpoint becomes `jax.checkpoint`; custom_jvp/custom_vjp calls become
`jax.custom_jvp`/`jax.custom_vjp` whose rules are our rules, traced into programs and
translated. An equation without a translation raises NotImplementedError naming it.
"""
import functools

import numpy as np
import jax
from jax import lax, tree_util
import jax.numpy as jnp

from ._config import config
from ._dispatch import LRUCache
from ._core import ShapedArray, UnexpectedTracerError, get_aval
from ._ad import instantiate
from ._ir import Literal
from ._staging import trace_to_program
from ._to_jax_rules import PRIMITIVE_RULES, RULES

_PROGRAM_RULES = {}  # primitive name -> rule(args, **params) for programs in params


def translates(name):
    """Whether our primitive `name` has a translation to jax.lax."""
    return name in RULES or name in _PROGRAM_RULES or name in PRIMITIVE_RULES


def to_jax(fun):
    """`fun` (a function written with functorch_lite) as a function that JAX's
    transformations accept: `jax.jit(jax.grad(to_jax(loss)))` computes what
    `fl.jit(fl.grad(loss))` does, with JAX.

    `fun` is traced with functorch_lite once per argument types and pytree structure
    (arguments are pytrees of arrays); its program is then evaluated with `jax.lax`.

    >>> import jax, functorch_lite as fl, functorch_lite.numpy as fnp
    >>> f = fl.interop.to_jax(lambda x: fnp.sum(fnp.sin(x) ** 2))
    >>> print(round(float(jax.grad(f)(1.0)), 5))  # d sin(x)**2 = sin(2x)
    0.9093
    """
    cache = LRUCache()  # per argument signature, bounded as jit's

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        avals = tuple(_aval(x) for x in leaves)
        key = (in_tree, avals, config.jax_enable_x64)  # x64 changes what we trace
        entry = cache.get(key)
        if entry is None:
            entry = _trace(fun, in_tree, avals)
            cache.put(key, entry)
        program, consts, out_tree = entry
        outs = eval_program(program, [*consts, *leaves])
        return tree_util.tree_unflatten(out_tree, outs)
    wrapped._traces = cache
    return wrapped


def _aval(x):
    aval = getattr(x, "aval", None)  # jax.Array or a JAX tracer
    if aval is not None:
        return ShapedArray(aval.shape, aval.dtype, getattr(aval, "weak_type", False))
    return get_aval(x)


def _trace(fun, in_tree, avals):
    out_trees = []

    def flat_fun(*flat):
        args, kwargs = tree_util.tree_unflatten(in_tree, flat)
        out_leaves, out_tree = tree_util.tree_flatten(fun(*args, **kwargs))
        out_trees.append(out_tree)
        return out_leaves
    program, consts = trace_ours(flat_fun, list(avals), "to_jax")
    _check_precision(program, fun)
    return program, consts, out_trees[0]


def trace_ours(fun, avals, description):
    """Trace with our tracer while JAX may be tracing (jax.jit of the result): JAX
    arithmetic on our concrete arrays (a closed-over jax.Array + 1.0) must compute
    values, not become JAX tracers of the enclosing JAX trace."""
    with jax.ensure_compile_time_eval():
        return trace_to_program(fun, avals, description)


def _check_precision(program, fun):
    """64-bit values (functorch_lite's x64 mode) need JAX's x64 mode: without it JAX
    would compute them in 32 bits."""
    if jax.enable_x64.value:
        return
    avals = [*program.in_avals, *[v.aval for e in program.equations for v in e.outputs]]
    wide = [a for a in avals if isinstance(a.dtype, np.dtype) and a.dtype.kind in "fiuc"
            and a.dtype.itemsize == (16 if a.dtype.kind == "c" else 8)]
    if wide:
        raise TypeError(
            f"interop.to_jax({getattr(fun, '__name__', fun)}): the function computes "
            f"{wide[0].str_short()} values (functorch_lite's x64 mode), but JAX's "
            f"jax_enable_x64 is off, so JAX would compute them in 32 bits. Fix: "
            f"jax.config.update('jax_enable_x64', True), or turn functorch_lite's x64 "
            f"mode off.")


def eval_program(program, args):
    """Evaluate our Program on JAX values (arrays or JAX tracers) with jax.lax."""
    env = {}

    def read(atom):
        if isinstance(atom, Literal):
            return np.asarray(atom.val, atom.aval.dtype)  # concrete for JAX, even in jit
        return env[atom]

    for v, x in zip(program.in_vars, args):
        env[v] = x
    for eqn in program.equations:
        outs = translate(eqn.primitive, [read(a) for a in eqn.inputs], eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        for v, x in zip(eqn.outputs, outs):
            env[v] = x
    return [read(a) for a in program.outs]


def translate(primitive, args, params):
    if primitive.name in PRIMITIVE_RULES:
        return PRIMITIVE_RULES[primitive.name](primitive, args, **params)
    rule = RULES.get(primitive.name) or _PROGRAM_RULES.get(primitive.name)
    if rule is None:
        raise NotImplementedError(
            f"interop.to_jax: our primitive '{primitive.name}' has no jax.lax "
            f"translation, so this function cannot run inside JAX. Fix: call it with "
            f"functorch_lite's own transformations, or open an issue naming "
            f"'{primitive.name}'.")
    return rule(args, **params)


def _program_rule(name):
    def register(fn):
        _PROGRAM_RULES[name] = fn
        return fn
    return register


def _run(program):
    return lambda *xs: eval_program(program, xs)


@_program_rule("jit")
def _jit(args, *, program, name, donated=()):
    return eval_program(program, args)


_program_rule("composite")(lambda args, *, program, **_: eval_program(program, args))


@_program_rule("checkpoint")
def _checkpoint(args, *, program, prevent_cse, policy, differentiated, name):
    if policy is not None:
        jax_policy = getattr(jax.checkpoint_policies, getattr(policy, "__name__", ""), None)
        if jax_policy is None:
            raise NotImplementedError(
                f"interop.to_jax: checkpoint policy {policy!r} has no JAX counterpart of "
                f"the same name in jax.checkpoint_policies")
        policy = jax_policy
    return jax.checkpoint(_run(program), prevent_cse=prevent_cse, policy=policy)(*args)


@_program_rule("cond")
def _cond(args, *, branches):
    index, operands = args[0], args[1:]
    return lax.switch(index, [_run(b) for b in branches], *operands)


@_program_rule("while")
def _while(args, *, cond_program, body_program, cond_nconsts, body_nconsts):
    cond_consts = args[:cond_nconsts]
    body_consts = args[cond_nconsts:cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts:])
    return lax.while_loop(
        lambda c: eval_program(cond_program, [*cond_consts, *c])[0],
        lambda c: eval_program(body_program, [*body_consts, *c]), carry)


@_program_rule("scan")
def _scan(args, *, program, length, reverse, num_consts, num_carry, unroll):
    consts, carry = args[:num_consts], list(args[num_consts:num_consts + num_carry])
    xs = list(args[num_consts + num_carry:])

    def body(c, x):
        outs = eval_program(program, [*consts, *c, *x])
        return outs[:num_carry], outs[num_carry:]
    carry, ys = lax.scan(body, carry, xs, length=length, reverse=reverse,
                         unroll=unroll)
    return [*carry, *ys]


# --- custom rules: our rules, traced into programs and translated -------------------

def _avals_of(values):
    return [_aval(v) for v in values]


@_program_rule("custom_jvp_call")
def _custom_jvp_call(args, *, program, jvp, num_consts, name):
    consts = args[:num_consts]
    n = len(args) - num_consts
    out_avals = program.out_avals
    inexact = [jnp.issubdtype(a.dtype, jnp.inexact) for a in out_avals]

    @jax.custom_jvp
    def call(*xs):
        return eval_program(program, [*consts, *xs])

    @call.defjvp
    def call_jvp(primals, tangents):
        rule_program, rule_consts = _trace_rule(
            lambda *pt: _flat_jvp_outputs(jvp, pt[:n], pt[n:]),
            _avals_of(primals) + _avals_of(tangents), "custom_jvp", name)
        outs = eval_program(rule_program, [*rule_consts, *primals, *tangents])
        primal_outs, float_touts = outs[:len(out_avals)], iter(outs[len(out_avals):])
        touts = [next(float_touts) if f else _float0_zeros(p)
                 for p, f in zip(primal_outs, inexact)]
        return primal_outs, touts
    return call(*args[num_consts:])


def _trace_rule(flat_rule, avals, kind, name):
    """Our rule as a program, traced when JAX applies it (after to_jax's own trace
    finished: a rule that closes over a traced value of the function cannot be)."""
    try:
        return trace_ours(flat_rule, avals, f"to_jax {kind} rule of {name}")
    except UnexpectedTracerError:
        raise NotImplementedError(
            f"interop.to_jax: the {kind} rules of {name} close over a value traced by "
            f"to_jax (an argument of the function, or a value computed from one), which "
            f"JAX applies only after that trace ended. Fix: pass the value to {name} as "
            f"an explicit argument.") from None


def _flat_jvp_outputs(rule, primals, tangents):
    outs, float_touts = rule(list(primals), list(tangents))
    return [*outs, *float_touts]


def _float0_zeros(x):
    return np.zeros(np.shape(x), jax.dtypes.float0)


@_program_rule("custom_vjp_call")
def _custom_vjp_call(args, *, program, fwd, bwd, num_consts, name):
    """Values the function closes over (the first `num_consts` args) are arguments of
    the JAX custom_vjp; their cotangents come from differentiating the function itself
    with respect to them (the rule gives only the arguments')."""
    n_out = len(program.outs)

    @jax.custom_vjp
    def call(consts, xs):
        return eval_program(program, [*consts, *xs])

    def call_fwd(consts, xs):
        fwd_program, fwd_consts = _trace_rule(
            lambda *p: _flat_fwd_outputs(fwd, p), _avals_of(xs), "custom_vjp", name)
        outs = eval_program(fwd_program, [*fwd_consts, *xs])
        return outs[:n_out], (consts, xs, outs[n_out:])

    def call_bwd(saved, cts):
        consts, xs, res = saved
        float_cts = [ct for ct, a in zip(cts, program.out_avals)
                     if jnp.issubdtype(a.dtype, jnp.inexact)]
        bwd_program, bwd_consts = _trace_rule(
            lambda *rc: list(bwd(list(rc[:len(res)]), _full_cts(rc[len(res):], program))),
            _avals_of(res) + _avals_of(float_cts), "custom_vjp", name)
        float_x_cts = iter(eval_program(bwd_program, [*bwd_consts, *res, *float_cts]))
        x_cts = [next(float_x_cts) if jnp.issubdtype(x.dtype, jnp.inexact)
                 else _float0_zeros(x) for x in xs]
        const_cts = [_float0_zeros(c) for c in consts]
        floats = [i for i, c in enumerate(consts) if jnp.issubdtype(c.dtype, jnp.inexact)]
        if floats:
            def of_float_consts(*fs):
                cs = list(consts)
                for i, f in zip(floats, fs):
                    cs[i] = f
                return eval_program(program, [*cs, *xs])
            _, const_vjp = jax.vjp(of_float_consts, *[consts[i] for i in floats])
            for i, ct in zip(floats, const_vjp(list(cts))):
                const_cts[i] = ct
        return const_cts, x_cts

    call.defvjp(call_fwd, call_bwd)
    return call(list(args[:num_consts]), list(args[num_consts:]))


def _flat_fwd_outputs(fwd, primals):
    outs, res = fwd(list(primals))
    return [*outs, *res]


def _full_cts(float_cts, program):
    """bwd takes one cotangent per output (float0 zeros for integer outputs)."""
    it = iter(float_cts)
    return [instantiate(next(it)) if jnp.issubdtype(a.dtype, jnp.inexact) else
            np.zeros(a.shape, jax.dtypes.float0) for a in program.out_avals]


# --- general reductions: the computation is one of our programs ----------------------

@_program_rule("reduce")
def _reduce(args, *, computation, dimensions):
    n = len(args) // 2
    return list(lax.reduce(tuple(args[:n]), tuple(args[n:]), _pairwise(computation, n),
                           dimensions))


@_program_rule("reduce_window")
def _reduce_window(args, *, program, window_dimensions, window_strides, padding,
                   base_dilation, window_dilation):
    n = len(args) // 2
    return list(lax.reduce_window(tuple(args[:n]), tuple(args[n:]), _pairwise(program, n),
                                  window_dimensions, window_strides, padding,
                                  base_dilation, window_dilation))


def _pairwise(program, n):
    return lambda a, b: tuple(eval_program(program, [*a, *b]))


# JAX functions embedded with interop.call_jax (or from_jax) are JAX code already
_program_rule("jax_call")(lambda args, *, function: list(function.flat_fun(*args)))


@_program_rule("custom_linear_solve")
def _custom_linear_solve(args, *, const_lengths, programs):
    """JAX's custom_linear_solve over our traced matvec, solve and transpose_solve
    (JAX derives vecmat by transposing the translated matvec)."""
    consts, offset = {}, 0
    for name, count in zip(programs._fields, const_lengths):
        consts[name], offset = list(args[offset:offset + count]), offset + count
    b = list(args[offset:])
    n = len(b)
    has_aux = len(programs.solve.outs) > n

    def apply(name):
        def fn(_, x):  # our programs were traced with our matvec: the first arg is unused
            outs = eval_program(getattr(programs, name), [*consts[name], *x])
            return (outs[:n], outs[n:]) if has_aux else outs
        return fn
    matvec = lambda x: eval_program(programs.matvec, [*consts["matvec"], *x])  # noqa: E731
    transpose_solve = None if programs.transpose_solve is None else apply("transpose_solve")
    out = lax.custom_linear_solve(matvec, b, apply("solve"), transpose_solve,
                                  has_aux=has_aux)
    return [*out[0], *out[1]] if has_aux else list(out)


_SAMPLERS = {}  # (avals, log_space) -> our gamma sampler's program and constants


def _random_gamma(primitive, args, *, log_space):
    """Our sampler (the program our lowering compiles: the same bits), with our
    derivative in `a` (implicit reparametrisation, lax.random_gamma_grad)."""
    avals = tuple(_avals_of(args))
    if (avals, log_space) not in _SAMPLERS:
        sampler = primitive.lowering_rule.composite
        _SAMPLERS[avals, log_space] = trace_ours(
            lambda k, a: [sampler(k, a, log_space=log_space)], list(avals),
            "to_jax random_gamma")
    program, consts = _SAMPLERS[avals, log_space]

    @jax.custom_jvp
    def sample(key, a):
        return eval_program(program, [*consts, key, a])[0]

    @sample.defjvp
    def sample_jvp(primals, tangents):
        (key, a), (_, a_dot) = primals, tangents
        x = sample(key, a)
        if not log_space:
            return x, a_dot * lax.random_gamma_grad(a, x)
        e = jnp.exp(x)  # d log(x)/da = (dx/da) / x, x kept above zero
        e = jnp.where(e == 0, jnp.finfo(e.dtype).tiny, e)
        return x, a_dot * lax.random_gamma_grad(a, e) / e
    return sample(*args)


PRIMITIVE_RULES["random_gamma"] = _random_gamma
