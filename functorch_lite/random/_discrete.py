"""Integer and index-valued samplers (randint, categorical, permutation, choice) and
the matrix-valued multivariate_normal and orthogonal, following jax.random's
algorithms draw for draw."""
import functools
import math

import numpy as np

from .. import _dtypes, lax
from .._core import Tracer, get_aval
from .._jit import jit
from ._prng import UINT_DTYPES, _check_key, random_bits, split
from ._samplers import _check_shape, _shape, _uniform, _gumbel, _normal, _jnp


def _iinfo(dtype):
    return np.iinfo(dtype)


def _convert_and_clip_integer(val, dtype):
    """`val` converted to the integer `dtype`, clipped to its range (not wrapped)."""
    jnp = _jnp()
    val_dtype = get_aval(val).dtype
    lo = max(_iinfo(dtype).min, _iinfo(val_dtype).min)
    hi = min(_iinfo(dtype).max, _iinfo(val_dtype).max)
    clipped = jnp.minimum(jnp.maximum(val, np.array(lo, val_dtype)), np.array(hi, val_dtype))
    return lax.convert_element_type(clipped, dtype)


def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in [minval, maxval) (a modulus of 2 * nbits random bits, as JAX)."""
    key = _check_key("randint", key)
    jnp = _jnp()
    dtype = _dtypes.default_int() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_integer(dtype) or dtype == np.bool_:
        raise TypeError(f"randint only accepts integer dtypes, got {dtype}")
    shape = _shape(shape)
    info = _iinfo(dtype)
    sample_dtype = dtype
    if info.bits < 32:  # sample in 32 bits to avoid bias
        sample_dtype = np.dtype(np.int32)
        minval = jnp.minimum(jnp.maximum(jnp.asarray(minval, np.int32), int(info.min)),
                             int(info.max))
        maxval = jnp.minimum(jnp.maximum(jnp.asarray(maxval, np.int32), int(info.min)),
                             int(info.max) + 1)
    out = _randint(key, minval, maxval, shape, sample_dtype)
    return lax.convert_element_type(out, dtype)


@functools.partial(jit, static_argnums=(3, 4))
def _randint(key, minval, maxval, shape, dtype):
    jnp = _jnp()
    _check_shape("randint", shape, get_aval(minval).shape, get_aval(maxval).shape)
    minval, maxval = jnp.asarray(minval), jnp.asarray(maxval)
    if not _dtypes.is_integer(get_aval(minval).dtype):
        minval = lax.convert_element_type(minval, _dtypes.default_int())
    if not _dtypes.is_integer(get_aval(maxval).dtype):
        maxval = lax.convert_element_type(maxval, _dtypes.default_int())
    maxval_out_of_range = jnp.greater(maxval, _convert_and_clip_integer(
        np.array(_iinfo(dtype).max, dtype), get_aval(maxval).dtype))
    minval = jnp.broadcast_to(_convert_and_clip_integer(minval, dtype), shape)
    maxval = jnp.broadcast_to(_convert_and_clip_integer(maxval, dtype), shape)
    maxval_out_of_range = jnp.broadcast_to(maxval_out_of_range, shape)
    nbits = _iinfo(dtype).bits
    k1, k2 = split(key)
    higher_bits, lower_bits = random_bits(k1, nbits, shape), random_bits(k2, nbits, shape)
    unsigned = UINT_DTYPES[nbits]
    one = lax.full(shape, 1, unsigned)
    span = lax.convert_element_type(lax.sub(maxval, minval), unsigned)
    # span = 1 when maxval <= minval, so minval is returned
    span = lax.select_n(lax.le(maxval, minval), span, one)
    # maxval beyond the dtype's range: one more value
    span = lax.select_n(lax.bitwise_and(maxval_out_of_range, lax.gt(maxval, minval)), span,
                        lax.add(span, one))
    # (hi * 2**nbits + lo) mod span, computed as ((hi mod span) * m + lo mod span) mod span
    # with m = 2**nbits mod span = ((2**(nbits/2) mod span)**2) mod span
    multiplier = lax.rem(lax.full(shape, 2 ** (nbits // 2), unsigned), span)
    multiplier = lax.rem(lax.mul(multiplier, multiplier), span)
    offset = lax.add(lax.mul(lax.rem(higher_bits, span), multiplier),
                     lax.rem(lower_bits, span))
    offset = lax.rem(offset, span)
    return lax.add(minval, lax.convert_element_type(offset, dtype))


# --- categorical ------------------------------------------------------------------

def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Indices drawn with probabilities softmax(logits) along `axis` (Gumbel-max; without
    replacement: Gumbel top-k)."""
    key = _check_key("categorical", key)
    if mode not in (None, "low"):  # as gumbel: the other modes draw different bits
        raise NotImplementedError(f"categorical mode={mode!r}: only the default 'low' mode")
    jnp = _jnp()
    logits = jnp.asarray(logits)
    ndim = get_aval(logits).ndim
    axis = axis % ndim if ndim else axis
    batch_shape = tuple(np.delete(np.array(get_aval(logits).shape, dtype=np.int64), axis))
    batch_shape = tuple(int(d) for d in batch_shape)
    if shape is None:
        shape = batch_shape
    else:
        shape = _shape(shape)
        _check_shape("categorical", shape, batch_shape)
    return _categorical(key, logits, shape, batch_shape, axis, bool(replace))


