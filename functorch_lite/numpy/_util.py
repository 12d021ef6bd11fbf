"""Array conversion, JAX-style type promotion with weak Python scalars, and NumPy
broadcasting, on top of lax primitives."""
__all__ = ["asarray", "result_type", "broadcast_shapes"]
import functools
import warnings

import numpy as np

from .. import _dtypes, lax
from .._config import config
from .._core import Tracer, get_aval, user_source_line
from .._jit import jit
from .._runtime import mark_weak, to_device
from ..lax._composites import broadcast_to_shape, common_shape


def check_no_out(out, name):
    """JAX arrays are immutable: NumPy's `out=` cannot be honoured, so it raises."""
    if out is not None:
        raise NotImplementedError(f"The 'out' argument to jnp.{name} is not supported: "
                                  f"arrays are immutable, use the returned value.")


def is_scalar(x):
    """A Python scalar (weakly typed); NumPy scalars such as np.float64 are not."""
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


def asarray(x, dtype=None):
    """`jnp.asarray`: arrays and tracers pass through; host values become arrays."""
    if dtype is not None:
        dtype = _dtypes.canonicalize_dtype(dtype)
    if isinstance(x, Tracer) or hasattr(x, "aval"):
        return x if dtype is None else lax.convert_element_type(x, dtype)
    if isinstance(x, (list, tuple)):
        if any(isinstance(e, Tracer) or hasattr(e, "aval") for e in _flatten(x)):
            from ._shape import stack  # _shape imports this module
            return stack([asarray(e, dtype) for e in x])
    if is_scalar(x):
        aval = get_aval(x)
        out = to_device(x, dtype or aval.dtype)
        return mark_weak(out) if dtype is None and aval.weak_type else out
    value = np.asarray(x)
    if value.dtype == object:
        raise TypeError(f"cannot convert {type(x).__name__} to an array")
    return to_device(value, dtype or _dtypes.canonicalize_dtype(value.dtype))


def _flatten(xs):
    for e in xs:
        if isinstance(e, (list, tuple)):
            yield from _flatten(e)
        else:
            yield e


def result_type(*args):
    """Promoted dtype of arrays, dtypes and Python scalars (weak), as jnp.result_type."""
    return _result_type_weak(*args)[0]


def _result_type_weak(*args):
    pairs = []
    for a in args:
        if isinstance(a, (np.dtype, type)) or isinstance(a, str):
            pairs.append((np.dtype(a), False))
        else:
            aval = get_aval(a)
            pairs.append((aval.dtype, aval.weak_type))
    return _dtypes.result_type_of(pairs)


def promote_dtypes(*args):
    """Convert all args to their common (possibly weak) dtype."""
    if len(args) < 2:
        return [lax.convert_element_type(a, get_aval(a).dtype, get_aval(a).weak_type)
                if is_scalar(a) else a for a in args]
    dtype, weak = _result_type_weak(*args)
    out = []
    for a in args:
        aval = get_aval(a)
        if is_scalar(a):
            out.append(lax.full((), a, dtype, weak_type=weak))
        elif aval.dtype != dtype or aval.weak_type != weak:
            out.append(lax.convert_element_type(a, dtype, weak))
        else:
            out.append(a)
    return out


def promote_to_inexact(*args):
    """As promote_dtypes, then integers/bools become the default float."""
    args = promote_dtypes(*args)
    out = []
    for a in args:
        aval = get_aval(a)
        if not _dtypes.is_inexact(aval.dtype):
            a = lax.convert_element_type(a, _dtypes.default_float(), aval.weak_type)
        out.append(a)
    return out


def broadcast_shapes(*shapes):
    """The shape the `shapes` broadcast to (a ValueError if they do not)."""
    return common_shape(shapes, ValueError)


def check_rank_promotion(shapes):
    """Under `jax_numpy_rank_promotion` 'warn' or 'raise', operands of different
    non-zero ranks (NumPy would prepend dimensions) warn or raise, as JAX's elementwise
    operations do; scalars never count."""
    mode = config.jax_numpy_rank_promotion
    if mode == "allow" or len({len(s) for s in shapes if len(s)}) < 2:
        return
    shown = " ".join(str(tuple(s)) for s in shapes)
    if mode == "warn":
        warnings.warn(f"Following NumPy automatic rank promotion on shapes {shown} "
                      f"(jax_numpy_rank_promotion='warn').\n  at {user_source_line()}\n"
                      f"Fix: add the missing dimensions explicitly (x[None], "
                      f"expand_dims), or set the option to 'allow'.", stacklevel=3)
    else:
        raise ValueError(
            f"Operands could not be broadcast together on shapes {shown} and with the "
            f"config option jax_numpy_rank_promotion='raise'.\n  at "
            f"{user_source_line()}\nFix: add the missing dimensions explicitly "
            f"(x[None], expand_dims), or set the option to 'allow'.")


def broadcast_arrays_(*args, error=ValueError):
    shape = common_shape([get_aval(a).shape for a in args], error)
    return [broadcast_to_shape(a, shape) for a in args]


def promote_and_broadcast(*args):
    return broadcast_arrays_(*promote_dtypes(*args))


def compiled(*static_argnames):
    """Decorator: eager calls run as one compiled program (arguments named in
    `static_argnames` are static), calls under a transformation are traced in place,
    as jax.numpy's `@jit` functions."""
    def wrap(fn):
        return functools.wraps(fn)(jit(fn, static_argnames=static_argnames, inline=True))
    return wrap
