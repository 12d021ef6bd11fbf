"""`functorch_lite.dtypes`, as `jax.dtypes`."""
from ._dtypes import (float0, bfloat16, canonicalize_dtype, issubdtype, promote_types,
                      result_type_of)
