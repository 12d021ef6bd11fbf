"""Transfer guards and leak checking.

The transfer guards are JAX's own (`jax.transfer_guard` and its per-direction forms):
functorch_lite's arrays are jax.Arrays moved by JAX's runtime, so the guard sees every
transfer we make. As in JAX, an implicit transfer (a NumPy array passed to `jit` or an
operation, `jnp.asarray(np_array)`, `float(x)`) obeys "disallow", while `device_put`
and `device_get` are explicit and only refused by "disallow_explicit"
(`explicit_transfer`).

Leak checking (`jax.checking_leaks`) is not implemented: a leaked tracer is reported
when it is used (`UnexpectedTracerError`), not when it escapes.
"""
import contextlib

import jax


def transfer_guard(new_val):
    """A block in which every transfer obeys `new_val` ("allow", "log", "disallow",
    "log_explicit", "disallow_explicit"), as `jax.transfer_guard` (JAX's guard)."""
    return jax.transfer_guard(new_val)


def transfer_guard_host_to_device(new_val):
    """`transfer_guard` for host-to-device transfers only."""
    return jax.transfer_guard_host_to_device(new_val)


def transfer_guard_device_to_host(new_val):
    """`transfer_guard` for device-to-host transfers only."""
    return jax.transfer_guard_device_to_host(new_val)


def transfer_guard_device_to_device(new_val):
    """`transfer_guard` for device-to-device transfers only."""
    return jax.transfer_guard_device_to_device(new_val)


_DIRECTIONS = {"host_to_device": transfer_guard_host_to_device,
               "device_to_host": transfer_guard_device_to_host}


def explicit_transfer(direction):
    """A block whose transfers in `direction` are explicit (`device_put`,
    `device_get`): allowed under the guard levels that only refuse or log implicit
    transfers, as JAX's."""
    level = getattr(jax.config, f"jax_transfer_guard_{direction}")
    if level in ("disallow", "log"):
        return _DIRECTIONS[direction]("allow")
    return contextlib.nullcontext()


def _no_leak_checker(what):
    raise NotImplementedError(
        f"{what}: functorch_lite does not check for leaked tracers when a "
        f"transformation ends; a leaked tracer is reported (UnexpectedTracerError) "
        f"where it is used afterwards. Remove the {what} call.")


@contextlib.contextmanager
def checking_leaks():
    """Not implemented: raises NotImplementedError (see the module docstring)."""
    _no_leak_checker("checking_leaks()")
    yield  # never reached


def check_tracer_leaks(enabled=True):
    """`check_tracer_leaks(False)` is a no-op block; enabling the check raises
    NotImplementedError (see the module docstring)."""
    if enabled:
        _no_leak_checker(f"check_tracer_leaks({enabled!r})")
    return contextlib.nullcontext()
