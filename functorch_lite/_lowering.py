"""Lowering: Program -> StableHLO module text (MLIR generic operation syntax).

A primitive's lowering rule receives a `LoweringContext` and the SSA names of its
inputs and returns the SSA name(s) of its outputs, emitting operations with `ctx.op`.
A module is lowered for one target platform (`target_platform()`): the runtime's, or
another one named by `jit(f).trace(*args).lower(lowering_platforms=("cuda",))`, so the
StableHLO we emit for a GPU can be read (and compared with JAX's) on any machine.
"""
import contextlib

import numpy as np

from . import _dtypes, _runtime
from ._ir import Literal
from ._runtime import physical_aval
from ._core import ShapedArray
from ._staging import trace_to_program

PLATFORMS = ("cpu", "cuda", "rocm", "tpu")
_target_stack = []


def target_platform():
    """The platform of the module being lowered: 'cpu', 'cuda', 'rocm' or 'tpu'."""
    return _target_stack[-1] if _target_stack else _runtime.platform()


def on_gpu():
    return target_platform() in ("cuda", "rocm")


def resolve_platform(platform):
    """`platform` checked against PLATFORMS; None means the runtime's."""
    platform = platform or _runtime.platform()
    if platform not in PLATFORMS:
        raise ValueError(f"unknown lowering platform {platform!r}; expected one of "
                         f"{PLATFORMS}")
    return platform


@contextlib.contextmanager
def lowering_for(platform):
    """Lower for `platform` (None: the runtime's) inside this block."""
    _target_stack.append(resolve_platform(platform))
    try:
        yield platform
    finally:
        _target_stack.pop()

_ELEMENT_TYPES = {
    "bool": "i1", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "ui8", "uint16": "ui16", "uint32": "ui32", "uint64": "ui64",
    "float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64",
    "complex64": "complex<f32>", "complex128": "complex<f64>",
}


_NARROW_ELEMENT_TYPES = {
    "float8_e4m3fn": "f8E4M3FN", "float8_e5m2": "f8E5M2", "float8_e4m3fnuz": "f8E4M3FNUZ",
    "float8_e5m2fnuz": "f8E5M2FNUZ", "float8_e4m3b11fnuz": "f8E4M3B11FNUZ",
    "float8_e4m3": "f8E4M3", "float8_e3m4": "f8E3M4", "float8_e8m0fnu": "f8E8M0FNU",
    "float6_e2m3fn": "f6E2M3FN", "float6_e3m2fn": "f6E3M2FN", "float4_e2m1fn": "f4E2M1FN",
    "int2": "i2", "int4": "i4", "uint2": "ui2", "uint4": "ui4",
}
_ELEMENT_TYPES.update(_NARROW_ELEMENT_TYPES)


def element_type(dtype):
    name = np.dtype(dtype).name
    if name not in _ELEMENT_TYPES:
        raise TypeError(f"arrays of dtype {name} cannot be compiled here (XLA has no "
                        f"{name} element type); convert them with .astype(...) first")
    return _ELEMENT_TYPES[name]


def ir_type(aval):
    aval = physical_aval(aval)  # a typed key array is its uint32 key data
    dims = "".join(f"{d}x" for d in aval.shape)
    return f"tensor<{dims}{element_type(aval.dtype)}>"


def dense_attr(value, dtype, shape=()):
    """`dense<...> : tensor<...>` for a NumPy value (a splat when all elements agree)."""
    dtype = np.dtype(dtype)
    value = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), shape))
    type_str = ir_type(ShapedArray(shape, dtype))
    flat = value.reshape(-1)
    if flat.size == 0:
        return f"dense<> : {type_str}"
    as_bytes = flat.view(np.uint8).reshape(flat.size, -1)
    if (as_bytes == as_bytes[:1]).all():
        return f"dense<{_scalar_text(flat[0], dtype)}> : {type_str}"
    if dtype == _dtypes.bool_ or dtype.name in _NARROW_ELEMENT_TYPES:
        return f"dense<{_nested(value)}> : {type_str}"
    return f'dense<"0x{value.tobytes().hex().upper()}"> : {type_str}'


def _nested(value):
    if value.ndim == 0:
        return _scalar_text(value[()], value.dtype)
    return "[" + ", ".join(_nested(v) for v in value) + "]"


_UINT_OF_SIZE = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _scalar_text(x, dtype):
    if dtype == _dtypes.bool_:
        return "true" if x else "false"
    if dtype.name in _NARROW_ELEMENT_TYPES:  # decimal: these are exact in float64
        return str(int(x)) if _dtypes.is_integer(dtype) else repr(float(x))
    if dtype.kind in "iu":
        return str(int(x))
    if dtype.kind == "c":
        re, im = (_scalar_text(v, np.dtype(np.float32 if dtype.itemsize == 8 else np.float64))
                  for v in (x.real, x.imag))
        return f"({re}, {im})"
    bits = np.asarray(x, dtype=dtype).view(_UINT_OF_SIZE[dtype.itemsize]).item()
    return f"0x{bits:0{dtype.itemsize * 2}X}"


