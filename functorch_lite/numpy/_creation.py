"""Array creation: zeros, ones, full, arange, linspace, eye, tri, meshgrid, ..."""

__all__ = []
