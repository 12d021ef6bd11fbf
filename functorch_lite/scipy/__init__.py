"""`functorch_lite.scipy`: JAX's `jax.scipy` over functorch_lite primitives."""
from . import linalg  # noqa: F401
from . import optimize  # noqa: F401
from . import ndimage, integrate, interpolate, signal  # noqa: F401
