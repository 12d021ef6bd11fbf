"""`jax.Array` indexing that meets a functorch_lite tracer defers to functorch_lite.

Concrete arrays are jax.Arrays, so `xs[i]` and `xs.at[i].set(v)` run JAX's methods,
which reject our tracers: a closed-over array indexed by a loop counter inside
`fori_loop`, or updated with a value that depends on a vmapped argument, would fail.
`install()` wraps exactly these two entry points of jax.Array: when the index or the
update value contains a functorch_lite Tracer, functorch_lite's indexing runs; in every
other case JAX's own method runs unchanged, so pure-JAX code is unaffected.

The array methods (operators, `sum`, `astype`, ...) are JAX's, and JAX computes in 32
bits unless its own x64 flag is on. With functorch_lite's x64 mode alone, results are
64-bit jax.Arrays (JAX could not have made them), so `install()` also wraps those
methods: when an operand is such an array, JAX's method runs with JAX's flag on for
that call and thread only. Arrays JAX itself made are never 64-bit with JAX's flag off,
so pure-JAX code is unaffected here too.
"""
import functools
import inspect

import jax
from jax import tree_util

from ._core import Tracer
from ._runtime import X64_DTYPES
from .numpy._indexing import AtIndexer, _rewriting_take


def _has_tracer(x):
    for leaf in tree_util.tree_leaves(x, is_leaf=lambda v: isinstance(v, Tracer)):
        if isinstance(leaf, Tracer):
            return True
        if isinstance(leaf, slice) and any(isinstance(b, Tracer) for b in
                                           (leaf.start, leaf.stop, leaf.step)):
            return True
    return False


class _At:
    __slots__ = ("array", "jax_at")

    def __init__(self, array, jax_at):
        self.array, self.jax_at = array, jax_at

    def __getitem__(self, index):
        return _Ref(self.array, index, self.jax_at)


class _Ref:
    """`array.at[index]`: JAX's update methods unless a tracer is involved."""
    __slots__ = ("array", "index", "jax_at")

    def __init__(self, array, index, jax_at):
        self.array, self.index, self.jax_at = array, index, jax_at

    def __getattr__(self, method):
        def update(*args, **kwargs):
            if _has_tracer(self.index) or _has_tracer(args) or _has_tracer(kwargs):
                return getattr(AtIndexer(self.array)[self.index], method)(*args, **kwargs)
            return getattr(self.jax_at[self.index], method)(*args, **kwargs)
        return update


def install(array_type):
    if getattr(array_type, "_functorch_lite_interop", False):
        return
    jax_getitem = array_type.__getitem__
    jax_at = array_type.at

    def __getitem__(self, index):
        if _has_tracer(index):
            return _rewriting_take(self, index)
        return jax_getitem(self, index)

    array_type.__getitem__ = __getitem__
    array_type.at = property(lambda self: _At(self, jax_at.fget(self)))
    for name in dir(array_type):
        method = inspect.getattr_static(array_type, name)
        if name in _ALSO_WRAPPED or (inspect.isfunction(method) and getattr(
                method, "__module__", "").endswith("numpy.array_methods")):
            setattr(array_type, name, _in_64_bits_when_needed(getattr(array_type, name)))
    array_type._functorch_lite_interop = True


_ALSO_WRAPPED = ("__abs__", "__neg__", "__pos__", "__invert__", "__iter__",
                    "__getitem__")


def _in_64_bits_when_needed(jax_method):
    """`jax_method`, run under JAX's x64 flag when JAX's flag is off and `self` or an
    array argument is a 64-bit array (made by functorch_lite's x64 mode)."""
    @functools.wraps(jax_method)
    def method(self, *args, **kwargs):
        if (self.dtype in X64_DTYPES or any(
                isinstance(a, jax.Array) and a.dtype in X64_DTYPES for a in args)) \
                and not jax.enable_x64.value:
            with jax.enable_x64(True):
                return jax_method(self, *args, **kwargs)
        return jax_method(self, *args, **kwargs)
    return method
