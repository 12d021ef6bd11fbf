"""Set routines of jax.numpy: union1d, intersect1d, setdiff1d, setxor1d and the array-API
unique_all / unique_counts / unique_inverse / unique_values. Without `size=` the result
length depends on the values, so inputs must be concrete; with `size=` they run under
jit, padded as jax.numpy pads (with `fill_value`, else the smallest result)."""

__all__ = ["union1d", "intersect1d", "setdiff1d", "setxor1d", "unique_all", "unique_counts",
           "unique_inverse", "unique_values"]
import operator
from typing import NamedTuple

import numpy as np

from .. import _dtypes, lax
from .._core import ConcretizationTypeError, Tracer, get_aval
from .. import numpy as jnp
from ._util import asarray, promote_dtypes


class _UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class _UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class _UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


def _size(x):
    return get_aval(x).size


def _require_concrete(name, *xs):
    for x in xs:
        if isinstance(x, Tracer):
            raise ConcretizationTypeError(x, f"{name} without size= (pass a static size "
                                             f"to use it under jit)")


def _num_unique(arr):
    """How many distinct values the 1-D `arr` holds (NaNs count once, as unique)."""
    s = jnp.sort(arr)
    later, earlier = s[1:], s[:-1]
    differs = later != earlier
    if _dtypes.is_inexact(get_aval(s).dtype):
        differs = differs & ~(jnp.isnan(later) & jnp.isnan(earlier))
    return 1 + differs.sum()


def _pad_results(vals, num_results, fill_value):
    valid = jnp.arange(_size(vals)) < num_results
    if fill_value is None:
        vals = jnp.where(valid, vals, vals.max())
        return jnp.where(valid, vals, vals.min())
    return jnp.where(valid, vals, fill_value)


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """Sorted unique values present in either input."""
    ar1, ar2 = asarray(ar1), asarray(ar2)
    if size is None:
        _require_concrete("union1d", ar1, ar2)
    else:
        size = operator.index(size)
    return jnp.unique(jnp.concatenate((ar1, ar2), axis=None), size=size,
                      fill_value=fill_value)


def _sorted_with_indices(arr):
    iota = jnp.arange(_size(arr), dtype=np.int32)
    return lax.sort_key_val(arr, iota)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
    """Sorted values present in both inputs (and, with `return_indices`, where each
    first occurs in ar1 and ar2)."""
    arr1, arr2 = promote_dtypes(jnp.ravel(ar1), jnp.ravel(ar2))
    if size is not None:
        return _intersect1d_size(arr1, arr2, fill_value, assume_unique, size,
                                 return_indices)
    _require_concrete("intersect1d", arr1, arr2)
    ind1 = ind2 = jnp.arange(0)
    if not assume_unique:
        if return_indices:
            arr1, ind1 = jnp.unique(arr1, return_index=True)
            arr2, ind2 = jnp.unique(arr2, return_index=True)
        else:
            arr1, arr2 = jnp.unique(arr1), jnp.unique(arr2)
    arr = jnp.concatenate((arr1, arr2))
    if return_indices:
        aux, order = _sorted_with_indices(arr)
    else:
        aux = jnp.sort(arr)
    mask = np.asarray(aux[1:] == aux[:-1])
    result = aux[:-1][mask]
    if not return_indices:
        return result
    i1 = order[:-1][mask]
    i2 = order[1:][mask] - _size(arr1)
    if not assume_unique:
        i1, i2 = ind1[i1], ind2[i2]
    return result, i1, i2


