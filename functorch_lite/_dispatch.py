"""Eager execution: a primitive bound outside any transformation runs as a
one-equation program, compiled once per (primitive, parameters, input types), through
the same lowering as `jit`, so eager and jit results agree."""
from . import _runtime
from ._core import get_aval
from ._ir import Var, Equation, Program
from ._lowering import lower_program

_executables = {}


def to_device_args(args, avals):
    return [x if _runtime.is_device_array(x) and x.dtype == a.dtype
            else _runtime.to_device(x, a.dtype) for x, a in zip(args, avals)]


def apply_primitive(primitive, args, params):
    avals = tuple(map(get_aval, args))
    key = (primitive, tuple(sorted(params.items())) if params else (), avals)
    executable = _executables.get(key)
    if executable is None:
        in_vars = [Var(a) for a in avals]
        out_vars = [Var(a) for a in primitive.abstract_eval(*avals, **params)]
        program = Program(in_vars, [Equation(primitive, in_vars, out_vars, params)], out_vars)
        executable = _executables[key] = compile_program(program, name=primitive.name)
    outs = executable(to_device_args(args, avals))
    return outs if primitive.multiple_results else outs[0]


def compile_program(program, name="main_module", donated=()):
    """Compile `program` (once: memoised on the program)."""
    key = ("executable", donated)
    executable = program.cache.get(key)
    if executable is None:
        text = lower_program(program, name=name, donated=donated)
        executable = program.cache[key] = _runtime.compile(text, program.out_avals,
                                                            program.in_avals)
    return executable
