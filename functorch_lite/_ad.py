"""Forward mode (JVP) and transposition: the two halves reverse mode is built from.

Tangents and cotangents that are known to be zero are `Zero(aval)` and are never
materialised unless an operation needs their value (`instantiate`).
"""
from . import _core, _dtypes
from ._core import Tracer, ShapedArray, get_aval, new_trace, set_current_trace
from ._named_scope import extended_name_stack, transposed_name_stack
from ._ir import eval_program, memo, Literal
from ._runtime import float0_zeros
from ._staging import trace_closed


class Zero:
    """A symbolic zero tangent/cotangent of type `aval`."""
    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


def tangent_aval(aval):
    return ShapedArray(aval.shape, _dtypes.tangent_dtype(aval.dtype), aval.weak_type)


# The two array operations tangent arithmetic needs (a zero of a type, the sum of two
# tangents) are lax primitives; lax, a higher layer, registers them here at import.
_tangent_ops = {}


def register_tangent_ops(*, full, add_any):
    _tangent_ops.update(full=full, add_any=add_any)


def zeros_like_aval(aval):
    if aval.dtype == _dtypes.float0:
        return float0_zeros(aval.shape)
    return _tangent_ops["full"](aval.shape, 0, aval.dtype, weak_type=aval.weak_type)


def instantiate(t):
    return zeros_like_aval(t.aval) if isinstance(t, Zero) else t


def add_tangents(a, b):
    if isinstance(a, Zero):
        return b
    if isinstance(b, Zero):
        return a
    return _tangent_ops["add_any"](a, b)


# --- the JVP trace ----------------------------------------------------------------

class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return get_aval(self.primal)

    def concrete_value(self):
        # forward mode keeps concrete primals: Python control flow on them is fine
        p = self.primal
        return p.concrete_value() if isinstance(p, Tracer) else p


class JVPTrace(_core.Trace):
    why_abstract = "it carries a derivative, which a Python or NumPy value would drop"

    def __init__(self, parent, description="jvp"):
        super().__init__()
        self.parent = parent
        self.description = description

    def lift(self, x):
        if isinstance(x, JVPTracer) and x._trace is self:
            return x.primal, x.tangent
        if isinstance(x, Tracer):
            _core.check_tracer_alive(x)
        return x, Zero(tangent_aval(get_aval(x)))

    def process_primitive(self, primitive, args, params):
        primals, tangents = zip(*map(self.lift, args)) if args else ((), ())
        with set_current_trace(self.parent):
            if all(isinstance(t, Zero) for t in tangents):
                return primitive.bind(*primals, **params)
            rule = primitive.jvp_rule
            if rule is None:
                raise _core.MissingRuleError(
                    f"no JVP rule for '{primitive.name}': it cannot be differentiated")
            if getattr(rule, "needs_trace", False):  # runs user code under this trace
                out, out_tangent = rule(self, list(primals), list(tangents), **params)
            else:
                out, out_tangent = rule(list(primals), list(tangents), **params)
        if primitive.multiple_results:
            return [self.wrap(p, t) for p, t in zip(out, out_tangent)]
        return self.wrap(out, out_tangent)

    def wrap(self, primal, tangent):
        if isinstance(tangent, Zero):
            return primal
        return JVPTracer(self, primal, tangent)


def jvp_traced(fun, primals, tangents, description="jvp"):
    """Run `fun` on JVP tracers; returns (primal outs, tangent outs or Zero)."""
    trace = JVPTrace(_core.current_trace(), description)
    with new_trace(trace):
        ins = [trace.wrap(p, t) for p, t in zip(primals, tangents)]
        outs = fun(*ins)
        lifted = [trace.lift(o) for o in outs]
    return [p for p, _ in lifted], [t for _, t in lifted]


# --- rule helpers -----------------------------------------------------------------

def defjvp(primitive, *tangent_fns):
    """JVP from one function per argument: `fn(g, ans, *primals, **params)` gives the
    output tangent contributed by tangent `g` of that argument (None: not
    differentiable). Zero tangents are skipped."""
    def jvp_rule(primals, tangents, **params):
        ans = primitive.bind(*primals, **params)
        out = Zero(tangent_aval(get_aval(ans)))
        for fn, t in zip(tangent_fns, tangents):
            if fn is not None and not isinstance(t, Zero):
                out = add_tangents(out, fn(t, ans, *primals, **params))
        return ans, out
    primitive.jvp_rule = jvp_rule
    return jvp_rule


def deflinear(primitive, transpose_rule):
    """A primitive linear in all its arguments: its JVP applies it to the tangents."""
    def jvp_rule(primals, tangents, **params):
        ans = primitive.bind(*primals, **params)
        return ans, primitive.bind(*map(instantiate, tangents), **params)
    primitive.jvp_rule = jvp_rule
    primitive.transpose_rule = transpose_rule


# --- transposition ----------------------------------------------------------------

class UndefinedPrimal:
    """A linear input whose value is not known, only its type (in transpose rules)."""
    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined(x):
    return isinstance(x, UndefinedPrimal)


