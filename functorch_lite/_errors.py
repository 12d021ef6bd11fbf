"""The errors a user's mistake raises, with messages that name the operation, the
user's line and the fix.

The classes subclass JAX's (`jax.errors.ConcretizationTypeError`, ...), so code that
catches JAX's errors catches ours, and each has the builtin base JAX gives it
(`TypeError`, or `IndexError` for boolean indices). Their constructors take the same
arguments as JAX's.
"""
import contextlib
import os
import sys
import traceback

import importlib.util

import jax
import jax.errors as _jax_errors
import numpy as np

from ._traceback_util import library_paths

# frames of the runtime we call are not "the user's line" either
_RUNTIME_PATHS = tuple(os.path.dirname(os.path.abspath(importlib.util.find_spec(m).origin))
                       + os.sep for m in ("jax", "jaxlib", "numpy")) + (
    os.path.abspath(contextlib.__file__),)


def _package_dirs(names):
    specs = (importlib.util.find_spec(m) for m in names)
    return tuple(os.path.dirname(os.path.abspath(s.origin)) + os.sep
                 for s in specs if s is not None and s.origin)


# libraries written with JAX, whose functions cannot take our tracers
_JAX_CODE_PATHS = _package_dirs(("jax", "flax", "optax", "equinox", "haiku", "chex"))


def jax_function_hint(frames):
    """'the JAX function `name` (called at file:line) received it: ...' for the JAX
    code (jax, Flax, optax, Equinox ...) that the user's code called with our tracer,
    given the stack `frames` outermost first; "" when no such frame is among them."""
    caller = None
    for frame in frames:
        path = os.path.abspath(frame.f_code.co_filename)
        if path.startswith(_JAX_CODE_PATHS):
            if caller is not None:
                module = frame.f_globals.get("__name__", "")
                name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
                where = f"`{module}.{name}` (called at {caller.f_code.co_filename}:" \
                        f"{caller.f_lineno})"
                if module.startswith("optax") and name.endswith(("init_fn", "update_fn")):
                    return (f"the optax optimizer's {where} received it: wrap the "
                            f"optimizer, opt = functorch_lite.interop.optax(tx), and call "
                            f"opt.init / opt.update.\n")
                return (f"the JAX function {where} received it: wrap it, "
                        f"functorch_lite.interop.from_jax({name.split('.')[-1]})(...).\n")
        elif not path.startswith(library_paths()):
            caller = frame
    return ""


def _user_frame():
    frame = sys._getframe(2)
    skip = library_paths() + _RUNTIME_PATHS
    while frame is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(skip):
            return frame
        frame = frame.f_back
    return None


def user_file_and_line():
    """(file name, line number) of the innermost frame outside this library."""
    frame = _user_frame()
    return ("(unknown file)", 0) if frame is None else \
        (frame.f_code.co_filename, frame.f_lineno)


def user_frame_summary():
    """'file:line (in function)' of the innermost frame outside this library."""
    frame = _user_frame()
    if frame is None:
        return "<unknown location>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} (in {frame.f_code.co_name})"


def user_source_line():
    """'file:line: source' of the innermost frame outside this library."""
    frame = _user_frame()
    if frame is None:
        return "<unknown location>"
    line = traceback.extract_stack(frame, limit=1)[-1].line
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"


# --- messages ---------------------------------------------------------------------

CONTROL_FLOW_FIX = (
    "use structured control flow instead of Python `if`/`while`/`for ... in range` on "
    "traced values: jnp.where, lax.cond, lax.switch, lax.while_loop, lax.fori_loop; or, "
    "under jit, mark the argument static (static_argnums / static_argnames).")
NUMPY_FIX = (
    "use functorch_lite.numpy (`import functorch_lite.numpy as jnp`) instead of NumPy "
    "inside transformed functions; for JAX, Flax, Equinox or optax code, wrap the JAX "
    "function: functorch_lite.interop.from_jax(fn)(*args), and an optax optimizer: "
    "functorch_lite.interop.optax(tx).")
KEEP_ARRAY_FIX = (
    "keep the value an array: functorch_lite.numpy functions take it as it is, and "
    "x.astype(jnp.float32) changes its dtype. To look at the value, return it from the "
    "transformed function.")


def _traced(tracer):
    trace = tracer._trace
    return (f"a traced array {tracer.aval.str_short()} inside {trace.description} "
            f"({getattr(trace, 'why_abstract', 'its value is not known while tracing')})")


def _message(head, tracer, fix):
    return (f"{head} {_traced(tracer)}.\n  at {user_source_line()}\nFix: {fix}")


def _init(error, message):
    # skip JAX's constructors (they format JAX tracers); keep our message as the args
    BaseException.__init__(error, message)


