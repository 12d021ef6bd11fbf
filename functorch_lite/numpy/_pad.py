"""`pad` with NumPy's modes: constant, empty, edge, reflect, symmetric, wrap, maximum,
minimum and mean. Pad widths (and stat lengths) are static; constant values may be
traced."""
import builtins

import numpy as np

from .. import _dtypes, lax
from .._core import Tracer, get_aval
from ._util import asarray, broadcast_to_shape

_MODES = ("constant", "empty", "edge", "reflect", "symmetric", "wrap", "maximum",
          "minimum", "mean")


def pad(array, pad_width, mode="constant", **kwargs):
    """Pad `array` by `pad_width` ((before, after) per axis, broadcast like NumPy).

    >>> import functorch_lite.numpy as jnp
    >>> jnp.pad(jnp.array([1, 2, 3]), (2, 1), mode="reflect").tolist()
    [3, 2, 1, 2, 3, 2]
    """
    array = array if isinstance(array, Tracer) else asarray(array)
    nd = get_aval(array).ndim
    widths = _normalize(pad_width, nd, "pad_width")
    if callable(mode) or mode not in _MODES:
        raise NotImplementedError(f"pad mode {mode!r} is not supported; supported modes: "
                                  f"{', '.join(_MODES)}")
    if mode in ("constant", "empty"):
        return _pad_constant(array, widths, kwargs.get("constant_values", 0))
    for i, (lo, hi) in enumerate(widths):
        if (lo or hi) and get_aval(array).shape[i] == 0:
            raise ValueError(f"can't extend empty axis {i} using modes other than "
                             f"'constant' or 'empty'")
    if mode == "edge":
        return _pad_edge(array, widths)
    if mode in ("reflect", "symmetric"):
        return _pad_reflect(array, widths, mode, kwargs.get("reflect_type", "even"))
    if mode == "wrap":
        return _pad_wrap(array, widths)
    return _pad_stats(array, widths, mode, kwargs.get("stat_length"))


def _normalize(widths, nd, name):
    w = np.asarray(widths)
    if w.size and not np.issubdtype(w.dtype, np.integer):
        raise TypeError(f"`{name}` must be of integral type, got {w.dtype}")
    w = np.broadcast_to(w.astype(np.int64), (nd, 2))
    if (w < 0).any():
        raise ValueError(f"index can't contain negative values (got {name}={widths})")
    return [(int(lo), int(hi)) for lo, hi in w]


def _one_axis(nd, axis, lo, hi):
    config = [(0, 0, 0)] * nd
    config[axis] = (lo, hi, 0)
    return config


def _pad_constant(x, widths, constant_values):
    aval = get_aval(x)
    if np.ndim(constant_values) == 0 and not (isinstance(constant_values, Tracer) and
                                              get_aval(constant_values).ndim):
        value = lax.convert_element_type(constant_values, aval.dtype)
        return lax.pad(x, value, [(lo, hi, 0) for lo, hi in widths])
    if isinstance(constant_values, Tracer) or hasattr(constant_values, "aval"):
        values = lax.convert_element_type(constant_values, aval.dtype)
        values = broadcast_to_shape(values, (aval.ndim, 2))
        pick = lambda i, j: lax.index_in_dim(lax.index_in_dim(values, i, 0, False), j, 0,
                                             False)
    else:
        values = np.broadcast_to(np.asarray(constant_values), (aval.ndim, 2))
        pick = lambda i, j: lax.convert_element_type(values[i, j], aval.dtype)
    for i, (lo, hi) in enumerate(widths):
        if lo:
            x = lax.pad(x, pick(i, 0), _one_axis(aval.ndim, i, lo, 0))
        if hi:
            x = lax.pad(x, pick(i, 1), _one_axis(aval.ndim, i, 0, hi))
    return x


def _spread(x, axis, count):
    """A size-1 slice at `axis` repeated `count` times."""
    shape = list(get_aval(x).shape)
    shape[axis] = count
    return lax.broadcast_in_dim(x, shape, tuple(range(len(shape))))


