"""Products: dot, vdot, matmul, tensordot, outer, inner, kron, and the diagonal helpers
trace, diag, diagonal, diagflat, plus cross. Every contraction is one `lax.dot_general`
(einsum is in `_einsum`)."""

__all__ = ["dot", "vdot", "matmul", "tensordot", "outer", "inner", "kron", "trace", "diag",
           "diagonal", "diagflat", "cross", "vecdot", "matvec", "vecmat"]

import numpy as np

from .. import _dtypes, _jax_versions, lax
from .._core import get_aval, user_source_line
from ._ufuncs import multiply
from ._shape import moveaxis
from ._reductions import sum as _sum
from ._util import broadcast_arrays_, asarray, check_no_out, promote_dtypes


def _arrays(*xs):
    """Host values become arrays; then all share the promoted dtype."""
    xs = [x if hasattr(x, "aval") or hasattr(x, "_trace") else asarray(x) for x in xs]
    return promote_dtypes(*xs)


def _shape(x):
    return get_aval(x).shape


def _dot(a, b, dimension_numbers, precision=None, preferred_element_type=None):
    return lax.dot_general(a, b, dimension_numbers, precision=precision,
                           preferred_element_type=preferred_element_type)


def _multiply(a, b):
    return multiply(a, b)


def dot(a, b, *, precision=None, preferred_element_type=None):
    """`jnp.dot`: sum over the last axis of `a` and the second-to-last of `b`."""
    a, b = _arrays(a, b)
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 0 or nb == 0:
        return _multiply(a, b)
    contract = ((na - 1,), (max(nb - 2, 0),))
    return _dot(a, b, (contract, ((), ())), precision, preferred_element_type)


def matmul(a, b, *, precision=None, preferred_element_type=None):
    """`jnp.matmul` (the `@` operator): matrix products over broadcast batch dims;
    1-D operands are treated as a row (a) or column (b) vector and that axis dropped."""
    a, b = _arrays(a, b)
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise ValueError(f"matmul operands must not be scalars, got shapes {sa} and {sb}")
    a_mat, b_mat = len(sa) > 1, len(sb) > 1
    a_batch = sa[:-2] if a_mat else ()
    b_batch = sb[:-2] if b_mat else ()
    nbatch = max(len(a_batch), len(b_batch))
    a_batch = (None,) * (nbatch - len(a_batch)) + tuple(a_batch)
    b_batch = (None,) * (nbatch - len(b_batch)) + tuple(b_batch)
    # a batch dim is a dot_general batch dim when both sides have it; a size-1 (or
    # missing) dim on one side is squeezed and the other side's becomes a free dim
    a_squeeze, b_squeeze, a_bdims, b_bdims = [], [], [], []
    idx_batch, idx_a_free, idx_b_free = [], [], []
    for i, (da, db) in enumerate(zip(a_batch, b_batch)):
        if da is None:
            idx_b_free.append(i)
        elif db is None:
            idx_a_free.append(i)
        elif da == 1 and db != 1:
            idx_b_free.append(i)
            a_squeeze.append(len(idx_batch) + len(idx_a_free) + len(a_squeeze))
        elif db == 1 and da != 1:
            idx_a_free.append(i)
            b_squeeze.append(len(idx_batch) + len(idx_b_free) + len(b_squeeze))
        elif da == db:
            a_bdims.append(len(idx_batch) + len(idx_a_free))
            b_bdims.append(len(idx_batch) + len(idx_b_free))
            idx_batch.append(i)
        else:
            raise TypeError(f"matmul: incompatible batch shapes {sa} and {sb}\n  at "
                            f"{user_source_line()}")
    if a_mat:
        idx_a_free.append(nbatch)
    if b_mat:
        idx_b_free.append(nbatch + a_mat)
    perm = np.argsort(np.concatenate([idx_batch, idx_a_free, idx_b_free]).astype(int))
    a, b = lax.squeeze(a, tuple(a_squeeze)), lax.squeeze(b, tuple(b_squeeze))
    if _shape(a)[-1] != _shape(b)[len(_shape(b)) - 1 - b_mat]:
        raise TypeError(f"matmul: contracting dimensions differ for shapes {sa} and {sb} "
                        f"(the last axis of the first must equal the second-to-last axis "
                        f"of the second)\n  at {user_source_line()}")
    contract = ((len(_shape(a)) - 1,), (len(_shape(b)) - 1 - b_mat,))
    out = _dot(a, b, (contract, (tuple(a_bdims), tuple(b_bdims))), precision,
               preferred_element_type)
    return lax.transpose(out, tuple(int(p) for p in perm))


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """`jnp.vdot`: dot of the flattened arrays, conjugating `a`."""
    a, b = _arrays(a, b)
    if _dtypes.is_complex(get_aval(a).dtype):
        a = lax.conj(a)
    return dot(lax.reshape(a, (get_aval(a).size,)), lax.reshape(b, (get_aval(b).size,)),
               precision=precision, preferred_element_type=preferred_element_type)


