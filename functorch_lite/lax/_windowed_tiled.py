"""Windowed reductions whose windows tile the operand exactly (stride == window, no
dilation, padded size a multiple of the window: 2x2 pooling of even images), lowered
without `reduce_window` or `select_and_scatter`: a reshape gives every window its own
axes and a plain `reduce` (or an unrolled chain of elementwise selects) runs over them,
which XLA's CPU backend runs faster (JAX's LeNet-5 training step at batch 256 takes
0.65x its time with `reduce_window`; docs/performance.md).

The results are the general lowering's: max/min are exact; sums add the same elements
(XLA may order them differently, so they agree to rounding); the derivatives of max/min
pick, in each window, the element `reduce_window`'s variadic form (JVP) and
`select_and_scatter` (VJP) pick, ties, infinities and NaNs included: the chains below
replay XLA's row-major walk over the window with the same comparison."""

__all__ = ["tiles_exactly", "tiled_lowering", "tiled_sum_transpose"]
import itertools

import numpy as np

from .._lowering import composite_lowering
from . import _elementwise as ew
from ._reductions import reduce_max, reduce_min, reduce_sum, _max_identity, _min_identity
from ._slicing import pad, slice
from ._structural import broadcast_in_dim, reshape
from ._values import full
from ._values import select as where  # `select` names the GE/LE parameter

# windows with more elements than this keep the general lowering for the max/min
# derivatives (their chain is unrolled once per window element)
MAX_CHAIN = 64


def tiles_exactly(shape, dtype, window_dimensions, window_strides, padding,
                  base_dilation=None, window_dilation=None):
    """Whether the windows tile the padded operand exactly, one window per output."""
    nd = len(shape)
    base_dilation = base_dilation or (1,) * nd
    window_dilation = window_dilation or (1,) * nd
    return (np.dtype(dtype) != np.bool_
            and all(b == 1 and d == 1 for b, d in zip(base_dilation, window_dilation))
            and tuple(window_strides) == tuple(window_dimensions)
            and all(lo >= 0 and hi >= 0 and (n + lo + hi) % w == 0
                    for n, (lo, hi), w in zip(shape, padding, window_dimensions)))


