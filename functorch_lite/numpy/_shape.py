"""Shape functions: reshape, transpose, concatenate, stack, split, tile, pad, ..."""

__all__ = []
