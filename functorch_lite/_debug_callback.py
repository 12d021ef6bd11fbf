"""`debug.callback`, `debug.print` and `debug.log`: the `debug_callback` primitive, a
host callback (`_callback.py`) with effects and no results. It is never removed as dead
code, runs once per element under `vmap` and sees the primal values under `grad`."""
import copy
import logging
import string
import sys

import numpy as np

from ._callback import flatten_callback, lower_host_callback, host_call
from ._core import Primitive
from . import lax
from ._errors import user_file_and_line

__all__ = ["debug_callback", "debug_print", "debug_log", "debug_callback_p"]

debug_callback_p = Primitive("debug_callback", multiple_results=True)
debug_callback_p.has_effects = True  # never removed as dead code


def debug_callback(callback=None, *args, ordered=False, partitioned=False, **kwargs):
    """Call `callback(*args, **kwargs)` for its side effects (its result is ignored)
    when the computation runs: eagerly, or each time a compiled program runs, as
    `jax.debug.callback`. Under `vmap` it is called once per batch element; under
    `grad` it sees the primal values. Arguments that are not arrays reach it as
    given. `debug_callback(ordered=...)(callback, *args)` is the two-call form.
    `partitioned` changes nothing on one device."""
    if callback is None:
        return _two_call_form("debug_callback", debug_callback, args, kwargs,
                              ordered=ordered, partitioned=partitioned)
    if not callable(callback):
        raise TypeError(f"first argument to jax.debug.callback must be callable, but got "
                        f"an object of type {type(callback)}")
    if ordered:
        raise NotImplementedError(
            "debug callbacks with ordered=True need ordering tokens threaded through "
            "the compiled program, which functorch_lite does not emit yet; use "
            "ordered=False (the callbacks of one program may then run in any order)")
    flat, arrays = flatten_callback(callback, args, kwargs)
    debug_callback_p.bind(*arrays, callback=flat)


def _two_call_form(name, fun, args, kwargs, **options):
    if args or kwargs:
        raise TypeError(f"{name} received unexpected arguments in the two-call form: "
                        f"args={args} kwargs={kwargs}")
    return lambda first, *args, **kwargs: fun(first, *args, **options, **kwargs)


debug_callback_p.def_abstract_eval(lambda *avals, callback: [])


@debug_callback_p.def_impl
def _debug_callback_impl(*args, callback):
    host_call(callback, args)
    return []


@debug_callback_p.def_lowering
def _debug_callback_lowering(ctx, *operands, callback):
    def host_fn(*arrays):
        host_call(callback, arrays)
        return ()
    return lower_host_callback(ctx, operands, host_fn, has_side_effect=True)


@debug_callback_p.def_jvp
def _debug_callback_jvp(primals, tangents, *, callback):
    return debug_callback_p.bind(*primals, callback=callback), []


debug_callback_p.def_transpose(lambda cts, *args, **params: [None] * len(args))


@debug_callback_p.def_batching
def _debug_callback_batching(axis_data, vals, dims, *, callback):
    for i in range(axis_data.size):  # one call per batch element, in order (as JAX)
        debug_callback_p.bind(*[v if d is None else lax.index_in_dim(v, i, d, False)
                                for v, d in zip(vals, dims)], callback=callback)
    return [], []


def debug_print(fmt=None, *args, ordered=False, partitioned=False,
                skip_format_check=False, _use_logging=False, **kwargs):
    """Print `fmt.format(*args, **kwargs)` with the values the arrays have when the
    computation runs, as `jax.debug.print` (NumPy's print options are those in effect
    when it is traced). `debug_print(ordered=...)(fmt, *args)` is the two-call form."""
    if fmt is None:
        return _two_call_form("debug_print", debug_print, args, kwargs, ordered=ordered,
                              partitioned=partitioned, skip_format_check=skip_format_check,
                              _use_logging=_use_logging)
    if not skip_format_check:
        _FormatChecker().format(fmt, *args, **kwargs)
    has_fields = bool(fmt) and next(iter(string.Formatter().parse(fmt)))[1] is not None
    printoptions = np.get_printoptions()
    record = None
    if _use_logging:  # a record at the user's line, as JAX's debug.log
        record = logger.makeRecord(logger.name, logging.INFO, *user_file_and_line(), "",
                                   (), None)

    def print_values(*args, **kwargs):
        if has_fields:
            with np.printoptions(**printoptions):
                message = fmt.format(*args, **kwargs)
        else:
            message = " ".join((fmt, *map(str, args)))
        if record is None:
            sys.stdout.write(message + "\n")
        else:
            message_record = copy.copy(record)
            message_record.msg = message
            logger.handle(message_record)
    debug_callback(print_values, *args, ordered=ordered, **kwargs)


def debug_log(fmt=None, *args, ordered=False, partitioned=False, skip_format_check=False,
              **kwargs):
    """`debug_print` to the `functorch_lite.debug` logger at INFO level, the record
    naming the user's file and line (`jax.debug.log`)."""
    return debug_print(fmt, *args, ordered=ordered, partitioned=partitioned,
                       skip_format_check=skip_format_check, _use_logging=True, **kwargs)


logger = logging.getLogger("functorch_lite.debug")


class _FormatChecker(string.Formatter):
    """Checks, when traced, that the format uses every argument (JAX's errors)."""

    def format_field(self, value, format_spec):
        return ""

    def check_unused_args(self, used_args, args, kwargs):
        unused_args = [a for i, a in enumerate(args) if i not in used_args]
        unused_kwargs = [k for k in kwargs if k not in used_args]
        if unused_args:
            raise ValueError(f"Unused positional arguments to `jax.debug.print`: "
                             f"{unused_args}")
        if unused_kwargs:
            raise ValueError(
                f"Unused keyword arguments to `jax.debug.print`: {unused_kwargs}. You "
                f"may be passing an f-string (i.e, `f\"{{x}}\"`) into `jax.debug.print` "
                f"and instead should pass in a regular string.")
