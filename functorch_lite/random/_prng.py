"""Keys and raw bits: threefry-2x32 (Salmon et al., "Parallel random numbers: as easy
as 1, 2, 3", 2011) built from uint32 add / xor / shift primitives.

A key is a `uint32[2]` array. Derived keys and bits hash a counter under the key:
`split` hashes the counters 0..n-1, `fold_in` the counter given by the data, and
`bits` the counters 0..size-1 (the high 32 bits of the 64-bit counter go in the
first word, as in JAX's partitionable threefry)."""
import functools
import math

import numpy as np

from .. import _dtypes, lax
from .._config import config
from .._batching import bdim_at_front
from .._core import Primitive, Tracer, get_aval
from .._lowering import composite_lowering, target_platform
from ..lax import fori_loop
from .._jit import jit
from ._keys import check_key, resolve_impl, return_keys, wrap
from ..numpy import asarray

UINT_DTYPES = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32),
               64: np.dtype(np.uint64)}

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _u32(value, shape):
    return lax.full(shape, np.uint32(value), np.uint32)


def _rotate_left(x, d):
    """x rotated left by `d` bits (an int, or a uint32 array of x's shape)."""
    shape = get_aval(x).shape
    if isinstance(d, int):
        return lax.bitwise_or(lax.shift_left(x, _u32(d, shape)),
                              lax.shift_right_logical(x, _u32(32 - d, shape)))
    return lax.bitwise_or(lax.shift_left(x, d),
                          lax.shift_right_logical(x, lax.sub(_u32(32, shape), d)))


threefry2x32_p = Primitive("threefry2x32", multiple_results=True)


def threefry2x32(k1, k2, x1, x2):
    """Threefry-2x32 with 20 rounds: hash the counter pairs (x1, x2) (uint32 arrays of
    one shape) under the key (k1, k2) (uint32 scalars). Returns two uint32 arrays.
    One primitive, lowered per target platform as JAX lowers its threefry2x32."""
    shape = get_aval(x1).shape
    k1, k2 = (lax.broadcast_in_dim(k, shape, ()) for k in (k1, k2))
    return threefry2x32_p.bind(k1, k2, x1, x2)


@threefry2x32_p.def_abstract_eval
def _threefry2x32_abstract_eval(k1, k2, x1, x2):
    if any(a.dtype != np.uint32 or a.shape != x1.shape for a in (k1, k2, x1, x2)):
        raise TypeError(f"threefry2x32 takes four uint32 arrays of one shape, got "
                        f"{[a.str_short() for a in (k1, k2, x1, x2)]}")
    return [x1.update(weak_type=False), x2.update(weak_type=False)]


@threefry2x32_p.def_batching
def _threefry2x32_batching(axis_data, vals, dims):
    vals = [bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims)]
    return threefry2x32_p.bind(*vals), [0, 0]


def _threefry2x32_unrolled(k1, k2, x1, x2):
    """The 20 rounds written out (JAX's lowering for GPUs and TPUs)."""
    shape = get_aval(x1).shape
    ks = [k1, k2, lax.bitwise_xor(lax.bitwise_xor(k1, k2), _u32(0x1BD11BDA, shape))]
    x = [lax.add(x1, ks[0]), lax.add(x2, ks[1])]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x[0] = lax.add(x[0], x[1])
            x[1] = lax.bitwise_xor(x[0], _rotate_left(x[1], r))
        x[0] = lax.add(x[0], ks[(i + 1) % 3])
        x[1] = lax.add(lax.add(x[1], ks[(i + 2) % 3]), _u32(i + 1, shape))
    return x


