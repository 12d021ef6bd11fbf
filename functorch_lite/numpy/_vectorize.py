"""Vectorising Python functions, as jax.numpy: vectorize (with gufunc signatures, via
vmap), apply_along_axis, apply_over_axes, and `ufunc`/`frompyfunc` (a scalar function
with NumPy's ufunc methods: outer, reduce, accumulate, at, reduceat)."""

__all__ = ["vectorize", "apply_along_axis", "apply_over_axes", "ufunc", "frompyfunc"]
import functools
import math
import operator
import re

import numpy as np

from .. import lax, numpy as jnp
from .._api_vmap import vmap
from .._core import get_aval
from ..lax._util import canonicalize_axis
from ._util import asarray, broadcast_shapes
from .._jit import eval_shape

_DIM = r"\w+"
_CORE_DIMS = "(?:{0:}(?:,{0:})*)?".format(_DIM)
_ARGUMENT = fr"\({_CORE_DIMS}\)"
_ARGUMENT_LIST = "{0:}(?:,{0:})*".format(_ARGUMENT)
_SIGNATURE = "^{0:}->{0:}$".format(_ARGUMENT_LIST)


def _parse_signature(signature):
    if not re.match(_SIGNATURE, signature):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    return ([tuple(re.findall(_DIM, arg)) for arg in re.findall(_ARGUMENT, part)]
            for part in signature.split("->"))


def _update_dim_sizes(sizes, shape, core_dims, context, is_input):
    n = len(core_dims)
    if is_input and len(shape) < n:
        raise ValueError(f"input with shape {shape!r} does not have enough dimensions for "
                         f"all core dimensions {core_dims!r} {context}")
    if not is_input and len(shape) != n:
        raise ValueError(f"output shape {shape!r} does not match core dimensions "
                         f"{core_dims!r} {context}")
    for dim, size in zip(core_dims, shape[len(shape) - n:] if n else ()):
        if sizes.setdefault(dim, size) != size:
            raise ValueError(f"inconsistent size for core dimension {dim!r}: {size!r} vs "
                             f"{sizes[dim]!r} {context}")


def _check_output_dims(func, sizes, out_core_dims, context):
    def wrapped(*args):
        out = func(*args)
        outs = out if isinstance(out, tuple) else [out]
        if len(out_core_dims) > 1 and not isinstance(out, tuple):
            raise TypeError(f"output must be a tuple when multiple outputs are expected, "
                            f"got: {out!r}\n{context}")
        if len(outs) != len(out_core_dims):
            raise TypeError(f"wrong number of output arguments: expected "
                            f"{len(out_core_dims)}, got {len(outs)} {context}")
        local = dict(sizes)
        for o, dims in zip(outs, out_core_dims):
            _update_dim_sizes(local, np.shape(o), dims, context, is_input=False)
        return out
    return wrapped


def _apply_excluded(func, excluded, args, kwargs):
    if not excluded:
        return func, args, kwargs
    dynamic_args = [a for i, a in enumerate(args) if i not in excluded]
    dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in excluded}
    static_args = [(i, args[i]) for i in sorted(e for e in excluded if isinstance(e, int))
                   if i < len(args)]
    static_kwargs = {k: v for k, v in kwargs.items() if k in excluded}

    def new_func(*args, **kwargs):
        args = list(args)
        for i, arg in static_args:
            args.insert(i, arg)
        return func(*args, **kwargs, **static_kwargs)
    return new_func, dynamic_args, dynamic_kwargs


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    """`pyfunc` on scalars (or on core dimensions given by a gufunc `signature` such as
    "(n),(n)->()") mapped over all other, broadcast, dimensions with vmap."""
    if any(not isinstance(e, (str, int)) for e in excluded):
        raise TypeError(f"jax.numpy.vectorize can only exclude integer or string arguments, "
                        f"but excluded={excluded!r}")
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise ValueError(f"excluded={excluded!r} contains negative numbers")

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        context = f"on vectorized function with excluded={excluded!r} and " \
                  f"signature={signature!r}"
        func, args, kwargs = _apply_excluded(pyfunc, excluded, args, kwargs)
        if signature is not None:
            in_core, out_core = _parse_signature(signature)
        else:
            in_core, out_core = [()] * len(args), None
        none_args = {i for i, a in enumerate(args) if a is None}
        if none_args:
            if any(in_core[i] != () for i in none_args):
                raise ValueError(f"Cannot pass None at locations {none_args} with "
                                 f"signature={signature}")
            func, args, _ = _apply_excluded(func, none_args, args, {})
            in_core = [d for i, d in enumerate(in_core) if i not in none_args]
        args = tuple(map(asarray, args))
        if len(args) != len(in_core):
            raise TypeError(f"wrong number of positional arguments: expected {len(in_core)}, "
                            f"got {len(args)} {context}")
        sizes, shapes = {}, []
        for arg, dims in zip(args, in_core):
            shape = get_aval(arg).shape
            _update_dim_sizes(sizes, shape, dims, context, is_input=True)
            shapes.append(shape[:len(shape) - len(dims)])
        bshape = broadcast_shapes(*shapes)
        checked = func if out_core is None else _check_output_dims(func, sizes, out_core,
                                                                   context)
        squeezed, rev_filled = [], []
        for arg, dims in zip(args, in_core):
            shape = get_aval(arg).shape
            noncore = shape[:len(shape) - len(dims)]
            rev_filled.append(((1,) * (len(bshape) - len(noncore)) + noncore)[::-1])
            squeezed.append(jnp.squeeze(arg, axis=tuple(i for i, n in enumerate(noncore)
                                                        if n == 1)))
        vectorized, expand = checked, []
        for negdim, sizes_at in enumerate(zip(*rev_filled)):
            in_axes = tuple(None if n == 1 else 0 for n in sizes_at)
            if all(a is None for a in in_axes):
                expand.append(len(bshape) - 1 - negdim)
            else:
                vectorized = vmap(vectorized, in_axes)
        result = vectorized(*squeezed)
        if not expand:
            return result
        if isinstance(result, tuple):
            return tuple(jnp.expand_dims(r, axis=expand) for r in result)
        return jnp.expand_dims(result, axis=expand)
    return wrapped


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """func1d applied to every 1-D slice of `arr` along `axis` (vmapped)."""
    ndim = np.ndim(arr)
    axis = canonicalize_axis(axis, ndim)
    func = lambda a: func1d(a, *args, **kwargs)
    for i in range(1, ndim - axis):
        func = vmap(func, in_axes=i, out_axes=-1)
    for _ in range(axis):
        func = vmap(func, in_axes=0, out_axes=0)
    return func(asarray(arr))


