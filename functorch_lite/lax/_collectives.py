"""Collectives over named vmap axes: psum, pmean, pmax, pmin, all_gather, psum_scatter,
axis_index.

Inside `vmap(f, axis_name="i")`, `psum(x, "i")` sums x over the examples of that vmap
(every example sees the total). Each collective is a primitive whose batching rule,
run by the vmap trace of the named axis, reduces over that trace's batch dimension; a
vmap over another axis just maps it. (`BatchTrace` hands a collective naming its axis
to the rule even when the operand is not batched there.)"""

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "axis_index",
           "axis_size"]
import numpy as np
from jax import tree_util

from .._core import Primitive, ShapedArray, get_aval
from .._ad import deflinear, instantiate
from ._elementwise import mul
from ._values import full, iota
from ._structural import reshape
from ._reductions import reduce_sum, reduce_max, reduce_min
from .._batching import find_axis_trace, move_batch_axis


def _names(axis_name):
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _unbound(prim_name, axis_name):
    raise NameError(f"unbound axis name: {axis_name[0]!r}. {prim_name} needs an enclosing "
                    f"vmap(..., axis_name={axis_name[0]!r}).")


def _collective(name):
    prim = Primitive(name)
    prim.is_collective = True

    def lowering(ctx, *args, axis_name, **params):
        _unbound(name, axis_name)
    prim.lowering_rule = lowering
    return prim


# --- reductions: psum, pmax, pmin ---------------------------------------------------

def _reducer(name, reduce_fn, unbatched_fn):
    prim = _collective(name)
    prim.abstract_eval_rule = lambda x, *, axis_name: x

    def batching(axis_data, vals, dims, *, axis_name):
        (x,), (d,) = vals, dims
        if axis_data.name not in axis_name:  # another vmap: map over its axis
            return prim.bind(x, axis_name=axis_name), d
        out = unbatched_fn(x, axis_data.size) if d is None else reduce_fn(x, (d,))
        rest = tuple(n for n in axis_name if n != axis_data.name)
        return (prim.bind(out, axis_name=rest) if rest else out), None
    prim.batching_rule = batching

    def wrapper(x, axis_name):
        names = _names(axis_name)
        return tree_util.tree_map(lambda leaf: prim.bind(leaf, axis_name=names), x)
    wrapper.__name__ = wrapper.__qualname__ = name
    return prim, wrapper


def _times_size(x, size):
    aval = get_aval(x)
    return mul(x, full(aval.shape, size, aval.dtype))


def _identity(x, size):
    return x


def _reduce_sum(x, axes):
    return reduce_sum(x, axes)


def _reduce_max(x, axes):
    return reduce_max(x, axes)


def _reduce_min(x, axes):
    return reduce_min(x, axes)


psum_p, _psum = _reducer("psum", _reduce_sum, _times_size)
# psum is linear; as in JAX its transpose is psum (each example holds a cotangent)
deflinear(psum_p, lambda ct, x, *, axis_name: [psum_p.bind(instantiate(ct),
                                                           axis_name=axis_name)])
pmax_p, pmax = _reducer("pmax", _reduce_max, _identity)
pmin_p, pmin = _reducer("pmin", _reduce_min, _identity)
pmax.__doc__ = "The maximum of x over the examples of the named vmap axis."
pmin.__doc__ = "The minimum of x over the examples of the named vmap axis."


def psum(x, axis_name):
    """Sum of x (a pytree) over the examples of the named vmap axis (or tuple of axes).

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> fl.vmap(lambda x: fl.lax.psum(x, "i"), axis_name="i")(jnp.arange(3.0)).tolist()
    [3.0, 3.0, 3.0]
    """
    return _psum(x, axis_name)


def pmean(x, axis_name):
    """Mean of x over the examples of the named vmap axis (or axes)."""
    from .. import numpy as fnp  # numpy is built on lax
    count = _psum(np.float32(1), axis_name)  # the number of examples
    return tree_util.tree_map(lambda t: fnp.true_divide(t, count), psum(x, axis_name))


def _axis_size(name):
    return find_axis_trace(name).axis_size


# --- axis_index -------------------------------------------------------------------

axis_index_p = _collective("axis_index")
axis_index_p.abstract_eval_rule = lambda *, axis_name: ShapedArray((), np.int32)


def _axis_index_batching(axis_data, vals, dims, *, axis_name):
    return iota(np.int32, axis_data.size), 0


axis_index_p.batching_rule = _axis_index_batching


def axis_index(axis_name):
    """The index (int32) of the current example along the named vmap axis.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> fl.vmap(lambda x: fl.lax.axis_index("i"), axis_name="i")(jnp.zeros(3)).tolist()
    [0, 1, 2]
    """
    return axis_index_p.bind(axis_name=(axis_name,))


