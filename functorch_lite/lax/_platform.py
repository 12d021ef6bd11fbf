"""platform_dependent (a function per backend) and composite (a named operation with a
reference decomposition, lowered to `stablehlo.composite` as JAX does)."""

__all__ = ["platform_dependent", "composite"]
import functools

import numpy as np
from jax import tree_util

from .. import _runtime
from .._core import Primitive, Tracer, user_source_line
from .._ir import eval_program
from ._cf_util import trace_body, abstractify
from .._lowering import element_type, dense_attr

_PLATFORM_ALIASES = {"cuda": ("cuda", "gpu"), "rocm": ("rocm", "gpu"), "gpu": ("gpu",)}


def platform_dependent(*args, default=None, **per_platform):
    """Call the function given for the backend the program runs on (`cpu=...`,
    `cuda=...`, `rocm=...`, `tpu=...`), else `default`. There is one backend per
    process here, so the choice is made while tracing; JAX stages a switch over
    platforms that its compiler resolves the same way."""
    platform = _runtime.platform()
    for name in _PLATFORM_ALIASES.get(platform, (platform,)):
        if name in per_platform:
            return per_platform[name](*args)
    if default is None:
        raise NotImplementedError(
            f"platform_dependent has no function for platform '{platform}' and no "
            f"default (given: {sorted(per_platform)})\n  at {user_source_line()}")
    return default(*args)


# --- composite ------------------------------------------------------------------------

composite_p = Primitive("composite", multiple_results=True)


def composite(decomposition, name, version=0):
    """Wrap `decomposition(*arrays, **attributes)` as one named operation: programs
    show a `composite` equation and StableHLO a `stablehlo.composite` whose body is the
    decomposition (a compiler may substitute its own kernel). Keyword arguments are
    attributes (Python or NumPy constants). As in JAX it has no derivative or batching
    rule: wrap it in custom_jvp/custom_vjp for those."""
    @functools.wraps(decomposition)
    def call(*args, **kwargs):
        if any(isinstance(v, Tracer) for v in tree_util.tree_leaves(kwargs)):
            raise TypeError(
                f"the attributes of composite '{name}' must be constants, got a traced "
                f"value; pass arrays as positional arguments (NumPy arrays are fine as "
                f"attributes)\n  at {user_source_line()}")
        leaves, in_tree = tree_util.tree_flatten(args)
        program, consts, out_tree = trace_body(
            functools.partial(decomposition, **kwargs), in_tree, abstractify(leaves),
            f"composite {name}")
        attributes = tuple((k, _attribute_text(v)) for k, v in sorted(kwargs.items())
                           if v is not None)
        outs = composite_p.bind(*consts, *leaves, name=name, attributes=attributes,
                                version=int(version), program=program)
        return tree_util.tree_unflatten(out_tree, outs)
    return call


def _attribute_text(value):
    """An MLIR attribute for a composite attribute value (as JAX's ir_attribute)."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return f"{int(value)} : i64"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if np.isfinite(value):
            return f"{value!r} : f64"
        return f"0x{np.float64(value).view(np.uint64):016X} : f64"  # inf, nan: as bits
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, np.dtype):
        return element_type(value)
    if isinstance(value, np.ndarray):
        return dense_attr(value, value.dtype, value.shape)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_attribute_text(v) for v in value) + "]"
    raise TypeError(f"composite attributes must be bools, numbers, strings, NumPy arrays "
                    f"or sequences of them, got {type(value).__name__}")


composite_p.def_abstract_eval(lambda *avals, program, **_: list(program.out_avals))
composite_p.def_impl(lambda *args, program, **_: eval_program(program, args))


@composite_p.def_lowering
def _composite_lowering(ctx, *args, name, attributes, version, program):
    symbol = ctx.module.callee(program, name)
    attrs = "{" + ", ".join(f"{k} = {v}" for k, v in attributes) + "}"
    outs = ctx.op("stablehlo.composite", list(args), attrs={
        "name": f'"{name}"', "composite_attributes": attrs,
        "decomposition": f"@{symbol}", "version": f"{version} : i32"})
    return [outs] if len(ctx.avals_out) == 1 else outs


@composite_p.def_jvp
def _composite_jvp(primals, tangents, **params):
    raise ValueError("JVP rule for composite not implemented. You can use "
                     "`jax.custom_jvp` to add support.")


@composite_p.def_transpose
def _composite_transpose(cts, *args, **params):
    raise ValueError("Transpose rule for composite not implemented. You can use "
                     "`jax.custom_jvp` or `jax.custom_vjp` to add support.")


@composite_p.def_batching
def _composite_batching(axis_data, vals, dims, **params):
    raise NotImplementedError("Batching rule for 'composite' not implemented")
