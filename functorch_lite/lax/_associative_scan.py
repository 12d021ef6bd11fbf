"""`associative_scan`: all prefix combinations of an associative `fn` in O(log n) depth
(Blelloch's odd/even recursion, as jax.lax.associative_scan), built from slices, pads
and concatenations, so every transformation applies to it."""

__all__ = ["associative_scan"]
import numpy as np
from jax import tree_util

from .._core import get_aval
from .._traceback_util import api_boundary
from ._slicing import slice_in_dim, concatenate, pad
from ._structural import rev
from ._elementwise import add, bitwise_or


@api_boundary
def associative_scan(fn, elems, reverse=False, axis=0):
    """Inclusive scan of `elems` (a pytree of arrays sharing the size of `axis`) with
    the associative `fn(a, b)` applied elementwise along `axis`.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> fl.lax.associative_scan(jnp.add, jnp.arange(5.0)).tolist()
    [0.0, 1.0, 3.0, 6.0, 10.0]
    """
    leaves, tree = tree_util.tree_flatten(elems)
    if not leaves:
        return elems
    ndim = get_aval(leaves[0]).ndim
    axis = axis % ndim
    if reverse:
        leaves = [rev(x, (axis,)) for x in leaves]
    n = get_aval(leaves[0]).shape[axis]
    if any(get_aval(x).shape[axis] != n for x in leaves[1:]):
        raise ValueError(f"Array inputs to associative_scan must have the same first "
                         f"dimension. (saw: {[get_aval(x).shape for x in leaves]})")

    def combine(a, b):
        out = fn(tree_util.tree_unflatten(tree, a), tree_util.tree_unflatten(tree, b))
        return tree_util.tree_leaves(out)

    def sl(x, start, stop, stride=1):
        return slice_in_dim(x, start, stop, stride, axis)

    def scan_(xs):
        size = get_aval(xs[0]).shape[axis]
        if size < 2:
            return xs
        # combine adjacent pairs, scan the half-size sequence, then fill in the evens
        odd = scan_(combine([sl(x, 0, -1, 2) for x in xs], [sl(x, 1, None, 2) for x in xs]))
        if size % 2 == 0:
            even = combine([sl(o, 0, -1) for o in odd], [sl(x, 2, None, 2) for x in xs])
        else:
            even = combine(odd, [sl(x, 2, None, 2) for x in xs])
        even = [concatenate([sl(x, 0, 1), e], axis) for x, e in zip(xs, even)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    out = scan_(leaves)
    if reverse:
        out = [rev(x, (axis,)) for x in out]
    return tree_util.tree_unflatten(tree, out)


def _interleave(a, b, axis):
    """a[0], b[0], a[1], b[1], ... along `axis` (len(a) == len(b) or len(b) + 1)."""
    a_aval, b_aval = get_aval(a), get_aval(b)
    same = a_aval.shape[axis] == b_aval.shape[axis]
    a_cfg = [(0, 0, 0)] * a_aval.ndim
    b_cfg = [(0, 0, 0)] * b_aval.ndim
    a_cfg[axis] = (0, 1 if same else 0, 1)
    b_cfg[axis] = (1, 0 if same else 1, 1)
    op = bitwise_or if a_aval.dtype == np.bool_ else add
    return op(pad(a, np.zeros((), a_aval.dtype), a_cfg),
              pad(b, np.zeros((), b_aval.dtype), b_cfg))
