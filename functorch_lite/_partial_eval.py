"""Partial evaluation: split a computation into a known part, evaluated now, and an
unknown part, staged into a Program. `linearize` runs JVP over this trace with known
primals and unknown tangents; the staged program is the linear map, and the known
values it uses are its residuals."""
from . import _core
from ._core import set_current_trace, new_trace
from ._ir import Var, Equation, Program, eval_program, memo
from ._staging import StagingTrace, StagingTracer, close_program
from . import _ad


class PartialEvalTrace(StagingTrace):
    """Known values (anything not one of this trace's tracers) are computed in the
    parent trace; operations touching an unknown value are staged."""

    def __init__(self, parent, description="linearize"):
        super().__init__(description)
        self.parent = parent

    def is_unknown(self, x):
        return isinstance(x, StagingTracer) and x._trace is self

    def process_primitive(self, primitive, args, params):
        if not any(self.is_unknown(x) for x in args):
            with set_current_trace(self.parent):
                return primitive.bind(*args, **params)
        if primitive.partial_eval_rule is not None:
            return primitive.partial_eval_rule(self, list(args), **params)
        return self.stage(primitive, args, params)

    def stage(self, primitive, args, params):
        return StagingTrace.process_primitive(self, primitive, args, params)


def linearize_traced(fun, primals, description="linearize"):
    """Returns (primal outs, linear program, residuals). The program's inputs are the
    residuals followed by one tangent per primal; its outputs are the out tangents.
    `description` names the transformation in error messages (e.g. "grad(loss)")."""
    pe = PartialEvalTrace(_core.current_trace(), description)
    tangent_vars, tangents = [], []
    for p in primals:
        aval = _ad.tangent_aval(_core.get_aval(p))
        var = Var(aval)
        tangent_vars.append(var)
        is_float0 = aval.dtype == _ad._dtypes.float0
        tangents.append(_ad.Zero(aval) if is_float0 else StagingTracer(pe, var))
    with new_trace(pe):
        out_primals, out_tangents = _ad.jvp_traced(fun, primals, tangents, description)
        for p in out_primals:
            if pe.is_unknown(p):
                raise ValueError(  # JAX's error; e.g. grad of a custom_vmap function
                    "Linearization failed to produce known values for all output "
                    "primals. This is typically caused by attempting to differentiate a "
                    "function uses an operation that does not support reverse-mode "
                    "autodiff (such as a custom_vmap function; differentiate its "
                    "vmap, or use jvp).")
        out_tangents = [_ad.instantiate(t) for t in out_tangents]
        program = pe.to_program(tangent_vars, out_tangents)
    return out_primals, program, pe.consts


# --- partial evaluation of a Program (for call-like primitives) -------------------

def partial_eval_program(program, unknown_in, instantiate_out=None):
    """Split `program` given which inputs are unknown, by tracing it with known inputs
    staged in an outer program and unknown ones in a partial-eval trace, so that every
    nested call or control-flow equation is split by its own `partial_eval_rule` (its
    primal outputs stay known when only tangents are unknown).

    Returns a memoised tuple (known, unknown, out_unknown, num_res) where
      known:   known inputs -> known outputs + residuals
      unknown: residuals + unknown inputs -> unknown outputs (those in out_unknown,
               which includes every output in instantiate_out)
    """
    if instantiate_out is None:
        instantiate_out = [False] * len(program.outs)

    def build():
        outer = StagingTrace("partial_eval")
        with new_trace(outer):
            known_args = [outer.new_arg(a) for a, u in zip(program.in_avals, unknown_in)
                          if not u]
            pe = PartialEvalTrace(outer, "partial_eval")
            unknown_vars = [Var(a) for a, u in zip(program.in_avals, unknown_in) if u]
            with new_trace(pe):
                known_it, unknown_it = iter(known_args), iter(unknown_vars)
                args = [StagingTracer(pe, next(unknown_it)) if u else next(known_it)
                        for u in unknown_in]
                outs = eval_program(program, args)
                out_unknown = [pe.is_unknown(o) or inst
                               for o, inst in zip(outs, instantiate_out)]
                unknown_prog = pe.to_program(unknown_vars,
                                             [o for o, u in zip(outs, out_unknown) if u])
            residuals = list(pe.consts)
            known_outs = [o for o, u in zip(outs, out_unknown) if not u]
            known_prog = outer.to_program([a.ir_var for a in known_args],
                                          [*known_outs, *residuals])
            known_prog = close_program(known_prog, outer.consts)
        return known_prog, unknown_prog, out_unknown, len(residuals)
    return memo(program, ("partial_eval", tuple(unknown_in), tuple(instantiate_out)), build)


