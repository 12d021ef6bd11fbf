"""Moving values to and from the device, and the device queries of `jax` (answered
by JAX's runtime, which functorch_lite runs on)."""
import contextlib

import jax
import numpy as np
from jax import tree_util

from . import _runtime
from ._core import Tracer, get_aval
from ._transfer_guard import explicit_transfer
from ._version import __version__
from .lax._barriers import device_put_p


def check_device(device, what):
    """functorch_lite runs everything on the default device: `device` (a jax Device or
    Sharding) may only name that one."""
    if device is None:
        return
    default = _runtime.default_device()
    devices = getattr(device, "device_set", {device})
    if devices != {default}:
        raise NotImplementedError(
            f"{what}(device={device}): functorch_lite runs every computation on the "
            f"default device {default}; other devices and shardings are not supported.")


def device_put(x, device=None):
    """Put every leaf of `x` on the default device as a jax.Array (`device` may only
    name that device; traced values pass through `lax.device_put_p`, the identity on
    one device)."""
    check_device(device, "device_put")

    def put(v):
        if isinstance(v, Tracer):
            return device_put_p.bind(v, devices=(None,), srcs=(None,),
                                     copy_semantics=("align",))[0]
        return _runtime.to_device(v, get_aval(v).dtype)
    with explicit_transfer("host_to_device"):
        return tree_util.tree_map(put, x)


def device_get(x):
    """Every array leaf of `x` as a NumPy array on the host (waits for it)."""
    with explicit_transfer("device_to_host"):
        return tree_util.tree_map(np.asarray, x)


def devices(backend=None):
    """The devices of `backend` (default: the default backend, on whose first device
    functorch_lite computes), as `jax.devices`."""
    return jax.devices(backend)


def local_devices(process_index=None, backend=None):
    """The devices this process drives, as `jax.local_devices`."""
    return jax.local_devices(process_index, backend)


def device_count(backend=None):
    """The number of devices of `backend`, as `jax.device_count`."""
    return jax.device_count(backend)


def local_device_count(backend=None):
    """The number of devices this process drives, as `jax.local_device_count`."""
    return jax.local_device_count(backend)


def default_backend():
    """The default backend's platform: 'cpu', 'gpu' or 'tpu', as `jax.default_backend`."""
    return jax.default_backend()


def process_index(backend=None):
    """This process's index among the processes (0 on one host), as `jax.process_index`."""
    return jax.process_index(backend)


def process_count(backend=None):
    """The number of processes (1 on one host), as `jax.process_count`."""
    return jax.process_count(backend)


def live_arrays(platform=None):
    """Every jax.Array alive on `platform`'s devices (ours included), as
    `jax.live_arrays`."""
    return jax.live_arrays(platform)


def print_environment_info(return_string=False):
    """The functorch_lite version, then JAX's environment report (jax, jaxlib, numpy,
    Python, devices), as `jax.print_environment_info`."""
    info = (f"functorch_lite: {__version__}\n"
            f"{jax.print_environment_info(return_string=True)}")
    if return_string:
        return info
    print(info)


@contextlib.contextmanager
def default_device(device):
    """`with default_device(d):` as JAX's, for the one device functorch_lite computes
    on (`d` may be None or that device; any other raises NotImplementedError)."""
    check_device(device, "default_device")
    yield


def block_until_ready(x):
    """Wait until every array leaf of `x` is computed; returns `x`."""
    for leaf in tree_util.tree_leaves(x):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return x
