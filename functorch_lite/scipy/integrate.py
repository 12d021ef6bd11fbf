"""`functorch_lite.scipy.integrate`: `trapezoid`, as jax.scipy.integrate."""
from .. import numpy as jnp
from ._util import inexact_arrays, inline_jit

__all__ = ["trapezoid"]


@inline_jit("axis")
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y along `axis` by the composite trapezoidal rule, with sample
    points x (or spacing dx).

    >>> from functorch_lite.scipy.integrate import trapezoid
    >>> float(trapezoid([1.0, 2.0, 3.0], dx=0.5))
    2.0
    """
    if x is None:
        (y,) = inexact_arrays(y)
        dx = jnp.asarray(dx)
        if dx.ndim > 0:
            dx = jnp.moveaxis(jnp.expand_dims(dx, tuple(range(y.ndim - dx.ndim))), axis, -1)
    else:
        y, x = inexact_arrays(y, x)
        dx = jnp.diff(x) if x.ndim == 1 else jnp.moveaxis(jnp.diff(x, axis=axis), axis, -1)
    y = jnp.moveaxis(y, axis, -1)
    if dx.ndim == 0 or dx.shape[-1] == 1:   # constant spacing along the axis
        dx = dx if dx.ndim == 0 else dx[..., 0]
        return dx * (y.sum(-1) - 0.5 * (y[..., 0] + y[..., -1]))
    return 0.5 * (dx * (y[..., 1:] + y[..., :-1])).sum(-1)
