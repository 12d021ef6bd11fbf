"""`jax.debug`: printing and callbacks from inside transformed and compiled code."""
from ._debug_callback import debug_callback as callback, debug_print as print  # noqa: A004
from ._debug_callback import debug_log as log

__all__ = ["callback", "log", "print"]