def _threefry2x32_rolled(k1, k2, x1, x2):
    """The same hash as JAX lowers it for CPUs: five passes of a loop carrying the
    key schedule and the rotation table (so XLA compiles, fuses and rounds what
    follows as it does JAX's program)."""
    shape = get_aval(x1).shape

    def step(i, state):
        (a, b), ks, rotations = state
        for j in range(4):
            r = lax.reshape(lax.slice(rotations[0], (j,), (j + 1,)), ())
            a = lax.add(a, b)
            b = lax.bitwise_xor(a, _rotate_left(b, lax.broadcast_in_dim(r, shape, ())))
        count = lax.convert_element_type(lax.add(i, np.int32(1)), np.uint32)
        x = (lax.add(a, ks[0]),
             lax.add(lax.add(b, ks[1]), lax.broadcast_in_dim(count, shape, ())))
        return x, (*ks[1:], ks[0]), (rotations[1], rotations[0])

    ks = (k1, k2, lax.bitwise_xor(lax.bitwise_xor(k1, k2), _u32(0x1BD11BDA, shape)))
    x = (lax.add(x1, ks[0]), lax.add(x2, ks[1]))
    rotations = tuple(np.array(r, np.uint32) for r in _ROTATIONS)
    x, _, _ = fori_loop(0, 5, step, (x, (*ks[1:], ks[0]), rotations))
    return list(x)


threefry2x32_p.lowering_rule = composite_lowering(
    lambda *args: (_threefry2x32_rolled if target_platform() == "cpu" else
                   _threefry2x32_unrolled)(*args), "threefry2x32")


# --- keys -------------------------------------------------------------------------

def _check_key(name, key, allow_batched=False):
    """The uint32 data of a sampler's key (typed or raw), checked."""
    return check_key(name, key, allow_batched)[0]


def _key_words(key):
    return (lax.reshape(lax.slice_in_dim(key, 0, 1), ()),
            lax.reshape(lax.slice_in_dim(key, 1, 2), ()))


def _stack_words(w1, w2):
    shape = get_aval(w1).shape
    return lax.concatenate([lax.reshape(w, (*shape, 1)) for w in (w1, w2)], len(shape))


def PRNGKey(seed, *, impl=None):
    """A raw key (uint32[2]) from an integer seed: the seed's high and low 32 bits.

    >>> import functorch_lite as fl
    >>> fl.random.PRNGKey(42).tolist()
    [0, 42]
    """
    resolve_impl(impl)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        seed = int(seed)
        hi = (seed >> 32) & 0xFFFFFFFF if config.jax_enable_x64 else 0
        return asarray(np.array([hi, seed & 0xFFFFFFFF], np.uint32))
    if isinstance(seed, Tracer) or hasattr(seed, "aval") or isinstance(seed, np.ndarray):
        aval = get_aval(seed)
        if _dtypes.is_key(aval.dtype):
            raise TypeError("PRNGKey accepts an integer seed, got a typed key array; use "
                            "the key itself (random.key_data(key) gives its data).")
    else:
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    if not _dtypes.is_integer(aval.dtype) or aval.dtype == np.bool_:
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    if aval.shape:
        raise TypeError(f"PRNGKey accepts a scalar seed, but was given an array of shape "
                        f"{aval.shape} != (). Use vmap for batching")
    return _seed_from_array(seed)


@jit
def _seed_from_array(seed):
    dtype = get_aval(seed).dtype
    lo = lax.convert_element_type(seed, np.uint32)
    if dtype.itemsize == 8:
        hi = lax.convert_element_type(
            lax.shift_right_logical(seed, lax.full((), 32, dtype)), np.uint32)
    else:
        hi = _u32(0, ())
    return _stack_words(hi, lo)


def key(seed, *, impl=None):
    """A typed key array (shape (), dtype `key<fry>`) from an integer seed: JAX's own
    key type, over the data `PRNGKey(seed)` holds.

    >>> import functorch_lite as fl
    >>> k = fl.random.key(0)
    >>> k.shape, k.dtype
    ((), key<fry>)
    """
    return wrap(PRNGKey(seed), resolve_impl(impl))


