"""ragged_dot / ragged_dot_general: matrix products where one dimension is split into
consecutive groups of the given sizes, each group multiplied with its own matrix (as
mixture-of-experts layers do). Computed as JAX computes it off TPU: each group is
masked out of a dense copy and one dot_general contracts the group axis, so every
derivative and batching rule is dot_general's."""

__all__ = ["ragged_dot", "ragged_dot_general", "RaggedDotDimensionNumbers"]
import dataclasses

import numpy as np

from .._batching import vmap_traced
from .._core import get_aval
from ._linear import dot_general
from ._structural import broadcast, broadcast_in_dim, transpose
from ._values import broadcasted_iota, full, select_n
from ._slicing import concatenate, slice_in_dim
from ._reductions import cumsum
from ._elementwise import bitwise_and, le, lt


@dataclasses.dataclass(frozen=True)
class RaggedDotDimensionNumbers:
    """dot_general dimension numbers plus the ragged lhs dimension and the rhs group
    dimension, as `jax.lax.RaggedDotDimensionNumbers`."""
    dot_dimension_numbers: tuple
    lhs_ragged_dimensions: tuple
    rhs_group_dimensions: tuple

    def __init__(self, dot_dimension_numbers, lhs_ragged_dimensions, rhs_group_dimensions):
        object.__setattr__(self, "dot_dimension_numbers",
                           tuple(tuple(map(tuple, t)) for t in dot_dimension_numbers))
        object.__setattr__(self, "lhs_ragged_dimensions", tuple(lhs_ragged_dimensions))
        object.__setattr__(self, "rhs_group_dimensions", tuple(rhs_group_dimensions))


_BASIC = RaggedDotDimensionNumbers((([1], [1]), ([], [])), [0], [0])


def ragged_dot(lhs, rhs, group_sizes, precision=None, preferred_element_type=None,
               group_offset=None):
    """lhs [m, k], rhs [g, k, n], group_sizes [g] -> [m, n]: rows of lhs in group i
    (consecutive, group_sizes[i] of them) are multiplied by rhs[i]."""
    return ragged_dot_general(lhs, rhs, group_sizes, _BASIC, precision,
                              preferred_element_type, group_offset)


def _remaining(n, *excluded):
    drop = {d for dims in excluded for d in dims}
    return [i for i in range(n) if i not in drop]


def _ragged_to_dense(x, gs, dim):
    """[g, *x.shape]: copy i keeps the entries of group i along `dim`, zeros elsewhere."""
    g = get_aval(gs).shape[0]
    shape = (g, *get_aval(x).shape)
    x = broadcast_in_dim(x, shape, tuple(range(1, len(shape))))
    iota = broadcasted_iota(get_aval(gs).dtype, shape, dim + 1)
    ends = cumsum(gs)
    starts = concatenate([full((1,), 0, get_aval(gs).dtype), slice_in_dim(ends, 0, g - 1)], 0)
    mask = bitwise_and(le(broadcast_in_dim(starts, shape, (0,)), iota),
                       lt(iota, broadcast_in_dim(ends, shape, (0,))))
    return select_n(mask, full(shape, 0, get_aval(x).dtype), x)


def _batched_ragged_to_dense(dim, *x_in_axes):
    """_ragged_to_dense mapped over the prefix axes (group sizes differ per prefix)."""
    if not x_in_axes:
        return lambda x, gs: _ragged_to_dense(x, gs, dim)
    x_axis, *rest = x_in_axes
    decr = lambda d: d - 1 if d >= x_axis else d
    inner = _batched_ragged_to_dense(decr(dim), *[decr(a) for a in rest])
    return lambda x, gs: vmap_traced(lambda *a: [inner(*a)], [x, gs], [x_axis, 0],
                                     get_aval(x).shape[x_axis])[0]


def _expand(x, dim, gs, *axes):
    expanded = _batched_ragged_to_dense(dim, *axes)(x, gs)
    ndim = get_aval(x).ndim
    unsorted = [a + 1 for a in axes] + [0] + [a + 1 for a in _remaining(ndim, axes)]
    return transpose(expanded, tuple(int(i) for i in np.argsort(unsorted)))


def ragged_dot_general(lhs, rhs, group_sizes, ragged_dot_dimension_numbers, precision=None,
                       preferred_element_type=None, group_offset=None):
    """The general form: the ragged lhs dimension may be a free, contracting or batch
    dimension (`RaggedDotDimensionNumbers`), as `jax.lax.ragged_dot_general`."""
    if group_offset is not None:
        raise NotImplementedError("ragged_dot group_offset is not supported (JAX supports "
                                  "it only on TPU)")
    rdn = ragged_dot_dimension_numbers
    (l_contract, r_contract), (l_batch, r_batch) = rdn.dot_dimension_numbers
    l_contract, r_contract, l_batch, r_batch = map(list, (l_contract, r_contract, l_batch,
                                                          r_batch))
    lhs_ndim, rhs_ndim = get_aval(lhs).ndim, get_aval(rhs).ndim
    (ragged,) = rdn.lhs_ragged_dimensions
    noncontract = _remaining(lhs_ndim, l_contract, l_batch)
    incr = lambda dims: [d + 1 for d in dims]

    def prefix(batch, contract, free, ragged_dim, mode):
        if mode == "noncontracting":
            return batch + free[:free.index(ragged_dim)]
        if mode == "contracting":
            return batch + contract[:contract.index(ragged_dim)]
        return batch[:batch.index(ragged_dim)]
    mode = ("noncontracting" if ragged in noncontract else
            "contracting" if ragged in l_contract else "batch" if ragged in l_batch else None)
    if mode is None:
        raise TypeError(f"lhs_ragged_dim {ragged} not found in lhs_noncontracting "
                        f"{noncontract}, lhs_contracting {l_contract}, or lhs_batch {l_batch}.")
    if mode == "batch":
        return dot_general(lhs, rhs, (rdn.dot_dimension_numbers), precision,
                           preferred_element_type)
    l_prefix = prefix(l_batch, l_contract, noncontract, ragged, mode)
    if get_aval(group_sizes).ndim == 1:
        group_sizes = broadcast(group_sizes, [get_aval(lhs).shape[i] for i in l_prefix])
    if mode == "noncontracting":
        (rhs_group,) = rdn.rhs_group_dimensions
        return dot_general(_expand(lhs, ragged, group_sizes, *l_prefix), rhs,
                           ((incr(l_contract) + [0], r_contract + [rhs_group]),
                            (incr(l_batch), r_batch)), precision, preferred_element_type)
    rhs_ragged = r_contract[l_contract.index(ragged)]
    r_prefix = prefix(r_batch, r_contract, _remaining(rhs_ndim, r_contract, r_batch),
                      rhs_ragged, mode)
    return dot_general(_expand(lhs, ragged, group_sizes, *l_prefix),
                       _expand(rhs, rhs_ragged, group_sizes, *r_prefix),
                       ((incr(l_contract), incr(r_contract)),
                        ([0] + incr(l_batch), [0] + incr(r_batch))), precision,
                       preferred_element_type)
