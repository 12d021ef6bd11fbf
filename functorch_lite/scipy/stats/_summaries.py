"""Summary statistics of `jax.scipy.stats`: mode, rankdata and sem."""
import functools
from typing import NamedTuple

import numpy as np

from ... import _dtypes, lax
from ... import numpy as jnp
from ..._api_vmap import vmap
from ..._jit import jit
from ...numpy._util import promote_to_inexact


class ModeResult(NamedTuple):
    mode: object
    count: object


def _check_nan_policy(name, nan_policy):
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError(f"Illegal nan_policy value {nan_policy!r}; expected one of "
                         f"{{'propagate', 'omit', 'raise'}}")
    if nan_policy != "propagate":
        raise NotImplementedError(f"{name} with nan_policy={nan_policy!r}: only 'propagate' "
                                  f"can be compiled (whether x holds nans is not known).")


@jit
def _mode_of_columns(x):
    """The most frequent value of each column (the smallest among ties) and its count."""
    def one(column):
        values, counts = jnp.unique(column, return_counts=True, size=column.size)
        return values[jnp.argmax(counts)], counts.max()
    return vmap(one, in_axes=1)(x)


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The most common value along `axis` (all elements if None) and how often it occurs."""
    _check_nan_policy("mode", nan_policy)
    x = jnp.atleast_1d(jnp.asarray(a))
    if axis is not None:
        axis = axis % x.ndim
    shape = x.shape
    if axis is None:
        out_shape = (1,) * len(shape) if keepdims else ()
        x, axis = x.ravel(), 0
    else:
        out_shape = tuple(1 if i == axis else s for i, s in enumerate(shape)) if keepdims \
            else tuple(s for i, s in enumerate(shape) if i != axis)
    if x.size == 0:
        nan = jnp.full(out_shape, np.nan, _dtypes.default_float())
        return ModeResult(nan, jnp.zeros(out_shape, _dtypes.default_float()))
    x = jnp.moveaxis(x, axis, 0)
    values, counts = _mode_of_columns(x.reshape(x.shape[0], -1))
    return ModeResult(values.reshape(out_shape), counts.reshape(out_shape))


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """Ranks (from 1) of the elements of `a`; ties by `method` ('average', 'min', 'max',
    'dense', 'ordinal'); nan everywhere if `a` holds a nan."""
    _check_nan_policy("rankdata", nan_policy)
    if method not in ("average", "min", "max", "dense", "ordinal"):
        raise ValueError(f"unknown method '{method}'")
    a = jnp.asarray(a)
    if axis is not None:
        moved = jnp.moveaxis(a, axis, -1)
        ranks = vmap(lambda row: _rankdata(row, method))(moved.reshape(-1, moved.shape[-1]))
        return jnp.moveaxis(ranks.reshape(moved.shape), -1, axis)
    return _rankdata(jnp.ravel(a), method)


@functools.partial(jit, static_argnums=1)
def _rankdata(a, method):
    dtype = _dtypes.default_float()
    n = a.size
    sorted_a, order = lax.sort_key_val(a, jnp.arange(n))
    inverse = jnp.zeros(n, order.dtype).at[order].set(jnp.arange(n, dtype=order.dtype))
    if method == "ordinal":
        ranks = (inverse + 1).astype(dtype)
    else:
        new_value = jnp.concatenate([jnp.array([True]), sorted_a[1:] != sorted_a[:-1]])
        dense = jnp.cumsum(new_value)[inverse]
        # starts[j]: the sorted position where the j-th distinct value begins (then n)
        starts = jnp.nonzero(new_value, size=n + 1, fill_value=n)[0].astype(dtype)
        ranks = {"dense": lambda: dense.astype(dtype), "max": lambda: starts[dense],
                 "min": lambda: starts[dense - 1] + 1,
                 "average": lambda: 0.5 * (starts[dense] + starts[dense - 1] + 1)}[method]()
    return jnp.where(jnp.any(jnp.isnan(a)), np.nan, ranks).astype(dtype)


@functools.partial(jit, static_argnames=(
    "axis", "ddof", "nan_policy", "keepdims"))
def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean along `axis`: std(ddof) / sqrt(n)."""
    (b,) = promote_to_inexact(jnp.asarray(a))
    if nan_policy == "propagate":
        size = b.size if axis is None else b.shape[axis]
        return b.std(axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(size).astype(b.dtype)
    if nan_policy == "omit":
        count = (~jnp.isnan(b)).sum(axis, keepdims=keepdims)
        return jnp.nanstd(b, axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(count).astype(
            b.dtype)
    raise ValueError(f"{nan_policy} is not supported")
