"""`functorch_lite.numpy.linalg`: NumPy's linalg API over the `lax.linalg` primitives
(LAPACK / cuSOLVER kernels) with JAX's semantics: float32 by default, leading batch
dimensions broadcast, NaN/inf (not exceptions) for singular or indefinite input."""

__all__ = ["cholesky", "solve", "inv", "det", "slogdet", "eig", "eigvals", "eigh",
           "eigvalsh", "svd",
           "svdvals", "qr", "lstsq", "pinv", "matrix_power", "matrix_rank", "norm",
           "vector_norm", "matrix_norm", "multi_dot", "tensorsolve", "tensorinv", "cond",
           "matrix_transpose", "matmul", "tensordot", "outer", "vecdot", "cross", "diagonal",
           "trace", "EigResult", "EighResult", "QRResult", "SlogdetResult", "SVDResult"]
from typing import NamedTuple

import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ..lax import _linalg as lax_linalg
from .. import numpy as jnp
from ._util import asarray, promote_to_inexact, broadcast_shapes, broadcast_to_shape
from ._linalg_basic import matmul, tensordot


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class QRResult(NamedTuple):
    Q: object
    R: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


def _inexact(*xs):
    xs = [x if hasattr(x, "aval") or hasattr(x, "_trace") else asarray(x) for x in xs]
    return promote_to_inexact(*xs)


def _shape(x):
    return get_aval(x).shape


def _is_complex(x):
    return _dtypes.is_complex(get_aval(x).dtype)


def _conj(x):
    return lax.conj(x) if _is_complex(x) else x


def _real(x):
    return lax.real(x) if _is_complex(x) else x


def _square(name, a):
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name} requires square matrices of shape (..., n, n), got "
                         f"shape {shape}")


def matrix_transpose(x):
    """Swap the last two axes."""
    nd = len(_shape(x))
    if nd < 2:
        raise ValueError(f"matrix_transpose requires ndim >= 2, got shape {_shape(x)}")
    return lax.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _batch_broadcast(a, b, b_core):
    """Broadcast the leading (batch) dims of `a` (core rank 2) and `b` (core rank
    b_core) against each other."""
    sa, sb = _shape(a), _shape(b)
    batch = broadcast_shapes(sa[:-2], sb[:len(sb) - b_core])
    return (broadcast_to_shape(a, (*batch, *sa[-2:])),
            broadcast_to_shape(b, (*batch, *sb[len(sb) - b_core:])))


# --- factorisations ---------------------------------------------------------------

def cholesky(a, *, upper=False, symmetrize_input=True):
    """Cholesky factor: lower L with L L^H = a (upper: its conjugate transpose)."""
    (a,) = _inexact(a)
    _square("cholesky", a)
    L = lax_linalg.cholesky(a, symmetrize_input=symmetrize_input)
    return lax_linalg._H(L) if upper else L


def qr(a, mode="reduced"):
    """QR decomposition; mode 'reduced', 'complete' or 'r'."""
    (a,) = _inexact(a)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: unsupported mode {mode!r} (use 'reduced', 'complete' or 'r')")
    q, r = lax_linalg.qr(a, full_matrices=(mode == "complete"))
    return r if mode == "r" else QRResult(q, r)


def eig(a):
    """Eigenvalues and right eigenvectors of general square matrices (complex; CPU
    only, LAPACK geev). Derivatives: eigenvalues only, through `eigvals`."""
    (a,) = _inexact(a)
    _square("eig", a)
    w, v = lax_linalg.eig(a, compute_left_eigenvectors=False)
    return EigResult(w, v)


def eigvals(a):
    """Eigenvalues (complex) of general square matrices; differentiable."""
    (a,) = _inexact(a)
    _square("eigvals", a)
    return lax_linalg.eig(a, compute_left_eigenvectors=False,
                          compute_right_eigenvectors=False)[0]


