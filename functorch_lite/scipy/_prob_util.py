"""Helpers shared by `scipy.special` and `scipy.stats`: argument promotion, polynomial
evaluation, and eager compilation of the public functions."""

from .. import _dtypes
from .. import numpy as jnp
from .._core import get_aval
import inspect

from .._jit import jit
from ..numpy._util import promote_to_inexact


def promote_real(name, *args):
    """Arguments promoted to a common inexact dtype; complex values are rejected."""
    args = promote_to_inexact(*args)
    if any(_dtypes.is_complex(get_aval(a).dtype) for a in args):
        raise ValueError(f"{name} does not support complex-valued inputs.")
    return args


def horner(coefficients, x):
    """sum_i c_i x^(n-1-i) (coefficients from the highest power down), as np.polyval."""
    out = jnp.zeros_like(x)
    for c in coefficients:
        out = out * x + c
    return out


def compile_eager(namespace, names, statics=None):
    """Wrap the public functions `names` of a module (its globals) in `jit`: an eager
    call runs as one compiled program, and the function body (custom derivative rules
    included) always runs on our tracers, so its arithmetic operators are ours even on
    concrete arrays. `statics` maps a function name to its non-array parameters."""
    statics = statics or {}
    for name in names.split():
        fn = namespace[name]
        params = inspect.signature(fn).parameters
        namespace[name] = jit(fn, static_argnames=tuple(
            n for n in statics.get(name, ()) if n in params))


