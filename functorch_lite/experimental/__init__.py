"""`functorch_lite.experimental`: JAX's `jax.experimental` modules research code uses:
`ode.odeint`, `jet`, `sparse` (BCOO arrays and `sparsify`), the `enable_x64` /
`disable_x64` context managers and `io_callback`."""
from ._x64 import enable_x64, disable_x64  # noqa: F401
from . import ode, jet, sparse  # noqa: F401
from .._callback import io_callback  # noqa: F401
