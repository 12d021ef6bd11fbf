"""The stages of `jit(f)`, as `jax.stages`: `jit(f).trace(*args)` is a `Traced`, its
`.lower()` a `Lowered`, whose `.compile()` is a `Compiled`."""
from ._stages import Traced, Lowered, Compiled  # noqa: F401
