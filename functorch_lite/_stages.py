"""The stages of `jit(f)`: `.trace(*args)` gives a `Traced` (the staged program),
`.lower()` a `Lowered` (StableHLO text), `.compile()` a `Compiled` executable, as
`jax.stages`. Each knows the structure of its arguments (`in_tree`) and the shapes of
its outputs (`out_info`)."""
import jax
from jax import tree_util

from . import _dispatch, _dtypes, _runtime
from ._traceback_util import api_boundary
from ._lowering import lower_program, resolve_platform


class _Stage:
    """What every stage carries: the program with its captured constants, the pytree
    structures of its arguments and results, its name and donated arguments."""

    def __init__(self, program, consts, in_tree, out_tree, name, donated):
        self.program, self.consts = program, consts
        self.in_tree, self.out_tree = in_tree, out_tree
        self.name, self.donated = name, donated

    @property
    def out_info(self):
        """The outputs' shapes and dtypes: a pytree of `jax.ShapeDtypeStruct`."""
        structs = [jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                   for a in self.program.out_avals]
        for i, shape in self.out_tree.float0:  # zero tangents of integers
            structs.insert(i, jax.ShapeDtypeStruct(shape, _dtypes.float0))
        return tree_util.tree_unflatten(self.out_tree.treedef, structs)


class Traced(_Stage):
    """The result of `jit(f).trace(*args)`: the staged program, ready to lower."""

    def lower(self, *, lowering_platforms=None):
        """Lower for the runtime's platform, or for the one platform named in
        `lowering_platforms` ('cpu', 'cuda', 'rocm', 'tpu'; it need not be present)."""
        platform = None
        if lowering_platforms is not None:
            if isinstance(lowering_platforms, str) or len(lowering_platforms) != 1:
                raise ValueError(
                    f"lower(lowering_platforms={lowering_platforms!r}): functorch_lite "
                    f"lowers for one platform at a time; pass a 1-tuple such as "
                    f"('cuda',)")
            platform = lowering_platforms[0]
        return Lowered(self.program, self.consts, self.in_tree, self.out_tree, self.name,
                       self.donated, platform)


class Lowered(_Stage):
    """The result of `jit(f).lower(*args)`: StableHLO text, ready to compile."""

    def __init__(self, program, consts, in_tree, out_tree, name, donated, platform=None):
        super().__init__(program, consts, in_tree, out_tree, name, donated)
        self.platform = resolve_platform(platform)

    def as_text(self, dialect=None, *, debug_info=False):
        """The StableHLO module text; with `debug_info=True`, operations staged inside
        a `named_scope`/`named_call` carry its names as `loc("scope/op")`, as JAX's."""
        if dialect not in (None, "stablehlo"):
            raise ValueError(f"as_text(dialect={dialect!r}): functorch_lite lowers to "
                             f"StableHLO only; use dialect='stablehlo' or omit it")
        return lower_program(self.program, name=f"jit_{self.name}", donated=self.donated,
                             platform=self.platform, locations=debug_info)

    def compile(self):
        if self.platform != _runtime.platform():
            raise ValueError(
                f"jit({self.name}) was lowered for {self.platform!r} but this process "
                f"runs on {_runtime.platform()!r}; only its text (as_text()) is usable "
                f"here. Lower without lowering_platforms to compile.")
        return Compiled(self, _dispatch.compile_program(self.program, f"jit_{self.name}",
                                                         self.donated))


class Compiled:
    """A compiled executable: call it with arguments of the lowered signature."""

    def __init__(self, lowered, executable):
        self.lowered = lowered
        self.executable = executable

    in_tree = property(lambda self: self.lowered.in_tree)
    out_info = property(lambda self: self.lowered.out_info)

    @api_boundary
    def __call__(self, *args, **kwargs):
        leaves = tree_util.tree_leaves((args, kwargs))
        program = self.lowered.program
        flat = [*self.lowered.consts, *leaves]
        if len(flat) != len(program.in_vars):
            raise TypeError(f"compiled {self.lowered.name} takes "
                            f"{len(program.in_vars) - len(self.lowered.consts)} array "
                            f"arguments, got {len(leaves)}")
        outs = self.executable(_dispatch.to_device_args(flat, program.in_avals))
        return self.lowered.out_tree(outs)

    def as_text(self):
        return self.executable.hlo_text()

    def cost_analysis(self):
        """XLA's cost estimate of this executable, as `jax`'s: a dict with "flops",
        "bytes accessed", "transcendentals", ..."""
        return self.executable.cost_analysis()

    def memory_analysis(self):
        """XLA's memory statistics (`argument_size_in_bytes`, `output_size_in_bytes`,
        `temp_size_in_bytes`, ...), as `jax`'s."""
        return self.executable.memory_analysis()
