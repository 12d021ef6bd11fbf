"""Every call into jaxlib lives here: the PJRT client, compilation, execution, and
turning host values into device arrays. A jaxlib upgrade should touch this file only.

What we take from JAX's and jaxlib's private modules is imported in the block below
and listed in INTERNALS; `missing_internals()` names any that a JAX release moved
(tests/test_runtime.py fails on it, naming the versions)."""
import functools
import itertools
import time

import numpy as np

import jax
import jaxlib
from jax.extend.backend import get_backend
from jax.extend.mlir import ir

from . import _compilation_cache, _dtypes
from ._config import config
from ._errors import user_source_line


def versions():
    return f"jax {jax.__version__}, jaxlib {jaxlib.__version__}"


try:  # --- the private modules; nothing else in the package imports them ---------
    from jax._src import core as _jax_core
    from jax._src.array import ArrayImpl as _ArrayImpl
    from jax._src.interpreters import mlir as _jax_mlir
    from jax._src.random import prng as _jax_prng
    from jaxlib import _jax as _xla
    from jaxlib import lapack as _lapack
except ImportError as e:  # pragma: no cover - only on an unsupported JAX
    raise ImportError(f"functorch_lite cannot find a JAX internal it uses ({e}) in "
                      f"{versions()}; pyproject.toml lists the JAX range it supports"
                      ) from e

