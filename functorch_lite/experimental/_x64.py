"""`enable_x64` / `disable_x64`: switch 64-bit types on or off for a block (the
top-level `functorch_lite.enable_x64` context, restored on exit)."""
from .. import _config


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
    return _config.enable_x64(bool(new_val))


def disable_x64():
    """Context manager: 32-bit default types inside the block."""
    return _config.enable_x64(False)