def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors of symmetric / Hermitian matrices."""
    (a,) = _inexact(a)
    _square("eigh", a)
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {UPLO!r}")
    v, w = lax_linalg.eigh(a, lower=UPLO != "U", symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L", symmetrize_input=True):
    """Eigenvalues (ascending) of symmetric / Hermitian matrices."""
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition a = U diag(S) Vh (S descending). With
    `hermitian=True` it comes from the eigendecomposition of the (symmetrised) input,
    as in JAX: S = |eigenvalues|, U the eigenvectors, Vh = (U * sign)^H."""
    (a,) = _inexact(a)
    if len(_shape(a)) < 2:
        raise ValueError(f"svd requires ndim >= 2, got shape {_shape(a)}")
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    if not compute_uv:
        return lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=False)
    u, s, vh = lax_linalg.svd(a, full_matrices=full_matrices)
    return SVDResult(u, s, vh)


def _hermitian_svd(a, compute_uv):
    vectors, values = lax_linalg.eigh(a)
    s = lax.abs(values)
    last = len(_shape(s)) - 1
    if not compute_uv:
        return lax.rev(lax.sort(s, dimension=last), (last,))
    order = lax.broadcasted_iota(np.int32, _shape(s), last)
    s, order, sign = lax.sort((s, order, lax.sign(values)), dimension=last, num_keys=1)
    s, order, sign = (lax.rev(v, (last,)) for v in (s, order, sign))
    u = jnp.take_along_axis(vectors, order[..., None, :], axis=-1)
    vh = _conj(matrix_transpose(u * sign[..., None, :].astype(get_aval(u).dtype)))
    return SVDResult(u, s, vh)


def svdvals(x):
    """Singular values, descending."""
    return svd(x, compute_uv=False)


# --- solving ----------------------------------------------------------------------

def solve(a, b):
    """x with a @ x = b; `b` of ndim 1 is one vector, otherwise (..., n, k) matrices;
    leading dims broadcast."""
    a, b = _inexact(a, b)
    _square("solve", a)
    sa, sb = _shape(a), _shape(b)
    vector = len(sb) == 1
    n = sa[-1]
    if (vector and sb[0] != n) or (not vector and (len(sb) < 2 or sb[-2] != n)):
        raise ValueError(f"solve: a of shape {sa} does not match b of shape {sb} (expected "
                         f"b of shape ({n},) or (..., {n}, k))")
    if vector:
        b = lax.broadcast_in_dim(b, (*sa[:-2], n, 1), (len(sa) - 2,))
        return lax.reshape(lax_linalg.solve(a, b), (*sa[:-2], n))
    a, b = _batch_broadcast(a, b, 2)
    return lax_linalg.solve(a, b)


def inv(a):
    """Inverse of (stacks of) square matrices (inf/NaN where singular, as JAX)."""
    (a,) = _inexact(a)
    _square("inv", a)
    return lax_linalg.solve(a, lax_linalg._eye_like(a))


def _lu_diagonal_and_parity(a):
    lu, pivots, _ = lax_linalg.lu(a)
    diag = jnp.diagonal(lu, axis1=-2, axis2=-1)
    steps = lax.broadcasted_iota(np.int32, _shape(pivots), len(_shape(pivots)) - 1)
    swaps = jnp.sum(lax.ne(pivots, steps), axis=-1)
    return diag, swaps


def slogdet(a, *, method=None):
    """(sign, log|det|) through an LU factorisation; (0, -inf) for singular input."""
    (a,) = _inexact(a)
    _square("slogdet", a)
    if method not in (None, "lu"):
        raise ValueError(f"slogdet: unsupported method {method!r}")
    dtype = get_aval(a).dtype
    diag, swaps = _lu_diagonal_and_parity(a)
    is_zero = jnp.any(lax.eq(diag, lax.full_like(diag, 0)), axis=-1)
    if _dtypes.is_complex(dtype):
        sign = jnp.prod(diag / jnp.abs(diag).astype(dtype), axis=-1)
        parity = swaps
    else:
        sign = lax.full(_shape(is_zero), 1, dtype)
        parity = swaps + jnp.sum(lax.lt(diag, lax.full_like(diag, 0)), axis=-1)
    odd = lax.rem(parity, lax.full_like(parity, 2))
    sign = sign * lax.convert_element_type(1 - 2 * odd, dtype)
    sign = jnp.where(is_zero, lax.full_like(sign, 0), sign)
    logdet = jnp.sum(jnp.log(jnp.abs(diag)), axis=-1)
    logdet = jnp.where(is_zero, lax.full_like(logdet, -np.inf), logdet)
    return SlogdetResult(sign, _real(logdet))


