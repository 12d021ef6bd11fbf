"""`jax.typing`: annotations for array arguments. Our arrays are jax.Arrays, so JAX's
own `ArrayLike` (jax.Array, NumPy arrays and scalars, Python scalars) and `DTypeLike`
describe them exactly."""
from jax.typing import ArrayLike, DTypeLike  # noqa: F401
