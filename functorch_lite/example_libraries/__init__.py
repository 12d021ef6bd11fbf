"""`functorch_lite.example_libraries`: JAX's example libraries, `stax` (networks) and
`optimizers`, so programs written for `jax.example_libraries` run after the import
swap."""
from . import stax, optimizers  # noqa: F401