def det(a):
    """Determinant: closed forms for 2x2 and 3x3 (as JAX), else sign * exp(logabsdet)."""
    (a,) = _inexact(a)
    _square("det", a)
    n = _shape(a)[-1]
    e = lambda i, j: a[..., i, j]
    if n == 2:
        return e(0, 0) * e(1, 1) - e(0, 1) * e(1, 0)
    if n == 3:
        return (e(0, 0) * (e(1, 1) * e(2, 2) - e(1, 2) * e(2, 1))
                - e(0, 1) * (e(1, 0) * e(2, 2) - e(1, 2) * e(2, 0))
                + e(0, 2) * (e(1, 0) * e(2, 1) - e(1, 1) * e(2, 0)))
    sign, logdet = slogdet(a)
    return sign * jnp.exp(logdet).astype(sign.dtype)


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """Least squares x minimising |a x - b| via the SVD: (x, residuals, rank, s).
    Residuals are always returned (NumPy returns [] for rank-deficient or m <= n
    problems unless `numpy_resid`)."""
    a, b = _inexact(a, b)
    sa, sb = _shape(a), _shape(b)
    if len(sa) != 2 or len(sb) not in (1, 2) or sa[0] != sb[0]:
        raise ValueError(f"lstsq: a must be (m, n) and b (m,) or (m, k) with the same m, "
                         f"got shapes {sa} and {sb}")
    vector = len(sb) == 1
    if vector:
        b = lax.reshape(b, (sb[0], 1))
    m, n = sa
    dtype = get_aval(a).dtype
    eps = float(np.finfo(np.finfo(dtype).dtype).eps)
    rcond = eps * max(n, m) if rcond is None else (eps if rcond < 0 else rcond)
    u, s, vt = svd(a, full_matrices=False)
    mask = s >= lax.full_like(s, rcond) * s[0]
    rank = jnp.sum(mask)
    safe_s = jnp.where(mask, s, lax.full_like(s, 1))
    s_inv = jnp.where(mask, 1 / safe_s, lax.full_like(s, 0))[:, None]
    uTb = jnp.matmul(lax_linalg._H(u), b, precision="highest")
    x = jnp.matmul(lax_linalg._H(vt), s_inv.astype(dtype) * uTb, precision="highest")
    if numpy_resid and (rank < n or m <= n):
        resid = jnp.asarray([])
    else:
        resid = norm(b - jnp.matmul(a, x, precision="highest"), axis=0) ** 2
    if vector:
        x = lax.reshape(x, (n,))
    return x, resid, rank, s


def pinv(a, rtol=None, hermitian=False, *, rcond=None):
    """Moore-Penrose pseudo-inverse via the SVD (singular values below rtol * max are
    dropped)."""
    (a,) = _inexact(a)
    if rcond is not None:
        rtol = rcond
    m, n = _shape(a)[-2:]
    dtype = get_aval(a).dtype
    if rtol is None:  # JAX's default: 10 * max(m, n) * eps
        rtol = 10. * max(m, n) * float(np.finfo(np.finfo(dtype).dtype).eps)
    u, s, vh = svd(a, full_matrices=False, hermitian=hermitian)
    cutoff = jnp.asarray(rtol, s.dtype)[..., None] * s[..., 0:1]
    s = jnp.where(s > cutoff, s, lax.full_like(s, np.inf)).astype(dtype)
    scaled = matrix_transpose(u) / s[..., :, None]
    # a = U S Vh, so pinv(a) = Vh^H S^-1 U^H
    return jnp.matmul(_conj(matrix_transpose(vh)), _conj(scaled))


