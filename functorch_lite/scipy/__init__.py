"""`functorch_lite.scipy`: JAX's `jax.scipy` over functorch_lite primitives."""
from . import linalg  # noqa: F401