# (module or class, attribute, required): an optional one has a fallback here
INTERNALS = [
    (_jax_core, "ShapedArray", True),
    (_xla, "DeviceList", True),
    (_xla, "CompileOptions", True),
    (_xla, "array_result_handler", False),
    (_xla, "batched_device_put", False),
    (_jax_mlir, "make_ir_context", True),
    (_lapack, "prepare_lapack_call", True),
    (_jax_prng, "PRNGKeyArray", True),
    (_jax_prng, "KeyTy", True),
    (_jax_prng, "prngs", True),
    # host callbacks: compile_and_load(..., host_callbacks) and waiting on the token of
    # an execution with_tokens=True (without them callbacks raise NotImplementedError)
    (_xla.Client, "compile_and_load", False),
    (_xla.ExecuteResults, "consume_token", False),
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


def compile(module_text, out_avals, in_avals=(), host_callbacks=()):
    """Compile StableHLO text for the default device; returns a runnable executable
    whose results are jax.Arrays typed by `out_avals` (weak types included; typed key
    arrays where an aval has a key dtype). `in_avals` says which arguments are typed
    keys (passed to XLA as their key data). `host_callbacks[i]` is the Python function
    the module's host-callback custom call with `index = i` runs (numpy arrays in, a
    tuple of numpy arrays out)."""
    client = backend()
    devices = _xla.DeviceList((default_device(),))
    options = _xla.CompileOptions()
    if host_callbacks:  # the callbacks live in this process: never cached
        loaded = _compile_with_callbacks(client, module_text, devices, options,
                                         list(host_callbacks))
        return Executable(loaded, out_avals, in_avals, host_callbacks)
    directory = config.jax_compilation_cache_dir
    key = None
    if directory and _compilation_cache.cacheable(module_text):
        key = _compilation_cache.entry_key(module_text, _cache_environment())
        data = _compilation_cache.load(directory, key)
        if data is not None:
            try:
                loaded = client.deserialize_executable(data, devices, options)
                return Executable(loaded, out_avals, in_avals)
            except Exception:  # noqa: BLE001 - a corrupt or foreign entry: compile
                _compilation_cache.forget(directory, key)
    start = time.perf_counter()
    if hasattr(client, "compile_and_load"):
        loaded = client.compile_and_load(module_text, devices, options)
    else:  # jaxlib releases before compile_and_load
        loaded = client.compile(module_text, devices, options)
    seconds = time.perf_counter() - start
    _compilation_cache.stats["compile_seconds"] += seconds
    if key is not None and seconds >= config.jax_persistent_cache_min_compile_time_secs:
        _compilation_cache.store(directory, key, client.serialize_executable(loaded),
                                 config.jax_compilation_cache_max_size)
    return Executable(loaded, out_avals, in_avals)


# the FFI targets through which a compiled program calls Python on the host (jaxlib
# registers them; the client passes each executable its list of callbacks)
HOST_CALLBACK_TARGETS = {"cpu": "xla_ffi_python_cpu_callback",
                         "cuda": "xla_ffi_python_gpu_callback",
                         "rocm": "xla_ffi_python_gpu_callback"}


def _compile_with_callbacks(client, module_text, devices, options, callbacks):
    """jaxlib takes host callbacks only with a parsed MLIR module (not text)."""
    if not (hasattr(client, "compile_and_load")
            and hasattr(_xla.ExecuteResults, "consume_token")):
        raise NotImplementedError(
            f"host callbacks (pure_callback, io_callback, debug.print, debug.callback) "
            f"need the PJRT client's compile_and_load(..., host_callbacks=...) and "
            f"ExecuteResults.consume_token, which {versions()} lacks; use jax and "
            f"jaxlib 0.10.2 to 0.12")
    with _jax_mlir.make_ir_context():
        module = ir.Module.parse(module_text)
        try:
            return client.compile_and_load(module, devices, options, callbacks)
        except TypeError as e:
            raise NotImplementedError(
                f"this jaxlib's compile_and_load does not take host callbacks "
                f"({versions()}: {e}); pure_callback and debug callbacks cannot run "
                f"under jit here. Fix: use jax and jaxlib 0.10.2 to 0.12") from e


@functools.lru_cache(maxsize=1)
def _cache_environment():
    """What a compiled executable depends on besides its program."""
    device = default_device()
    return (f"{versions()} {device.platform} {getattr(device, 'device_kind', '')} "
            f"{getattr(backend(), 'platform_version', '')}")


@functools.lru_cache(maxsize=4096)  # one per shape: bounded
def _result_handler(shape, dtype, weak_type):
    sharding = jax.sharding.SingleDeviceSharding(default_device())
    aval = _jax_core.ShapedArray(shape, dtype, weak_type=weak_type)
    return _xla.array_result_handler(aval, sharding, False, True)


class Executable:
    """A loaded executable. Results are built by jaxlib's C++ result handlers; if this
    jaxlib lacks them, results are disassembled into arrays in Python instead."""
    __slots__ = ("loaded", "_execute", "_handlers", "_out_avals", "_key_ins", "_key_outs",
                 "_has_keys", "_host_callbacks")

    def __init__(self, loaded, out_avals, in_avals=(), host_callbacks=()):
        self.loaded = loaded
        self._execute = loaded.execute_sharded
        self._host_callbacks = tuple(host_callbacks)  # alive as long as the executable
        if self._host_callbacks:  # wait for the callbacks' side effects, as JAX
            self._execute = self._execute_and_wait
        self._key_ins = [i for i, a in enumerate(in_avals) if is_key_dtype(a.dtype)]
        self._key_outs = [(i, a.dtype) for i, a in enumerate(out_avals)
                          if is_key_dtype(a.dtype)]
        self._has_keys = bool(self._key_ins or self._key_outs)
        self._out_avals = [physical_aval(a) for a in out_avals]
        try:
            self._handlers = [_result_handler(a.shape, a.dtype, a.weak_type)
                              for a in self._out_avals]
        except (AttributeError, TypeError):
            self._handlers = None

    def __call__(self, args):
        """Run on device arrays; returns the list of result arrays."""
        if not next(_executions) % 256:
            _collect_garbage()
        if self._has_keys:  # typed keys go in as their data; key results are wrapped
            args = list(args)
            for i in self._key_ins:
                args[i] = key_data(args[i])
            outs = self._run(args)
            for i, dtype in self._key_outs:
                outs[i] = wrap_key_data(outs[i], dtype)
            return outs
        return self._run(args)

    def _execute_and_wait(self, args):
        """Run, and return once every host callback of this execution has run (its
        prints appear before the call returns; its exceptions are raised here)."""
        results = self.loaded.execute_sharded(args, with_tokens=True)
        results.consume_token().block_until_ready()
        return results

    def _run(self, args):
        try:
            results = self._execute(args)
        except jax.errors.JaxRuntimeError:
            problem = off_default_device(args)
            if problem:
                raise NotImplementedError(problem) from None
            raise
        if self._handlers is not None:
            outs = results.consume_with_handlers(self._handlers)
        else:
            outs = [bufs[0] for bufs in results.disassemble_into_single_device_arrays()]
            outs = [mark_weak(x) if a.weak_type else x for x, a in zip(outs, self._out_avals)]
        if config.jax_debug_nans or config.jax_debug_infs:
            _check_floats(outs, self.loaded)
        return outs

    def hlo_text(self):
        return self.loaded.hlo_modules()[0].to_string()

    def cost_analysis(self):
        """XLA's cost estimate: a dict with "flops", "bytes accessed", ..."""
        costs = self.loaded.cost_analysis()
        return costs[0] if isinstance(costs, (list, tuple)) else costs

    def memory_analysis(self):
        """XLA's memory statistics (argument, output, temporary and code sizes)."""
        return self.loaded.get_compiled_memory_stats()


_executions = itertools.count(1)


def off_default_device(args):
    """The error message for an argument that lives elsewhere than the default device
    (sharded over several devices, or on another one; programs run on that one device),
    or None. Asked after jaxlib refused an execution, so the common path pays nothing."""
    default = default_device()
    for i, arg in enumerate(args):
        devices = getattr(getattr(arg, "sharding", None), "device_set", {default})
        if devices != {default}:
            where = (f"sharded over {len(devices)} devices ({arg.sharding})"
                     if len(devices) > 1 else f"on device {next(iter(devices))}")
            return (f"Argument {i} of this computation is {where}, but functorch_lite "
                    f"runs every computation on the default device {default}: sharded "
                    f"and multi-device computation is not supported yet. Move the value "
                    f"with jax.device_put(x, jax.devices()[0]) first.")
    return None


def _collect_garbage():
    """jaxlib releases the Python references an execution drops off the main thread
    only in `collect_garbage`, which JAX runs from a gc callback; a steady loop of calls
    may never trigger the gc, so we run it every few hundred executions (without it,
    a million cached jit calls grow resident memory by about 9 MB)."""
    _xla.collect_garbage()


def _check_floats(outs, loaded):
    """FloatingPointError if an output has a NaN (under jax_debug_nans) or an infinity
    (under jax_debug_infs), as JAX's checks."""
    for x in outs:
        if not _dtypes.is_inexact(x.dtype):
            continue
        value = np.asarray(x)
        for flag, kind, test in (("jax_debug_nans", "nan", np.isnan),
                                 ("jax_debug_infs", "inf", np.isinf)):
            if config.read(flag) and test(value).any():
                name = loaded.hlo_modules()[0].name
                if name.startswith("jit_"):  # a jitted function (rerun op by op by jit)
                    name = f"jit({name[4:]})"
                raise FloatingPointError(
                    f"invalid value ({kind}) encountered in {name} ({flag} is on).\n"
                    f"  at {user_source_line()}")


X64_DTYPES = frozenset(map(np.dtype, (np.float64, np.int64, np.uint64, np.complex128)))


def to_device(x, dtype=None):
    """A jax.Array holding `x` (host value) with the given dtype (default: the
    canonical dtype of `x` under functorch_lite's x64 setting)."""
    if isinstance(x, Array) and (dtype is None or x.dtype == dtype):
        return x
    if isinstance(x, jax.ShapeDtypeStruct):  # JAX's class for this mistake
        shape = ",".join(map(str, x.shape))
        raise TypeError(
            f"A jax.ShapeDtypeStruct ({x.dtype}[{shape}]) was given where a value is "
            f"computed with; it has a shape and dtype but no values. Pass an array, "
            f"or use it where only shapes are needed: eval_shape, make_jaxpr, "
            f"jit(f).lower or jit(f).trace.")
    value = np.asarray(x, dtype=dtype)
    if dtype is None:
        value = value.astype(_dtypes.canonicalize_dtype(value.dtype), copy=False)
    aval, sharding, devices = _put_target(value.shape, value.dtype)
    if value.dtype in X64_DTYPES and not jax.enable_x64.value:
        # jaxlib squashes 64-bit host values to 32 bits unless JAX's own x64 flag is
        # on; it is switched on for this thread and this call only, so functorch_lite's
        # setting never changes JAX's
        with jax.enable_x64(True):
            return _put(value, aval, sharding, devices)
    return _put(value, aval, sharding, devices)


def _put(value, aval, sharding, devices):
    if _HAS_BATCHED_PUT:
        return _xla.batched_device_put(aval, sharding, [value], devices, False, True)
    return jax.device_put(value, devices[0])


_HAS_BATCHED_PUT = hasattr(_xla, "batched_device_put")


@functools.lru_cache(maxsize=4096)  # one per shape: bounded
def _put_target(shape, dtype):
    device = default_device()
    return (_jax_core.ShapedArray(shape, dtype), jax.sharding.SingleDeviceSharding(device),
            [device])


# --- typed PRNG key arrays: JAX's own key arrays over uint32 key data --------------

def key_dtype(impl_name):
    """JAX's key dtype (`key<fry>` for threefry2x32) of a PRNG implementation."""
    return _jax_prng.KeyTy(_jax_prng.prngs[impl_name])


def is_key_dtype(dtype):
    return isinstance(dtype, _jax_prng.KeyTy)


def key_impl_name(dtype):
    return dtype._impl.name


def key_data_shape(dtype):
    """The trailing shape of one key's data: (2,) for threefry2x32."""
    return tuple(dtype._impl.key_shape)


def physical_aval(aval):
    """The uint32 array holding the data of a key array (other avals unchanged)."""
    if isinstance(aval.dtype, np.dtype):
        return aval
    return aval.update(shape=(*aval.shape, *key_data_shape(aval.dtype)),
                       dtype=np.uint32, weak_type=False)


def wrap_key_data(data, dtype):
    """A typed key array (JAX's PRNGKeyArray) over the uint32 device array `data`."""
    return _jax_prng.PRNGKeyArray(dtype._impl, data)


def key_data(keys):
    """The uint32 device array under a typed key array."""
    return keys._base_array


def key_array_type():
    return _jax_prng.PRNGKeyArray


def array_type():
    """The class of concrete `jax.Array`s (named without creating one: importing the
    package must not start a backend, so `jax.distributed.initialize` can follow it)."""
    return _ArrayImpl


def parse_module(text):
    """A StableHLO module text (ours or JAX's) parsed by jaxlib's MLIR, printed in the
    generic operation form: one canonical spelling for comparing programs."""
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

