"""functorch_lite: a small JAX-style library of composable function transformations.

`import functorch_lite as jax; import functorch_lite.numpy as jnp` runs ordinary JAX
code for the API we cover.
"""
from ._config import config, default_matmul_precision
from ._core import ShapedArray, ConcretizationTypeError, UnexpectedTracerError
from ._runtime import Array
from ._jit import jit, make_jaxpr, eval_shape
from ._api import jvp, linearize, vjp, grad, value_and_grad, linear_transpose
from ._jacobians import jacfwd, jacrev, hessian
from ._api_vmap import vmap
from ._custom import custom_jvp, custom_vjp
from ._checkpoint import checkpoint, remat
from ._checkpoint import checkpoint_policies
from . import (lax, numpy, tree, tree_util, nn, dtypes, random, test_util, interop,
               errors)
from . import scipy, experimental, example_libraries  # noqa: E402  (built on the above)
from ._device import device_put, devices, block_until_ready, device_get
from ._callback import pure_callback
from . import debug

from . import _array_interop, _runtime as _rt

_array_interop.install(type(_rt.to_device(0.0)))
_array_interop.install(_rt.key_array_type())
make_ir = make_jaxpr

__version__ = "0.1.0"
