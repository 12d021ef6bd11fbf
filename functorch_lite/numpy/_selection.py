"""Choosing, inserting and removing elements, as jax.numpy: select, piecewise, choose,
compress, extract, place, put, insert, delete, resize, block, fill_diagonal, rollaxis,
trim_zeros, and (JAX 0.12's) top_k and minmax. Functions whose output shape depends on values (compress, extract,
delete with an array) need concrete inputs, or `size=` where jax.numpy offers it."""

__all__ = ["select", "piecewise", "choose", "compress", "extract", "place", "put",
           "insert", "delete", "resize", "block", "fill_diagonal", "rollaxis",
           "trim_zeros", "top_k", "minmax"]
import math
import operator

import numpy as np

from .. import _dtypes, lax
from .._core import ConcretizationTypeError, Tracer, get_aval
from ..lax._util import canonicalize_axis
from .. import numpy as jnp
from ._util import asarray, compiled, promote_dtypes


def _shape(x):
    return get_aval(x).shape


def _concrete(x, what):
    """x as a NumPy array; a traced x raises a ConcretizationTypeError naming `what`."""
    if isinstance(x, Tracer):
        raise ConcretizationTypeError(x, what)
    return np.asarray(x)


def _tile_to_size(arr, size):
    n = get_aval(arr).size
    if n < size:
        arr = jnp.tile(arr, int(np.ceil(size / n)))
    return arr[:size] if get_aval(arr).size > size else arr


def select(condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] is the first true condition, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"condlist must have length equal to choicelist "
                         f"({len(condlist)} vs {len(choicelist)})")
    if not condlist:
        raise ValueError("condlist must be non-empty")
    condlist = [asarray(c) for c in condlist]
    choicelist = promote_dtypes(asarray(default), *[asarray(c) for c in choicelist])
    conditions = jnp.stack(jnp.broadcast_arrays(False, *condlist))
    idx = jnp.argmax(conditions.astype(bool), axis=0)
    return lax.select_n(*jnp.broadcast_arrays(idx, *choicelist))


def piecewise(x, condlist, funclist, *args, **kw):
    """`funclist[i](x)` (or the constant `funclist[i]`) where `condlist[i]` holds
    (the last true condition wins); an extra last function is the default."""
    x = asarray(x)
    nc, nf = len(condlist), len(funclist)
    if nf == nc + 1:
        funclist = funclist[-1:] + funclist[:-1]
    elif nf == nc:
        funclist = [0] + list(funclist)
    else:
        raise ValueError(f"with {nc} condition(s), either {nc} or {nc + 1} functions are "
                         f"expected; got {nf}")
    conds = asarray(condlist, dtype=bool)
    indices = jnp.argmax(jnp.cumsum(jnp.concatenate(
        [jnp.zeros_like(conds[:1]), conds], 0), 0), 0)
    dtype = get_aval(x).dtype
    branches = [(lambda f: lambda v: asarray(f(v, *args, **kw)).astype(dtype))(f)
                if callable(f) else (lambda c: lambda v: asarray(c, dtype=dtype))(f)
                for f in funclist]
    return jnp.vectorize(lambda i, v: lax.switch(i, branches, v))(indices, x)


