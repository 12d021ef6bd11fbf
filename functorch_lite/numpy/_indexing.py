"""NumPy indexing of traced arrays, `.at[...]` updates, take, take_along_axis."""

__all__ = []
