"""Typed PRNG key arrays (`dtype=key<fry>`), as `jax.random.key` makes them.

A concrete typed key array *is* JAX's own key array (built by `_runtime` from its
uint32 data), so keys cross freely between JAX code and ours. Inside our tracing a key
array's abstract value is a `ShapedArray` whose dtype is the key dtype and whose shape
is the shape of the key array (a single key has shape ()); once lowered it is its
uint32 data, with the key's data shape (2,) appended. Two primitives convert:
`random_wrap` (uint32[..., 2] -> key[...]) and `random_unwrap` (the inverse); the
samplers unwrap their key and work on the data. Only threefry2x32 is implemented."""
import typing

import numpy as np

from .. import _dtypes, _runtime
from .._ad import Zero, tangent_aval
from .._core import Primitive, ShapedArray, Tracer, get_aval, user_source_line
from .._batching import move_batch_axis

IMPL = "threefry2x32"

Key = typing.NewType("Key", _runtime.Array)
Key.__doc__ = "The type of PRNG key arguments, for annotations (as jax.random.Key)."
KEY_DATA_SHAPE = (2,)


def resolve_impl(impl):
    """The key dtype of a PRNG implementation given by name, key dtype or None."""
    if impl is None or impl == IMPL or (_dtypes.is_key(impl)
                                         and _runtime.key_impl_name(impl) == IMPL):
        return _runtime.key_dtype(IMPL)
    name = _runtime.key_impl_name(impl) if _dtypes.is_key(impl) else str(impl)
    raise NotImplementedError(
        f"PRNG implementation {name!r} is not available in functorch_lite: only "
        f"'threefry2x32' (JAX's default) is implemented. Fix: omit `impl`.")


def is_typed_key(x):
    return _dtypes.is_key(get_aval(x).dtype)


# --- wrap / unwrap --------------------------------------------------------------------

random_wrap_p = Primitive("random_wrap")
random_wrap_p.accepts_keys = True


def wrap(data, dtype):
    return random_wrap_p.bind(data, dtype=dtype)


@random_wrap_p.def_abstract_eval
def _wrap_abstract_eval(data, *, dtype):
    n = len(KEY_DATA_SHAPE)
    if data.dtype != np.uint32 or data.shape[data.ndim - n:] != KEY_DATA_SHAPE:
        raise TypeError(f"key data must be a uint32 array whose trailing shape is "
                        f"{KEY_DATA_SHAPE}, got {data.str_short()}.\n  at "
                        f"{user_source_line()}")
    return ShapedArray(data.shape[:data.ndim - n], dtype)


random_wrap_p.lowering_rule = lambda ctx, data, *, dtype: data  # the data is the key


@random_wrap_p.def_impl
def _wrap_impl(data, *, dtype):
    _wrap_abstract_eval(get_aval(data), dtype=dtype)
    return _runtime.wrap_key_data(_runtime.to_device(data, np.dtype(np.uint32)), dtype)


random_wrap_p.jvp_rule = lambda primals, tangents, *, dtype: (
    wrap(primals[0], dtype), Zero(tangent_aval(get_aval(wrap(primals[0], dtype)))))


@random_wrap_p.def_batching
def _wrap_batching(axis_data, vals, dims, *, dtype):
    data, d = vals[0], dims[0]
    if d >= get_aval(data).ndim - len(KEY_DATA_SHAPE):  # batched along the key data
        data, d = move_batch_axis(axis_data.size, data, d, 0), 0
    return wrap(data, dtype), d


random_unwrap_p = Primitive("random_unwrap")
random_unwrap_p.accepts_keys = True


def unwrap(keys):
    return random_unwrap_p.bind(keys)


random_unwrap_p.abstract_eval_rule = _runtime.physical_aval
random_unwrap_p.lowering_rule = lambda ctx, keys: keys
random_unwrap_p.def_impl(_runtime.key_data)
random_unwrap_p.jvp_rule = lambda primals, tangents: (
    unwrap(primals[0]), Zero(tangent_aval(_runtime.physical_aval(get_aval(primals[0])))))
random_unwrap_p.batching_rule = lambda axis_data, vals, dims: (unwrap(vals[0]), dims[0])


# --- the public key functions -----------------------------------------------------------

def key_data(keys):
    """The uint32 data of a key array: shape `keys.shape + (2,)` (raw uint32 keys are
    returned as they are)."""
    if is_typed_key(keys):
        return unwrap(keys)
    return _check_raw("key_data", keys)


def wrap_key_data(key_bits_array, *, impl=None):
    """A typed key array over uint32 key data of shape (..., 2).

    >>> import numpy as np, functorch_lite as fl
    >>> fl.random.wrap_key_data(np.array([0, 42], np.uint32)).dtype
    key<fry>
    """
    if is_typed_key(key_bits_array):
        raise TypeError("wrap_key_data requires uint32 key data, got a typed key array; "
                        "use it directly (or random.key_data(key) for its data).")
    return wrap(key_bits_array, resolve_impl(impl))


def key_impl(keys):
    """The name of the PRNG implementation of `keys` ('threefry2x32')."""
    if not is_typed_key(keys):
        _check_raw("key_impl", keys)
    return IMPL


def key_dtype(impl=None):
    """The key dtype of a PRNG implementation (default: threefry2x32, `key<fry>`)."""
    return resolve_impl(impl)


def clone(key):
    """A copy of `key` (keys are immutable values here: the key itself)."""
    if not is_typed_key(key):
        _check_raw("clone", key)
    return key


def _check_raw(name, key):
    aval = get_aval(key)
    if aval.dtype != np.uint32 or aval.shape[aval.ndim - 1:] != KEY_DATA_SHAPE:
        raise TypeError(f"{name} expects a PRNG key: a typed key array from random.key, "
                        f"or a uint32 array of shape (..., 2) from random.PRNGKey, got "
                        f"{aval.str_short()}.\n  at {user_source_line()}")
    return key


def check_key(name, key, allow_batched=False):
    """(uint32 key data, key dtype or None for a raw key) of a sampler's key argument."""
    if isinstance(key, Tracer) or hasattr(key, "aval"):
        typed = is_typed_key(key)
    elif isinstance(key, (np.ndarray, list, tuple)):
        key, typed = np.asarray(key), False
    else:
        raise TypeError(f"unexpected PRNG key type {type(key).__name__}: {name} expects "
                        f"a key from random.key or random.PRNGKey.")
    if typed:
        shape, dtype, data = get_aval(key).shape, get_aval(key).dtype, unwrap(key)
    else:
        data = _check_raw(name, key)
        shape, dtype = get_aval(key).shape[:-1], None
    if not allow_batched and shape:
        raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                         f"{shape} != (). Use vmap for batching.")
    return data, dtype


def return_keys(data, dtype):
    """Derived key data as keys of the kind the caller passed (typed or raw)."""
    return data if dtype is None else wrap(data, dtype)
