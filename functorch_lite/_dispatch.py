"""Eager execution: a primitive bound outside any transformation runs as a
one-equation program, compiled once per (primitive, parameters, input types), through
the same lowering as `jit`, so eager and jit results agree. Compiled-program caches are
bounded (`LRUCache`) and thread-safe: a program compiles once even when several threads
first call it together."""
import collections
import logging
import threading
import time

from . import _runtime
from ._config import config
from ._core import get_aval, register_eager_apply
from ._ir import Var, Equation, Program
from ._lowering import lower_module


class LRUCache:
    """A mapping that keeps the `config.functorch_lite_cache_size` most recently used
    entries. `get` may run concurrently with `put` from other threads."""
    __slots__ = ("_entries", "_lock")

    def __init__(self):
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        value = self._entries.get(key)
        if value is not None:
            try:
                self._entries.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile
                pass
        return value

    def put(self, key, value):
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > config.functorch_lite_cache_size:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        return len(self._entries)

    def keys(self):
        """A snapshot of the keys, least recently used first."""
        with self._lock:
            return list(self._entries)


class KeyLocks:
    """One lock per key, held while that key's value is built, so that threads asking
    for the same missing entry build it once (the others wait, then find it)."""
    __slots__ = ("_locks", "_lock")

    def __init__(self):
        self._locks, self._lock = {}, threading.Lock()

    def build_once(self, cache, key, build):
        """`cache.get(key)`, or `build()` under the key's lock; `build` stores its
        result in `cache` if it may be reused."""
        with self._lock:
            lock = self._locks.setdefault(key, [threading.RLock(), 0])
            lock[1] += 1
        try:
            with lock[0]:
                value = cache.get(key)
                return build() if value is None else value
        finally:
            with self._lock:
                lock[1] -= 1
                if not lock[1]:
                    del self._locks[key]


_logger = logging.getLogger(__name__)
_executables = LRUCache()
_executable_locks = KeyLocks()


def clear_executables():
    """Forget the compiled program of every eager primitive call."""
    _executables.clear()


def to_device_args(args, avals):
    return [x if _runtime.is_device_array(x) and x.dtype == a.dtype
            else _runtime.to_device(x, a.dtype) for x, a in zip(args, avals)]


def apply_primitive(primitive, args, params):
    avals = tuple(map(get_aval, args))
    key = (primitive, tuple(sorted(params.items())) if params else (), avals)
    executable = _executables.get(key)
    if executable is None:
        def build():
            in_vars = [Var(a) for a in avals]
            out_vars = [Var(a) for a in primitive.abstract_eval(*avals, **params)]
            program = Program(in_vars, [Equation(primitive, in_vars, out_vars, params)],
                              out_vars)
            compiled = compile_program(program, name=primitive.name)
            _executables.put(key, compiled)
            return compiled
        executable = _executable_locks.build_once(_executables, key, build)
    outs = executable(to_device_args(args, avals))
    return outs if primitive.multiple_results else outs[0]


register_eager_apply(apply_primitive)


def compile_program(program, name="main_module", donated=()):
    """Compile `program` (once: memoised on the program, also across threads). Under
    `jax_log_compiles` each compilation is logged at WARNING as JAX logs it: a jitted
    `f` (module `jit_f`) as `jit(f)`, an eager primitive `cos` as `jit(cos)`."""
    key = ("executable", donated)
    executable = program.cache.get(key)
    if executable is None:
        with program.cache.setdefault(("compile_lock",), threading.Lock()):
            executable = program.cache.get(key)
            if executable is None:
                if config.jax_log_compiles:
                    _logger.warning("Compiling jit(%s) with global shapes and types %r.",
                                    name.removeprefix("jit_"), tuple(program.in_avals))
                start = time.perf_counter()
                text, callbacks = lower_module(program, name=name, donated=donated)
                executable = program.cache[key] = _runtime.compile(
                    text, program.out_avals, program.in_avals, callbacks)
                program.cache[("compile_seconds",)] = time.perf_counter() - start
    return executable
