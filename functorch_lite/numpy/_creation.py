"""Array creation: array, zeros, ones, full, *_like, arange, linspace, logspace,
geomspace, eye, identity, tri, tril, triu, meshgrid, indices, diag/tril/triu indices."""

__all__ = [
    "array", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
    "empty_like", "arange", "linspace", "logspace", "geomspace", "eye", "identity", "tri",
    "tril", "triu", "meshgrid", "indices", "fromfunction", "diag_indices",
    "diag_indices_from", "tril_indices", "triu_indices",
]
import builtins
import operator

import numpy as np

from .. import _dtypes, _jax_versions, lax
from .._core import Tracer, canonicalize_shape, get_aval
from ._util import asarray, broadcast_arrays_, result_type
from ._shape import broadcast_to, moveaxis


def _arr(x):
    return x if isinstance(x, Tracer) else asarray(x)


def _shape(shape):
    shape = canonicalize_shape(shape)
    if any(d < 0 for d in shape):
        raise TypeError(f"negative dimensions are not allowed, got shape {shape}")
    return shape


def _dtype_or_float(dtype):
    return _dtypes.default_float() if dtype is None else _dtypes.canonicalize_dtype(dtype)


def _inexact(dtype):
    return dtype if _dtypes.is_inexact(dtype) else _dtypes.default_float()


# --- from data ---------------------------------------------------------------------

def array(object, dtype=None, copy=True, order="K", ndmin=0):
    """An array from an array, a scalar or nested lists (which may hold arrays and
    tracers: those are stacked). Python scalars give weakly typed arrays."""
    if order not in ("K", "C", "A", None):
        raise NotImplementedError(f"array supports order='K' or 'C' only, got {order!r}")
    out = asarray(object, dtype)
    if copy and out is object:  # an array passed through unchanged: give a new buffer
        out = lax.copy_p.bind(out)
    aval = get_aval(out)
    if aval.ndim < ndmin:
        out = lax.reshape(out, (1,) * (ndmin - aval.ndim) + aval.shape)
    return out


def zeros(shape, dtype=None):
    """An array of zeros (float32 unless `dtype` is given)."""
    return lax.full(_shape(shape), 0, _dtype_or_float(dtype))


def ones(shape, dtype=None):
    """An array of ones (float32 unless `dtype` is given)."""
    return lax.full(_shape(shape), 1, _dtype_or_float(dtype))


