"""BCOO sparse arrays (batched-coordinate format, here without batch or dense
dimensions): `data` (nse,) holds the stored values and `indices` (nse, ndim) their
positions; unused slots have zero data and the out-of-range index `shape` (as JAX's),
so every operation can ignore them. The operations are functions of ordinary
primitives, so they are differentiable (with respect to `data` and dense operands),
batchable and jittable; a BCOO is a pytree of (data, indices)."""
import numpy as np

from .. import numpy as jnp
from .._core import Tracer, get_aval
from ..tree_util import register_pytree_node
from ..scipy._util import inline_jit


def _no_batch_or_dense(n_batch, n_dense):
    if n_batch or n_dense:
        raise NotImplementedError("BCOO with batch or dense dimensions (n_batch, n_dense "
                                  "> 0) is not implemented in functorch_lite; use "
                                  "n_batch=0, n_dense=0")


class BCOO:
    """A sparse array: BCOO((data, indices), shape=shape).

    >>> import numpy as np
    >>> from functorch_lite.experimental import sparse
    >>> m = sparse.BCOO.fromdense(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> np.asarray(m.data).tolist(), np.asarray(m.indices).tolist()
    ([2.0, 3.0], [[0, 1], [1, 0]])
    >>> np.asarray(m @ np.array([1.0, 1.0])).tolist()
    [2.0, 3.0]
    """
    __array_priority__ = 100   # numpy defers `dense @ sparse` to __rmatmul__

    def __init__(self, args, *, shape, indices_sorted=False, unique_indices=False):
        self.data, self.indices = args
        self.shape = tuple(int(d) for d in shape)
        self.indices_sorted, self.unique_indices = indices_sorted, unique_indices

    ndim = property(lambda self: len(self.shape))
    nse = property(lambda self: get_aval(self.data).shape[0])
    dtype = property(lambda self: get_aval(self.data).dtype)
    size = property(lambda self: int(np.prod(self.shape)))
    T = property(lambda self: bcoo_transpose(self, tuple(range(self.ndim))[::-1]))

    def __repr__(self):
        return (f"BCOO({np.dtype(self.dtype).name}{list(self.shape)}, nse={self.nse})")

    @classmethod
    def fromdense(cls, mat, *, nse=None, index_dtype=np.int32, n_dense=0, n_batch=0):
        """The nonzero entries of a dense array (`nse` slots; counted when not given,
        which needs a concrete array)."""
        return bcoo_fromdense(mat, nse=nse, index_dtype=index_dtype, n_dense=n_dense,
                              n_batch=n_batch)

    def todense(self):
        return bcoo_todense(self)

    def transpose(self, axes=None):
        return bcoo_transpose(self, tuple(range(self.ndim))[::-1] if axes is None
                              else tuple(axes))

    def sum(self, axis=None):
        axes = tuple(range(self.ndim)) if axis is None else \
            tuple(a % self.ndim for a in np.atleast_1d(axis))
        return bcoo_reduce_sum(self, axes)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __mul__(self, other):
        return bcoo_multiply_dense(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if np.ndim(other) != 0:
            raise NotImplementedError("a BCOO can only be divided by a scalar")
        return BCOO((jnp.divide(self.data, other), self.indices), shape=self.shape,
                    indices_sorted=self.indices_sorted, unique_indices=self.unique_indices)

    def __neg__(self):
        return BCOO((jnp.negative(self.data), self.indices), shape=self.shape,
                    indices_sorted=self.indices_sorted, unique_indices=self.unique_indices)

    def __add__(self, other):
        if isinstance(other, BCOO):
            return bcoo_add(self, other)
        return jnp.add(self.todense(), other)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)


register_pytree_node(
    BCOO, lambda m: ((m.data, m.indices), (m.shape, m.indices_sorted, m.unique_indices)),
    lambda aux, children: BCOO(children, shape=aux[0], indices_sorted=aux[1],
                               unique_indices=aux[2]))


