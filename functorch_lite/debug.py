"""`jax.debug`: printing and callbacks from inside transformed and compiled code."""
from ._debug_callback import debug_callback as callback, debug_print as print  # noqa: A004
from ._debug_callback import debug_log as log
from ._debug_breakpoint import breakpoint  # noqa: A004

__all__ = ["breakpoint", "callback", "log", "print"]
