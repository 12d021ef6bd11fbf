"""Every call into jaxlib lives here: the PJRT client, compilation, execution, and
turning host values into device arrays. A jaxlib upgrade should touch this file only."""
import functools

import numpy as np

import jax
from jax.extend.backend import get_backend
from jaxlib import _jax as _xla

from . import _dtypes

Array = jax.Array


@functools.lru_cache(maxsize=None)
def backend():
    return get_backend()


def default_device():
    return backend().local_devices()[0]


def platform():
    return backend().platform


def compile(module_text):
    """Compile StableHLO text for the default device; returns a runnable executable."""
    client = backend()
    devices = _xla.DeviceList((default_device(),))
    options = _xla.CompileOptions()
    return Executable(client.compile_and_load(module_text, devices, options))


class Executable:
    __slots__ = ("loaded", "_execute")

    def __init__(self, loaded):
        self.loaded = loaded
        self._execute = loaded.execute_sharded

    def __call__(self, args):
        """Run on device arrays; returns the list of result arrays."""
        results = self._execute(args)
        return [bufs[0] for bufs in results.disassemble_into_single_device_arrays()]

    def hlo_text(self):
        return self.loaded.hlo_modules()[0].to_string()


def to_device(x, dtype=None):
    """A jax.Array holding `x` (host value) with the given (canonical) dtype."""
    if isinstance(x, Array) and (dtype is None or x.dtype == dtype):
        return x
    value = np.asarray(x, dtype=dtype)
    return jax.device_put(value, default_device())


def is_device_array(x):
    return isinstance(x, Array)


def mark_weak(array):
    """Return `array` flagged as weakly typed (results of ops on Python scalars)."""
    from jax._src import core as jax_core
    from jax._src.array import ArrayImpl
    aval = jax_core.ShapedArray(array.shape, array.dtype, weak_type=True)
    return ArrayImpl(aval, array.sharding, [array], committed=False, _skip_checks=True)


def float0_zeros(shape):
    return np.zeros(shape, dtype=_dtypes.float0)