class ModuleBuilder:
    """Collects the functions of one module; names SSA values module-wide."""

    def __init__(self):
        self.functions = []
        self.function_names = {}  # id(program) -> symbol
        self.counter = 0
        self.types = {}
        self.host_callbacks = []  # Python functions the module calls on the host
        self.locations = True  # emit named_scope names as loc(...)
        self.location_root = ""  # their first component: "jit(f)"

    def add_host_callback(self, fn):
        """Register `fn` to be called from the compiled module; returns its index
        (the `index` attribute of the host-callback custom call)."""
        self.host_callbacks.append(fn)
        return len(self.host_callbacks) - 1

    def fresh(self):
        self.counter += 1
        return f"%v{self.counter}"

    def function(self, program, name, visibility="private", arg_attrs=None,
                 result_names=None):
        """Lower `program` as `func.func @name`; returns the symbol name."""
        args = []
        env = {}
        prefix = self.fresh()[2:]  # module-unique: a callee is lowered before its caller ends
        for i, v in enumerate(program.in_vars):
            arg = f"%arg{prefix}_{i}"
            self.types[arg] = ir_type(v.aval)
            env[v] = arg
            attr = f" {{{arg_attrs[i]}}}" if arg_attrs and arg_attrs[i] else ""
            args.append(f"{arg}: {ir_type(v.aval)}{attr}")
        lines = []
        outs = lower_equations(self, program, env, lines)
        out_types = [ir_type(a.aval) for a in program.outs]
        lines.append(f"func.return {', '.join(outs)} : {', '.join(out_types)}"
                     if outs else "func.return")
        body = "\n".join("    " + l for l in lines)
        self.functions.append(
            f"  func.func {visibility} @{name}({', '.join(args)}) -> "
            f"({', '.join(out_types)}) {{\n{body}\n  }}")
        return name

    def callee(self, program, hint):
        """The symbol of a private function for `program` (lowered once per module)."""
        key = id(program)
        if key not in self.function_names:
            name = f"{_sanitize(hint)}_{len(self.function_names)}"  # unique: the
            # dict entry exists before the body (and its nested callees) is lowered
            self.function_names[key] = name
            self.function(program, name)
        return self.function_names[key]

    def text(self, name="functorch_lite"):
        return (f"module @{_sanitize(name)} attributes {{mhlo.num_partitions = 1 : i32, "
                f"mhlo.num_replicas = 1 : i32}} {{\n" + "\n".join(self.functions) + "\n}\n")


def _sanitize(name):
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "fn"


class LoweringContext:
    """What a lowering rule sees: input/output avals (physical: a typed key array
    appears as its uint32 data) and a way to emit operations."""

    location = ""  # ` loc("...")` appended to the operations emitted (see _name_location)

    def __init__(self, module, lines, avals_in, avals_out):
        self.module = module
        self.lines = lines
        self.avals_in = avals_in
        self.avals_out = avals_out

    def type_of(self, value):
        return self.module.types[value]

    def op(self, name, operands, out_avals=None, attrs=None, regions=(), out_types=None):
        """Emit `"name"(operands) ({regions}) {attrs} : (types) -> types`.

        Returns one SSA name when there is one result, else a list of names.
        """
        if out_types is None:
            out_avals = self.avals_out if out_avals is None else out_avals
            out_types = [ir_type(a) for a in out_avals]
        result = self.module.fresh()
        n = len(out_types)
        results = [result] if n == 1 else [f"{result}#{i}" for i in range(n)]
        for r, t in zip(results, out_types):
            self.module.types[r] = t
        lhs = "" if n == 0 else (f"{result} = " if n == 1 else f"{result}:{n} = ")
        attr_text = ""
        if attrs:
            attr_text = " {" + ", ".join(f"{k} = {v}" for k, v in attrs.items()) + "}"
        region_text = f" ({', '.join(regions)})" if regions else ""
        in_types = ", ".join(self.module.types[o] for o in operands)
        out_text = out_types[0] if n == 1 else f"({', '.join(out_types)})"
        self.lines.append(f'{lhs}"{name}"({", ".join(operands)}){region_text}{attr_text} : '
                          f"({in_types}) -> {out_text}{self.location}")
        return results[0] if n == 1 else results

    def constant(self, value, dtype, shape=()):
        aval = ShapedArray(shape, dtype)
        return self.op("stablehlo.constant", [], [aval],
                       attrs={"value": dense_attr(value, dtype, shape)})

    def region(self, program, inputs):
        """Text of a region computing `program`. `inputs[i]` is an SSA name from the
        enclosing function, or None to take the next block argument."""
        env, block_args = {}, []
        for v, name in zip(program.in_vars, inputs):
            if name is None:
                name = self.module.fresh()
                self.module.types[name] = ir_type(v.aval)
                block_args.append(f"{name}: {ir_type(v.aval)}")
            env[v] = name
        lines = []
        outs = lower_equations(self.module, program, env, lines)
        types = ", ".join(ir_type(a.aval) for a in program.outs)
        lines.append(f'"stablehlo.return"({", ".join(outs)}) : ({types}) -> ()')
        head = f"^bb0({', '.join(block_args)}):\n" if block_args else ""
        body = "\n".join("      " + l for l in lines)
        return "{\n" + (("    " + head) if head else "") + body + "\n    }"

    def call(self, program, args, hint="fn"):
        """Call `program` lowered as a private function; returns its result names."""
        symbol = self.module.callee(program, hint)
        out_types = [ir_type(a.aval) for a in program.outs]
        outs = self.op("func.call", args, out_types=out_types,
                       attrs={"callee": f"@{symbol}"})
        return [outs] if len(out_types) == 1 else list(outs)