def apply_over_axes(func, a, axes):
    """Apply `func(a, axis)` repeatedly over `axes`, keeping reduced axes."""
    a = asarray(a)
    for axis in axes:
        b = func(a, axis)
        if get_aval(b).ndim == get_aval(a).ndim:
            a = b
        elif get_aval(b).ndim == get_aval(a).ndim - 1:
            a = jnp.expand_dims(b, axis)
        else:
            raise ValueError("function is not returning an array of the correct shape")
    return a


def _dtype_of(func, *args):
    return eval_shape(func, *args).dtype


class ufunc:
    """A scalar function applied elementwise with broadcasting, with NumPy's ufunc
    methods (`jax.numpy.ufunc`); make one with `frompyfunc`."""

    def __init__(self, func, /, nin, nout, *, name=None, nargs=None, identity=None):
        self.__doc__ = func.__doc__
        self.__name__ = name or func.__name__
        self._func = func
        self.nin, self.nout = operator.index(nin), operator.index(nout)
        self.nargs = operator.index(nargs or nin)
        self.identity = identity

    def _key(self):
        return (self._func, self.__name__, self.identity, self.nin, self.nout, self.nargs)

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, ufunc) and self._key() == other._key()

    def __repr__(self):
        return f"<jnp.ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, where=None):
        if out is not None:
            raise NotImplementedError(f"out argument of {self}")
        if where is not None:
            raise NotImplementedError(f"where argument of {self}")
        return vectorize(self._func)(*args)

    def _binary(self, method):
        if self.nin != 2:
            raise ValueError(f"{method} only supported for binary ufuncs")
        if self.nout != 1:
            raise ValueError(f"{method} only supported for functions returning a single "
                             f"value")

    def _one(self, x):
        return jnp.ones((), get_aval(asarray(x)).dtype)

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, initial=None,
               where=None):
        """Reduce `a` along `axis` by repeated application (a fori_loop)."""
        self._binary("reduce")
        if out is not None:
            raise NotImplementedError(f"out argument of {self.__name__}.reduce()")
        arr = asarray(a)
        if where is not None:
            if self.identity is None and initial is None:
                raise ValueError(f"reduction operation {self.__name__!r} does not have an "
                                 f"identity, so to use a where mask one has to specify "
                                 f"'initial'.")
            where = jnp.broadcast_to(where, get_aval(arr).shape)
        initial = self.identity if initial is None else initial
        dtype = dtype or _dtype_of(self._func, self._one(arr), self._one(arr))
        shape = get_aval(arr).shape
        if isinstance(axis, tuple):
            raise NotImplementedError("tuple of axes")
        if axis is None:
            final = (1,) * len(shape) if keepdims else ()
            arr, axis = jnp.ravel(arr), 0
            where = None if where is None else jnp.ravel(where)
        else:
            axis = canonicalize_axis(axis, len(shape))
            final = shape[:axis] + ((1,) if keepdims else ()) + shape[axis + 1:]
        arr = jnp.moveaxis(arr, axis, 0)
        where = None if where is None else jnp.moveaxis(where, axis, 0)
        n = get_aval(arr).shape[0]
        if n == 0:
            if initial is None:
                raise ValueError(f"zero-size array to reduction operation {self.__name__} "
                                 f"which has no identity")
            return jnp.full(final, initial, dtype)

        def body(i, val):
            new = self(val, arr[i].astype(dtype))
            return new if where is None else jnp.where(where[i], new, val)
        start_index, start = (1, arr[0]) if initial is None else (0, initial)
        start = jnp.broadcast_to(asarray(start).astype(dtype), get_aval(arr).shape[1:])
        result = lax.fori_loop(start_index, n, body, start)
        return result.reshape(final) if keepdims else result

    def accumulate(self, a, axis=0, dtype=None, out=None):
        """Running reductions along `axis` (a scan)."""
        self._binary("accumulate")
        if out is not None:
            raise NotImplementedError(f"out argument of {self.__name__}.accumulate()")
        arr = asarray(a)
        dtype = dtype or _dtype_of(self._func, self._one(arr), self._one(arr))
        if axis is None or isinstance(axis, tuple):
            raise ValueError("accumulate does not allow multiple axes")
        axis = canonicalize_axis(axis, get_aval(arr).ndim)
        if get_aval(arr).size == 0:
            return jnp.zeros(get_aval(arr).shape, dtype)
        arr = jnp.moveaxis(arr, axis, 0)

        def step(carry, _):
            i, x = carry
            y = jnp.where(i == 0, arr[0].astype(dtype),
                          self(x.astype(dtype), arr[i].astype(dtype)))
            return (i + 1, y), y
        _, result = lax.scan(step, (0, arr[0].astype(dtype)), None,
                             length=get_aval(arr).shape[0])
        return jnp.moveaxis(result, 0, axis)

    def at(self, a, indices, b=None, /, *, inplace=True):
        """a with `self(a[indices], b)` written at `indices`, one index at a time."""
        if inplace:
            raise NotImplementedError(
                "Because JAX arrays are immutable, jnp.ufunc.at() cannot operate inplace "
                "like np.ufunc.at(). Pass inplace=False and capture the result.")
        args = () if b is None else (b,)
        dtype = _dtype_of(self._func, self._one(a), *(self._one(x) for x in args))
        a = asarray(a).astype(dtype)
        args = tuple(asarray(x).astype(dtype) for x in args)
        indices = indices if isinstance(indices, tuple) else (indices,)
        if not indices:
            return a
        shapes = [np.shape(i) for i in indices if not isinstance(i, slice)]
        shape = shapes and broadcast_shapes(*shapes)
        if not shape:
            return a.at[indices].set(self(a.at[indices].get(), *args))
        if args:
            arg_shape = get_aval(args[0]).shape
            arg = jnp.broadcast_to(args[0], (*shape, *arg_shape[len(shape):]))
            args = (arg.reshape(math.prod(shape), *arg_shape[len(shape):]),)
        indices = [i if isinstance(i, slice) else jnp.ravel(jnp.broadcast_to(i, shape))
                   for i in indices]
        count = next(get_aval(i).shape[0] for i in indices if not isinstance(i, slice))

        def step(carry, _):
            i, a = carry
            idx = tuple(ind if isinstance(ind, slice) else ind[i] for ind in indices)
            a = a.at[idx].set(self(a.at[idx].get(), *(x[i] for x in args)))
            return (i + 1, a), None
        (_, a), _ = lax.scan(step, (0, a), None, length=count)
        return a

    def reduceat(self, a, indices, axis=0, dtype=None, out=None):
        """Reductions of `a` between consecutive `indices` along `axis`."""
        self._binary("reduceat")
        if out is not None:
            raise NotImplementedError(f"out argument of {self.__name__}.reduceat()")
        a, indices = asarray(a), asarray(indices)
        if get_aval(a).ndim == 0:
            raise ValueError(f"reduceat: a must have 1 or more dimension, got "
                             f"a.shape={get_aval(a).shape!r}")
        if get_aval(indices).ndim != 1:
            raise ValueError(f"reduceat: indices must be one-dimensional, got "
                             f"indices.shape={get_aval(indices).shape!r}")
        if axis is None or isinstance(axis, (tuple, list)):
            raise ValueError("reduceat requires a single integer axis.")
        axis = canonicalize_axis(axis, get_aval(a).ndim)
        out = jnp.take(a, indices, axis=axis)
        n = get_aval(a).shape[axis]
        ind = lax.expand_dims(jnp.append(indices, n),
                              list(np.delete(np.arange(get_aval(out).ndim), axis)))
        size = get_aval(ind).shape[axis]
        start = lax.slice_in_dim(ind, 0, size - 1, axis=axis)
        end = lax.slice_in_dim(ind, 1, size, axis=axis)

        def body(i, out):
            return jnp.where((i > start) & (i < end),
                             self(out, jnp.take(a, lax.expand_dims(i, (0,)), axis=axis)), out)
        return lax.fori_loop(0, n, body, out)

    def outer(self, A, B, /):
        """self(a, b) for every pair of elements of A and B: shape A.shape + B.shape."""
        self._binary("outer")
        A, B = asarray(A), asarray(B)
        result = vmap(vmap(self, (None, 0)), (0, None))(jnp.ravel(A), jnp.ravel(B))
        return result.reshape(*get_aval(A).shape, *get_aval(B).shape)


def frompyfunc(func, /, nin, nout, *, identity=None):
    """A `ufunc` from a scalar function of `nin` arguments and `nout` results."""
    return ufunc(func, nin, nout, identity=identity)
