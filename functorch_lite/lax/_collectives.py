"""Collectives over named vmap axes: psum, pmean, pmax, all_gather, axis_index."""

__all__ = []