def matrix_power(a, n):
    """a raised to the integer power n (negative: of the inverse), by squaring."""
    a = a if hasattr(a, "aval") or hasattr(a, "_trace") else asarray(a)
    _square("matrix_power", a)
    n = int(n)
    if n == 0:
        return lax.convert_element_type(lax_linalg._eye_like(a), get_aval(a).dtype)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else jnp.matmul(result, a)
        n >>= 1
        if n:
            a = jnp.matmul(a, a)
    return result


def matrix_rank(M, rtol=None, *, tol=None, hermitian=False):
    """Number of singular values above rtol (default max(s) * max(m, n) * eps)."""
    (M,) = _inexact(M)
    if tol is not None:
        rtol = tol
    if len(_shape(M)) < 2:
        return jnp.any(M != 0).astype(np.int32)
    s = svd(M, full_matrices=False, compute_uv=False, hermitian=hermitian)
    if rtol is None:
        eps = float(np.finfo(np.finfo(s.dtype).dtype).eps)
        rtol = jnp.max(s, axis=-1) * (max(_shape(M)[-2:]) * eps)
    rtol = jnp.asarray(rtol, s.dtype)
    return jnp.sum(s > rtol[..., None], axis=-1)


def cond(x, p=None):
    """Condition number in the p-norm (default: ratio of extreme singular values)."""
    (x,) = _inexact(x)
    if p is None or p == 2:
        s = svd(x, compute_uv=False)
        return s[..., 0] / s[..., -1]
    if p == -2:
        s = svd(x, compute_uv=False)
        return s[..., -1] / s[..., 0]
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


# --- norms --------------------------------------------------------------------------

