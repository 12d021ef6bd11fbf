"""The IR: variables, literals, equations and programs; a type checker, an evaluator,
dead-code elimination and a printer."""
import itertools

import numpy as np

from ._named_scope import extended_name_stack


class Var:
    """A value produced by an equation or taken as input. Compared by identity."""
    __slots__ = ("aval", "count")
    _counter = itertools.count()

    def __init__(self, aval):
        self.aval = aval
        self.count = next(Var._counter)

    def __repr__(self):
        return f"Var({self.count}:{self.aval.str_short()})"


class Literal:
    """A scalar constant written into the program (Python or NumPy scalar)."""
    __slots__ = ("val", "aval")

    def __init__(self, val, aval):
        self.val = val
        self.aval = aval

    def __repr__(self):
        return f"Literal({self.val})"


class Equation:
    __slots__ = ("primitive", "inputs", "outputs", "params", "name_stack")

    def __init__(self, primitive, inputs, outputs, params, name_stack=()):
        self.primitive = primitive
        self.inputs = inputs
        self.outputs = outputs
        self.params = params
        self.name_stack = name_stack  # enclosing named_scopes (see _named_scope)


class Program:
    """A closed, pure function: `in_vars -> outs` through `equations`.

    Constants a traced function captured are explicit leading inputs (see
    `_staging.trace_to_program`), so every program is closed and hashable by identity.
    """
    __slots__ = ("in_vars", "equations", "outs", "__weakref__", "cache")

    def __init__(self, in_vars, equations, outs):
        self.in_vars = list(in_vars)
        self.equations = list(equations)
        self.outs = list(outs)
        self.cache = {}  # memoised transformations and executables of this program

    in_avals = property(lambda self: [v.aval for v in self.in_vars])
    out_avals = property(lambda self: [v.aval for v in self.outs])

    def __repr__(self):
        return pretty_print(self)

    __str__ = __repr__


def memo(program, key, build):
    """`build()` once per (program, key): transformations of a program are memoised in
    its cache, so each is traced (and compiled) once."""
    if key not in program.cache:
        program.cache[key] = build()
    return program.cache[key]


# --- evaluation -------------------------------------------------------------------

def eval_program(program, args):
    """Interpret `program` on `args` by binding each equation in the current trace."""
    env = {}

    def read(atom):
        return atom.val if isinstance(atom, Literal) else env[atom]

    for v, x in zip(program.in_vars, args):
        env[v] = x
    for eqn in program.equations:
        if eqn.name_stack:
            with extended_name_stack(eqn.name_stack):
                outs = eqn.primitive.bind(*map(read, eqn.inputs), **eqn.params)
        else:
            outs = eqn.primitive.bind(*map(read, eqn.inputs), **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        for v, x in zip(eqn.outputs, outs):
            env[v] = x
    return [read(a) for a in program.outs]


# --- checks and passes ------------------------------------------------------------

class ProgramTypeError(TypeError):
    pass


def typecheck(program):
    """Check that every equation's inputs are defined and its output types match."""
    defined = set(program.in_vars)
    for eqn in program.equations:
        for a in eqn.inputs:
            if isinstance(a, Var) and a not in defined:
                raise ProgramTypeError(f"{eqn.primitive} uses undefined variable {a}")
        expected = eqn.primitive.abstract_eval(*[a.aval for a in eqn.inputs], **eqn.params)
        got = [v.aval for v in eqn.outputs]
        if [e.strip_weak_type() for e in expected] != [g.strip_weak_type() for g in got]:
            raise ProgramTypeError(f"{eqn.primitive}: outputs typed {got}, rule gives "
                                   f"{expected}")
        defined.update(eqn.outputs)
    for a in program.outs:
        if isinstance(a, Var) and a not in defined:
            raise ProgramTypeError(f"output {a} is undefined")
    return True


def has_effects(eqn):
    """Whether `eqn` must run even if its results are unused: its primitive has
    effects (a host callback that prints), or a program it calls has such equations."""
    if eqn.primitive.has_effects:
        return True
    for p in eqn.params.values():
        programs = p if isinstance(p, (tuple, list)) else (p,)
        if any(isinstance(q, Program) and program_has_effects(q) for q in programs):
            return True
    return False


def program_has_effects(program):
    return memo(program, "has_effects", lambda: any(map(has_effects, program.equations)))


def dead_code_elimination(program, used_outputs=None, keep_effects=True):
    """Drop equations whose results are unused, unless they have effects (and
    `keep_effects`: False for a program that computes part of another's values and
    whose effects run in that other program)."""
    outs = program.outs if used_outputs is None else \
        [o for o, u in zip(program.outs, used_outputs) if u]
    live = {a for a in outs if isinstance(a, Var)}
    kept = []
    for eqn in reversed(program.equations):
        if any(v in live for v in eqn.outputs) or (keep_effects and has_effects(eqn)):
            kept.append(eqn)
            live.update(a for a in eqn.inputs if isinstance(a, Var))
    kept.reverse()
    return Program(program.in_vars, kept, outs)


# --- printing ---------------------------------------------------------------------

def _names():
    for n in itertools.count():
        s = ""
        n += 1
        while n:
            n, r = divmod(n - 1, 26)
            s = chr(97 + r) + s
        yield s


def pretty_print(program, indent=0):
    names = {}
    gen = _names()

    def name(a):
        if isinstance(a, Literal):
            v = a.val
            return repr(v.item() if isinstance(v, (np.generic, np.ndarray)) else v)
        if a not in names:
            names[a] = next(gen)
        return names[a]

    def binder(v):
        return f"{name(v)}:{v.aval.str_short()}"

    pad = " " * indent
    lines = [f"{pad}{{ lambda {' '.join(binder(v) for v in program.in_vars)}. let"]
    for eqn in program.equations:
        outs = " ".join(binder(v) for v in eqn.outputs) or "_"
        params = _format_params(eqn.params, indent + 6)
        ins = " ".join(name(a) for a in eqn.inputs)
        lines.append(f"{pad}    {outs} = {eqn.primitive.name}{params} {ins}")
    lines.append(f"{pad}  in ({', '.join(name(a) for a in program.outs)}) }}")
    return "\n".join(lines)


def _format_params(params, indent):
    if not params:
        return ""
    parts = []
    for k, v in params.items():
        if isinstance(v, Program):
            parts.append(f"{k}=\n{pretty_print(v, indent)}")
        elif isinstance(v, (tuple, list)) and v and all(isinstance(p, Program) for p in v):
            parts.append(f"{k}=(\n" + "\n".join(pretty_print(p, indent) for p in v) + ")")
        elif isinstance(v, np.dtype):
            parts.append(f"{k}={v.name}")
        elif callable(v) and hasattr(v, "__name__"):
            parts.append(f"{k}={v.__name__}")
        else:
            parts.append(f"{k}={v!r}")
    return "[" + " ".join(parts) + "]"