def _intersect1d_size(arr1, arr2, fill_value, assume_unique, size, return_indices):
    n1, n2 = _size(arr1), _size(arr2)
    if assume_unique:
        ind1, count1 = jnp.arange(n1), n1
        ind2 = jnp.arange(n2)
        arr = jnp.concatenate([arr1, arr2])
        aux, order = lax.sort([arr, jnp.arange(_size(arr))], is_stable=True, num_keys=1)
        mask = jnp.ones(_size(arr), dtype=bool)
    else:
        count1, count2 = _num_unique(arr1) if n1 else 0, _num_unique(arr2) if n2 else 0
        arr1, ind1 = jnp.unique(arr1, return_index=True, size=n1, fill_value=0)
        arr2, ind2 = jnp.unique(arr2, return_index=True, size=n2, fill_value=0)
        arr = jnp.zeros(n1 + n2, dtype=get_aval(arr1).dtype)
        arr = lax.dynamic_update_slice(arr, arr1, (0,))
        arr = lax.dynamic_update_slice(arr, arr2, (count1,))
        mask = jnp.arange(_size(arr)) < count1 + count2
        _, aux, order = lax.sort([~mask, arr, jnp.arange(_size(arr))], is_stable=True,
                                 num_keys=2)
    aux_mask = (aux[1:] == aux[:-1]) & mask[1:]
    num_results = aux_mask.sum()
    if _size(aux):
        val_indices = jnp.nonzero(aux_mask, size=size, fill_value=_size(aux))[0]
        vals = aux.at[val_indices].get(mode="fill", fill_value=0)
    else:
        val_indices = jnp.arange(0)
        vals = jnp.zeros(size, get_aval(aux).dtype)
    vals = _pad_results(vals, num_results, fill_value)
    if not return_indices:
        return vals
    valid = jnp.arange(size) < num_results
    i1 = order.at[val_indices].get(mode="fill", fill_value=n1)
    i1 = jnp.where(valid, i1, n1)
    i2 = order.at[val_indices + 1].get(mode="fill", fill_value=n2) - count1
    i2 = jnp.where(valid, i2, n2)
    if not assume_unique:
        i1 = ind1.at[i1].get(mode="fill", fill_value=_size(ind1))
        i2 = ind2.at[i2].get(mode="fill", fill_value=_size(ind2))
    return vals, i1, i2


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Sorted unique values of ar1 that are not in ar2."""
    arr1, arr2 = jnp.ravel(ar1), jnp.ravel(ar2)
    if size is None:
        _require_concrete("setdiff1d", arr1)
    else:
        size = operator.index(size)
    fill = jnp.full_like(arr1, 0 if fill_value is None else fill_value, shape=())
    if _size(arr1) == 0:
        return jnp.full_like(arr1, fill, shape=size or 0)
    if not assume_unique:
        arr1 = jnp.unique(arr1, size=size and _size(arr1))
    mask = jnp.isin(arr1, arr2, invert=True)
    if size is None:
        return arr1[np.asarray(mask)]
    if not assume_unique:
        n_unique = _size(arr1) + 1 - (arr1 == arr1[0]).sum()
        mask = jnp.where(jnp.arange(_size(arr1)) < n_unique, mask, False)
    return jnp.where(jnp.arange(size) < mask.sum(), arr1[jnp.where(mask, size=size)], fill)


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Sorted unique values in exactly one of the inputs."""
    arr1, arr2 = promote_dtypes(jnp.ravel(ar1), jnp.ravel(ar2))
    if size is not None:
        return _setxor1d_size(arr1, arr2, fill_value, assume_unique, size)
    _require_concrete("setxor1d", arr1, arr2)
    if not assume_unique:
        arr1, arr2 = jnp.unique(arr1), jnp.unique(arr2)
    aux = jnp.concatenate((arr1, arr2))
    if _size(aux) == 0:
        return aux
    aux = jnp.sort(aux)
    flag = jnp.concatenate((True, aux[1:] != aux[:-1], True), axis=None)
    return aux[np.asarray(flag[1:] & flag[:-1])]


def _setxor1d_size(arr1, arr2, fill_value, assume_unique, size):
    if assume_unique:
        aux = jnp.sort(jnp.concatenate([arr1, arr2]))
        flag = jnp.concatenate((bool(_size(aux)), aux[1:] != aux[:-1], True), axis=None)
    else:
        n1, n2 = _size(arr1), _size(arr2)
        c1, c2 = _num_unique(arr1) if n1 else 0, _num_unique(arr2) if n2 else 0
        u1 = jnp.unique(arr1, size=n1) if n1 else arr1
        u2 = jnp.unique(arr2, size=n2) if n2 else arr2
        arr = jnp.zeros(n1 + n2, dtype=get_aval(arr1).dtype)
        arr = lax.dynamic_update_slice(arr, u1, (0,))
        arr = lax.dynamic_update_slice(arr, u2, (c1,))
        num_unique = c1 + c2
        mask = jnp.arange(_size(arr) + 1) < num_unique + 1
        _, aux = lax.sort([~mask[1:], arr], is_stable=True, num_keys=2)
        flag = mask & jnp.concatenate((bool(_size(aux)), aux[1:] != aux[:-1], False),
                                      axis=None).at[num_unique].set(True)
    aux_mask = flag[1:] & flag[:-1]
    num_results = aux_mask.sum()
    if _size(aux):
        indices = jnp.nonzero(aux_mask, size=size, fill_value=_size(aux))[0]
        vals = aux.at[indices].get(mode="fill", fill_value=0)
    else:
        vals = jnp.zeros(size, get_aval(aux).dtype)
    return _pad_results(vals, num_results, fill_value)


def unique_all(x, /, *, size=None, fill_value=None):
    """(values, indices, inverse_indices, counts) of the unique values (NaNs distinct)."""
    values, indices, inverse, counts = jnp.unique(
        x, return_index=True, return_inverse=True, return_counts=True, equal_nan=False,
        size=size, fill_value=fill_value)
    return _UniqueAllResult(values, indices, inverse, counts)


def unique_counts(x, /, *, size=None, fill_value=None):
    """(values, counts) of the unique values (NaNs distinct)."""
    values, counts = jnp.unique(x, return_counts=True, equal_nan=False, size=size,
                                fill_value=fill_value)
    return _UniqueCountsResult(values, counts)


def unique_inverse(x, /, *, size=None, fill_value=None):
    """(values, inverse_indices) of the unique values (NaNs distinct)."""
    values, inverse = jnp.unique(x, return_inverse=True, equal_nan=False, size=size,
                                 fill_value=fill_value)
    return _UniqueInverseResult(values, inverse)


def unique_values(x, /, *, size=None, fill_value=None):
    """The sorted unique values (NaNs distinct)."""
    return jnp.unique(x, equal_nan=False, size=size, fill_value=fill_value)