def lower_equations(module, program, env, lines):
    """Emit `program`'s equations; `env` maps input vars to SSA names. Returns outs."""

    def read(atom):
        if isinstance(atom, Literal):
            ctx = LoweringContext(module, lines, [], [atom.aval])
            return ctx.constant(atom.val, atom.aval.dtype)
        return env[atom]

    for eqn in program.equations:
        avals_in = [a.aval for a in eqn.inputs]
        avals_out = [v.aval for v in eqn.outputs]
        rule = eqn.primitive.rule("lowering")
        if eqn.primitive.accepts_keys and any(
                not isinstance(a.dtype, np.dtype) for a in (*avals_in, *avals_out)):
            rule = eqn.primitive.key_lowering_rule or rule
            avals_in = [physical_aval(a) for a in avals_in]
            avals_out = [physical_aval(a) for a in avals_out]
        ctx = LoweringContext(module, lines, avals_in, avals_out)
        if eqn.name_stack and module.locations:
            ctx.location = _name_location(module.location_root, eqn)
        outs = rule(ctx, *map(read, eqn.inputs), **eqn.params)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        outs = list(outs)
        if len(outs) != len(eqn.outputs):
            raise RuntimeError(f"lowering of {eqn.primitive} gave {len(outs)} results, "
                               f"expected {len(eqn.outputs)}")
        for v, name in zip(eqn.outputs, outs):
            env[v] = name
    return [read(a) for a in program.outs]


def _name_location(root, eqn):
    """` loc("jit(f)/scope/inner/op")`: the module's root, the equation's
    `named_scope`s and its primitive, as the name locations JAX emits."""
    path = "/".join((root, *eqn.name_stack, eqn.primitive.name))
    return ' loc("' + path.replace("\\", "\\\\").replace('"', '\\"') + '")'


def lower_program(program, name="main_module", donated=(), platform=None,
                  locations=True):
    """The StableHLO module text whose `@main` computes `program` on `platform`
    (default: the runtime's); with `locations`, operations staged inside a
    `named_scope` carry its names as `loc(...)`."""
    return lower_module(program, name, donated, platform, locations)[0]


def lower_module(program, name="main_module", donated=(), platform=None, locations=True):
    """(module text, host callbacks): the text as `lower_program`'s, and the Python
    functions its host-callback custom calls name by index, to compile it with."""
    module = ModuleBuilder()
    module.locations = locations
    module.location_root = f"jit({name[4:]})" if name.startswith("jit_") else name
    attrs = ["jax.buffer_donor = true" if i in donated else None
             for i in range(len(program.in_vars))]
    with lowering_for(platform):
        module.function(program, "main", visibility="public", arg_attrs=attrs)
    return module.text(name), module.host_callbacks


def composite_lowering(fun, name, multiple_results=True):
    """A lowering rule that traces `fun(*operands, **params)` (primitives only) into a
    program, once per input types, params and target platform (so `fun` may ask
    `target_platform()`), and calls it as a private function."""
    cache = {}

    def rule(ctx, *operands, **params):
        key = (tuple(ctx.avals_in), tuple(sorted(params.items())), target_platform())
        entry = cache.get(key)
        if entry is None:
            def flat(*xs):
                out = fun(*xs, **params)
                return list(out) if multiple_results else [out]
            entry = cache[key] = trace_to_program(flat, list(ctx.avals_in),
                                                  f"{name} lowering")
        program, consts = entry
        const_names = [ctx.constant(np.asarray(c), np.asarray(c).dtype, np.shape(c))
                       for c in consts]
        outs = ctx.call(program, [*const_names, *operands], hint=name)
        return outs if multiple_results else outs[0]
    rule.composite = fun  # what the primitive computes, in our primitives (for to_jax)
    return rule
