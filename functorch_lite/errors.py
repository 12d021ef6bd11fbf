"""`functorch_lite.errors`: the error classes of `jax.errors` that user mistakes raise.

Each subclasses JAX's class of the same name (so `except jax.errors.X` catches it too).
`api_boundary` and `register_exclusion` are for libraries built on functorch_lite (nn
uses them): errors escaping an `api_boundary` entry point lose the frames of the
registered library directories (see `jax_traceback_filtering` in `config`).
`RecompilationWarning` (ours) is warned when a jitted function keeps recompiling for
the same reason (see `jit(f).cache_info()`).
"""
__all__ = ["ConcretizationTypeError", "NonConcreteBooleanIndexError",
           "TracerArrayConversionError", "TracerBoolConversionError",
           "TracerIntegerConversionError", "UnexpectedTracerError", "RecompilationWarning",
           "api_boundary", "register_exclusion"]

from ._errors import (ConcretizationTypeError, NonConcreteBooleanIndexError,  # noqa: F401
                      TracerArrayConversionError, TracerBoolConversionError,
                      TracerIntegerConversionError, UnexpectedTracerError)
from ._traceback_util import api_boundary, register_exclusion  # noqa: F401
from ._cache_explain import RecompilationWarning  # noqa: F401
