"""`functorch_lite.experimental.jet`: Taylor-mode higher-order forward differentiation,
as jax.experimental.jet."""
from ._jet import jet, JetTrace, JetTracer, JET_RULES as jet_rules

__all__ = ["jet", "JetTrace", "JetTracer", "jet_rules"]
