"""`functorch_lite.scipy`: `jax.scipy` over functorch_lite's primitives."""
from . import special  # noqa: F401
from . import stats  # noqa: F401
from . import linalg  # noqa: F401
from . import optimize  # noqa: F401
from . import ndimage, integrate, interpolate, signal, fft  # noqa: F401
