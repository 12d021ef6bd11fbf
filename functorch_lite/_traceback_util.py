"""Traceback filtering, as JAX's `jax_traceback_filtering`.

An error that escapes a public entry point (a `jit`ted call, `grad`/`vjp`/`jvp`/`vmap`
wrappers, control flow, `nn` layers and `nn.fit`) loses the library's own frames, so
its traceback ends at the user's line. The outermost entry point does the filtering;
nested ones leave the error alone. `config.update("jax_traceback_filtering", MODE)`:

- "auto" (default) / "quiet_remove_frames": drop library frames, add a note saying so;
- "remove_frames": drop them and attach the full traceback as the `__cause__`;
- "tracebackhide": keep them, marked `__tracebackhide__` (IPython and pytest hide them);
- "off": leave tracebacks alone.

The environment variable FUNCTORCH_LITE_TRACEBACK_FILTERING sets the initial mode.
"""
import functools
import os
import sys
import traceback
import types
from ._config import config


_library_paths = [os.path.dirname(os.path.abspath(__file__)) + os.sep]


def register_exclusion(path):
    """Treat the files under directory `path` as library code (nn registers itself)."""
    path = os.path.abspath(path) + os.sep
    if path not in _library_paths:
        _library_paths.append(path)


def library_paths():
    return tuple(_library_paths)


def _is_library(frame):
    return os.path.abspath(frame.f_code.co_filename).startswith(tuple(_library_paths))


class UnfilteredStackTrace(Exception):
    """Carries the unfiltered traceback in "remove_frames" mode."""


NOTE = ("--------------------\nfunctorch_lite removed its internal frames from this "
        "traceback. functorch_lite.config.update(\"jax_traceback_filtering\", \"off\") "
        "shows them.")

_JAX_REJECTION_NOTE = (
    "A functorch_lite traced value reached a JAX function (jax.numpy, jax.lax, Flax, "
    "optax ...), which cannot trace it. Fix: ")


def check_callable(fun, what):
    """Transformations take functions: anything else is JAX's TypeError, at once."""
    if not callable(fun):
        raise TypeError(f"{what} expected a callable value (a function to transform), got "
                        f"{type(fun).__name__} {fun!r:.60}.")


def api_boundary(fun):
    """Wrap a public entry point: errors escaping it get filtered tracebacks."""
    @functools.wraps(fun)
    def reraise_with_filtered_traceback(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 (read by IPython and pytest)
        try:
            return fun(*args, **kwargs)
        except Exception as e:
            _process(e)
            raise
    return reraise_with_filtered_traceback


_BOUNDARY_CODE = api_boundary(lambda: None).__code__


def _process(e):
    if _inside_another_boundary() or getattr(e, "_functorch_lite_processed", False):
        return
    e._functorch_lite_processed = True
    _explain_jax_rejection(e)
    mode = config.jax_traceback_filtering
    tb = e.__traceback__
    if mode == "off" or tb is None:
        return
    if mode == "tracebackhide":
        for frame, _ in traceback.walk_tb(tb):
            if _is_library(frame):
                frame.f_locals["__tracebackhide__"] = True
        return
    e.with_traceback(_filtered(tb))
    if mode == "remove_frames":
        unfiltered = UnfilteredStackTrace(
            "".join(traceback.format_exception_only(type(e), e)).strip() +
            "\n\nThe preceding is the original exception with its full traceback; the "
            "traceback below it excludes functorch_lite's frames.")
        unfiltered.with_traceback(tb)
        unfiltered.__cause__, unfiltered.__context__ = e.__cause__, e.__context__
        unfiltered.__suppress_context__ = e.__suppress_context__
        e.__cause__, e.__context__ = unfiltered, None
    else:
        e.add_note(NOTE)


def _inside_another_boundary():
    frame = sys._getframe(3)  # the caller of this boundary's own frame
    while frame is not None:
        if frame.f_code is _BOUNDARY_CODE:
            return True
        frame = frame.f_back
    return False


def _filtered(tb):
    out = None
    for frame, lineno in reversed(list(traceback.walk_tb(tb))):
        if not _is_library(frame):
            out = types.TracebackType(out, frame, frame.f_lasti, lineno)
    return out


def _explain_jax_rejection(e):
    """JAX's own error for one of our tracers (it names the tracer's type or repr) gets
    a note saying what to do. (JAX filters its frames, so the message is the clue.)"""
    if not isinstance(e, (TypeError, ValueError)) or type(e).__module__.startswith(
            "functorch_lite"):
        return
    message = str(e)
    if "Tracer'>" in message and "functorch_lite." in message or "Traced<" in message:
        from ._errors import NUMPY_FIX, jax_function_hint  # _errors imports this module
        hint = jax_function_hint([f for f, _ in traceback.walk_tb(e.__traceback__)])
        e.add_note(_JAX_REJECTION_NOTE + hint + NUMPY_FIX)
