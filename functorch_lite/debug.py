"""`jax.debug`: printing and callbacks from inside transformed and compiled code."""
from ._callback import debug_callback as callback, debug_print as print  # noqa: A004

__all__ = ["callback", "print"]