def _window_axes(x, window_dimensions, padding, fill):
    """`x` padded with `fill` and reshaped to (n0, w0, n1, w1, ...): window axes odd."""
    if any(p != (0, 0) for p in padding):
        fill = full((), fill, x.dtype)
        x = pad(x, fill, [(lo, hi, 0) for lo, hi in padding])
    split = [s for n, w in zip(x.shape, window_dimensions) for s in (n // w, w)]
    return reshape(x, split)


def _positions(windowed, window_dimensions):
    """The operand's element at each window position, row-major: arrays of the output
    shape (XLA walks a window in this order)."""
    out_shape = windowed.shape[::2]
    for position in itertools.product(*(range(w) for w in window_dimensions)):
        starts = [i for p in position for i in (0, p)]
        limits = [i for n, p in zip(out_shape, position) for i in (n, p + 1)]
        yield reshape(slice(windowed, starts, limits), out_shape)


def _tiled_reduce(reducer, fill):
    def reduce(x, *, window_dimensions, padding, **_):
        windowed = _window_axes(x, window_dimensions, padding, fill(x.dtype))
        return reducer(windowed, tuple(range(1, windowed.ndim, 2)))
    return reduce


def _keeps(select):
    """`keeps(chosen, x)`: whether XLA's select computation keeps the element chosen so
    far over `x` (GE for max, LE for min; False on NaN, so NaN moves the choice)."""
    return ew.ge if select == "GE" else ew.le


def _identity(select, dtype):
    return (_max_identity if select == "GE" else _min_identity)(dtype)


def _tiled_gather(t, x, *, select, window_dimensions, padding, **_):
    """The tangent at each window's chosen element: reduce_window over (value, tangent)
    pairs from the (identity, 0) init, each step keeping the pair chosen so far when
    `keeps(chosen, next)`."""
    keeps = _keeps(select)
    fill = _identity(select, x.dtype)
    xs = _positions(_window_axes(x, window_dimensions, padding, fill), window_dimensions)
    ts = _positions(_window_axes(t, window_dimensions, padding, 0), window_dimensions)
    out_shape = tuple(-(-(n + lo + hi) // w) for n, (lo, hi), w
                      in zip(x.shape, padding, window_dimensions))
    chosen_x, chosen_t = full(out_shape, fill, x.dtype), full(out_shape, 0, t.dtype)
    for xk, tk in zip(xs, ts):
        keep = keeps(chosen_x, xk)
        chosen_x, chosen_t = where(keep, chosen_x, xk), where(keep, chosen_t, tk)
    return chosen_t


def _tiled_scatter(source, x, *, select, window_dimensions, padding, **_):
    """Each window's cotangent added to its chosen element: select_and_scatter starts
    from the window's first element and moves to the next unless `keeps(chosen, next)`;
    the chosen position's index then masks the broadcast cotangent."""
    keeps = _keeps(select)
    windowed = _window_axes(x, window_dimensions, padding, _identity(select, x.dtype))
    xs = _positions(windowed, window_dimensions)
    chosen_x = next(xs)
    chosen_index = full(chosen_x.shape, 0, np.int32)
    for k, xk in enumerate(xs, start=1):
        keep = keeps(chosen_x, xk)
        chosen_x = where(keep, chosen_x, xk)
        chosen_index = where(keep, chosen_index, full(chosen_x.shape, k, np.int32))
    nd = len(window_dimensions)
    outer = tuple(range(0, 2 * nd, 2))
    spread = lambda a: broadcast_in_dim(a, windowed.shape, outer)
    index = broadcast_in_dim(np.arange(int(np.prod(window_dimensions)), dtype=np.int32)
                             .reshape(window_dimensions), windowed.shape,
                             tuple(range(1, 2 * nd, 2)))
    hit = ew.eq(spread(chosen_index), index)
    scattered = where(hit, spread(source), full(windowed.shape, 0, source.dtype))
    scattered = reshape(scattered, [n * w for n, w in zip(windowed.shape[::2],
                                                          window_dimensions)])
    if all(p == (0, 0) for p in padding):
        return scattered
    return slice(scattered, [lo for lo, _ in padding],
                 [lo + n for (lo, _), n in zip(padding, x.shape)])


_RULES = {
    "reduce_window_sum": composite_lowering(_tiled_reduce(reduce_sum, lambda d: 0),
                                            "tiled_window_sum", multiple_results=False),
    "reduce_window_max": composite_lowering(_tiled_reduce(reduce_max, _max_identity),
                                            "tiled_window_max", multiple_results=False),
    "reduce_window_min": composite_lowering(_tiled_reduce(reduce_min, _min_identity),
                                            "tiled_window_min", multiple_results=False),
    "select_and_gather_add": composite_lowering(_tiled_gather, "tiled_select_and_gather",
                                                multiple_results=False),
    "select_and_scatter_add": composite_lowering(
        _tiled_scatter, "tiled_select_and_scatter", multiple_results=False),
}


def tiled_lowering(name, ctx, operands, params, x_aval):
    """The tiled lowering of primitive `name` when the windows over `x_aval` tile it
    exactly (and, for the derivatives of max/min, are at most MAX_CHAIN elements),
    else None (the general lowering applies)."""
    window = params["window_dimensions"]
    if not tiles_exactly(x_aval.shape, x_aval.dtype, window, params["window_strides"],
                         params["padding"], params.get("base_dilation"),
                         params.get("window_dilation")):
        return None
    if name.startswith("select_and") and int(np.prod(window)) > MAX_CHAIN:
        return None
    return _RULES[name](ctx, *operands, **params)


def tiled_sum_transpose(ct, shape, window_dimensions, padding):
    """The transpose of a tiled window sum: each output's cotangent broadcast over its
    window (the padding sliced off)."""
    nd = len(shape)
    padded = [n + lo + hi for n, (lo, hi) in zip(shape, padding)]
    split = [s for n, w in zip(padded, window_dimensions) for s in (n // w, w)]
    spread = reshape(broadcast_in_dim(ct, split, tuple(range(0, 2 * nd, 2))), padded)
    if all(p == (0, 0) for p in padding):
        return spread
    return slice(spread, [lo for lo, _ in padding],
                 [lo + n for (lo, _), n in zip(padding, shape)])
