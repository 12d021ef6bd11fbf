"""Eager execution: a primitive bound outside any transformation runs as a
one-equation program, compiled once per (primitive, parameters, input types)."""
from . import _runtime
from ._core import get_aval
from ._ir import Var, Equation, Program
from ._lowering import lower_program

_executables = {}


def freeze_params(params):
    return tuple(sorted(params.items()))


def to_device_args(args, avals):
    return [x if _runtime.is_device_array(x) and x.dtype == a.dtype
            else _runtime.to_device(x, a.dtype) for x, a in zip(args, avals)]


def finish_outputs(outs, out_avals):
    return [_runtime.mark_weak(x) if a.weak_type else x for x, a in zip(outs, out_avals)]


def apply_primitive(primitive, args, params):
    avals = tuple(map(get_aval, args))
    key = (primitive, freeze_params(params), avals)
    entry = _executables.get(key)
    if entry is None:
        in_vars = [Var(a) for a in avals]
        out_vars = [Var(a) for a in primitive.abstract_eval(*avals, **params)]
        program = Program(in_vars, [Equation(primitive, in_vars, out_vars, params)], out_vars)
        text = lower_program(program, name=primitive.name)
        entry = _executables[key] = (_runtime.compile(text), [v.aval for v in out_vars])
    executable, out_avals = entry
    outs = finish_outputs(executable(to_device_args(args, avals)), out_avals)
    return outs if primitive.multiple_results else outs[0]


def run_program(program, args):
    """Compile (once per program) and run `program` on concrete arguments."""
    executable = program.cache.get("executable")
    if executable is None:
        executable = program.cache["executable"] = _runtime.compile(lower_program(program))
    outs = executable(to_device_args(args, program.in_avals))
    return finish_outputs(outs, program.out_avals)
