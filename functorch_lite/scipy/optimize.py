"""`functorch_lite.scipy.optimize`: JAX's `jax.scipy.optimize` (minimize with BFGS) and
the strong-Wolfe `line_search` it uses."""
from ._minimize import minimize, OptimizeResults
from ._line_search import line_search

__all__ = ["minimize", "OptimizeResults", "line_search"]