def _vectorize(fun, signature):
    from ._vectorize import vectorize  # _vectorize imports the package
    return vectorize(fun, signature=signature)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Conjugated dot products of the vectors along `axis` (other axes broadcast)."""
    x1, x2 = _arrays(x1, x2)
    s1, s2 = get_aval(x1).shape, get_aval(x2).shape
    if s1[axis] != s2[axis]:
        raise ValueError(f"axes must match; got shapes {s1} and {s2} with axis={axis}")
    x1, x2 = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    return _vectorize(lambda a, b: vdot(a, b, precision=precision,
                                       preferred_element_type=preferred_element_type),
                     signature="(n),(n)->()")(x1, x2)


def matvec(x1, x2, /):
    """Matrix-vector products over broadcast stacks: (..., n, m) x (..., m)."""
    return _vectorize(matmul, signature="(n,m),(m)->(n)")(*_arrays(x1, x2))


def vecmat(x1, x2, /):
    """Conjugated vector-matrix products over broadcast stacks: (..., n) x (..., n, m)."""
    x1, x2 = _arrays(x1, x2)
    if _dtypes.is_complex(get_aval(x1).dtype):
        x1 = lax.conj(x1)
    return _vectorize(matmul, signature="(n),(n,m)->(m)")(x1, x2)


def inner(a, b, *, precision=None, preferred_element_type=None):
    """`jnp.inner`: sum over the last axes of `a` and `b`."""
    a, b = _arrays(a, b)
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 0 or nb == 0:
        return _multiply(a, b)
    return _dot(a, b, (((na - 1,), (nb - 1,)), ((), ())), precision, preferred_element_type)


def outer(a, b, out=None):
    """`jnp.outer`: every product of the flattened `a` and `b`, shape (a.size, b.size)."""
    check_no_out(out, "outer")
    a, b = _arrays(a, b)
    a = lax.reshape(a, (get_aval(a).size,))
    b = lax.reshape(b, (get_aval(b).size,))
    return _dot(a, b, (((), ()), ((), ())))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """`jnp.tensordot`: contract the last `axes` axes of `a` with the first of `b`, or
    the axes given as a pair of sequences."""
    a, b = _arrays(a, b)
    na, nb = len(_shape(a)), len(_shape(b))
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(na, nb):
            raise TypeError(f"tensordot: axes={axes} out of range for shapes {_shape(a)} "
                            f"and {_shape(b)}")
        ca, cb = tuple(range(na - axes, na)), tuple(range(axes))
    elif isinstance(axes, (list, tuple)) and len(axes) == 2:
        ax_a, ax_b = axes
        ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
        ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
        if len(ax_a) != len(ax_b):
            raise TypeError(f"tensordot: axes must be two sequences of equal length, got "
                            f"{axes}")
        ca = tuple(int(i) % na for i in ax_a)
        cb = tuple(int(i) % nb for i in ax_b)
    else:
        raise TypeError(f"tensordot axes must be an int or a pair of sequences, got {axes}")
    for i, j in zip(ca, cb):
        if _shape(a)[i] != _shape(b)[j]:
            raise TypeError(f"tensordot: shape mismatch on contracted axes {ca} of "
                            f"{_shape(a)} and {cb} of {_shape(b)}")
    return _dot(a, b, ((ca, cb), ((), ())), precision, preferred_element_type)


def kron(a, b):
    """`jnp.kron`: the Kronecker product."""
    a, b = _arrays(a, b)
    sa, sb = _shape(a), _shape(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    inter = tuple(d for pair in zip(sa, sb) for d in pair)
    a = lax.broadcast_in_dim(lax.reshape(a, sa), inter, tuple(range(0, 2 * nd, 2)))
    b = lax.broadcast_in_dim(lax.reshape(b, sb), inter, tuple(range(1, 2 * nd, 2)))
    return lax.reshape(lax.mul(a, b), tuple(x * y for x, y in zip(sa, sb)))


# --- diagonals ----------------------------------------------------------------------

def diagonal(a, offset=0, axis1=0, axis2=1):
    """`jnp.diagonal`: the (offset) diagonal over axes (axis1, axis2), as the last axis."""
    (a,) = _arrays(a)
    shape = _shape(a)
    nd = len(shape)
    if nd < 2:
        raise ValueError(f"diagonal requires an array of rank >= 2, got shape {shape}")
    axis1, axis2 = axis1 % nd, axis2 % nd
    if axis1 == axis2:
        raise ValueError("diagonal: axis1 and axis2 must differ")
    rest = [i for i in range(nd) if i not in (axis1, axis2)]
    a = lax.transpose(a, (*rest, axis1, axis2))
    n, m = shape[axis1], shape[axis2]
    lead = tuple(shape[i] for i in rest)
    size = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    # the flattened (n, m) block holds diagonal element i at start + i * (m + 1)
    flat = lax.reshape(a, (*lead, n * m))
    start = offset if offset >= 0 else -offset * m
    if size == 0:
        return lax.slice_in_dim(flat, 0, 0, axis=len(lead))
    return lax.slice_in_dim(flat, start, start + (size - 1) * (m + 1) + 1, m + 1,
                            axis=len(lead))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """`jnp.trace`: sum of the (offset) diagonal."""
    check_no_out(out, "trace")
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """`jnp.diag`: the k-th diagonal of a matrix, or a matrix with `v` on it."""
    (v,) = _arrays(v)
    shape = _shape(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag takes a 1-D or 2-D array, got shape {shape}")
    n = shape[0]
    size = n + abs(k)
    # element i goes to flat position start + i * (size + 1) of the (size, size) matrix
    start = k if k >= 0 else -k * size
    used = start + (n - 1) * (size + 1) + 1 if n else 0
    zero = lax.full((), 0, get_aval(v).dtype)
    flat = lax.pad(v, zero, ((start, size * size - used, size),)) if n else \
        lax.full((size * size,), 0, get_aval(v).dtype)
    return lax.reshape(flat, (size, size))


def diagflat(v, k=0):
    """`jnp.diagflat`: `diag` of the flattened input."""
    (v,) = _arrays(v)
    return diag(lax.reshape(v, (get_aval(v).size,)), k)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """`jnp.cross`: cross product of 3-vectors (and, before JAX 0.12, 2-vectors) along
    the given axes."""
    a, b = _arrays(a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _move_to_end(a, axisa)
    b = _move_to_end(b, axisb)
    if _jax_versions.CROSS_3_VECTORS_ONLY and (_shape(a)[-1] != 3 or _shape(b)[-1] != 3):
        raise ValueError(f"Dimension must be 3 for cross product, got shapes {_shape(a)} "
                         f"and {_shape(b)} (JAX {'.'.join(map(str, _jax_versions.JAX_VERSION))}"
                         f" no longer takes 2-vectors: pad them with a zero component)")
    if _shape(a)[-1] not in (2, 3) or _shape(b)[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got shapes "
                         f"{_shape(a)} and {_shape(b)}")
    comp = lambda x, i: lax.index_in_dim(x, i, axis=len(_shape(x)) - 1, keepdims=False)
    a0, a1 = comp(a, 0), comp(a, 1)
    b0, b1 = comp(b, 0), comp(b, 1)
    a2 = comp(a, 2) if _shape(a)[-1] == 3 else None
    b2 = comp(b, 2) if _shape(b)[-1] == 3 else None
    mul = lambda x, y: lax.mul(*broadcast_arrays_(x, y))
    sub = lambda x, y: lax.sub(*broadcast_arrays_(x, y))
    z = sub(mul(a0, b1), mul(a1, b0))
    if a2 is None and b2 is None:
        return z
    a2 = a2 if a2 is not None else lax.full_like(a0, 0)
    b2 = b2 if b2 is not None else lax.full_like(b0, 0)
    x = sub(mul(a1, b2), mul(a2, b1))
    y = sub(mul(a2, b0), mul(a0, b2))
    x, y, z = broadcast_arrays_(x, y, z)
    out = lax.concatenate([lax.expand_dims(c, (len(_shape(c)),)) for c in (x, y, z)],
                          len(_shape(x)))
    nd = len(_shape(out))
    return _move_from_end(out, axisc % nd)


def _move_to_end(x, axis):
    nd = len(_shape(x))
    axis %= nd
    return lax.transpose(x, (*[i for i in range(nd) if i != axis], axis))


def _move_from_end(x, axis):
    nd = len(_shape(x))
    perm = list(range(nd - 1))
    perm.insert(axis, nd - 1)
    return lax.transpose(x, tuple(perm))


# --- einsum -------------------------------------------------------------------------