@functools.partial(jit, static_argnums=(2, 3, 4, 5))
def _categorical(key, logits, shape, batch_shape, axis, replace):
    jnp = _jnp()
    aval = get_aval(logits)
    prefix = shape[:len(shape) - len(batch_shape)]
    if replace:
        logits_shape = list(shape[len(shape) - len(batch_shape):])
        logits_shape.insert(axis, aval.shape[axis])
        g = _gumbel(key, (*prefix, *logits_shape), aval.dtype)
        expanded = lax.reshape(logits, (1,) * len(prefix) + aval.shape)
        return lax.argmax(jnp.add(g, expanded), len(prefix) + axis, _dtypes.default_int())
    logits = jnp.add(logits, _gumbel(key, aval.shape, aval.dtype))
    k = math.prod(prefix)
    if k > aval.shape[axis]:
        raise ValueError(f"Number of samples without replacement ({k}) cannot exceed "
                         f"number of categories ({aval.shape[axis]}).")
    _, indices = lax.top_k(jnp.moveaxis(logits, axis, -1), k)
    nd = get_aval(indices).ndim
    return lax.reshape(indices, shape, (nd - 1, *range(nd - 1)))


# --- permutation and choice -------------------------------------------------------

def permutation(key, x, axis=0, independent=False):
    """A random permutation of `range(x)` (int x) or of `x` along `axis`
    (`independent`: every slice along `axis` permuted separately)."""
    key = _check_key("permutation", key)
    if isinstance(x, (int, np.integer)) or (not isinstance(x, Tracer) and np.ndim(x) == 0
                                            and not hasattr(x, "aval")):
        if not isinstance(x, (int, np.integer)):
            raise TypeError("x must be an integer or at least 1-dimensional")
        return _shuffle(key, lax.iota(_dtypes.default_int(), int(x)), 0, None)
    aval = get_aval(x)
    if aval.ndim == 0:
        if not _dtypes.is_integer(aval.dtype):
            raise TypeError("x must be an integer or at least 1-dimensional")
        return _shuffle(key, lax.iota(_dtypes.default_int(), int(x)), 0, None)
    axis = axis % aval.ndim
    if independent or aval.ndim == 1:
        return _shuffle(key, x, axis, None)
    return _shuffle(key, x, axis, aval.shape[axis])


@functools.partial(jit, static_argnums=(2, 3))
def _shuffle(key, x, axis, shared_length):
    """Sort by fresh random 32-bit keys, repeated enough rounds that collisions are
    unlikely (JAX's heuristic). `shared_length`: one permutation of that many entries
    applied to every slice along `axis`."""
    aval = get_aval(x)
    size = shared_length if shared_length is not None else aval.size
    uint32max = np.iinfo(np.uint32).max
    num_rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(uint32max)))
    for _ in range(num_rounds):
        key, subkey = split(key)
        if shared_length is None:
            sort_keys = random_bits(subkey, 32, aval.shape)
        else:
            sort_keys = lax.broadcast_in_dim(random_bits(subkey, 32, (shared_length,)),
                                             aval.shape, (axis,))
        _, x = lax.sort_key_val(sort_keys, x, axis)
    return x


