"""Partial evaluation: split a computation into a known part, evaluated now, and an
unknown part, staged into a Program. `linearize` runs JVP over this trace with known
primals and unknown tangents; the staged program is the linear map, and the known
values it uses are its residuals."""
from . import _core
from ._core import set_current_trace, new_trace
from ._ir import Var, Equation, Program, dead_code_elimination
from ._staging import StagingTrace, StagingTracer
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
                raise RuntimeError("internal error: a primal output depends on tangents")
        out_tangents = [_ad.instantiate(t) for t in out_tangents]
        program = pe.to_program(tangent_vars, out_tangents)
    return out_primals, program, pe.consts


# --- partial evaluation of a Program (for call-like primitives) -------------------

def partial_eval_program(program, unknown_inputs):
    """Split `program` given which inputs are unknown.

    Returns (known, unknown, out_unknown, num_residuals) where
      known:   known inputs -> known outputs + residuals
      unknown: residuals + unknown inputs -> unknown outputs
    An equation is unknown when any of its inputs is (call-like equations are split by
    their primitive's `partial_eval_equation_rule`, see `split_equations`).
    """
    known_eqns, unknown_eqns, unknown = split_equations(program, unknown_inputs)
    out_unknown = [isinstance(a, Var) and a in unknown for a in program.outs]
    residuals, seen = [], set()
    for eqn in unknown_eqns:
        for a in eqn.inputs:
            if isinstance(a, Var) and a not in unknown and a not in seen:
                seen.add(a)
                residuals.append(a)
    known_outs = [a for a, u in zip(program.outs, out_unknown) if not u]
    known_in = [v for v, u in zip(program.in_vars, unknown_inputs) if not u]
    known = dead_code_elimination(Program(known_in, known_eqns, known_outs + residuals))
    res_vars = [Var(v.aval) for v in residuals]
    rename = dict(zip(residuals, res_vars))
    unknown_in = [v for v, u in zip(program.in_vars, unknown_inputs) if u]
    renamed = [Equation(e.primitive, [rename.get(a, a) if isinstance(a, Var) else a
                                      for a in e.inputs], e.outputs, e.params)
               for e in unknown_eqns]
    unknown_outs = [rename.get(a, a) for a, u in zip(program.outs, out_unknown) if u]
    unknown_prog = dead_code_elimination(Program(res_vars + unknown_in, renamed, unknown_outs))
    return known, unknown_prog, out_unknown, len(residuals)


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
    program = eqn.params["program"]
    key = ("partial_eval", tuple(unknown_inputs))
    if key not in program.cache:
        program.cache[key] = partial_eval_program(program, unknown_inputs)
    known_prog, unknown_prog, out_unknown, num_res = program.cache[key]
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
