"""Shape functions: reshape, transpose, concatenate, stack, split, tile, repeat, flip,
roll, pad, broadcasting helpers, ... (static shapes and static split points)."""

__all__ = [
    "shape", "ndim", "size", "reshape", "ravel", "transpose", "permute_dims",
    "matrix_transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims", "concatenate",
    "concat", "stack", "vstack", "hstack", "dstack", "column_stack", "append", "split",
    "array_split", "hsplit", "vsplit", "dsplit", "unstack", "tile", "repeat", "flip",
    "fliplr", "flipud", "roll", "rot90", "pad", "broadcast_to", "broadcast_arrays",
    "atleast_1d", "atleast_2d", "atleast_3d", "copy", "astype",
]
import builtins
import operator

import numpy as np

from .. import _jax_versions, lax
from .._core import Tracer, canonicalize_shape, get_aval
from ._util import (asarray, broadcast_arrays_, broadcast_to_shape, check_no_out,
                    promote_dtypes)
from ._pad import pad
from .._device import check_device


def _arr(x):
    return x if isinstance(x, Tracer) else asarray(x)


def _axis(axis, ndim):
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def _axes(axis, ndim):
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    out = tuple(_axis(a, ndim) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis: {axis}")
    return out


_static_shape = canonicalize_shape


# --- properties -------------------------------------------------------------------

def shape(a):
    """The shape of an array, tracer, scalar or nested list."""
    return get_aval(a).shape if _is_array(a) else np.shape(a)


def ndim(a):
    """The number of dimensions of an array, tracer, scalar or nested list."""
    return get_aval(a).ndim if _is_array(a) else np.ndim(a)


def size(a, axis=None):
    """The number of elements (along `axis` if given)."""
    s = shape(a)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[_axis(axis, len(s))]


def _is_array(a):
    return isinstance(a, Tracer) or hasattr(a, "aval")


# --- reshaping and transposing ----------------------------------------------------

def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """Reshape `a`, reading and writing elements in row-major ("C") or column-major
    ("F") order; one dimension may be -1 and is inferred. (`copy` does not matter:
    arrays are immutable.)"""
    if order not in ("C", "F"):
        raise NotImplementedError(f"jnp.reshape supports order='C' and order='F', got "
                                  f"order={order!r}")
    shape = newshape if shape is None else shape
    a = _arr(a)
    if order == "F":  # column-major: reverse the axes, reshape row-major, reverse back
        new = _static_shape(shape)
        flipped = reshape(transpose(a), new[::-1])
        return transpose(flipped)
    aval = get_aval(a)
    new = _static_shape(shape)
    if builtins.sum(d == -1 for d in new) > 1 or any(d < -1 for d in new):
        raise ValueError(f"cannot reshape array of shape {aval.shape} into shape {new}: "
                         f"at most one dimension may be -1 and none may be below it")
    if -1 in new:
        known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
        if known == 0 or aval.size % known:
            raise TypeError(f"cannot reshape array of shape {aval.shape} (size {aval.size}) "
                            f"into shape {new}")
        new = tuple(aval.size // known if d == -1 else d for d in new)
    elif int(np.prod(new, dtype=np.int64)) != aval.size:
        raise TypeError(f"cannot reshape array of shape {aval.shape} (size {aval.size}) "
                        f"into shape {new}")
    return lax.reshape(a, new)


def ravel(a, order="C"):
    """The elements of `a` as a 1-D array (order "C": row-major, "F": column-major)."""
    if order not in ("C", "F"):
        raise NotImplementedError(f"jnp.ravel supports order='C' and order='F', got "
                                  f"order={order!r}")
    a = _arr(a)
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """Permute the axes of `a` (reverse them when `axes` is None)."""
    a = _arr(a)
    n = get_aval(a).ndim
    perm = tuple(range(n))[::-1] if axes is None else _axes(axes, n)
    if len(perm) != n:
        raise ValueError(f"axes {axes} don't match an array of dimension {n}")
    return lax.transpose(a, perm)


def permute_dims(a, /, axes):
    """Array-API name of `transpose`."""
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two axes."""
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    """Exchange two axes."""
    a = _arr(a)
    n = get_aval(a).ndim
    perm = list(range(n))
    i, j = _axis(axis1, n), _axis(axis2, n)
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, perm)


def moveaxis(a, source, destination):
    """Move axes `source` to positions `destination`, keeping the others in order."""
    a = _arr(a)
    n = get_aval(a).ndim
    src, dst = _axes(source, n), _axes(destination, n)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same length")
    perm = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return lax.transpose(a, perm)


def squeeze(a, axis=None):
    """Remove axes of size one (all of them when `axis` is None)."""
    a = _arr(a)
    s = get_aval(a).shape
    axes = tuple(i for i, d in enumerate(s) if d == 1) if axis is None else _axes(axis, len(s))
    bad = [i for i in axes if s[i] != 1]
    if bad:
        raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                         f"to one: axis {bad[0]} of an array of shape {s}")
    return lax.squeeze(a, axes)


def expand_dims(a, axis):
    """Insert size-one axes at the positions `axis` (int or tuple) of the result."""
    a = _arr(a)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return lax.expand_dims(a, axes)


# --- joining ----------------------------------------------------------------------

def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis (flattened first when `axis` is None); dtypes
    are promoted as for arithmetic."""
    if _is_array(arrays):  # an array is a sequence of its rows
        arrays = unstack(arrays) if get_aval(arrays).ndim else [arrays]
    arrays = [_arr(x) for x in arrays]
    if not arrays:
        raise ValueError("Need at least one array to concatenate.")
    if axis is None:
        arrays, axis = [ravel(x) for x in arrays], 0
    if any(get_aval(x).ndim == 0 for x in arrays):
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    arrays = promote_dtypes(*arrays)
    if dtype is not None:
        arrays = [lax.convert_element_type(x, dtype) for x in arrays]
    n = get_aval(arrays[0]).ndim
    if any(get_aval(x).ndim != n for x in arrays):
        raise ValueError(f"All the input arrays must have the same number of dimensions, "
                         f"got shapes {[get_aval(x).shape for x in arrays]}")
    return lax.concatenate(arrays, _axis(axis, n))


def concat(arrays, /, *, axis=0):
    """Array-API name of `concatenate`."""
    return concatenate(arrays, axis)


def stack(arrays, axis=0, out=None, dtype=None):
    """Join arrays of one shape along a new axis."""
    check_no_out(out, "stack")
    if _is_array(arrays):
        arrays = _arr(arrays)
        return moveaxis(arrays, 0, _axis(axis, get_aval(arrays).ndim))
    arrays = [_arr(x) for x in arrays]
    if not arrays:
        raise ValueError("Need at least one array to stack.")
    shapes = {get_aval(x).shape for x in arrays}
    if len(shapes) != 1:
        raise ValueError(f"All input arrays must have the same shape, got "
                         f"{[get_aval(x).shape for x in arrays]}")
    axis = _axis(axis, get_aval(arrays[0]).ndim + 1)
    return concatenate([lax.expand_dims(x, (axis,)) for x in arrays], axis, dtype)


def vstack(tup, dtype=None):
    """Stack along axis 0 (1-D arrays become rows)."""
    return concatenate([atleast_2d(x) for x in _seq(tup)], 0, dtype)


def hstack(tup, dtype=None):
    """Stack along axis 1 (axis 0 for 1-D arrays)."""
    arrays = [atleast_1d(x) for x in _seq(tup)]
    return concatenate(arrays, 0 if get_aval(arrays[0]).ndim == 1 else 1, dtype)


def dstack(tup, dtype=None):
    """Stack along axis 2."""
    return concatenate([atleast_3d(x) for x in _seq(tup)], 2, dtype)


def column_stack(tup):
    """Stack 1-D arrays as columns of a 2-D array (2-D arrays as they are)."""
    arrays = [_arr(x) for x in _seq(tup)]
    arrays = [lax.reshape(x, (get_aval(x).size, 1)) if get_aval(x).ndim < 2 else x
              for x in arrays]
    return concatenate(arrays, 1)


def _seq(tup):
    return unstack(tup) if _is_array(tup) else list(tup)


def append(arr, values, axis=None):
    """`arr` followed by `values` along `axis` (both flattened when `axis` is None)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


# --- splitting --------------------------------------------------------------------

def _split(name, ary, indices_or_sections, axis, equal):
    ary = _arr(ary)
    s = get_aval(ary).shape
    axis = _axis(axis, len(s))
    n = s[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"{name}: number of sections must be larger than 0")
        if equal and n % sections:
            raise ValueError(f"array split does not result in an equal division: axis {axis} "
                             f"of size {n} into {sections} sections")
        small, extra = divmod(n, sections)
        sizes = [small + 1] * extra + [small] * (sections - extra)
        points = np.cumsum([0] + sizes)
    else:
        points = [0] + [operator.index(i) for i in np.asarray(indices_or_sections)] + [n]
    parts = []
    for start, stop in zip(points[:-1], points[1:]):
        start, stop, _ = builtins.slice(int(start), int(stop)).indices(n)
        parts.append(lax.slice_in_dim(ary, start, builtins.max(start, stop), axis=axis))
    return parts


def split(ary, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices."""
    return _split("split", ary, indices_or_sections, axis, equal=True)


def array_split(ary, indices_or_sections, axis=0):
    """As `split`, but an int number of sections need not divide the axis evenly."""
    return _split("array_split", ary, indices_or_sections, axis, equal=False)


def hsplit(ary, indices_or_sections):
    """Split along axis 1 (axis 0 for 1-D arrays)."""
    ary = _arr(ary)
    return split(ary, indices_or_sections, 1 if get_aval(ary).ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """Split along axis 0 (arrays of at least 2 dimensions)."""
    ary = _arr(ary)
    if get_aval(ary).ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """Split along axis 2 (arrays of at least 3 dimensions)."""
    ary = _arr(ary)
    if get_aval(ary).ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def unstack(x, /, *, axis=0):
    """The slices of `x` along `axis`, as a tuple."""
    x = _arr(x)
    s = get_aval(x).shape
    if not s:
        raise ValueError("unstack requires an array of at least one dimension")
    axis = _axis(axis, len(s))
    return tuple(lax.index_in_dim(x, i, axis, keepdims=False) for i in range(s[axis]))


# --- repetition -------------------------------------------------------------------

def tile(A, reps):
    """Repeat the whole of `A` `reps` times along each axis."""
    A = _arr(A)
    reps = _static_shape(reps)
    s = get_aval(A).shape
    n = builtins.max(len(s), len(reps))
    s, reps = (1,) * (n - len(s)) + s, (1,) * (n - len(reps)) + reps
    A = lax.reshape(A, s)
    interleaved = [d for pair in zip(reps, s) for d in pair]
    out = lax.broadcast_in_dim(A, interleaved, tuple(range(1, 2 * n, 2)))
    return lax.reshape(out, [r * d for r, d in zip(reps, s)])


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element `repeats` times (an int, or one static count per element)
    along `axis` (of the flattened array when `axis` is None)."""
    a = _arr(a)
    if axis is None:
        a, axis = ravel(a), 0
    s = get_aval(a).shape
    axis = _axis(axis, len(s))
    if isinstance(repeats, Tracer):
        repeats = repeats.to_concrete(
            "jnp.repeat's `repeats` (the output size depends on it: pass static repeats, "
            "or a static total_repeat_length)")
    counts = np.asarray(repeats)
    if counts.ndim == 0 or counts.shape == (1,):
        count = int(counts.reshape(()))
        if total_repeat_length is None:
            return _repeat_each(a, axis, count)
        counts = np.full(s[axis], count)
    if counts.shape != (s[axis],):
        raise ValueError(f"repeat: repeats of shape {counts.shape} do not match axis {axis} "
                         f"of size {s[axis]}")
    source = np.repeat(np.arange(s[axis]), counts.astype(np.int64))
    if total_repeat_length is not None:  # truncate, or repeat the last element
        source = np.concatenate([source, np.full(builtins.max(
            total_repeat_length - len(source), 0), s[axis] - 1)])[:total_repeat_length]
    if len(source) == 0:
        return lax.slice_in_dim(a, 0, 0, axis=axis)
    # consecutive runs of one source index become one broadcast slice each
    starts = np.flatnonzero(np.diff(source, prepend=-1))
    lengths = np.diff(np.append(starts, len(source)))
    parts = [_repeat_each(lax.slice_in_dim(a, int(source[i]), int(source[i]) + 1, axis=axis),
                          axis, int(k)) for i, k in zip(starts, lengths)]
    return lax.concatenate(parts, axis)


def _repeat_each(a, axis, count):
    s = get_aval(a).shape
    spread = (*s[:axis + 1], count, *s[axis + 1:])
    dims = (*range(axis + 1), *range(axis + 2, len(s) + 1))
    out = lax.broadcast_in_dim(a, spread, dims)
    return lax.reshape(out, (*s[:axis], s[axis] * count, *s[axis + 1:]))


# --- reordering -------------------------------------------------------------------

def flip(m, axis=None):
    """Reverse the order of elements along `axis` (all axes when None)."""
    m = _arr(m)
    n = get_aval(m).ndim
    return lax.rev(m, tuple(range(n)) if axis is None else _axes(axis, n))


def fliplr(m):
    """Reverse along axis 1."""
    m = _arr(m)
    if get_aval(m).ndim < 2:
        raise ValueError("fliplr requires an array of at least 2 dimensions")
    return flip(m, 1)


def flipud(m):
    """Reverse along axis 0."""
    m = _arr(m)
    if get_aval(m).ndim < 1:
        raise ValueError("flipud requires an array of at least 1 dimension")
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Shift elements cyclically by `shift` along `axis` (of the flattened array when
    None). A traced shift uses dynamic slicing."""
    a = _arr(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), get_aval(a).shape)
    s = get_aval(a).shape
    if isinstance(shift, Tracer):
        shifts = list(unstack(shift)) if get_aval(shift).ndim else [shift]
        axes = [int(ax) for ax in np.atleast_1d(axis)]
        if len(shifts) == 1:
            shifts = shifts * len(axes)
        elif len(axes) == 1:
            axes = axes * len(shifts)
        if len(shifts) != len(axes):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
        for sh, ax in zip(shifts, axes):
            ax = _axis(ax, len(s))
            a = _roll_dynamic(a, sh, ax, s[ax]) if s[ax] else a
        return a
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    for sh, ax in zip(shifts.reshape(-1), axes.reshape(-1)):
        ax = _axis(ax, len(s))
        n = s[ax]
        sh = int(sh) % n if n else 0
        if sh:
            a = lax.concatenate([lax.slice_in_dim(a, n - sh, n, axis=ax),
                                 lax.slice_in_dim(a, 0, n - sh, axis=ax)], ax)
    return a


def _roll_dynamic(a, shift, axis, n):
    dynamic_slice_in_dim = getattr(lax, "dynamic_slice_in_dim", None)
    if dynamic_slice_in_dim is None:
        raise NotImplementedError("roll with a traced shift needs lax.dynamic_slice_in_dim")
    shift = lax.convert_element_type(shift, np.int32)
    shift = lax.rem(lax.add(lax.rem(shift, np.int32(n)), np.int32(n)), np.int32(n))
    doubled = lax.concatenate([a, a], axis)
    return dynamic_slice_in_dim(doubled, lax.sub(np.int32(n), shift), n, axis)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees `k` times in the plane of `axes` (from the first toward
    the second)."""
    m = _arr(m)
    n = get_aval(m).ndim
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must be two different axes, got {axes}")
    ax1, ax2 = _axes(axes, n)
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(m, (ax1, ax2))
    perm = list(range(n))
    perm[ax1], perm[ax2] = perm[ax2], perm[ax1]
    if k == 1:
        return lax.transpose(flip(m, ax2), perm)
    return flip(lax.transpose(m, perm), ax2)


# --- broadcasting and dimensions --------------------------------------------------

def broadcast_to(array, shape):
    """`array` broadcast to `shape` (NumPy rules; no copy semantics)."""
    array = _arr(array)
    return broadcast_to_shape(array, _static_shape(shape))


def broadcast_arrays(*args):
    """The arguments broadcast to their common shape (a tuple or, before JAX 0.11.1,
    a list: as the installed JAX)."""
    out = broadcast_arrays_(*[_arr(a) for a in args])
    return tuple(out) if _jax_versions.BROADCAST_ARRAYS_TUPLE else out


def _atleast(n, arys):
    out = []
    for x in arys:
        x = _arr(x)
        s = get_aval(x).shape
        if len(s) < n:
            if n == 3 and len(s) == 2:
                s = (*s, 1)
            elif n == 3 and len(s) == 1:
                s = (1, *s, 1)
            else:
                s = (1,) * (n - len(s)) + s
            x = lax.reshape(x, s)
        out.append(x)
    if len(out) == 1:
        return out[0]
    return tuple(out) if _jax_versions.ATLEAST_TUPLE else out


def atleast_1d(*arys):
    """Each argument with at least one dimension."""
    return _atleast(1, arys)


def atleast_2d(*arys):
    """Each argument with at least two dimensions (1-D becomes a row)."""
    return _atleast(2, arys)


def atleast_3d(*arys):
    """Each argument with at least three dimensions ((N,) -> (1, N, 1); (M, N) ->
    (M, N, 1))."""
    return _atleast(3, arys)


def copy(a, order=None):
    """A copy of `a` (a new buffer when eager)."""
    if order not in (None, "K", "C"):
        raise NotImplementedError(f"jnp.copy supports order='K' or 'C' only, got "
                                  f"order={order!r}")
    return lax.copy_p.bind(_arr(a))


def astype(x, dtype, /, *, copy=False, device=None):
    """`x` converted to `dtype` (`copy` does not matter: arrays are immutable; `device`
    may only name the default device)."""
    check_device(device, "jnp.astype")
    return lax.convert_element_type(_arr(x), dtype)

