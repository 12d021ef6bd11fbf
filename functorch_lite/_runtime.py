"""Every call into jaxlib lives here: the PJRT client, compilation, execution, and
turning host values into device arrays. A jaxlib upgrade should touch this file only.

What we take from JAX's and jaxlib's private modules is imported in the block below
and listed in INTERNALS; `missing_internals()` names any that a JAX release moved
(tests/test_runtime.py fails on it, naming the versions)."""
import functools

import numpy as np

import jax
import jaxlib
from jax.extend.backend import get_backend

from . import _dtypes
from ._config import config


def versions():
    return f"jax {jax.__version__}, jaxlib {jaxlib.__version__}"


try:  # --- the private modules; nothing else in the package imports them ---------
    from jax._src import core as _jax_core
    from jax._src.array import ArrayImpl as _ArrayImpl
    from jax._src.interpreters import mlir as _jax_mlir
    from jaxlib import _jax as _xla
    from jaxlib import lapack as _lapack
except ImportError as e:  # pragma: no cover - only on an unsupported JAX
    raise ImportError(f"functorch_lite cannot find a JAX internal it uses ({e}) in "
                      f"{versions()}; pyproject.toml lists the JAX range it supports"
                      ) from e

# (module, attribute, required): an optional one has a slower fallback here
INTERNALS = [
    (_jax_core, "ShapedArray", True),
    (_xla, "DeviceList", True),
    (_xla, "CompileOptions", True),
    (_xla, "array_result_handler", False),
    (_xla, "batched_device_put", False),
    (_jax_mlir, "make_ir_context", True),
    (_lapack, "prepare_lapack_call", True),
]


def missing_internals():
    """'module.attribute' for each internal in INTERNALS this JAX lacks."""
    return [f"{module.__name__}.{name}" for module, name, _ in INTERNALS
            if not hasattr(module, name)]

Array = jax.Array


@functools.lru_cache(maxsize=None)
def backend():
    return get_backend()


def default_device():
    return backend().local_devices()[0]


def platform():
    """The platform programs run on, as JAX names lowering platforms: 'cpu', 'cuda',
    'rocm' or 'tpu' (PJRT calls both GPU kinds 'gpu')."""
    name = backend().platform
    if name == "gpu":
        return "rocm" if "rocm" in backend().platform_version.lower() else "cuda"
    return name


def lapack_target(fn_base, dtype):
    """Custom-call target of jaxlib's LAPACK FFI kernel `fn_base` ('getrf_ffi', ...) for
    `dtype` (e.g. 'lapack_sgetrf_ffi'); loads LAPACK (from SciPy) into jaxlib first."""
    return _lapack.prepare_lapack_call(fn_base, np.dtype(dtype))


def compile(module_text, out_avals):
    """Compile StableHLO text for the default device; returns a runnable executable
    whose results are jax.Arrays typed by `out_avals` (weak types included)."""
    client = backend()
    devices = _xla.DeviceList((default_device(),))
    options = _xla.CompileOptions()
    if hasattr(client, "compile_and_load"):
        loaded = client.compile_and_load(module_text, devices, options)
    else:  # jaxlib releases before compile_and_load
        loaded = client.compile(module_text, devices, options)
    return Executable(loaded, out_avals)


@functools.lru_cache(maxsize=None)
def _result_handler(shape, dtype, weak_type):
    sharding = jax.sharding.SingleDeviceSharding(default_device())
    aval = _jax_core.ShapedArray(shape, dtype, weak_type=weak_type)
    return _xla.array_result_handler(aval, sharding, False, True)


class Executable:
    """A loaded executable. Results are built by jaxlib's C++ result handlers; if this
    jaxlib lacks them, results are disassembled into arrays in Python instead."""
    __slots__ = ("loaded", "_execute", "_handlers", "_out_avals")

    def __init__(self, loaded, out_avals):
        self.loaded = loaded
        self._execute = loaded.execute_sharded
        self._out_avals = list(out_avals)
        try:
            self._handlers = [_result_handler(a.shape, a.dtype, a.weak_type)
                              for a in out_avals]
        except (AttributeError, TypeError):
            self._handlers = None

    def __call__(self, args):
        """Run on device arrays; returns the list of result arrays."""
        if self._handlers is not None:
            outs = self._execute(args).consume_with_handlers(self._handlers)
        else:
            outs = [bufs[0] for bufs in
                    self._execute(args).disassemble_into_single_device_arrays()]
            outs = [mark_weak(x) if a.weak_type else x for x, a in zip(outs, self._out_avals)]
        if config.jax_debug_nans:
            _check_nans(outs, self.loaded)
        return outs

    def hlo_text(self):
        return self.loaded.hlo_modules()[0].to_string()


def _check_nans(outs, loaded):
    for x in outs:
        if _dtypes.is_inexact(x.dtype) and np.isnan(np.asarray(x)).any():
            name = loaded.hlo_modules()[0].name
            raise FloatingPointError(f"invalid value (nan) encountered in {name} "
                                     f"(jax_debug_nans is on)")


def to_device(x, dtype=None):
    """A jax.Array holding `x` (host value) with the given (canonical) dtype."""
    if isinstance(x, Array) and (dtype is None or x.dtype == dtype):
        return x
    value = np.asarray(x, dtype=dtype)
    aval, sharding, devices = _put_target(value.shape, value.dtype)
    if _HAS_BATCHED_PUT:
        return _xla.batched_device_put(aval, sharding, [value], devices, False, True)
    return jax.device_put(value, devices[0])


_HAS_BATCHED_PUT = hasattr(_xla, "batched_device_put")


@functools.lru_cache(maxsize=None)
def _put_target(shape, dtype):
    device = default_device()
    return (_jax_core.ShapedArray(shape, dtype), jax.sharding.SingleDeviceSharding(device),
            [device])


def parse_module(text):
    """A StableHLO module text (ours or JAX's) parsed by jaxlib's MLIR, printed in the
    generic operation form: one canonical spelling for comparing programs."""
    from jax.extend.mlir import ir
    with _jax_mlir.make_ir_context():
        return ir.Module.parse(text).operation.get_asm(print_generic_op_form=True)


def is_device_array(x):
    return isinstance(x, Array)


def mark_weak(array):
    """Return `array` flagged as weakly typed (results of ops on Python scalars)."""
    aval = _jax_core.ShapedArray(array.shape, array.dtype, weak_type=True)
    return _ArrayImpl(aval, array.sharding, [array], committed=False, _skip_checks=True)


def float0_zeros(shape):
    return np.zeros(shape, dtype=_dtypes.float0)


def set_x64(enabled):
    jax.config.update("jax_enable_x64", bool(enabled))
