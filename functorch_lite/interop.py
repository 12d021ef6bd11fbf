"""Explicit interop: run JAX functions (optax, Flax, Equinox, `jax.numpy` code) inside
functorch_lite transformations.

`from_jax(fn)` translates `fn`'s jaxpr into our operations (`_from_jax.py`);
`optax(tx)` wraps an optimizer's `init`/`update` with it. `call_jax(fn, *args)`
stages `fn` as a `jax_call` equation; its lowering embeds the StableHLO that JAX writes
for `fn` as a private function of our module, so `jit(train_step)` with an optax
update inside compiles to one executable. Forward mode uses `jax.jvp` and batching
uses `jax.vmap` on the embedded function; reverse mode transposes the JVP's linear
part with `jax.vjp`.
With functorch_lite's x64 mode on, JAX runs the function with its own x64 flag on too
(for that call only), so 64-bit operands reach it as they are.

>>> import optax, functorch_lite as fl, functorch_lite.numpy as jnp
>>> opt = optax.sgd(0.1)
>>> step = fl.jit(lambda p, s: fl.interop.call_jax(opt.update, p, s, p))
>>> updates, _ = step(jnp.ones(2), opt.init(jnp.ones(2)))
>>> updates.tolist()
[-0.10000000149011612, -0.10000000149011612]
"""
from ._from_jax import FromJax
from ._jax_call import call_jax, jax_call_p  # noqa: F401  (re-exported)
from ._to_jax import to_jax  # noqa: F401  (our functions inside JAX's transformations)

__all__ = ["call_jax", "from_jax", "optax", "to_jax"]


def from_jax(fn):
    """`fn`, a JAX function (Flax or Equinox model, optax loss...), translated into
    functorch_lite operations when called on our tracers, so every transformation
    applies to it. Eagerly, on concrete arrays, JAX runs it.
    `from_jax(fn).unsupported` names the JAX primitives that ran as an opaque
    `jax_call` instead."""
    return FromJax(fn)


def optax(tx):
    """An optax `GradientTransformation` whose `init` and `update` work inside `jit`,
    `grad` (meta-learning through a step) and `vmap`: both go through `from_jax`."""
    import optax as _optax  # loaded on first use, not by `import functorch_lite`
    if not isinstance(tx, _optax.GradientTransformation):  # e.g. optax.MultiSteps
        tx = tx.gradient_transformation()
    init, update = from_jax(tx.init), from_jax(tx.update)
    if isinstance(tx, _optax.GradientTransformationExtraArgs):
        return _optax.GradientTransformationExtraArgs(init, update)
    return _optax.GradientTransformation(init, update)