def choose(a, choices, out=None, mode="raise"):
    """`choices[a[i]][i]` for each `i` ('wrap' and 'clip' handle out-of-range `a`)."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.choose is not supported.")
    a = asarray(a)
    choices = [asarray(c) for c in choices]
    if not _dtypes.is_integer(get_aval(a).dtype):
        raise ValueError("`a` array must be integer typed")
    n = len(choices)
    if mode == "raise":
        arr = _concrete(a, "jnp.choose with mode='raise' (use mode='wrap' or 'clip' under "
                           "jit): the choice array")
        if ((arr < 0) | (arr >= n)).any():
            raise ValueError("invalid entry in choice array")
        arr = a
    elif mode == "wrap":
        arr = a % n
    elif mode == "clip":
        arr = jnp.clip(a, 0, n - 1)
    else:
        raise ValueError(f"mode={mode!r} not understood. Must be 'raise', 'wrap', or 'clip'")
    arr, *choices = jnp.broadcast_arrays(arr, *choices)
    return jnp.array(choices)[(arr,) + jnp.indices(_shape(arr), sparse=True)]


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of `a` along `axis` where `condition` is true (`size=` pads with
    `fill_value` so the shape is static)."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.compress is not supported.")
    cond = asarray(condition).astype(bool)
    arr = asarray(a)
    if get_aval(cond).ndim != 1:
        raise ValueError("condition must be a 1D array")
    if axis is None:
        axis, arr = 0, jnp.ravel(arr)
    else:
        arr = jnp.moveaxis(arr, axis, 0)
    n = _shape(arr)[0]
    cond, extra = cond[:n], cond[n:]
    arr = arr[:_shape(cond)[0]]
    if size is None:
        if _concrete(extra, "jnp.compress's condition (or pass size=)").any():
            raise ValueError("condition contains entries that are out of bounds")
        result = arr[_concrete(cond, "jnp.compress's condition (or pass size=)")]
    elif not 0 <= size <= _shape(arr)[0]:
        raise ValueError(f"size must be positive and not greater than the size of the "
                         f"array axis; got size={size} for a.shape[axis]={_shape(arr)[0]}")
    else:
        mask = jnp.expand_dims(cond, tuple(range(1, get_aval(arr).ndim)))
        arr = jnp.where(mask, arr, jnp.array(fill_value, dtype=get_aval(arr).dtype))
        result = arr[jnp.argsort(cond, stable=True, descending=True)][:size]
    return jnp.moveaxis(result, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of `arr` (flattened) where `condition` holds."""
    return compress(jnp.ravel(condition), jnp.ravel(arr), size=size, fill_value=fill_value)


def _immutable(name):
    return ValueError(f"jax.numpy.{name} cannot modify arrays in-place, because JAX arrays "
                      f"are immutable. Pass inplace=False to instead return an updated "
                      f"array.")


def place(arr, mask, vals, *, inplace=True):
    """arr with the positions where `mask` holds set to `vals` (repeated as needed)."""
    data, mask, vals = asarray(arr), asarray(mask), jnp.ravel(vals)
    if inplace:
        raise _immutable("place")
    if get_aval(data).size != get_aval(mask).size:
        raise ValueError("place: arr and mask must be the same size")
    if not get_aval(vals).size:
        raise ValueError("Cannot place values from an empty array")
    if not get_aval(data).size:
        return data
    n = get_aval(mask).size
    indices = jnp.where(jnp.ravel(mask), size=n, fill_value=n)[0]
    vals = _tile_to_size(vals, n)
    return jnp.ravel(data).at[indices].set(vals, mode="drop").reshape(_shape(data))


def put(a, ind, v, mode=None, *, inplace=True):
    """a with the flat positions `ind` set to `v` (repeated as needed)."""
    if inplace:
        raise _immutable("put")
    arr, ind, v = asarray(a), jnp.ravel(ind), jnp.ravel(v)
    size = get_aval(arr).size
    if not size or not get_aval(ind).size or not get_aval(v).size:
        return arr
    v = _tile_to_size(v, get_aval(ind).size)
    if mode is None:
        scatter_mode = "drop"
    elif mode == "clip":
        ind, scatter_mode = jnp.clip(ind, 0, size - 1), "promise_in_bounds"
    elif mode == "wrap":
        ind, scatter_mode = ind % size, "promise_in_bounds"
    elif mode == "raise":
        raise NotImplementedError("The 'raise' mode to jnp.put is not supported.")
    else:
        raise ValueError(f"mode should be one of 'wrap' or 'clip'; got mode={mode!r}")
    return arr.at[jnp.unravel_index(ind, _shape(arr))].set(v, mode=scatter_mode)