def empty(shape, dtype=None):
    """As `zeros` (XLA arrays are always initialised)."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    """An array of `shape` filled with `fill_value` (broadcast if it is an array)."""
    shape = _shape(shape)
    if np.ndim(fill_value) == 0 and not (_is_array(fill_value) and
                                         get_aval(fill_value).ndim):
        return lax.full(shape, fill_value, dtype)
    return broadcast_to(asarray(fill_value, dtype), shape)


def _is_array(x):
    return isinstance(x, Tracer) or hasattr(x, "aval")


def full_like(a, fill_value, dtype=None, shape=None):
    """`full` with the shape and dtype of `a` (both overridable)."""
    a = _arr(a)
    if np.ndim(fill_value) == 0 and not (_is_array(fill_value) and get_aval(fill_value).ndim):
        return lax.full_like(a, fill_value, dtype, None if shape is None else _shape(shape))
    aval = get_aval(a)
    return full(aval.shape if shape is None else shape, fill_value,
                aval.dtype if dtype is None else dtype)


def zeros_like(a, dtype=None, shape=None):
    """Zeros with the shape and dtype of `a`."""
    return full_like(a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None):
    """Ones with the shape and dtype of `a`."""
    return full_like(a, 1, dtype, shape)


def empty_like(prototype, dtype=None, shape=None):
    """As `zeros_like`."""
    return zeros_like(prototype, dtype, shape)


# --- ranges -------------------------------------------------------------------------

def _concrete(x, name):
    if isinstance(x, Tracer):
        return x.to_concrete(f"jnp.{name} (its arguments must be static)")
    return x


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop) (static arguments). Python ints give
    int32 and floats float32, unless `dtype` is given."""
    start, stop, step = (_concrete(v, "arange") for v in (start, stop, step))
    given = [v for v in (start, stop, step) if v is not None]
    dtype = _dtypes.canonicalize_dtype(result_type(*given) if dtype is None else dtype)
    if stop is None and step is None:
        n = builtins.max(int(np.ceil(start)), 0)
        return lax.iota(dtype, n)
    if step is None and np.ndim(start) == 0 and start == 0:
        return lax.iota(dtype, builtins.max(int(np.ceil(stop)), 0))
    return asarray(np.arange(start, stop, step, dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from start to stop (inclusive if `endpoint`); array
    start/stop give one sequence per element, laid out along `axis`."""
    num = operator.index(_concrete(num, "linspace"))
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = _arr(start), _arr(stop)
    dtype = _inexact(result_type(start, stop)) if dtype is None else \
        _dtypes.canonicalize_dtype(dtype)
    work = _inexact(dtype)
    start = lax.convert_element_type(start, work)
    stop = lax.convert_element_type(stop, work)
    start, stop = broadcast_arrays_(start, stop)
    bounds_shape = list(get_aval(start).shape)
    axis = len(bounds_shape) + axis + 1 if axis < 0 else axis
    bounds_shape.insert(axis, 1)
    div = num - 1 if endpoint else num
    delta = None
    if num > 1:
        if retstep:
            delta = lax.div(lax.sub(stop, start), lax.full(get_aval(start).shape, div, work))
        real = np.dtype(np.float32 if work == _dtypes.complex64 else
                        np.float64) if _dtypes.is_complex(work) else work
        iota_shape = [1] * len(bounds_shape)
        iota_shape[axis] = div
        step = lax.div(lax.iota(real, div), lax.full((div,), div, real))
        step = lax.convert_element_type(lax.reshape(step, iota_shape), work)
        out_shape = list(bounds_shape)
        out_shape[axis] = div
        lo = _broadcast(lax.reshape(start, bounds_shape), out_shape)
        hi = _broadcast(lax.reshape(stop, bounds_shape), out_shape)
        step = _broadcast(step, out_shape)
        one = lax.full(out_shape, 1, work)
        out = lax.add(lax.mul(lo, lax.sub(one, step)), lax.mul(hi, step))
        if endpoint:
            out = lax.concatenate([out, lax.reshape(stop, bounds_shape)], axis)
    elif num == 1:
        if retstep:
            delta = lax.full(get_aval(start).shape, np.nan, work) if endpoint else \
                lax.sub(stop, start)
        out = lax.reshape(start, bounds_shape)
    else:
        if retstep:
            delta = lax.full(get_aval(start).shape, np.nan, work)
        out_shape = list(bounds_shape)
        out_shape[axis] = 0
        out = lax.full(out_shape, 0, work)
    if _dtypes.is_integer(dtype) and not _dtypes.is_integer(work):
        out = lax.floor(out)
    out = lax.convert_element_type(out, dtype)
    return (out, delta) if retstep else out


def _broadcast(x, shape):
    return lax.broadcast_in_dim(x, shape, tuple(range(len(shape))))


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """base ** linspace(start, stop, ...)."""
    start, stop = _arr(start), _arr(stop)
    dtype = _inexact(result_type(start, stop)) if dtype is None else \
        _dtypes.canonicalize_dtype(dtype)
    work = _inexact(dtype)
    exponents = linspace(lax.convert_element_type(start, work),
                         lax.convert_element_type(stop, work), num, endpoint, axis=axis)
    base = lax.full(get_aval(exponents).shape, base, work)
    return lax.convert_element_type(lax.pow(base, exponents), dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Values spaced evenly on a log scale from start to stop (same sign)."""
    start, stop = _arr(start), _arr(stop)
    dtype = _inexact(result_type(start, stop)) if dtype is None else \
        _dtypes.canonicalize_dtype(dtype)
    work = _inexact(dtype)
    start, stop = broadcast_arrays_(lax.convert_element_type(start, work),
                                    lax.convert_element_type(stop, work))
    sign = lax.sign(start)
    ln10 = lax.full(get_aval(start).shape, np.log(10.0), work)
    log10 = lambda v: lax.div(lax.log(lax.div(v, sign)), ln10)
    out = logspace(log10(start), log10(stop), num, endpoint, 10.0, work, axis=0)
    out = lax.mul(out, _broadcast(lax.reshape(sign, (1, *get_aval(sign).shape)),
                                  get_aval(out).shape))
    if axis != 0:
        out = moveaxis(out, 0, axis)
    return lax.convert_element_type(out, dtype)


# --- matrices -----------------------------------------------------------------------

def _diagonal_mask(N, M, k, compare):
    """bool[N, M]: compare(row + k, column)."""
    M = N if M is None else operator.index(M)
    N = operator.index(N)
    rows = lax.broadcasted_iota(np.int32, (N, M), 0)
    cols = lax.broadcasted_iota(np.int32, (N, M), 1)
    if isinstance(k, Tracer) or k != 0:
        rows = lax.add(rows, lax.full((N, M), k, np.int32))
    return compare(rows, cols)


def eye(N, M=None, k=0, dtype=None):
    """A 2-D array with ones on the k-th diagonal and zeros elsewhere."""
    return lax.convert_element_type(_diagonal_mask(N, M, k, lax.eq), _dtype_or_float(dtype))


def identity(n, dtype=None):
    """The n x n identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return lax.convert_element_type(_diagonal_mask(N, M, k, lax.ge), _dtype_or_float(dtype))


def _masked(m, k, lower):
    m = _arr(m)
    aval = get_aval(m)
    if aval.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'} requires an array of at least 2 "
                         f"dimensions, got shape {aval.shape}")
    N, M = aval.shape[-2:]
    keep = _diagonal_mask(N, M, k if lower else k - 1, lax.ge)
    keep = lax.broadcast_in_dim(keep, aval.shape, (aval.ndim - 2, aval.ndim - 1))
    zero = lax.full(aval.shape, 0, aval.dtype)
    return lax.select_n(keep, zero, m) if lower else lax.select_n(keep, m, zero)


def tril(m, k=0):
    """`m` with the elements above the k-th diagonal zeroed (on the last two axes)."""
    return _masked(m, k, lower=True)


def triu(m, k=0):
    """`m` with the elements below the k-th diagonal zeroed (on the last two axes)."""
    return _masked(m, k, lower=False)


# --- grids and index arrays ---------------------------------------------------------

def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from 1-D coordinate vectors ('xy': Cartesian, 'ij': matrix)."""
    if not copy:
        raise ValueError("jnp.meshgrid only supports copy=True (arrays are immutable)")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for indexing are 'xy' and 'ij', got {indexing!r}")
    args = [_arr(x) for x in xi]
    if any(get_aval(a).ndim != 1 for a in args):
        raise ValueError(f"Arguments to meshgrid must be 1D, got shapes "
                         f"{[get_aval(a).shape for a in args]}")
    positions = list(range(len(args)))
    if indexing == "xy" and len(args) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(args)
    for a, p in zip(args, positions):
        shape[p] = get_aval(a).shape[0]
    out = []
    for a, p in zip(args, positions):
        if sparse:
            out.append(lax.reshape(a, [shape[p] if i == p else 1 for i in range(len(args))]))
        else:
            out.append(lax.broadcast_in_dim(a, shape, (p,)))
    return tuple(out) if _jax_versions.BROADCAST_ARRAYS_TUPLE else out


def indices(dimensions, dtype=None, sparse=False):
    """Arrays of the row, column, ... index of each position of a grid `dimensions`."""
    dims = _shape(dimensions)
    dtype = _dtypes.default_int() if dtype is None else _dtypes.canonicalize_dtype(dtype)
    if sparse:
        return tuple(lax.reshape(lax.iota(dtype, d), [d if j == i else 1
                                                      for j in range(len(dims))])
                     for i, d in enumerate(dims))
    grids = [lax.broadcasted_iota(dtype, (1, *dims), i + 1) for i in range(len(dims))]
    return lax.concatenate(grids, 0) if grids else lax.full((0,), 0, dtype)


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """`function(*indices(shape))`: the function is called once on index arrays."""
    return function(*indices(shape, dtype), **kwargs)


def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an n x ... x n array."""
    n, ndim = operator.index(n), operator.index(ndim)
    if n < 0 or ndim < 0:
        raise ValueError("n and ndim must be non-negative")
    return (lax.iota(_dtypes.default_int(), n),) * ndim


def diag_indices_from(arr):
    """`diag_indices` for a square array `arr`."""
    s = get_aval(_arr(arr)).shape
    if len(s) < 2 or len(set(s)) != 1:
        raise ValueError(f"input must be a square array of at least 2-d, got shape {s}")
    return diag_indices(s[0], len(s))


def tril_indices(n, k=0, m=None):
    """(rows, cols) of the elements at and below the k-th diagonal of an n x m array."""
    return tuple(asarray(i.astype(_dtypes.default_int()))
                 for i in np.tril_indices(operator.index(n), k, m))


def triu_indices(n, k=0, m=None):
    """(rows, cols) of the elements at and above the k-th diagonal of an n x m array."""
    return tuple(asarray(i.astype(_dtypes.default_int()))
                 for i in np.triu_indices(operator.index(n), k, m))
