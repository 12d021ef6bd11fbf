"""sort (multi-operand, num_keys, stable) and top_k."""

__all__ = []
