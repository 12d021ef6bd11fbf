"""gather, scatter (set/add/mul/min/max), dynamic_slice and dynamic_update_slice."""

__all__ = []
