"""`debug.breakpoint`: stop in a debugger when the computation reaches this point,
eagerly or each time a compiled program runs (a `debug_callback`), with the caller's
local variables, their arrays holding the values computed at that point.

The debugger is Python's `pdb` over those variables (`p x`, `pp`, any expression;
`c` continues), reading `sys.stdin` and writing `sys.stdout` as they are when it
stops. JAX's own debugger also walks up the traced frames (`u`/`d`); ours shows the
breakpoint's frame only.
"""
import inspect
import pdb
import sys

import jax
import numpy as np

from ._core import Tracer
from ._debug_callback import debug_callback


def _is_array(x):
    return isinstance(x, (jax.Array, Tracer, np.ndarray, np.generic))


def breakpoint(*, backend=None, filter_frames=True, num_frames=None,  # noqa: A001
               ordered=False, token=None, **kwargs):
    """Enter `pdb` with the caller's local variables when execution reaches this
    point (under `jit`, `vmap` once per batch element, `grad` with primal values), as
    `jax.debug.breakpoint`. `ordered=True` is refused as in `debug.callback`."""
    if token is not None:
        raise NotImplementedError("debug.breakpoint(token=...): functorch_lite has no "
                                  "ordering tokens; omit token")
    caller = inspect.currentframe().f_back
    arrays = {k: v for k, v in caller.f_locals.items() if _is_array(v)}
    others = {k: v for k, v in caller.f_locals.items() if not _is_array(v)}
    where = f"{caller.f_code.co_filename}:{caller.f_lineno} in {caller.f_code.co_name}"
    caller_globals = caller.f_globals
    del caller

    def stop(values):
        namespace = {**caller_globals, **others, **values}
        debugger = pdb.Pdb(stdin=sys.stdin, stdout=sys.stdout)
        debugger.prompt = "(jdb) "
        print(f"Entering debug.breakpoint at {where}", file=sys.stdout)
        debugger.run("pass", namespace, namespace)

    debug_callback(stop, arrays, ordered=ordered)