def split_equations(program, unknown_inputs):
    """Sort `program`'s equations into known and unknown ones; returns (known_eqns,
    unknown_eqns, set of unknown vars). An equation with some unknown inputs is unknown
    as a whole, unless its primitive has `partial_eval_equation_rule(eqn, unknown_ins)
    -> (known_eqn, unknown_eqn or None)`, which splits it (a call-like primitive: its
    primal outputs must stay known when only tangent inputs are unknown)."""
    unknown = {v for v, u in zip(program.in_vars, unknown_inputs) if u}
    known_eqns, unknown_eqns = [], []
    for eqn in program.equations:
        unknown_ins = [isinstance(a, Var) and a in unknown for a in eqn.inputs]
        rule = getattr(eqn.primitive, "partial_eval_equation_rule", None)
        if rule is None and eqn.primitive.partial_eval_rule is not None:
            eqn, rule = as_call_equation(eqn), partial_eval_call_equation
        if any(unknown_ins) and rule is not None and not all(unknown_ins):
            known_eqn, unknown_eqn = rule(eqn, unknown_ins)
            known_eqns.append(known_eqn)
            if unknown_eqn is not None:
                unknown.update(unknown_eqn.outputs)
                unknown_eqns.append(unknown_eqn)
        elif any(unknown_ins):
            unknown.update(eqn.outputs)
            unknown_eqns.append(eqn)
        else:
            known_eqns.append(eqn)
    return known_eqns, unknown_eqns, unknown


def partial_eval_call_equation(eqn, unknown_inputs):
    """`partial_eval_equation_rule` of a call primitive whose `program` param is its
    body (jit_p): a known call computing known outputs and residuals, and an unknown
    call taking the residuals."""
    known_prog, unknown_prog, out_unknown, num_res = partial_eval_program(
        eqn.params["program"], unknown_inputs)
    res_vars = [Var(v.aval) for v in known_prog.outs[len(known_prog.outs) - num_res:]]
    known_outs = [v for v, u in zip(eqn.outputs, out_unknown) if not u]
    unknown_outs = [v for v, u in zip(eqn.outputs, out_unknown) if u]
    known_eqn = Equation(eqn.primitive, [a for a, u in zip(eqn.inputs, unknown_inputs)
                                         if not u], known_outs + res_vars,
                         dict(eqn.params, program=known_prog))
    if not unknown_outs:
        return known_eqn, None
    unknown_eqn = Equation(eqn.primitive, res_vars + [a for a, u in zip(eqn.inputs,
                                                                        unknown_inputs) if u],
                           unknown_outs, dict(eqn.params, program=unknown_prog))
    return known_eqn, unknown_eqn


# The call primitive (jit_p) that wraps a one-equation program; jit, a higher layer,
# registers it at import.
_call_primitive = {}


def register_call_primitive(primitive):
    _call_primitive["jit"] = primitive


def as_call_equation(eqn):
    """`eqn` as a jit call of a one-equation program (same inputs and outputs)."""
    jit_p = _call_primitive["jit"]
    in_vars = [Var(a.aval) for a in eqn.inputs]
    out_vars = [Var(v.aval) for v in eqn.outputs]
    body = Program(in_vars, [Equation(eqn.primitive, in_vars, out_vars, eqn.params)],
                   out_vars)
    return Equation(jit_p, eqn.inputs, eqn.outputs,
                    dict(program=body, name=eqn.primitive.name))