def axis_size(axis_name):
    """The size (a Python int) of the named vmap axis, or the product of the sizes of
    a tuple of names."""
    names = axis_name if isinstance(axis_name, (tuple, list)) else (axis_name,)
    try:
        return int(np.prod([find_axis_trace(n).axis_size for n in names], dtype=np.int64))
    except NameError:  # inside a jit traced within the vmap: the axis is bound later
        return psum(1, tuple(names))


# --- all_gather and its transpose psum_scatter --------------------------------------

all_gather_p = _collective("all_gather")
psum_scatter_p = _collective("psum_scatter")


def all_gather(x, axis_name, *, axis=0, tiled=False):
    """Every example's x stacked along a new axis `axis` (tiled: concatenated along
    the existing axis `axis`), the same for all examples of the named vmap axis."""
    names = _names(axis_name)
    if len(names) != 1:
        raise NotImplementedError("all_gather over several axis names at once")

    def leaf(v):
        ndim = get_aval(v).ndim
        ax = axis % (ndim if tiled else ndim + 1)
        return all_gather_p.bind(v, axis_name=names, axis=ax, tiled=bool(tiled),
                                 axis_size=_axis_size(names[0]))
    return tree_util.tree_map(leaf, x)


@all_gather_p.def_abstract_eval
def _all_gather_abstract_eval(x, *, axis_name, axis, tiled, axis_size):
    shape = list(x.shape)
    if tiled:
        shape[axis] *= axis_size
    else:
        shape.insert(axis, axis_size)
    return ShapedArray(shape, x.dtype, x.weak_type)


def _all_gather_batching(axis_data, vals, dims, *, axis_name, axis, tiled, axis_size):
    (x,), (d,) = vals, dims
    if axis_data.name not in axis_name:
        x = move_batch_axis(axis_data.size, x, d, 0)
        return all_gather_p.bind(x, axis_name=axis_name, axis=axis + 1, tiled=tiled,
                                 axis_size=axis_size), 0
    stacked = move_batch_axis(axis_data.size, x, d, axis)  # broadcasts if unbatched
    if tiled:
        shape = list(get_aval(stacked).shape)
        shape[axis:axis + 2] = [shape[axis] * shape[axis + 1]]
        stacked = reshape(stacked, shape)
    return stacked, None


all_gather_p.batching_rule = _all_gather_batching
deflinear(all_gather_p, lambda ct, x, *, axis_name, axis, tiled, axis_size: [
    psum_scatter_p.bind(instantiate(ct), axis_name=axis_name, scatter_dimension=axis,
                        tiled=tiled, axis_size=axis_size)])


def psum_scatter(x, axis_name, *, scatter_dimension=0, tiled=False):
    """psum(x) split along `scatter_dimension`: example i gets the i-th block."""
    names = _names(axis_name)
    size = _axis_size(names[0])
    return tree_util.tree_map(lambda v: psum_scatter_p.bind(
        v, axis_name=names, scatter_dimension=scatter_dimension % get_aval(v).ndim,
        tiled=bool(tiled), axis_size=size), x)


@psum_scatter_p.def_abstract_eval
def _psum_scatter_abstract_eval(x, *, axis_name, scatter_dimension, tiled, axis_size):
    shape = list(x.shape)
    if shape[scatter_dimension] % axis_size if tiled else \
            shape[scatter_dimension] != axis_size:
        raise ValueError(f"psum_scatter: dimension {scatter_dimension} of {x.str_short()} "
                         f"does not match the axis size {axis_size}")
    if tiled:
        shape[scatter_dimension] //= axis_size
    else:
        del shape[scatter_dimension]
    return ShapedArray(shape, x.dtype, x.weak_type)


def _psum_scatter_batching(axis_data, vals, dims, *, axis_name, scatter_dimension, tiled,
                           axis_size):
    (x,), (d,) = vals, dims
    if axis_data.name not in axis_name:
        x = move_batch_axis(axis_data.size, x, d, 0)
        return psum_scatter_p.bind(x, axis_name=axis_name,
                                   scatter_dimension=scatter_dimension + 1, tiled=tiled,
                                   axis_size=axis_size), 0
    total = _times_size(x, axis_data.size) if d is None else _reduce_sum(x, (d,))
    if tiled:  # split the scattered dim into (examples, block)
        shape = list(get_aval(total).shape)
        shape[scatter_dimension:scatter_dimension + 1] = [
            axis_size, shape[scatter_dimension] // axis_size]
        total = reshape(total, shape)
    return total, scatter_dimension


psum_scatter_p.batching_rule = _psum_scatter_batching
deflinear(psum_scatter_p, lambda ct, x, *, axis_name, scatter_dimension, tiled, axis_size: [
    all_gather_p.bind(instantiate(ct), axis_name=axis_name, axis=scatter_dimension,
                      tiled=tiled, axis_size=axis_size)])
