"""`functorch_lite.scipy.interpolate`: `RegularGridInterpolator` (linear and nearest),
as jax.scipy.interpolate; a pytree, so it can be passed through transformations."""
import itertools

import numpy as np

from .. import numpy as jnp
from .._core import get_aval
from ..tree_util import register_pytree_node
from ._util import inexact_arrays, inline_jit

__all__ = ["RegularGridInterpolator"]


def _coordinates_from_arrays(points, ndim):
    """Sample points as one (..., ndim) array (from a tuple of coordinate arrays or an
    array whose last axis holds the coordinates)."""
    if isinstance(points, tuple) and len(points) == 1:
        points = points[0]
    if isinstance(points, tuple):
        arrays = jnp.broadcast_arrays(*[jnp.asarray(p) for p in points])
        return jnp.stack(inexact_arrays(*arrays), axis=-1)
    points = jnp.asarray(points)
    return points.reshape(-1, ndim) if points.ndim == 1 else points


class RegularGridInterpolator:
    """Interpolation on a rectilinear grid: `points` is one increasing 1-d array per
    dimension, `values` the data on the grid (extra trailing dimensions are vector
    values); method 'linear' or 'nearest'; outside the grid the result is
    `fill_value` (None: extrapolate). `bounds_error=True` cannot be checked under jit
    and raises NotImplementedError (as JAX).

    >>> import numpy as np
    >>> from functorch_lite.scipy.interpolate import RegularGridInterpolator
    >>> grid = (np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0]))
    >>> values = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> np.asarray(RegularGridInterpolator(grid, values)(np.array([[0.5, 0.5]]))).tolist()
    [1.5]
    """

    def __init__(self, points, values, method="linear", bounds_error=False,
                 fill_value=np.nan):
        if method not in ("linear", "nearest"):
            raise ValueError(f"method {method!r} is not defined")
        self.method, self.bounds_error = method, bounds_error
        if bounds_error:
            raise NotImplementedError("`bounds_error` takes no effect under JIT (as JAX); "
                                      "use bounds_error=False")
        values = jnp.asarray(values)
        if len(points) > values.ndim:
            raise ValueError(f"there are {len(points)} point arrays, but values has "
                             f"{values.ndim} dimensions")
        (values,) = inexact_arrays(values)
        if fill_value is not None:
            fill_value = jnp.asarray(fill_value)
            if not np.can_cast(get_aval(fill_value).dtype, values.dtype, "same_kind"):
                raise ValueError("fill_value must be either 'None' or of a type compatible "
                                 "with values")
        self.fill_value = fill_value
        self.grid = tuple(jnp.asarray(p) for p in points)
        self.values = values

    def __call__(self, xi, method=None):
        method = self.method if method is None else method
        if method not in ("linear", "nearest"):
            raise ValueError(f"method {method!r} is not defined")
        return _interpolate(self.grid, self.values, self.fill_value, xi, method)


def _find_indices(grid, xi):
    """Per dimension: the cell index of each point, its normalised distance from the
    cell's lower edge, and whether any coordinate lies outside the grid."""
    indices, distances = [], []
    out_of_bounds = jnp.zeros((xi.shape[1],), dtype=bool)
    for x, g in zip(xi, grid):
        i = jnp.clip(jnp.searchsorted(g, x) - 1, 0, g.size - 2)
        indices.append(i)
        distances.append((x - g[i]) / (g[i + 1] - g[i]))
        out_of_bounds = out_of_bounds | (x < g[0]) | (x > g[-1])
    return indices, distances, out_of_bounds


def _evaluate_linear(values, indices, distances):
    trailing = (slice(None),) + (None,) * (values.ndim - len(indices))
    total = 0.
    for corner in itertools.product(*[[i, i + 1] for i in indices]):
        weight = 1.
        for ci, i, d in zip(corner, indices, distances):
            weight = weight * jnp.where(ci == i, 1 - d, d)
        total = total + values[corner] * weight[trailing]
    return total


@inline_jit("method")
def _interpolate(grid, values, fill_value, xi, method):
    ndim = len(grid)
    xi = _coordinates_from_arrays(xi, ndim)
    if xi.shape[-1] != ndim:
        raise ValueError(f"the requested sample points xi have dimension {xi.shape[-1]}, "
                         f"but this RegularGridInterpolator has dimension {ndim}")
    indices, distances, out_of_bounds = _find_indices(grid, xi.reshape(-1, ndim).T)
    if method == "linear":
        result = _evaluate_linear(values, indices, distances)
    else:
        result = values[tuple(jnp.where(d <= .5, i, i + 1)
                              for i, d in zip(indices, distances))]
    if fill_value is not None:
        mask = out_of_bounds.reshape(result.shape[:1] + (1,) * (result.ndim - 1))
        result = jnp.where(mask, fill_value, result)
    return result.reshape(xi.shape[:-1] + values.shape[ndim:])


register_pytree_node(
    RegularGridInterpolator,
    lambda obj: ((obj.grid, obj.values, obj.fill_value), (obj.method, obj.bounds_error)),
    lambda aux, children: RegularGridInterpolator(*children[:2], *aux, *children[2:]))