def _concrete_nonzero_count(mat):
    if isinstance(mat, Tracer):
        raise ValueError("BCOO.fromdense: the number of nonzeros is unknown while the "
                         "array is traced; pass nse= (a static count of stored entries)")
    return int(np.count_nonzero(np.asarray(mat)))


def bcoo_fromdense(mat, *, nse=None, index_dtype=np.int32, n_dense=0, n_batch=0):
    """A BCOO holding the nonzero entries of `mat`, in row-major order."""
    _no_batch_or_dense(n_batch, n_dense)
    mat = jnp.asarray(mat)
    nse = _concrete_nonzero_count(mat) if nse is None else int(nse)
    return _fromdense(mat, nse, np.dtype(index_dtype))


@inline_jit("nse", "index_dtype")
def _fromdense(mat, nse, index_dtype):
    shape = get_aval(mat).shape
    nonzero = jnp.not_equal(mat, 0)
    positions = jnp.nonzero(nonzero, size=nse, fill_value=shape)
    indices = jnp.stack(positions, axis=1).astype(index_dtype) if positions else \
        jnp.zeros((nse, 0), index_dtype)
    data = jnp.where(jnp.arange(nse) < jnp.sum(nonzero), bcoo_extract(indices, mat), 0)
    return BCOO((data, indices), shape=shape, indices_sorted=True, unique_indices=True)


@inline_jit()
def bcoo_extract(indices, mat):
    """The entries of the dense `mat` at `indices` (zero at out-of-range slots)."""
    mat = jnp.asarray(mat)
    columns = tuple(indices[:, k] for k in range(get_aval(indices).shape[1]))
    inside = _all_true([(c >= 0) & (c < n) for c, n in zip(columns, mat.shape)],
                           get_aval(indices).shape[0])
    return jnp.where(inside, mat[columns], 0)


def _all_true(masks, length):
    """The elementwise `and` of boolean vectors (all True when there are none)."""
    out = jnp.ones((length,), bool)
    for m in masks:
        out = out & m
    return out


@inline_jit()
def bcoo_todense(mat):
    """The dense array of a BCOO (duplicate indices add up)."""
    zeros = jnp.zeros(mat.shape, mat.dtype)
    columns = tuple(mat.indices[:, k] for k in range(mat.ndim))
    return zeros.at[columns].add(mat.data, mode="drop")


def todense(x):
    """A dense array from a BCOO (dense arrays pass through)."""
    return bcoo_todense(x) if isinstance(x, BCOO) else x


@inline_jit("permutation")
def bcoo_transpose(mat, permutation):
    """Permute a BCOO's dimensions."""
    permutation = tuple(int(p) for p in permutation)
    return BCOO((mat.data, mat.indices[:, np.array(permutation)]),
                shape=tuple(mat.shape[p] for p in permutation),
                unique_indices=mat.unique_indices)


@inline_jit("axes")
def bcoo_reduce_sum(mat, axes):
    """Sum over `axes`: a BCOO over the remaining dimensions, or a dense scalar when
    none remain."""
    keep = [d for d in range(mat.ndim) if d not in set(axes)]
    if not keep:
        return jnp.sum(mat.data)
    inside = _all_true([mat.indices[:, d] < mat.shape[d] for d in range(mat.ndim)],
                           mat.nse)
    fill = jnp.asarray(np.array([mat.shape[d] for d in keep], np.int32)).astype(
        mat.indices.dtype)
    indices = jnp.where(inside[:, None], mat.indices[:, np.array(keep)], fill)
    return BCOO((mat.data, indices), shape=tuple(mat.shape[d] for d in keep))


@inline_jit()
def bcoo_multiply_dense(mat, other):
    """Elementwise product with a dense array or scalar (a BCOO with the same
    pattern)."""
    if isinstance(other, BCOO):
        raise NotImplementedError("the elementwise product of two BCOO arrays is not "
                                  "implemented; densify one with .todense()")
    other = jnp.asarray(other)
    if other.ndim == 0:
        values = other
    else:
        values = bcoo_extract(mat.indices, jnp.broadcast_to(other, mat.shape))
    return BCOO((mat.data * values, mat.indices), shape=mat.shape,
                indices_sorted=mat.indices_sorted, unique_indices=mat.unique_indices)


