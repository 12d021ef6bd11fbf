"""`functorch_lite.dtypes`, as `jax.dtypes`."""
from jax.dtypes import prng_key, extended  # JAX's abstract scalar types of typed keys

from ._dtypes import (float0, bfloat16, canonicalize_dtype, issubdtype, promote_types,
                      result_type_of)
