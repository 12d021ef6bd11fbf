"""reduce_window (max, sum, min) and the pooling-style windowed reductions."""

__all__ = []
