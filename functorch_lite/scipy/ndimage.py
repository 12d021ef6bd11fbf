"""`functorch_lite.scipy.ndimage`: `map_coordinates` (orders 0 and 1, the boundary
modes of JAX's), as jax.scipy.ndimage."""
import functools
import itertools
import operator

import numpy as np

from .. import _dtypes, lax
from .. import numpy as jnp
from ._util import inline_jit

__all__ = ["map_coordinates"]


def _mirror(index, size):
    s = size - 1   # half-wavelength of the triangular wave
    return jnp.abs((index + s) % (2 * s) - s)


def _reflect(index, size):
    return jnp.floor_divide(_mirror(2 * index + 1, 2 * size + 1) - 1, 2)


_INDEX_FIXERS = {
    "constant": lambda index, size: index,
    "nearest": lambda index, size: jnp.clip(index, 0, size - 1),
    "wrap": lambda index, size: index % size,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _round_half_away_from_zero(a):
    return a if _dtypes.is_integer(a.dtype) else lax.round(a)


def _nearest_nodes(coordinate):
    return [(_round_half_away_from_zero(coordinate).astype(np.int32), 1)]


def _linear_nodes(coordinate):
    lower = jnp.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.astype(np.int32)
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


@inline_jit("order", "mode")
def _map_coordinates(input, coordinates, order, mode, cval):
    input = jnp.asarray(input)
    coordinates = [jnp.asarray(c) for c in coordinates]
    cval = jnp.asarray(cval, input.dtype)
    if len(coordinates) != input.ndim:
        raise ValueError(f"coordinates must be a sequence of length input.ndim, but "
                         f"{len(coordinates)} != {input.ndim}")
    fix_index = _INDEX_FIXERS.get(mode)
    if fix_index is None:
        raise NotImplementedError(f"map_coordinates does not yet support mode {mode} (as "
                                  f"JAX). Supported modes are {sorted(_INDEX_FIXERS)}.")
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1 (as JAX)")
    nodes = _nearest_nodes if order == 0 else _linear_nodes
    per_axis = []
    for coordinate, size in zip(coordinates, input.shape):
        per_axis.append([(fix_index(index, size),
                          (0 <= index) & (index < size) if mode == "constant" else True,
                          weight) for index, weight in nodes(coordinate)])
    outputs = []
    for corner in itertools.product(*per_axis):
        indices, validities, weights = zip(*corner)
        contribution = input[indices]
        if not all(valid is True for valid in validities):
            contribution = jnp.where(functools.reduce(operator.and_, validities),
                                     contribution, cval)
        outputs.append(functools.reduce(operator.mul, weights) * contribution)
    result = functools.reduce(operator.add, outputs)
    if _dtypes.is_integer(input.dtype):
        result = _round_half_away_from_zero(result)
    return result.astype(input.dtype)


def map_coordinates(input, coordinates, order, mode="constant", cval=0.0):
    """Values of `input` at fractional `coordinates` (one array per axis of input) by
    nearest (order=0) or linear (order=1) interpolation; outside the grid `mode`
    ('constant' (cval), 'nearest', 'wrap', 'mirror', 'reflect') decides.

    >>> import numpy as np
    >>> from functorch_lite.scipy.ndimage import map_coordinates
    >>> image = np.arange(12.0).reshape(4, 3)
    >>> np.asarray(map_coordinates(image, [np.array([0.5, 2.0]), np.array([0.5, 1.0])],
    ...                            order=1)).tolist()
    [2.0, 7.0]
    """
    return _map_coordinates(input, list(coordinates), order, mode, cval)
