"""Index helpers of jax.numpy: ix_, r_, c_, s_, index_exp, mgrid, ogrid, unravel_index,
ravel_multi_index, tril/triu_indices_from, mask_indices (as jax.numpy writes them)."""

__all__ = ["ix_", "r_", "c_", "s_", "index_exp", "mgrid", "ogrid", "unravel_index",
           "ravel_multi_index", "tril_indices_from", "triu_indices_from", "mask_indices"]
import math
import operator

import numpy as np

from .. import _dtypes, lax
from .._core import ConcretizationTypeError, Tracer, get_aval
from .. import numpy as jnp
from ._util import asarray, promote_dtypes, result_type

s_ = np.s_
index_exp = np.index_exp


def ix_(*args):
    """An open mesh: args[i] reshaped to run along axis i (for outer indexing)."""
    args = [asarray(a) for a in args]
    n, out = len(args), []
    for i, a in enumerate(args):
        aval = get_aval(a)
        if aval.ndim != 1:
            raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape "
                             f"{aval.shape}")
        if aval.dtype == _dtypes.bool_:
            raise NotImplementedError("Boolean arguments to jax.numpy.ix_ are not "
                                      "implemented")
        shape = [1] * n
        shape[i] = aval.shape[0]
        out.append(lax.full(shape, 0, _dtypes.default_int()) if aval.size == 0 else
                   lax.broadcast_in_dim(a, shape, (i,)))
    return tuple(out)


def _grid_from_slice(s, op_name):
    for part in (s.start, s.stop, s.step):
        if isinstance(part, Tracer):
            raise ConcretizationTypeError(part, f"a slice bound of jnp.{op_name}")
    start, stop, step = s.start or 0, s.stop, s.step or 1
    if np.iscomplex(step):
        return jnp.linspace(start, stop, int(abs(step)))
    return jnp.arange(start, stop, step)


class _Mgrid:
    """`mgrid[0:3, 0:2]`: a dense mesh of ranges (a complex step is a point count)."""

    def __getitem__(self, key):
        if isinstance(key, slice):
            return _grid_from_slice(key, "mgrid")
        grids = promote_dtypes(*(_grid_from_slice(k, "mgrid") for k in key))
        if not grids:
            return jnp.arange(0)
        return jnp.stack(jnp.meshgrid(*grids, indexing="ij", sparse=False), 0)


class _Ogrid:
    """`ogrid[0:3, 0:2]`: an open (broadcastable) mesh of ranges."""

    def __getitem__(self, key):
        if isinstance(key, slice):
            return _grid_from_slice(key, "ogrid")
        grids = promote_dtypes(*(_grid_from_slice(k, "ogrid") for k in key))
        return jnp.meshgrid(*grids, indexing="ij", sparse=True)


mgrid = _Mgrid()
ogrid = _Ogrid()


class _AxisConcat:
    """Concatenation by index notation (`r_[1:3, [5, 6]]`), NumPy's directives
    included ('r', 'c', 'axis,ndmin,trans1d')."""
    axis, ndmin, trans1d, op_name = 0, 1, -1, "r_"

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        params = [self.axis, self.ndmin, self.trans1d, -1]
        directive = key[0]
        if isinstance(directive, str):
            key = key[1:]
            if directive == "r":
                params[-1] = 0
            elif directive == "c":
                params[-1] = 1
            else:
                vec = directive.split(",")
                vec = vec + params[len(vec):] if len(vec) < 4 else vec[:3] + [params[-1]]
                try:
                    params = list(map(int, vec))
                except ValueError as err:
                    raise ValueError(f"could not understand directive {directive!r}") from err
        axis, ndmin, trans1d, matrix = params
        output = []
        for item in key:
            if isinstance(item, slice):
                new, item_ndim = _grid_from_slice(item, self.op_name), 0
            elif isinstance(item, str):
                raise ValueError("string directive must be placed at the beginning")
            else:
                new = jnp.array(item, copy=False)
                item_ndim = get_aval(new).ndim
            new = jnp.array(new, copy=False, ndmin=ndmin)
            if trans1d != -1 and ndmin - item_ndim > 0:
                order = tuple(range(ndmin))
                shifts = ndmin - abs(ndmin + trans1d + 1) % ndmin
                new = jnp.transpose(new, order[shifts:] + order[:shifts])
            output.append(new)
        res = jnp.concatenate(tuple(output), axis=axis)
        if matrix != -1 and get_aval(res).ndim == 1:
            res = jnp.expand_dims(res, matrix)
        return res

    def __len__(self):
        return 0


