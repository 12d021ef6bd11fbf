"""Signals and binning, as jax.numpy: convolve and correlate (one conv_general_dilated),
gradient, trapezoid, unwrap, the window functions, histogram / histogram2d /
histogramdd / histogram_bin_edges and digitize."""

__all__ = ["convolve", "correlate", "gradient", "trapezoid", "unwrap", "bartlett",
           "blackman", "hamming", "hanning", "kaiser", "histogram", "histogram2d",
           "histogramdd", "histogram_bin_edges", "digitize"]
import builtins
import math
import operator

import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ..lax._util import canonicalize_axis
from .. import numpy as jnp
from ._util import asarray, compiled, promote_dtypes, promote_to_inexact


def _shape(x):
    return get_aval(x).shape


# --- convolve / correlate -------------------------------------------------------------

def _conv(x, y, mode, op, precision, preferred_element_type):
    x, y = asarray(x), asarray(y)
    if get_aval(x).ndim != 1 or get_aval(y).ndim != 1:
        raise ValueError(f"{op}() only support 1-dimensional inputs.")
    if preferred_element_type is None:
        x, y = promote_to_inexact(x, y)
    else:
        x, y = promote_dtypes(x, y)
    if _shape(x)[0] == 0 or _shape(y)[0] == 0:
        raise ValueError(f"{op}: inputs cannot be empty, got shapes {_shape(x)} and "
                         f"{_shape(y)}.")
    out_order = slice(None)
    if op == "correlate":
        y = jnp.conj(y)
        if _shape(x)[0] < _shape(y)[0]:
            x, y = y, x
            out_order = slice(None, None, -1)
    else:
        if _shape(x)[0] < _shape(y)[0]:
            x, y = y, x
        y = jnp.flip(y)
    n = _shape(y)[0]
    if mode == "valid":
        padding = [(0, 0)]
    elif mode == "same":
        padding = [(n // 2, n - n // 2 - 1)]
    elif mode == "full":
        padding = [(n - 1, n - 1)]
    else:
        raise ValueError("mode must be one of ['full', 'same', 'valid']")
    result = lax.conv_general_dilated(x[None, None, :], y[None, None, :], (1,), padding,
                                      precision=precision,
                                      preferred_element_type=preferred_element_type)
    return result[0, 0, out_order]


@compiled("mode", "precision", "preferred_element_type")
def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """Discrete linear convolution of 1-D sequences ('full', 'same' or 'valid')."""
    return _conv(a, v, mode, "convolve", precision, preferred_element_type)


@compiled("mode", "precision", "preferred_element_type")
def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """Cross-correlation of 1-D sequences (v conjugated)."""
    return _conv(a, v, mode, "correlate", precision, preferred_element_type)


# --- calculus -------------------------------------------------------------------------

def _gradient_along_axis(a, h, axis):
    sliced = lambda start, stop: lax.slice_in_dim(a, start, stop, axis=axis)
    n = _shape(a)[axis]
    upper = sliced(1, 2) - sliced(0, 1)
    lower = sliced(n - 1, n) - sliced(n - 2, n - 1)
    if np.ndim(h) == 0:
        inner = (sliced(2, n) - sliced(0, n - 2)) * 0.5 / h
        lower, upper = lower / h, upper / h
    elif np.ndim(h) == 1:
        if _shape(h)[0] != n:
            raise ValueError("Spacing arrays must have the same length as the dimension "
                             "along which the gradient is calculated.")
        h_shape = [1] * get_aval(a).ndim
        h_shape[axis] = n
        h = h.reshape(h_shape)
        hs = lambda start, stop: lax.slice_in_dim(h, start, stop, axis=axis)
        upper = upper / (hs(1, 2) - hs(0, 1))
        lower = lower / (hs(n - 1, n) - hs(n - 2, n - 1))
        dx1 = hs(1, n - 1) - hs(0, n - 2)
        dx2 = hs(2, n) - hs(1, n - 1)
        ca = -dx2 / (dx1 * (dx1 + dx2))
        cb = (dx2 - dx1) / (dx1 * dx2)
        cc = dx1 / (dx2 * (dx1 + dx2))
        inner = ca * sliced(0, n - 2) + cb * sliced(1, n - 1) + cc * sliced(2, n)
    else:
        raise ValueError("Spacing arrays must be 1D arrays or scalars.")
    return jnp.concatenate((upper, inner, lower), axis=axis)


@compiled("axis", "edge_order")
def gradient(f, *varargs, axis=None, edge_order=None):
    """Central differences inside, one-sided at the ends (per axis, with optional
    scalar or coordinate spacings)."""
    if edge_order is not None:
        raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not "
                                  "supported.")
    a, *spacing = promote_to_inexact(asarray(f), *map(asarray, varargs))
    ndim = get_aval(a).ndim
    if axis is None:
        axes = tuple(range(ndim))
    else:
        axes = tuple(canonicalize_axis(i, ndim) for i in
                     ((axis,) if isinstance(axis, int) else axis))
    if not axes:
        return []
    if min(s for i, s in enumerate(_shape(a)) if i in axes) < 2:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                         "least 2 elements are required.")
    if not spacing:
        dx = [1.0] * len(axes)
    elif len(spacing) == 1:
        dx = list(spacing) * len(axes)
    elif len(spacing) == len(axes):
        dx = list(spacing)
    else:
        raise TypeError(f"Invalid number of spacing arguments {len(spacing)} for "
                        f"axis={axis}")
    grads = [_gradient_along_axis(a, h, ax) for ax, h in zip(axes, dx)]
    return grads[0] if len(axes) == 1 else grads


