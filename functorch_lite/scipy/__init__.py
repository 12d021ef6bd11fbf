"""`functorch_lite.scipy`: `jax.scipy` over functorch_lite's primitives."""
from . import special  # noqa: F401
from . import stats  # noqa: F401