class ConcretizationTypeError(_jax_errors.ConcretizationTypeError):
    """Python needed a concrete value (`if`, `while`, `float()`, a static size ...) but
    got a traced one. `context` says what needed it; `fix` how to avoid it."""

    def __init__(self, tracer, context="", fix=CONTROL_FLOW_FIX):
        _init(self, _message(f"Abstract tracer value encountered where a concrete value is "
                             f"expected: {context or 'the operation'} needs a concrete "
                             f"value, but got", tracer, fix))

    def __reduce__(self):
        return _from_message, (type(self), str(self))


class TracerBoolConversionError(ConcretizationTypeError,
                                _jax_errors.TracerBoolConversionError):
    """`bool()` of a traced value: `if x > 0:`, `while`, `and`/`or`/`not`."""

    def __init__(self, tracer):
        _init(self, _message("Attempted boolean conversion (Python `if`, `while`, `and`, "
                             "`or`, `not` or bool()) of", tracer, CONTROL_FLOW_FIX))


class TracerIntegerConversionError(_jax_errors.TracerIntegerConversionError):
    """`__index__` of a traced value: a Python index, `range(x)`, a list position."""

    def __init__(self, tracer):
        _init(self, _message("The __index__() method (a Python index, range(), a "
                             "sequence position) was called on", tracer,
                             "index arrays with jnp indexing (x[i] accepts traced i) or "
                             "lax.dynamic_slice; loop with lax.fori_loop; or, under jit, "
                             "mark the argument static (static_argnums)."))

    __reduce__ = ConcretizationTypeError.__reduce__


class TracerArrayConversionError(_jax_errors.TracerArrayConversionError):
    """NumPy (`np.asarray`, a NumPy function, or `__array__`) met a traced value."""

    def __init__(self, tracer):
        frames = [f for f, _ in traceback.walk_stack(sys._getframe(1))][::-1]
        _init(self, _message("The numpy.ndarray conversion method __array__() (np.asarray, "
                             "np.array, a NumPy function, or a library converting with "
                             "NumPy) was called on", tracer,
                             jax_function_hint(frames) + NUMPY_FIX))

    __reduce__ = ConcretizationTypeError.__reduce__


class NonConcreteBooleanIndexError(_jax_errors.NonConcreteBooleanIndexError):
    """`x[mask]` with a traced boolean mask: the result's shape would depend on it."""

    def __init__(self, tracer):
        _init(self, _message(
            "Array boolean indices must be concrete (the result's shape would depend on "
            "the mask's values); got", tracer,
            "jnp.where(mask, x, other) keeps the shape; jnp.nonzero(mask, size=N) or "
            "jnp.where(mask, size=N) give a fixed number of indices."))

    __reduce__ = ConcretizationTypeError.__reduce__


class UnexpectedTracerError(_jax_errors.UnexpectedTracerError):
    """A tracer was used after its transformation finished (it leaked)."""

    def __init__(self, msg):
        _init(self, msg)

    __reduce__ = ConcretizationTypeError.__reduce__


class KeyArrayUseError(TypeError):
    """A typed PRNG key array reached an operation on numbers (JAX: a TypeError)."""

    def __init__(self, primitive_name, aval):
        super().__init__(
            f"{primitive_name} does not accept PRNG key arrays, got {aval.str_short()}: "
            f"typed keys are not numbers.\n  at {user_source_line()}\nFix: pass keys only "
            f"to functorch_lite.random functions (split, fold_in, the samplers); "
            f"random.key_data(key) gives their uint32 bits.")


def _from_message(cls, message):
    error = cls.__new__(cls)
    _init(error, message)
    return error


def leak_hint(tracer):
    return (f"\nThe tracer was created inside {tracer._trace.description}. It escaped, "
            f"e.g. by being stored in a global, a closure or an object attribute that "
            f"outlives the transformed function. Fix: return the value from the function "
            f"instead of storing it.")


class JaxTracerError(TypeError):
    """A JAX tracer (from jax.jit, jax.grad, jax.vmap, ...) reached functorch_lite: our
    functions run inside JAX's transformations only through `interop.to_jax`."""

    def __init__(self, tracer):
        super().__init__(
            f"functorch_lite received a JAX tracer ({type(tracer).__name__} of "
            f"{tracer.aval}): one of our functions was called inside a JAX "
            f"transformation (jax.jit, jax.grad, jax.vmap, ...), which our functions do "
            f"not run in directly.\n  at {user_source_line()}\nFix: wrap the function "
            f"with functorch_lite.interop.to_jax, e.g. jax.jit(interop.to_jax(f)), or "
            f"use functorch_lite's own jit/grad/vmap.")