@compiled("axis")
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of y by the trapezoidal rule (sample points x, or spacing dx)."""
    if x is None:
        (y,) = promote_to_inexact(asarray(y))
        dx = asarray(dx)
        if get_aval(dx).ndim > 0:
            dx = lax.expand_dims(dx, range(get_aval(y).ndim - get_aval(dx).ndim))
            dx = jnp.moveaxis(dx, axis, -1)
    else:
        y, x = promote_to_inexact(asarray(y), asarray(x))
        dx = jnp.diff(x) if get_aval(x).ndim == 1 else \
            jnp.moveaxis(jnp.diff(x, axis=axis), axis, -1)
    y = jnp.moveaxis(y, axis, -1)
    if get_aval(dx).ndim == 0 or _shape(dx)[-1] == 1:
        dx = dx if get_aval(dx).ndim == 0 else dx[..., 0]
        return dx * (y.sum(-1) - 0.5 * (y[..., 0] + y[..., -1]))
    return 0.5 * (dx * (y[..., 1:] + y[..., :-1])).sum(-1)


@compiled("axis")
def unwrap(p, discont=None, axis=-1, period=2 * np.pi):
    """p with jumps larger than `discont` replaced by their `period` complements."""
    p, period = promote_dtypes(asarray(p), asarray(period))
    if _dtypes.is_complex(get_aval(p).dtype):
        raise ValueError("jnp.unwrap does not support complex inputs.")
    if _shape(p)[axis] == 0:
        return p
    if discont is None:
        discont = period / 2
    interval = period // 2 if _dtypes.is_integer(get_aval(p).dtype) else period / 2
    dd = jnp.diff(p, axis=axis)
    ddmod = jnp.mod(dd + interval, period) - interval
    ddmod = jnp.where((ddmod == -interval) & (dd > 0), interval, ddmod)
    correct = jnp.where(jnp.abs(dd) < discont, 0, ddmod - dd)
    n = _shape(p)[axis]
    return jnp.concatenate((lax.slice_in_dim(p, 0, 1, axis=axis),
                            lax.slice_in_dim(p, 1, n, axis=axis) +
                            jnp.cumsum(correct, axis=axis)), axis=axis)


# --- windows --------------------------------------------------------------------------

def _window(M, name):
    M = operator.index(M)
    dtype = _dtypes.default_float()
    if M <= 1:
        return M, None, lax.full((M,), 1, dtype)
    return M, lax.iota(dtype, M), None


def bartlett(M):
    """The triangular window of M points."""
    M, n, short = _window(M, "bartlett")
    return short if n is None else 1 - jnp.abs(2 * n + 1 - M) / (M - 1)


def blackman(M):
    """The Blackman window of M points."""
    M, n, short = _window(M, "blackman")
    if n is None:
        return short
    return (0.42 - 0.5 * jnp.cos(2 * np.pi * n / (M - 1)) +
            0.08 * jnp.cos(4 * np.pi * n / (M - 1)))


def hamming(M):
    """The Hamming window of M points."""
    M, n, short = _window(M, "hamming")
    return short if n is None else 0.54 - 0.46 * jnp.cos(2 * np.pi * n / (M - 1))


def hanning(M):
    """The Hann window of M points."""
    M, n, short = _window(M, "hanning")
    return short if n is None else 0.5 * (1 - jnp.cos(2 * np.pi * n / (M - 1)))


def kaiser(M, beta):
    """The Kaiser window (uses jnp.i0)."""
    M, n, short = _window(M, "kaiser")
    if n is None:
        return short
    alpha = 0.5 * (M - 1)
    return jnp.i0(beta * jnp.sqrt(1 - ((n - alpha) / alpha) ** 2)) / jnp.i0(beta)


# --- histograms -----------------------------------------------------------------------

def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """The bin edges `histogram` uses: `bins` evenly spaced over `range` (default the
    data's min..max), or the given edges."""
    if isinstance(bins, str):
        raise NotImplementedError("string values for `bins` not implemented.")
    arr = asarray(a)
    dtype = get_aval(arr).dtype
    dtype = dtype if _dtypes.is_inexact(dtype) else _dtypes.default_float()
    if np.ndim(bins) == 1:
        return asarray(bins, dtype=dtype)
    bins = operator.index(bins)
    if range is None:
        range = [arr.min(), arr.max()]
    range = jnp.asarray(range, dtype=dtype)
    if _shape(range) != (2,):
        raise ValueError(f"`range` must be either None or a sequence of scalars, got "
                         f"{range}")
    flat = jnp.ptp(range) == 0
    lo = jnp.where(flat, range[0] - 0.5, range[0])
    hi = jnp.where(flat, range[1] + 0.5, range[1])
    return jnp.linspace(lo, hi, bins + 1, dtype=dtype)


def histogram(a, bins=10, range=None, weights=None, density=None):
    """(counts, bin_edges): how many values (or summed weights) fall in each bin."""
    if weights is None:
        (a,) = promote_to_inexact(asarray(a))
        weights = jnp.ones_like(a)
    else:
        a, weights = asarray(a), asarray(weights)
        if _shape(a) != _shape(weights):
            raise ValueError("weights should have the same shape as a.")
        a, weights = promote_to_inexact(a, weights)
    edges = histogram_bin_edges(a, bins, range, weights)
    n = _shape(edges)[0]
    idx = jnp.searchsorted(edges, a, side="right")
    idx = jnp.where(a == edges[-1], n - 1, idx)
    counts = jnp.zeros(n, get_aval(weights).dtype).at[idx].add(weights)[1:]
    if density:
        counts = counts / jnp.diff(edges) / counts.sum()
    return counts, edges


def histogramdd(sample, bins=10, range=None, weights=None, density=None):
    """(counts over a D-dimensional grid of bins, the D edge arrays) of N points
    (sample shape (N, D))."""
    if weights is None:
        (sample,) = promote_to_inexact(asarray(sample))
    else:
        sample, weights = asarray(sample), asarray(weights)
        if _shape(weights) != _shape(sample)[:1]:
            raise ValueError("should have one weight for each sample.")
        sample, weights = promote_to_inexact(sample, weights)
    N, D = _shape(sample)
    if range is not None and (len(range) != D or any(
            r is not None and np.shape(r)[0] != 2 for r in range)):
        raise ValueError(f"For sample.shape={(N, D)}, range must be a sequence of {D} pairs "
                         f"or Nones; got range={range}")
    try:
        per_dim = list(bins)
    except TypeError:
        per_dim = D * [bins]
    else:
        if len(per_dim) != D:
            raise ValueError("should be a bin for each dimension.")
    idx_by_dim, edges_by_dim = [], []
    for i in builtins.range(D):
        edges = histogram_bin_edges(sample[:, i], per_dim[i],
                                    None if range is None else range[i], weights)
        idx = jnp.searchsorted(edges, sample[:, i], side="right")
        idx_by_dim.append(jnp.where(sample[:, i] == edges[-1], idx - 1, idx))
        edges_by_dim.append(edges)
    nbins = tuple(_shape(e)[0] + 1 for e in edges_by_dim)
    flat = jnp.ravel_multi_index(tuple(idx_by_dim), nbins, mode="clip")
    hist = jnp.bincount(flat, weights, length=math.prod(nbins)).reshape(nbins)
    hist = hist[D * (slice(1, -1),)]
    if density:
        hist = hist.astype(get_aval(sample).dtype)
        hist = hist / hist.sum()
        for norm in jnp.ix_(*[jnp.diff(e) for e in edges_by_dim]):
            hist = hist / norm
    return hist, edges_by_dim


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):
    """(counts, x edges, y edges) of the points (x[i], y[i])."""
    x, y = asarray(x), asarray(y)
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n not in (1, 2):
        edges = asarray(bins)
        bins = [edges, edges]
    hist, edges = histogramdd(jnp.transpose(jnp.asarray([x, y])), bins, range, weights,
                              density)
    return hist, edges[0], edges[1]


@compiled("right", "method")
def digitize(x, bins, right=False, *, method=None):
    """The bin index of each x (bins increasing or decreasing)."""
    x, bins = asarray(x), asarray(bins)
    if get_aval(bins).ndim != 1:
        raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins={bins}")
    if _shape(bins)[0] == 0:
        return jnp.zeros_like(x, dtype=np.int32)
    side = "left" if right else "right"
    kw = {} if method is None else {"method": method}
    return jnp.where(bins[-1] >= bins[0], jnp.searchsorted(bins, x, side=side, **kw),
                     _shape(bins)[0] - jnp.searchsorted(bins[::-1], x, side=side, **kw))