def _take(arr, indices, axis):
    """`arr` indexed by the integer array `indices` along `axis` (as jnp.take)."""
    aval = get_aval(arr)
    ind_shape = get_aval(indices).shape
    idx = lax.reshape(lax.convert_element_type(indices, np.int32), (*ind_shape, 1))
    offset_dims = (*range(axis), *range(axis + len(ind_shape), aval.ndim - 1 + len(ind_shape)))
    dnums = lax.GatherDimensionNumbers(offset_dims=offset_dims, collapsed_slice_dims=(axis,),
                                       start_index_map=(axis,))
    slice_sizes = tuple(1 if i == axis else d for i, d in enumerate(aval.shape))
    return lax.gather(arr, idx, dnums, slice_sizes)


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Samples from `a` (an array, or range(a) for an int) with or without replacement,
    uniformly or with probabilities `p`."""
    key = _check_key("choice", key)
    jnp = _jnp()
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape argument of random.choice must be a sequence, got {shape}")
    shape = _shape(shape)
    arr = jnp.asarray(a)
    arr_aval = get_aval(arr)
    if arr_aval.ndim == 0:
        n_inputs = int(a)
    else:
        axis = axis % arr_aval.ndim
        n_inputs = arr_aval.shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return lax.full(shape, 0, arr_aval.dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population "
                         f"(size {n_inputs}) when 'replace=False'")
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n_inputs)
            result = ind if arr_aval.ndim == 0 else _take(arr, ind, axis)
        else:
            perm = permutation(key, n_inputs if arr_aval.ndim == 0 else arr, axis)
            result = lax.slice_in_dim(perm, 0, n_draws, axis=axis if arr_aval.ndim else 0)
    else:
        p_arr = jnp.asarray(p)
        if not _dtypes.is_inexact(get_aval(p_arr).dtype):
            p_arr = lax.convert_element_type(p_arr, _dtypes.default_float())
        if get_aval(p_arr).shape != (n_inputs,):
            raise ValueError(f"p must be None or a 1D vector with the same size as "
                             f"a.shape[axis]. p has shape {get_aval(p_arr).shape} and "
                             f"a.shape[axis] is {n_inputs}.")
        ind = _weighted_indices(key, p_arr, shape, n_draws, bool(replace))
        result = ind if arr_aval.ndim == 0 else _take(arr, ind, axis)
    out_shape = shape if arr_aval.ndim == 0 else \
        arr_aval.shape[:axis] + shape + arr_aval.shape[axis + 1:]
    return lax.reshape(result, out_shape)


@functools.partial(jit, static_argnums=(2, 3, 4))
def _weighted_indices(key, p, shape, n_draws, replace):
    jnp = _jnp()
    dtype = get_aval(p).dtype
    if replace:
        # inverse CDF: the first index whose cumulative weight reaches r
        p_cuml = jnp.cumsum(p)
        n = get_aval(p).shape[0]
        total = lax.reshape(lax.slice_in_dim(p_cuml, n - 1, n), ())
        r = jnp.multiply(total, jnp.subtract(1, _uniform(key, 0., 1., shape, dtype)))
        below = jnp.less(lax.broadcast_in_dim(p_cuml, (*shape, n), (len(shape),)),
                         lax.broadcast_in_dim(r, (*shape, n), tuple(range(len(shape)))))
        return jnp.sum(below, axis=-1, dtype=_dtypes.default_int())
    g = jnp.add(_gumbel(key, get_aval(p).shape, dtype), jnp.log(p))
    return lax.convert_element_type(lax.top_k(g, n_draws)[1], _dtypes.default_int())


# --- multivariate normal ----------------------------------------------------------

def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Samples of N(mean, cov): mean + factor @ z with cov = factor factor^T
    (`method`: "cholesky", "eigh" or "svd")."""
    key = _check_key("multivariate_normal", key)
    jnp = _jnp()
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError("method must be one of {'svd', 'eigh', 'cholesky'}")
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    mean = lax.convert_element_type(jnp.asarray(mean), dtype)
    cov = lax.convert_element_type(jnp.asarray(cov), dtype)
    m_aval, c_aval = get_aval(mean), get_aval(cov)
    if m_aval.ndim < 1:
        raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == "
                         f"{m_aval.ndim}")
    if c_aval.ndim < 2:
        raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == "
                         f"{c_aval.ndim}")
    n = m_aval.shape[-1]
    if c_aval.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, "
                         f"but got cov.shape == {c_aval.shape}.")
    if shape is None:
        shape = np.broadcast_shapes(m_aval.shape[:-1], c_aval.shape[:-2])
    else:
        shape = _shape(shape)
        _check_shape("normal", shape, m_aval.shape[:-1], c_aval.shape[:-2])
    linalg = jnp.linalg
    if method == "svd":
        u, s, _ = linalg.svd(cov)
        factor = jnp.multiply(u, jnp.expand_dims(jnp.sqrt(s), -2))
    elif method == "eigh":
        w, v = linalg.eigh(cov)
        factor = jnp.multiply(v, jnp.expand_dims(jnp.sqrt(w), -2))
    else:
        factor = linalg.cholesky(cov)
    z = _normal(key, (*shape, n), dtype)
    # mean + einsum('...ij,...j->...i', factor, z)
    return jnp.add(mean, jnp.sum(jnp.multiply(factor, jnp.expand_dims(z, -2)), axis=-1))


def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Haar-distributed matrices with orthonormal columns (or rows, if n < m): shape
    `shape + (n, m)` (m defaults to n), from the QR factorisation of a normal matrix
    with the signs of R's diagonal moved into Q."""
    key = _check_key("orthogonal", key)
    n = int(n)
    m = n if m is None else int(m)
    dtype = _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    return _orthogonal(key, n, m, _shape(shape), dtype)


@functools.partial(jit, static_argnums=(1, 2, 3, 4))
def _orthogonal(key, n, m, shape, dtype):
    jnp = _jnp()
    z = _normal(key, (*shape, max(n, m), min(n, m)), dtype)
    q, r = jnp.linalg.qr(z)
    d = jnp.linalg.diagonal(r)
    x = q * jnp.expand_dims(jnp.sign(d), -2)
    return jnp.swapaxes(x, -1, -2) if n < m else x
