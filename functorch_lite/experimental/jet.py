"""`functorch_lite.experimental.jet`: Taylor-mode higher-order forward differentiation,
as jax.experimental.jet."""
from ._jet import jet, jet2, JetTrace, JetTracer, JET_RULES as jet_rules

__all__ = ["jet", "jet2", "JetTrace", "JetTracer", "jet_rules"]
