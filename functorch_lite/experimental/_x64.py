"""`enable_x64` / `disable_x64`: switch 64-bit types on or off for a block (through
`functorch_lite.config`, restored on exit)."""
import contextlib

from .._config import config


@contextlib.contextmanager
def _x64(enabled):
    previous = config.jax_enable_x64
    config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        config.update("jax_enable_x64", previous)


def enable_x64(new_val=True):
    """Context manager: 64-bit types (float64, int64) inside the block.

    >>> import functorch_lite.numpy as jnp
    >>> from functorch_lite.experimental import enable_x64
    >>> with enable_x64():
    ...     print(jnp.ones(2).dtype)
    float64
    >>> print(jnp.ones(2).dtype)
    float32
    """
    return _x64(bool(new_val))


def disable_x64():
    """Context manager: 32-bit default types inside the block."""
    return _x64(False)