def _pad_edge(x, widths):
    for i, (lo, hi) in enumerate(widths):
        n = get_aval(x).shape[i]
        parts = []
        if lo:
            parts.append(_spread(lax.slice_in_dim(x, 0, 1, axis=i), i, lo))
        parts.append(x)
        if hi:
            parts.append(_spread(lax.slice_in_dim(x, n - 1, n, axis=i), i, hi))
        x = lax.concatenate(parts, i)
    return x


def _pad_reflect(x, widths, mode, reflect_type):
    # Reflect in chunks of at most the axis length, growing the array each time, so
    # that wide pads reflect the already padded part (as NumPy does).
    if reflect_type not in ("even", "odd"):
        raise ValueError(f"reflect_type must be 'even' or 'odd', got {reflect_type!r}")
    for i, (lo, hi) in enumerate(widths):
        size = get_aval(x).shape[i]
        offset = 1 if mode == "reflect" and size > 1 else 0
        for before, width in ((True, lo), (False, hi)):
            while width > 0:
                chunk = builtins.min(width, size - offset)
                width -= chunk
                n = get_aval(x).shape[i]
                if before:
                    edge = lax.slice_in_dim(x, 0, 1, axis=i)
                    part = lax.slice_in_dim(x, offset, offset + chunk, axis=i)
                else:
                    edge = lax.slice_in_dim(x, n - 1, n, axis=i)
                    part = lax.slice_in_dim(x, n - chunk - offset, n - offset, axis=i)
                part = lax.rev(part, (i,))
                if reflect_type == "odd":  # 2 * edge - part
                    edge = _spread(edge, i, chunk)
                    part = lax.sub(lax.add(edge, edge), part)
                x = lax.concatenate([part, x] if before else [x, part], i)
    return x


def _pad_wrap(x, widths):
    for i, (lo, hi) in enumerate(widths):
        size = get_aval(x).shape[i]
        left_repeats, left_rest = divmod(lo, size)
        right_repeats, right_rest = divmod(hi, size)
        parts = []
        if left_rest:
            parts.append(lax.slice_in_dim(x, size - left_rest, size, axis=i))
        parts += [x] * (left_repeats + right_repeats + 1)
        if right_rest:
            parts.append(lax.slice_in_dim(x, 0, right_rest, axis=i))
        x = lax.concatenate(parts, i)
    return x


def _pad_stats(x, widths, mode, stat_length):
    nd = get_aval(x).ndim
    lengths = [(None, None)] * nd if stat_length is None else \
        _normalize(stat_length, nd, "stat_length")
    for i, ((lo, hi), (len_lo, len_hi)) in enumerate(zip(widths, lengths)):
        n = get_aval(x).shape[i]
        parts = []
        if lo:
            k = n if len_lo is None else builtins.max(1, builtins.min(len_lo, n))
            parts.append(_spread(_statistic(lax.slice_in_dim(x, 0, k, axis=i), i, mode), i, lo))
        parts.append(x)
        if hi:
            k = n if len_hi is None else builtins.max(1, builtins.min(len_hi, n))
            parts.append(_spread(_statistic(lax.slice_in_dim(x, n - k, n, axis=i), i, mode),
                                 i, hi))
        x = lax.concatenate(parts, i)
    return x


def _statistic(region, axis, mode):
    """max/min/mean of `region` along `axis`, kept as a size-1 axis (integer means are
    rounded half to even, as NumPy does)."""
    aval = get_aval(region)
    kept = tuple(d for d in range(aval.ndim) if d != axis)
    shape = tuple(1 if d == axis else s for d, s in enumerate(aval.shape))
    if mode == "maximum":
        stat = lax.reduce_max(region, (axis,))
    elif mode == "minimum":
        stat = lax.reduce_min(region, (axis,))
    else:
        work = aval.dtype if _dtypes.is_inexact(aval.dtype) else _dtypes.default_float()
        total = lax.reduce_sum(lax.convert_element_type(region, work), (axis,))
        stat = lax.div(total, lax.full(get_aval(total).shape, aval.shape[axis], work))
        if not _dtypes.is_inexact(aval.dtype):
            stat = lax.convert_element_type(lax.round(stat, lax.RoundingMethod.TO_NEAREST_EVEN),
                                            aval.dtype)
    return lax.broadcast_in_dim(stat, shape, kept)
