"""functorch_lite: a small JAX-style library of composable function transformations.

`import functorch_lite as jax; import functorch_lite.numpy as jnp` runs ordinary JAX
code for the API we cover.
"""
from jax import ShapeDtypeStruct, Device  # JAX's runtime types, used as they are
from ._version import __version__
from ._config import (config, default_matmul_precision, disable_jit, debug_nans,
                      debug_infs, log_compiles, enable_x64, numpy_rank_promotion,
                      numpy_dtype_promotion, explain_cache_misses)
from ._core import ShapedArray, ConcretizationTypeError, UnexpectedTracerError, typeof
from ._dtypes import float0
from ._runtime import Array
from ._jit import jit, make_jaxpr, eval_shape, clear_caches
from ._staging import ensure_compile_time_eval
from ._api import jvp, linearize, vjp, grad, value_and_grad, linear_transpose
from ._jacobians import jacfwd, jacrev, hessian
from ._jacobians import jacrev as jacobian  # JAX's alias
from ._api_vmap import vmap
from ._custom import custom_jvp, custom_vjp
from ._custom_gradient import custom_gradient, closure_convert
from ._checkpoint import checkpoint, remat
from ._named_scope import named_scope, named_call
from ._checkpoint import checkpoint_policies
from . import (lax, numpy, tree, tree_util, nn, dtypes, random, test_util, interop,
               errors, stages, dlpack, custom_batching, typing)
from . import scipy, experimental, example_libraries, image  # noqa: E402  (built on the above)
from ._device import (device_put, devices, block_until_ready, device_get, local_devices,
                      device_count, local_device_count, default_backend, default_device,
                      process_index, process_count, live_arrays, print_environment_info)
from ._callback import effects_barrier, pure_callback
from ._transfer_guard import (transfer_guard, transfer_guard_host_to_device,
                              transfer_guard_device_to_host,
                              transfer_guard_device_to_device, checking_leaks,
                              check_tracer_leaks)
from . import debug
from . import profiler
from ._ir_graph import ir_graph

from . import _array_interop, _runtime as _rt

_array_interop.install(_rt.array_type())
_array_interop.install(_rt.key_array_type())
make_ir = make_jaxpr
