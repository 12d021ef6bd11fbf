"""`functorch_lite.experimental.ode`: `odeint`, as jax.experimental.ode."""
from ._ode import odeint

__all__ = ["odeint"]