class RClass(_AxisConcat):
    """`r_`: concatenation along the first axis."""


class CClass(_AxisConcat):
    """`c_`: concatenation along the last axis, 1-D inputs as columns."""
    axis, ndmin, trans1d, op_name = -1, 2, 0, "c_"


r_ = RClass()
c_ = CClass()


def unravel_index(indices, shape):
    """The multi-index of each flat index into `shape` (out-of-range indices clip)."""
    indices = asarray(indices)
    try:
        shape = list(shape)
    except TypeError:
        shape = [shape]
    if any(np.ndim(s) != 0 for s in shape):
        raise ValueError("unravel_index: shape should be a scalar or 1D sequence.")
    out = [0] * len(shape)
    for i, s in reversed(list(enumerate(shape))):
        indices, out[i] = jnp.divmod(indices, s)
    oob_pos = indices > 0
    oob_neg = asarray(False) if _dtypes.is_unsigned(get_aval(indices).dtype) else indices < -1
    return tuple(jnp.where(oob_pos, s - 1, jnp.where(oob_neg, 0, i))
                 for s, i in zip(shape, out))


def ravel_multi_index(multi_index, dims, mode="raise", order="C", *, dtype=None):
    """The flat index of each multi-index into `dims` (mode 'raise', 'wrap', 'clip' or
    'ignore' for out-of-range entries)."""
    if len(multi_index) != len(dims):
        raise ValueError(f"len(multi_index)={len(multi_index)} != len(dims)={len(dims)}")
    dims = tuple(operator.index(d) for d in dims)
    index = [asarray(i) for i in multi_index]
    dtype = result_type(0, *index) if dtype is None else \
        _dtypes.canonicalize_dtype(dtype)
    if not _dtypes.is_integer(dtype):
        raise ValueError(f"dtype={dtype} is not an integer type.")
    if math.prod(dims) - 1 > np.iinfo(dtype).max:
        raise ValueError(f"jnp.ravel_multi_index: dtype={dtype} not large enough to hold "
                         f"flattened index for dims={dims}. Use the dtype argument to pass "
                         f"a suitable dtype.")
    for i in index:
        if mode == "raise" and isinstance(i, Tracer):
            raise ConcretizationTypeError(i, "ravel_multi_index with mode='raise' (use "
                                             "mode='wrap' or mode='clip' under jit)")
        if not _dtypes.is_integer(get_aval(i).dtype):
            raise TypeError("only int indices permitted")
    if mode == "raise":
        if any(bool(jnp.any((i < 0) | (i >= d))) for i, d in zip(index, dims)):
            raise ValueError("invalid entry in coordinates array")
    elif mode == "clip":
        index = [jnp.clip(i, 0, d - 1) for i, d in zip(index, dims)]
    elif mode == "wrap":
        index = [i % d for i, d in zip(index, dims)]
    elif mode != "ignore":
        raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', 'clip', or "
                         f"'ignore'.")
    if order == "F":
        strides = np.cumprod((1,) + dims[:-1])
    elif order == "C":
        strides = np.cumprod((1,) + dims[1:][::-1])[::-1]
    else:
        raise ValueError(f"invalid order={order!r}. Expected 'C' or 'F'")
    result = jnp.array(0, dtype=dtype)
    for i, s in zip(index, strides):
        result = result + i.astype(dtype) * int(s)
    return result


def _shape_2d(arr, name):
    shape = arr.shape if hasattr(arr, "shape") else get_aval(asarray(arr)).shape
    if len(shape) != 2:
        raise ValueError("Only 2-D inputs are accepted")
    return shape


def tril_indices_from(arr, k=0):
    """The indices of the lower triangle of a 2-D array's shape."""
    n, m = _shape_2d(arr, "tril_indices_from")
    return jnp.tril_indices(n, k=k, m=m)


def triu_indices_from(arr, k=0):
    """The indices of the upper triangle of a 2-D array's shape."""
    n, m = _shape_2d(arr, "triu_indices_from")
    return jnp.triu_indices(n, k=k, m=m)


def mask_indices(n, mask_func, k=0, *, size=None):
    """The indices where `mask_func(ones((n, n)), k)` is nonzero (e.g. jnp.triu)."""
    i, j = jnp.nonzero(mask_func(jnp.ones((n, n)), k), size=size)
    return i, j