@inline_jit()
def bcoo_add(lhs, rhs):
    """The sum of two BCOO arrays of one shape (their entries side by side)."""
    if lhs.shape != rhs.shape:
        raise ValueError(f"adding BCOO arrays of shapes {lhs.shape} and {rhs.shape}")
    dtype = jnp.result_type(lhs.data, rhs.data)
    return BCOO((jnp.concatenate([lhs.data.astype(dtype), rhs.data.astype(dtype)]),
                 jnp.concatenate([lhs.indices, rhs.indices])), shape=lhs.shape)


def bcoo_dot_general(lhs, rhs, *, dimension_numbers, precision=None,
                     preferred_element_type=None):
    """`lax.dot_general` with one BCOO operand (the other dense); no batch dimensions.
    The result is dense."""
    (lhs_contract, rhs_contract), batch = dimension_numbers
    dimension_numbers = ((tuple(lhs_contract), tuple(rhs_contract)),
                         tuple(tuple(b) for b in batch))
    return _dot_general(lhs, rhs, dimension_numbers, preferred_element_type)


@inline_jit("dimension_numbers", "preferred_element_type")
def _dot_general(lhs, rhs, dimension_numbers, preferred_element_type):
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = dimension_numbers
    if lhs_batch or rhs_batch:
        raise NotImplementedError("bcoo_dot_general with batch dimensions is not "
                                  "implemented in functorch_lite")
    if isinstance(lhs, BCOO) and isinstance(rhs, BCOO):
        raise NotImplementedError("the product of two BCOO arrays is not implemented; "
                                  "densify one with .todense()")
    if not isinstance(lhs, BCOO):   # dense x sparse = transpose of sparse x dense
        out = _dot_general(rhs, lhs, ((tuple(rhs_contract), tuple(lhs_contract)),
                                      ((), ())), None)
        n_rhs_free = rhs.ndim - len(rhs_contract)
        n_lhs_free = jnp.ndim(lhs) - len(lhs_contract)
        return jnp.transpose(out, (*range(n_rhs_free, n_rhs_free + n_lhs_free),
                                   *range(n_rhs_free)))
    rhs = jnp.asarray(rhs)
    lhs_contract, rhs_contract = tuple(lhs_contract), tuple(rhs_contract)
    lhs_free = [d for d in range(lhs.ndim) if d not in lhs_contract]
    rhs_free = [d for d in range(rhs.ndim) if d not in rhs_contract]
    rhs = jnp.transpose(rhs, (*rhs_contract, *rhs_free))
    rows = rhs[tuple(jnp.clip(lhs.indices[:, d], 0, lhs.shape[d] - 1) for d in lhs_contract)]
    dtype = jnp.result_type(lhs.data, rhs)
    data = lhs.data.reshape((lhs.nse,) + (1,) * len(rhs_free)).astype(dtype)
    products = data * rows.astype(dtype)
    out = jnp.zeros(tuple(lhs.shape[d] for d in lhs_free) +
                    tuple(rhs.shape[len(rhs_contract):]), dtype)
    out = out.at[tuple(lhs.indices[:, d] for d in lhs_free)].add(products, mode="drop")
    if preferred_element_type is not None:
        out = out.astype(preferred_element_type)
    return out


def _matmul(lhs, rhs):
    """lhs @ rhs for 1-d or 2-d operands, one of them a BCOO."""
    lhs_ndim, rhs_ndim = np.ndim(lhs) if not isinstance(lhs, BCOO) else lhs.ndim, \
        np.ndim(rhs) if not isinstance(rhs, BCOO) else rhs.ndim
    if lhs_ndim > 2 or rhs_ndim > 2:
        raise NotImplementedError("BCOO matmul supports 1-d and 2-d operands")
    return bcoo_dot_general(lhs, rhs, dimension_numbers=(((lhs_ndim - 1,), (0,)),
                                                         ((), ())))
