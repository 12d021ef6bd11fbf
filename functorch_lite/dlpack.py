"""`jax.dlpack`: arrays shared with other libraries through DLPack (our arrays are
jax.Arrays, so JAX's runtime does the exchange; export with `x.__dlpack__()`)."""
from jax.dlpack import is_supported_dtype  # noqa: F401  (a runtime query)
from .numpy._io import from_dlpack  # noqa: F401