def insert(arr, obj, values, axis=None):
    """`values` inserted before the indices `obj` along `axis`."""
    a, values = asarray(arr), asarray(values)
    if axis is None:
        a, axis = jnp.ravel(a), 0
    axis = canonicalize_axis(axis, get_aval(a).ndim)
    n_input = _shape(a)[axis]
    indices = jnp.arange(*obj.indices(n_input)) if isinstance(obj, slice) else asarray(obj)
    if get_aval(indices).ndim > 1:
        raise ValueError(f"jnp.insert(): obj must be a slice, a one-dimensional array, or "
                         f"a scalar; got {obj}")
    if not _dtypes.is_integer(get_aval(indices).dtype):
        if get_aval(indices).size == 0 and not isinstance(obj, Tracer):
            indices = indices.astype(int)
        else:
            raise ValueError(f"jnp.insert(): index array must be integer typed; got {obj}")
    values = jnp.array(values, ndmin=get_aval(a).ndim, dtype=get_aval(a).dtype, copy=False)
    if get_aval(indices).size == 1:
        index = jnp.ravel(indices)[0]
        if get_aval(indices).ndim == 0:
            values = jnp.moveaxis(values, 0, axis)
        indices = jnp.full(_shape(values)[axis], index)
    n_insert = jnp.broadcast_shapes(_shape(indices), (_shape(values)[axis],))[0]
    out_shape = list(_shape(a))
    out_shape[axis] += n_insert
    out = jnp.zeros_like(a, shape=tuple(out_shape))
    indices = jnp.where(indices < 0, indices + n_input, indices)
    indices = jnp.clip(indices, 0, n_input)
    values_ind = indices.at[jnp.argsort(indices)].add(
        jnp.arange(n_insert, dtype=get_aval(indices).dtype))
    arr_mask = jnp.ones(n_input + n_insert, dtype=bool).at[values_ind].set(False)
    arr_ind = jnp.where(arr_mask, size=n_input)[0]
    out = out.at[(slice(None),) * axis + (values_ind,)].set(values)
    return out.at[(slice(None),) * axis + (arr_ind,)].set(a)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """arr without the entries `obj` (an index, slice, index array or mask) along
    `axis`."""
    a = asarray(arr)
    if axis is None:
        a, axis = jnp.ravel(a), 0
    axis = canonicalize_axis(axis, get_aval(a).ndim)
    n = _shape(a)[axis]
    lead = (slice(None),) * axis
    try:
        obj = canonicalize_axis(operator.index(obj), n)
    except TypeError:
        pass
    else:
        return jnp.concatenate([a[lead + (slice(0, obj),)], a[lead + (slice(obj + 1, None),)]],
                               axis=axis)
    if isinstance(obj, slice):
        obj, assume_unique_indices = jnp.arange(n)[obj], True
    obj_dtype = get_aval(obj).dtype if not isinstance(obj, (list, tuple)) else \
        np.asarray(obj).dtype
    if _dtypes.is_integer(obj_dtype) and assume_unique_indices:
        idx = jnp.ravel(asarray(obj))
        idx = jnp.clip(jnp.where(idx < 0, idx + n, idx), 0, n)
        idx = jnp.sort(idx)
        idx = idx - jnp.arange(get_aval(idx).size, dtype=get_aval(idx).dtype)
        i = jnp.arange(n - get_aval(idx).size, dtype=get_aval(idx).dtype)
        i = i + (i[None, :] >= idx[:, None]).sum(0, dtype=get_aval(i).dtype)
        return a[lead + (i,)]
    obj = _concrete(obj, "the 'obj' array argument of jnp.delete() (or pass "
                         "assume_unique_indices=True)")
    if np.issubdtype(obj.dtype, np.integer):
        mask = np.ones(n, dtype=bool)
        mask[obj] = False
    elif obj.dtype == bool:
        if obj.shape != (n,):
            raise ValueError("np.delete(arr, obj): for boolean indices, obj must be "
                             "one-dimensional with length matching specified axis.")
        mask = ~obj
    else:
        raise ValueError(f"np.delete(arr, obj): got obj.dtype={obj.dtype}; must be integer "
                         f"or bool.")
    return a[lead + (mask,)]


