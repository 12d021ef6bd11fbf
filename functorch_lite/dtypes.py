"""`functorch_lite.dtypes`, as `jax.dtypes`."""
import numpy as np
from jax import dtypes as _jax_dtypes
from jax.dtypes import prng_key, extended  # JAX's abstract scalar types of typed keys

from ._dtypes import (float0, bfloat16, canonicalize_dtype, promote_types, result_type_of,
                      is_key as _is_key)


def issubdtype(a, b):
    """np.issubdtype, extended to key dtypes: `issubdtype(key.dtype, dtypes.prng_key)`."""
    if _is_key(a) or b in (prng_key, extended):
        return _jax_dtypes.issubdtype(a, b)
    return np.issubdtype(a, b)