def backward_pass(program, args, cotangents):
    """Transpose `program`, linear in the inputs given as UndefinedPrimal.

    Equations that use no linear input are evaluated forwards first (they compute
    values the linear part needs). Returns cotangents (possibly Zero) for every input
    that was an UndefinedPrimal, in order.
    """
    primal_env, linear = {}, set()
    for v, x in zip(program.in_vars, args):
        if is_undefined(x):
            linear.add(v)
        else:
            primal_env[v] = x

    def read_primal(a):
        if isinstance(a, Literal):
            return a.val
        return primal_env[a] if a in primal_env else UndefinedPrimal(a.aval)

    linear_eqns = []
    for eqn in program.equations:
        if any(not isinstance(a, Literal) and a in linear for a in eqn.inputs):
            linear.update(eqn.outputs)
            linear_eqns.append(eqn)
        else:
            outs = eqn.primitive.bind(*map(read_primal, eqn.inputs), **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            primal_env.update(zip(eqn.outputs, outs))

    ct_env = {}

    def add_ct(v, ct):
        if isinstance(ct, Zero) or ct is None or v not in linear:
            return
        ct_env[v] = add_tangents(ct_env[v], ct) if v in ct_env else ct

    for v, ct in zip(program.outs, cotangents):
        if not isinstance(v, Literal):
            add_ct(v, ct)
    for eqn in reversed(linear_eqns):
        cts = [ct_env.pop(v, Zero(tangent_aval(v.aval))) for v in eqn.outputs]
        if all(isinstance(c, Zero) for c in cts):
            continue
        rule = eqn.primitive.transpose_rule
        if rule is None:
            raise _core.MissingRuleError(
                f"no transpose rule for '{eqn.primitive.name}': it was used on a value "
                f"that is linear in the differentiated inputs")
        invals = list(map(read_primal, eqn.inputs))
        with extended_name_stack(transposed_name_stack(eqn.name_stack)):
            cts_in = rule(cts if eqn.primitive.multiple_results else cts[0], *invals,
                          **eqn.params)
        for a, ct in zip(eqn.inputs, cts_in):
            if not isinstance(a, Literal):
                add_ct(a, ct)
    return [ct_env.get(v, Zero(tangent_aval(v.aval)))
            for v, x in zip(program.in_vars, args) if is_undefined(x)]


# --- JVP and transposition of a whole program (jit, control flow, custom rules and
# checkpoint all transform their sub-programs here, memoised on the program) ----------

def jvp_program(program, nonzero_in, instantiate_out=None):
    """Program (primals, tangents where nonzero_in) -> (outs, tangents where
    out_nonzero); returns (program, out_nonzero).

    Without `instantiate_out` (a jitted call) an output has a tangent exactly where it
    may be nonzero. With it (a control-flow body, whose tangent types must be fixed) an
    output has one when it is differentiable (inexact) and its tangent may be nonzero
    or it is in `instantiate_out`."""
    def build():
        n = len(program.in_vars)
        avals = [*program.in_avals, *[tangent_aval(a) for a, nz in
                                      zip(program.in_avals, nonzero_in) if nz]]
        out_nonzero = []

        def fun(*args):
            primals, it = args[:n], iter(args[n:])
            tangents = [next(it) if nz else Zero(tangent_aval(a))
                        for a, nz in zip(program.in_avals, nonzero_in)]
            outs, touts = jvp_traced(lambda *xs: eval_program(program, xs), primals,
                                     tangents)
            if instantiate_out is None:
                out_nonzero.extend(not isinstance(t, Zero) for t in touts)
            else:
                out_nonzero.extend(
                    _dtypes.is_inexact(get_aval(o).dtype) and (inst or not isinstance(t, Zero))
                    for o, t, inst in zip(outs, touts, instantiate_out))
            return [*outs, *[instantiate(t) for t, nz in zip(touts, out_nonzero) if nz]]
        return trace_closed(fun, avals, "jvp"), out_nonzero
    key = tuple(nonzero_in), None if instantiate_out is None else tuple(instantiate_out)
    return memo(program, (jvp_program, *key), build)


def transpose_program(program, linear, nonzero_cts):
    """Program (non-linear inputs, nonzero cotangents) -> cotangents of linear inputs."""
    def build():
        avals = [a for a, lin in zip(program.in_avals, linear) if not lin] + \
                [tangent_aval(a) for a, nz in zip(program.out_avals, nonzero_cts) if nz]
        n_res = sum(1 for lin in linear if not lin)

        def fun(*args):
            res, cts = iter(args[:n_res]), iter(args[n_res:])
            ins = [UndefinedPrimal(a) if lin else next(res)
                   for a, lin in zip(program.in_avals, linear)]
            cts_out = [next(cts) if nz else Zero(tangent_aval(a))
                       for a, nz in zip(program.out_avals, nonzero_cts)]
            return [instantiate(c) for c in backward_pass(program, ins, cts_out)]
        return trace_closed(fun, avals, "transpose")
    return memo(program, (transpose_program, tuple(linear), tuple(nonzero_cts)), build)
