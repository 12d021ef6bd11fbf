"""`functorch_lite.tree`, as `jax.tree` (`tree.map`, `tree.leaves`, ...): JAX's pytree
functions, over the registry shared with optax and flax."""
from jax import tree as _tree

__all__ = [n for n in dir(_tree) if not n.startswith("_")]
globals().update({n: getattr(_tree, n) for n in __all__})
