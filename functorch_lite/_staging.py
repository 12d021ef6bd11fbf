"""Staging: trace a Python function into a Program.

Any value that is not one of the staging trace's own tracers (a concrete array, or a
tracer of an outer transformation the function closes over) becomes an explicit
constant input of the program; scalars become literals.
"""
import contextlib
import threading

import jax
import numpy as np

from . import _core
from ._core import Primitive, ShapedArray, Tracer, get_aval, new_trace
from ._ir import Var, Literal, Equation, Program
from ._named_scope import current_name_stack


class StagingTracer(Tracer):
    __slots__ = ("ir_var",)

    def __init__(self, trace, var):
        self._trace = trace
        self.ir_var = var

    @property
    def aval(self):
        return self.ir_var.aval


class StagingTrace(_core.Trace):
    def __init__(self, description="jit"):
        super().__init__()
        self.description = description
        self.equations = []
        self.const_vars = {}   # id(value) -> Var
        self.consts = []       # values, in the order of their vars
        self.const_var_list = []

    def new_arg(self, aval):
        return StagingTracer(self, Var(aval))

    def to_atom(self, x):
        if isinstance(x, StagingTracer) and x._trace is self:
            return x.ir_var
        if isinstance(x, Tracer):
            _core.check_tracer_alive(x)
        elif isinstance(x, (bool, int, float, complex)) or (
                isinstance(x, (np.generic, np.ndarray)) and np.ndim(x) == 0):
            return Literal(x, get_aval(x))
        elif isinstance(x, jax.Array) and x.ndim == 0 and isinstance(x.dtype, np.dtype):
            return Literal(x, get_aval(x))  # a computed scalar: inline, as JAX
        var = self.const_vars.get(id(x))
        if var is None:
            var = self.const_vars[id(x)] = Var(get_aval(x))
            self.consts.append(x)
            self.const_var_list.append(var)
        return var

    def process_primitive(self, primitive, args, params):
        if _folding.on and not any(isinstance(x, Tracer) for x in args):
            with _core.set_current_trace(_core.eval_trace):  # ensure_compile_time_eval
                return primitive.bind(*args, **params)
        in_atoms = [self.to_atom(x) for x in args]
        out_avals = primitive.abstract_eval(*[a.aval for a in in_atoms], **params)
        out_vars = [Var(a) for a in out_avals]
        self.equations.append(Equation(primitive, in_atoms, out_vars, params,
                                       current_name_stack()))
        outs = [StagingTracer(self, v) for v in out_vars]
        return outs if primitive.multiple_results else outs[0]

    def to_program(self, arg_vars, outs):
        out_atoms = [self.to_atom(x) for x in outs]
        return Program([*self.const_var_list, *arg_vars], self.equations, out_atoms)


class _Folding(threading.local):
    on = False


_folding = _Folding()


@contextlib.contextmanager
def ensure_compile_time_eval():
    """`with ensure_compile_time_eval():` inside `jit` (or a control-flow body), an
    operation whose operands are all concrete runs now and gives a concrete array
    (usable in Python control flow) instead of being staged, as
    `jax.ensure_compile_time_eval`; operations on traced values are staged as usual."""
    previous, _folding.on = _folding.on, True
    try:
        yield
    finally:
        _folding.on = previous


def trace_to_program(fun, in_avals, description="jit"):
    """Trace `fun(*flat_args) -> flat list` on abstract inputs.

    Returns (program, consts): program inputs are `consts` followed by the arguments.
    """
    trace = StagingTrace(description)
    with new_trace(trace):
        args = [trace.new_arg(a) for a in in_avals]
        outs = fun(*args)
        program = trace.to_program([a.ir_var for a in args], outs)
    return program, trace.consts


# --- constants created while transforming a program --------------------------------

class _HashableArray:
    """A NumPy constant as a hashable primitive parameter (compared by identity)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"array{self.value.shape}"


literal_array_p = Primitive("literal_array")
literal_array_p.abstract_eval_rule = lambda *, value: ShapedArray(
    value.value.shape, value.value.dtype)
literal_array_p.lowering_rule = lambda ctx, *, value: ctx.constant(
    value.value, value.value.dtype, value.value.shape)


def close_program(program, consts):
    """Fold concrete `consts` (the leading inputs of `program`) into the program."""
    if not consts:
        return program
    if any(isinstance(c, Tracer) for c in consts):
        raise NotImplementedError(
            "a custom_jvp/custom_vjp rule (or a loop body) inside jit closes over a traced "
            "value of an enclosing transformation; pass that value as an argument of the "
            "custom function instead of closing over it")
    eqns = []
    for v, c in zip(program.in_vars, consts):
        value = np.asarray(c)
        eqns.append(Equation(literal_array_p, [], [v],
                             dict(value=_HashableArray(value.astype(v.aval.dtype)))))
    return Program(program.in_vars[len(consts):], eqns + program.equations, program.outs)


def trace_closed(fun, avals, description):
    program, consts = trace_to_program(fun, avals, description)
    return close_program(program, consts)
