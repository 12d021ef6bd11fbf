"""`functorch_lite.dtypes`, as `jax.dtypes`."""
from ._dtypes import float0, bfloat16, canonicalize_dtype, promote_types, result_type_of


def issubdtype(a, b):
    import numpy as np
    return np.issubdtype(a, b)