def _iota_2x32(shape):
    """The flat index of every position of `shape` as a 64-bit counter in two uint32
    words (high, low)."""
    size = math.prod(shape)
    if size >= 2 ** 32:
        raise NotImplementedError("random bits of 2**32 or more elements at once")
    if not shape:
        return _u32(0, ()), _u32(0, ())
    lo = lax.reshape(lax.iota(np.uint32, size), shape)
    return _u32(0, shape), lo


def split(key, num=2):
    """`num` new keys (shape (num,) typed, (num, 2) raw), or a key array of shape `num`
    if `num` is a tuple. The parent key should not be used again."""
    data, dtype = check_key("split", key)
    shape = tuple(int(n) for n in num) if isinstance(num, (tuple, list)) else (int(num),)
    return return_keys(_split(data, shape), dtype)


@functools.partial(jit, static_argnums=1)
def _split(key, shape):
    k1, k2 = _key_words(key)
    hi, lo = _iota_2x32(shape)
    return _stack_words(*threefry2x32(k1, k2, hi, lo))


def fold_in(key, data):
    """A new key that is a deterministic function of `key` and the integer `data`."""
    key_data, dtype = check_key("fold_in", key)
    if np.ndim(data) if not isinstance(data, Tracer) else data.ndim:
        raise TypeError(f"fold_in accepts a scalar, but was given an array of shape "
                        f"{np.shape(data)} != (). Use vmap for batching.")
    if isinstance(data, (int, np.integer)):
        data = np.uint32(int(data) & 0xFFFFFFFF)
    return return_keys(_fold_in(key_data, data), dtype)


@jit
def _fold_in(key, data):
    k1, k2 = _key_words(key)
    data = lax.convert_element_type(data, np.uint32)
    # the counter is the seed of `data`: (high word, low word) = (0, data)
    return _stack_words(*threefry2x32(k1, k2, _u32(0, ()), data))


def threefry_2x32(keypair, count):
    """Hash the uint32 array `count` under `keypair` (as jax.random.threefry_2x32)."""
    k1, k2 = keypair
    count = lax.convert_element_type(count, np.uint32)
    shape = get_aval(count).shape
    flat = lax.reshape(count, (math.prod(shape),))
    n = get_aval(flat).shape[0]
    odd = n % 2
    if odd:
        flat = lax.concatenate([flat, _u32(0, (1,))], 0)
    half = (n + odd) // 2
    x1, x2 = lax.slice_in_dim(flat, 0, half), lax.slice_in_dim(flat, half, 2 * half)
    out = lax.concatenate(list(threefry2x32(k1, k2, x1, x2)), 0)
    return lax.reshape(lax.slice_in_dim(out, 0, n), shape)


def random_bits(key, bit_width, shape):
    """Uniform random bits: a uint{bit_width} array of `shape`."""
    if bit_width not in UINT_DTYPES:
        raise TypeError("requires 8-, 16-, 32- or 64-bit field width.")
    return _random_bits(key, bit_width, tuple(int(d) for d in shape))


@functools.partial(jit, static_argnums=(1, 2))
def _random_bits(key, bit_width, shape):
    k1, k2 = _key_words(key)
    hi, lo = _iota_2x32(shape)
    bits1, bits2 = threefry2x32(k1, k2, hi, lo)
    dtype = UINT_DTYPES[bit_width]
    if bit_width == 64:
        bits_hi = lax.convert_element_type(bits1, dtype)
        bits_lo = lax.convert_element_type(bits2, dtype)
        return lax.bitwise_or(lax.shift_left(bits_hi, lax.full(shape, 32, dtype)), bits_lo)
    bits = lax.bitwise_xor(bits1, bits2)
    return bits if bit_width == 32 else lax.convert_element_type(bits, dtype)


def bits(key, shape=(), dtype=None):
    """Random bits of an unsigned integer `dtype` (default uint32) and `shape`."""
    key = _check_key("bits", key)
    dtype = np.dtype(np.uint32) if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not np.issubdtype(dtype, np.unsignedinteger):
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got "
                         f"{dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return random_bits(key, dtype.itemsize * 8, shape)
