"""`functorch_lite.experimental`: JAX's `jax.experimental` modules research code uses:
`ode.odeint`, `jet`, `sparse` (BCOO arrays and `sparsify`), and the `enable_x64` /
`disable_x64` context managers."""
from ._x64 import enable_x64, disable_x64  # noqa: F401
from . import ode, jet, sparse  # noqa: F401
