"""Identity-valued primitives that mean something to the compiler or to the tracer:
optimization_barrier (XLA may not move computation across it), stage (lift a host
value into the current trace), device_put (placement on the one device), and dce_sink
(mark a value as used)."""

__all__ = ["optimization_barrier", "stage", "dce_sink", "optimization_barrier_p",
           "stage_p", "dce_sink_p", "device_put_p"]
from jax import tree_util

from .._core import Primitive, Tracer
from .._ad import deflinear, instantiate, is_undefined
from .._dispatch import apply_primitive
from .._runtime import is_device_array


def _identity_batching(prim):
    def rule(axis_data, vals, dims, **params):
        return prim.bind(*vals, **params), (list(dims) if prim.multiple_results else dims[0])
    prim.batching_rule = rule


# --- optimization_barrier -----------------------------------------------------------

optimization_barrier_p = Primitive("optimization_barrier", multiple_results=True)


def optimization_barrier(operand, /):
    """The identity on a pytree of arrays, which XLA may not optimise across: values
    computed before it are computed before it (`jax.lax.optimization_barrier`)."""
    leaves, tree = tree_util.tree_flatten(operand)
    return tree_util.tree_unflatten(tree, optimization_barrier_p.bind(*leaves))


optimization_barrier_p.def_abstract_eval(lambda *avals: list(avals))


@optimization_barrier_p.def_lowering
def _optimization_barrier_lowering(ctx, *xs):
    if not xs:
        return []
    outs = ctx.op("stablehlo.optimization_barrier", list(xs))
    return [outs] if len(xs) == 1 else outs


@optimization_barrier_p.def_jvp
def _optimization_barrier_jvp(primals, tangents):
    # primals and tangents each behind their own barrier, as in JAX
    return (optimization_barrier_p.bind(*primals),
            optimization_barrier_p.bind(*map(instantiate, tangents)))


optimization_barrier_p.def_transpose(
    lambda cts, *xs: optimization_barrier_p.bind(*map(instantiate, cts)))
_identity_batching(optimization_barrier_p)


# --- stage ----------------------------------------------------------------------------

stage_p = Primitive("stage")


def stage(x, /):
    """Lift `x` (e.g. a Python scalar or NumPy array) into the current trace; outside
    any transformation, the value as a device array."""
    return stage_p.bind(x)


@stage_p.def_impl
def _stage_impl(x):
    if is_device_array(x):
        return x
    return apply_primitive(stage_p, (x,), {})


stage_p.def_abstract_eval(lambda x: x)
stage_p.def_lowering(lambda ctx, x: x)
deflinear(stage_p, lambda ct, x: [ct])
_identity_batching(stage_p)


# --- device_put -----------------------------------------------------------------------

device_put_p = Primitive("device_put", multiple_results=True)  # bound by `device_put`
# on traced values: the identity on one device
device_put_p.def_abstract_eval(lambda *avals, **params: list(avals))
device_put_p.def_lowering(lambda ctx, *xs, **params: list(xs))
deflinear(device_put_p, lambda cts, *xs, **params: [
    instantiate(ct) if is_undefined(x) else None for ct, x in zip(cts, xs)])
_identity_batching(device_put_p)


# --- dce_sink -------------------------------------------------------------------------

dce_sink_p = Primitive("dce_sink", multiple_results=True)


def dce_sink(val, *, prevent_mlir_dce=False):
    """Mark every array of the pytree `val` as used (JAX keeps the computation of a
    sunk value in its jaxpr; the compiled program is unaffected, as in JAX)."""
    if prevent_mlir_dce:
        raise NotImplementedError(
            "dce_sink(prevent_mlir_dce=True) lowers to JAX's side-effecting 'dce_sink' "
            "FFI target, which this library does not register; use prevent_mlir_dce=False")
    for leaf in tree_util.tree_leaves(val):
        if isinstance(leaf, Tracer) or is_device_array(leaf):
            dce_sink_p.bind(leaf, prevent_mlir_dce=False)


dce_sink_p.def_impl(lambda x, **params: [])
dce_sink_p.def_abstract_eval(lambda x, **params: [])
dce_sink_p.def_lowering(lambda ctx, x, **params: [])
deflinear(dce_sink_p, lambda cts, x, **params: [None])
_identity_batching(dce_sink_p)