@compiled("new_shape")
def resize(a, new_shape):
    """`a` flattened, repeated as needed and reshaped to `new_shape`."""
    new_shape = (new_shape,) if isinstance(new_shape, int) else tuple(new_shape)
    if any(d < 0 for d in new_shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    arr = jnp.ravel(a)
    new_size = math.prod(new_shape)
    size = get_aval(arr).size
    if size == 0 or new_size == 0:
        return jnp.zeros_like(arr, shape=new_shape)
    arr = jnp.tile(arr, -(-new_size // size))[:new_size]
    return jnp.reshape(arr, new_shape)


def _block(xs):
    if isinstance(xs, tuple):
        raise ValueError(f"jax.numpy.block does not allow tuples, got {xs}")
    if isinstance(xs, list):
        if not xs:
            raise ValueError("jax.numpy.block does not allow empty list arguments")
        parts, depths = zip(*[_block(x) for x in xs])
        if any(d != depths[0] for d in depths[1:]):
            raise ValueError("Mismatched list depths in jax.numpy.block")
        rank = max(depths[0], max(get_aval(x).ndim for x in parts))
        parts = [x.reshape((1,) * (rank - get_aval(x).ndim) + _shape(x)) for x in parts]
        return jnp.concatenate(parts, axis=-depths[0]), depths[0] + 1
    return asarray(xs), 1


def block(arrays):
    """An array assembled from nested lists of blocks (the innermost lists join along
    the last axis)."""
    return _block(arrays)[0]


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """`a` with its main diagonal set to `val`."""
    if inplace:
        raise NotImplementedError("JAX arrays are immutable, must use inplace=False")
    if wrap:
        raise NotImplementedError("wrap=True is not implemented, must use wrap=False")
    a, val = asarray(a), asarray(val)
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) > 2 and not all(n == shape[0] for n in shape[1:]):
        raise ValueError("All dimensions of input must be of equal length")
    n = min(shape)
    idx = jnp.diag_indices(n, len(shape))
    return a.at[idx].set(val if get_aval(val).ndim == 0 else
                         _tile_to_size(jnp.ravel(val), n))


def rollaxis(a, axis, start=0):
    """Move `axis` to before position `start` (prefer moveaxis)."""
    a = asarray(a)
    ndim = get_aval(a).ndim
    start = operator.index(start)
    axis = canonicalize_axis(axis, ndim)
    if not -ndim <= start <= ndim:
        raise ValueError(f"start={start} must satisfy {-ndim}<=start<={ndim}")
    if start < 0:
        start += ndim
    if start > axis:
        start -= 1
    return jnp.moveaxis(a, axis, start)


def trim_zeros(filt, trim="fb", axis=None):
    """`filt` without its leading ('f') and/or trailing ('b') zeros (concrete input)."""
    filt = asarray(filt)
    values = _concrete(filt, "the `filt` argument of trim_zeros()")
    ndim = values.ndim
    axes = set(range(ndim)) if axis is None else {
        canonicalize_axis(ax, ndim) for ax in ((axis,) if np.ndim(axis) == 0 else axis)}
    trim = trim.lower()
    if not axes or ("f" not in trim and "b" not in trim):
        return filt
    slices = []
    for ax in range(ndim):
        if ax not in axes:
            slices.append(slice(None))
            continue
        mask = values.any(axis=tuple(i for i in range(ndim) if i != ax))
        if not mask.any():
            slices.append(slice(0, 0))
            continue
        start = int(mask.argmax()) if "f" in trim else None
        stop = values.shape[ax] - int(mask[::-1].argmax()) if "b" in trim else None
        slices.append(slice(start, stop))
    return filt[tuple(slices)]


def top_k(a, k, /, *, axis=-1, mode="largest", sorted=True):
    """The k largest (or smallest) entries along `axis` and their indices."""
    arr = asarray(a)
    dtype = get_aval(arr).dtype
    if _dtypes.is_complex(dtype):
        raise ValueError("top_k is not compatible with complex inputs.")
    if mode not in ("largest", "smallest"):
        raise ValueError(f"mode must be 'largest' or 'smallest', got {mode!r}")
    axis = canonicalize_axis(axis, get_aval(arr).ndim)
    if mode == "largest":
        return tuple(lax.top_k(arr, k, axis=axis))
    # an order-reversing map: bitwise not for integers, negation for floats
    flip = lax.bitwise_not if _dtypes.is_integer(dtype) or dtype == _dtypes.bool_ else lax.neg
    vals, indices = lax.top_k(flip(arr), k, axis=axis)
    return flip(vals), indices


def minmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """(min, max) over `axis` in one call (`initial` a scalar or a (min, max) pair)."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.minmax is not supported.")
    init_min, init_max = initial if isinstance(initial, tuple) else (initial, initial)
    if (init_min is None or init_max is None) and where is not None:
        raise ValueError("reduction operation minmax does not have an identity, so to use "
                         "a where mask one has to specify 'initial'")
    return (jnp.min(a, axis, keepdims=keepdims, initial=init_min, where=where),
            jnp.max(a, axis, keepdims=keepdims, initial=init_max, where=where))