def _real_sq_sum(x, axis, keepdims):
    sq = _real(x * _conj(x))
    return jnp.sqrt(jnp.sum(sq, axis=axis, keepdims=keepdims))


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """p-norm over `axis` (all axes by default): ord 2, 1, inf, -inf, 0 or any p."""
    (x,) = _inexact(x)
    if ord is None or ord == 2:
        return _real_sq_sum(x, axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid order '{ord}' for vector norm.")
    if ord == np.inf:
        return jnp.max(jnp.abs(x), axis=axis, keepdims=keepdims, initial=0)
    if ord == -np.inf:
        return jnp.min(jnp.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return jnp.sum(x != 0, axis=axis, keepdims=keepdims,
                       dtype=np.finfo(get_aval(jnp.abs(x)).dtype).dtype)
    if ord == 1:
        return jnp.sum(jnp.abs(x), axis=axis, keepdims=keepdims)
    abs_x = jnp.abs(x)
    total = jnp.sum(abs_x ** jnp.asarray(ord, abs_x.dtype), axis=axis, keepdims=keepdims)
    return total ** jnp.asarray(1.0 / ord, abs_x.dtype)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm over the last two axes."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (NumPy's `ord` semantics: None, 'fro', 'nuc', inf, -inf,
    1, -1, 2, -2, 0 and other p for vectors)."""
    (x,) = _inexact(x)
    ndim = len(_shape(x))
    if axis is None:
        if ord is None:
            return _real_sq_sum(x, None, keepdims)
        axis = tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    axis = tuple(a % ndim for a in axis)
    if len(axis) == 1:
        return vector_norm(x, ord=2 if ord is None else ord, axis=axis, keepdims=keepdims)
    if len(axis) != 2:
        raise ValueError(f"Improper number of axes for norm: axis={axis}. Pass one axis "
                         f"for a vector norm or two for a matrix norm.")
    row, col = axis
    if ord is None or ord in ("f", "fro"):
        return _real_sq_sum(x, axis, keepdims)
    if ord in (1, -1):
        reduce = jnp.max if ord == 1 else jnp.min
        col = col - 1 if not keepdims and col > row else col
        return reduce(jnp.sum(jnp.abs(x), axis=row, keepdims=keepdims), axis=col,
                      keepdims=keepdims)
    if ord in (np.inf, -np.inf):
        reduce = jnp.max if ord == np.inf else jnp.min
        row = row - 1 if not keepdims and row > col else row
        return reduce(jnp.sum(jnp.abs(x), axis=col, keepdims=keepdims), axis=row,
                      keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        moved = jnp.moveaxis(x, axis, (-2, -1))
        s = svd(moved, compute_uv=False)
        y = {2: jnp.max, -2: jnp.min, "nuc": jnp.sum}[ord](s, axis=-1)
        if keepdims:
            y = jnp.expand_dims(y, axis)
        return y
    raise ValueError(f"Invalid order '{ord}' for matrix norm.")


# --- products and tensor solves -----------------------------------------------------

def multi_dot(arrays, *, precision=None):
    """a @ b @ c ... in the cheapest order (1-D first/last operands are vectors)."""
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError(f"multi_dot requires at least two arrays, got {len(arrays)}")
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if len(arrays) + 1 > len(letters):
        raise ValueError("multi_dot supports at most 51 arrays")
    terms = [letters[i:i + 2] for i in range(len(arrays))]
    if np.ndim(arrays[0]) == 1:
        terms[0] = terms[0][1:]
    if len(np.shape(arrays[-1])) == 1:
        terms[-1] = terms[-1][:1]
    out = (terms[0][0] if len(terms[0]) == 2 else "") + \
        (terms[-1][-1] if len(terms[-1]) == 2 else "")
    return jnp.einsum(",".join(terms) + "->" + out, *arrays, optimize="optimal",
                      precision=precision)


def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b."""
    a, b = _inexact(a, b)
    nd = len(_shape(a))
    if axes is not None:
        order = [i for i in range(nd) if i not in [ax % nd for ax in axes]] + \
            [ax % nd for ax in axes]
        a = lax.transpose(a, order)
    out_shape = _shape(a)[len(_shape(b)):]
    size = int(np.prod(out_shape, dtype=np.int64))
    if int(np.prod(_shape(a), dtype=np.int64)) != size * size:
        raise ValueError(f"tensorsolve: a of shape {_shape(a)} is not square for b of shape "
                         f"{_shape(b)}")
    x = solve(lax.reshape(a, (size, size)), lax.reshape(b, (size,)))
    return lax.reshape(x, out_shape)


def tensorinv(a, ind=2):
    """Inverse of `a` seen as a linear map from its last dims to its first `ind` dims."""
    (a,) = _inexact(a)
    shape = _shape(a)
    rows, cols = shape[:ind], shape[ind:]
    n = int(np.prod(rows, dtype=np.int64))
    if n != int(np.prod(cols, dtype=np.int64)):
        raise ValueError(f"tensorinv: shape {shape} with ind={ind} is not square")
    return lax.reshape(inv(lax.reshape(a, (n, n))), (*cols, *rows))


# --- the array-API spellings --------------------------------------------------------

def outer(x1, x2, /):
    """Outer product of two vectors."""
    if np.ndim(x1) != 1 or np.ndim(x2) != 1:
        raise ValueError(f"outer requires 1-D inputs, got shapes {np.shape(x1)} and "
                         f"{np.shape(x2)}")
    return jnp.outer(x1, x2)


def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2) over `axis`, broadcasting the other axes."""
    return jnp.sum(_conj(jnp.asarray(x1)) * x2, axis=axis)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-vectors along `axis`."""
    return jnp.cross(x1, x2, axis=axis)


def diagonal(x, /, *, offset=0):
    """The `offset` diagonal of the last two axes."""
    return jnp.diagonal(x, offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    """Sum of the `offset` diagonal of the last two axes."""
    return jnp.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


from . import _arraylike  # noqa: E402
_arraylike.wrap(globals(), prefix="jnp.linalg.")
