"""The structured matrices of `scipy.linalg` (block_diag, toeplitz, hankel, circulant,
companion, ... and the constant ones: hilbert, pascal, helmert, hadamard, dft).

Matrices built from arrays gather their entries with static index tables, so they are
differentiable and batch over leading dimensions; matrices given by a static size are
computed exactly on the host (integer arithmetic) and returned as arrays."""
import math

import numpy as np

from .. import _dtypes, lax
from .. import numpy as jnp
from ..numpy._util import promote_dtypes
from ._util import inexact_arrays, vectorize_core, inline_jit


@inline_jit()
def block_diag(*arrs):
    """The block-diagonal matrix with the given (at most 2-d) blocks."""
    if not arrs:
        arrs = (jnp.zeros((1, 0)),)
    arrs = promote_dtypes(*[jnp.asarray(a) for a in arrs])
    for i, a in enumerate(arrs):
        if a.ndim > 2:
            raise ValueError(f"Arguments to block_diag must have at most 2 dimensions, "
                             f"got shape {a.shape} at argument {i}.")
    arrs = [jnp.atleast_2d(a) for a in arrs]
    total_cols = sum(a.shape[1] for a in arrs)
    zero = np.zeros((), arrs[0].dtype)
    padded, col = [], 0
    for a in arrs:
        cols = a.shape[1]
        padded.append(lax.pad(a, zero, ((0, 0, 0), (col, total_cols - cols - col, 0))))
        col += cols
    return jnp.concatenate(padded, axis=0)


def _gather_matrix(values, index):
    """values[..., index] for a static integer table `index` (the matrix entries)."""
    return jnp.take(values, jnp.asarray(index.astype(np.int32)), axis=-1)


def _toeplitz_1d(c, r):
    m, n = c.shape[0], r.shape[0]
    elems = jnp.concatenate([jnp.flip(c, 0), r[1:]])
    return _gather_matrix(elems, (m - 1) - np.arange(m)[:, None] + np.arange(n)[None, :])


@inline_jit()
def toeplitz(c, r=None):
    """The Toeplitz matrix with first column c and first row r (default conj(c)); its
    first entry is c[0]. Leading dimensions of c and r are batch dimensions."""
    c = jnp.atleast_1d(jnp.asarray(c))
    r = jnp.conj(c) if r is None else jnp.atleast_1d(jnp.asarray(r))
    c, r = promote_dtypes(c, r)
    if c.shape[-1] == 0 or r.shape[-1] == 0:
        return jnp.zeros((c.shape[-1], r.shape[-1]), c.dtype)
    return vectorize_core(_toeplitz_1d, (1, 1))(c, r)


def _hankel_1d(c, r):
    m, n = c.shape[0], r.shape[0]
    return _gather_matrix(jnp.concatenate([c, r[1:]]),
                          np.arange(m)[:, None] + np.arange(n)[None, :])


@inline_jit()
def hankel(c, r=None):
    """The Hankel matrix with first column c and last row r (default zeros)."""
    c = jnp.asarray(c)
    r = jnp.zeros_like(c) if r is None else jnp.asarray(r)
    if c.ndim == 0:
        raise ValueError("hankel: c must be at least 1-dimensional, got a scalar.")
    if r.ndim == 0:
        raise ValueError("hankel: r must be at least 1-dimensional, got a scalar.")
    c, r = promote_dtypes(c, r)
    if c.shape[-1] == 0 or r.shape[-1] == 0:
        return jnp.zeros((c.shape[-1], r.shape[-1]), c.dtype)
    return vectorize_core(_hankel_1d, (1, 1))(c, r)


@inline_jit()
def circulant(c):
    """The circulant matrix with first column c."""
    c = jnp.atleast_1d(jnp.asarray(c))
    n = c.shape[-1]
    return _gather_matrix(c, (np.arange(n)[:, None] - np.arange(n)[None, :]) % n)


def _first_row_replaced(matrix, row):
    return jnp.concatenate([row[None, :], matrix[1:]], axis=0)


@inline_jit()
def leslie(f, s):
    """The Leslie matrix: fecundity f in the first row, survival s below the
    diagonal."""
    f, s = promote_dtypes(jnp.atleast_1d(jnp.asarray(f)), jnp.atleast_1d(jnp.asarray(s)))
    if f.shape[-1] < 2:
        raise ValueError(f"The length of f along the last axis must be at least 2; got "
                         f"shape {f.shape}.")
    if s.shape[-1] != f.shape[-1] - 1:
        raise ValueError(f"Incorrect lengths for f and s. The length of s along the last "
                         f"axis must be one less than the length of f; got f shape "
                         f"{f.shape} and s shape {s.shape}.")
    return vectorize_core(lambda f, s: _first_row_replaced(jnp.diag(s, k=-1), f),
                          (1, 1))(f, s)


@inline_jit()
def companion(a):
    """The companion matrix of the polynomial with coefficients a (highest first)."""
    (a,) = inexact_arrays(jnp.atleast_1d(jnp.asarray(a)))
    if a.shape[-1] < 2:
        raise ValueError(f"The length of `a` along the last axis must be at least 2; got "
                         f"shape {a.shape}.")

    def make(a):
        m = a.shape[0] - 1
        return _first_row_replaced(jnp.eye(m, m, k=-1, dtype=a.dtype), -a[1:] / a[0])
    return vectorize_core(make, (1,))(a)


@inline_jit()
def fiedler(a):
    """The symmetric Fiedler matrix |a_i - a_j|."""
    a = jnp.atleast_1d(jnp.asarray(a))
    return jnp.abs(a[..., :, None] - a[..., None, :])


def _fiedler_companion_1d(a):
    n = a.shape[0] - 1
    if n == 0:
        return jnp.zeros((0, 0), a.dtype)
    a = a / a[0]
    if n == 1:
        return -a[1:].reshape(1, 1)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    # the pentadiagonal layout (Fiedler 2003): -a[1] and 1 down the first column, then
    # alternating -a[k] and 1 on the second and first super/sub-diagonals
    minus_a = jnp.concatenate([-a, jnp.zeros((1,), a.dtype)])
    index = np.full((n, n), n + 1)
    ones = ((i == 1) & (j == 0)) | ((j == i + 2) & (i % 2 == 0)) | \
        ((j == i - 2) & (i % 2 == 1) & (i >= 3))
    index = np.where((i == 0) & (j == 0), 1, index)
    index = np.where((j == i + 1) & (i % 2 == 0), np.minimum(i + 2, n), index)
    index = np.where((j == i - 1) & (i % 2 == 0) & (i >= 2), np.minimum(i + 1, n), index)
    return jnp.where(jnp.asarray(ones), jnp.ones((), a.dtype), _gather_matrix(minus_a, index))


@inline_jit()
def fiedler_companion(a):
    """The Fiedler companion matrix of the polynomial with coefficients a."""
    (a,) = inexact_arrays(jnp.atleast_1d(jnp.asarray(a)))
    if a.shape[-1] == 0:
        raise ValueError(f"fiedler_companion requires the last axis of 'a' to have "
                         f"nonzero length, but got an array of shape {a.shape}.")
    return vectorize_core(_fiedler_companion_1d, (1,))(a)


@inline_jit("n", "mode")
def convolution_matrix(a, n, mode="full"):
    """The matrix A with A @ v = np.convolve(a, v, mode) for vectors v of length n."""
    n = int(n)
    if n <= 0:
        raise ValueError(f"n must be a positive integer; got {n}.")
    a = jnp.asarray(a)
    if a.ndim == 0:
        raise ValueError("convolution_matrix: a must be at least 1-dimensional, got a "
                         "scalar.")
    m = a.shape[-1]
    if m < 1:
        raise ValueError(f"len(a) must be at least 1; got shape {a.shape}.")
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"mode must be one of 'full', 'valid', 'same'; got {mode!r}.")
    pads = [(0, 0)] * (a.ndim - 1) + [(0, n - 1)]
    az, raz = jnp.pad(a, pads), jnp.pad(jnp.flip(a, -1), pads)
    length = m + n - 1
    if mode == "same":
        trim = min(n, m) - 1
        begin, end = trim // 2, trim - trim // 2
    elif mode == "valid":
        begin = end = min(n, m) - 1
    else:
        begin = end = 0
    return toeplitz(az[..., begin:length - end], raz[..., length - n - begin:length - begin])


# --- constant matrices of a given size -------------------------------------------------

def _binomial_table(n):
    return np.array([[math.comb(i, j) for j in range(n)] for i in range(n)], dtype=object)


def _as_array(table, dtype):
    return jnp.asarray(np.asarray(table.astype(np.float64) if table.dtype == object
                                  else table, dtype=dtype))


def hilbert(n):
    """The Hilbert matrix 1 / (i + j + 1)."""
    i = np.arange(n, dtype=np.float64)
    return _as_array(1 / (i[:, None] + i[None, :] + 1), _dtypes.default_float())


def invhilbert(n):
    """The inverse of the n x n Hilbert matrix (exact integers, as floats)."""
    table = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            s = i + j
            table[i, j] = ((-1) ** s * (s + 1) * math.comb(n + i, n - j - 1)
                           * math.comb(n + j, n - i - 1) * math.comb(s, i) ** 2)
    return _as_array(table, _dtypes.default_float())


def _check_kind(kind):
    kind = "symmetric" if kind is None else kind
    valid = ["symmetric", "lower", "upper"]
    if kind not in valid:
        raise ValueError(f"Expected kind to be one of: {valid}; got {kind}")
    return kind


def pascal(n, kind=None):
    """The Pascal matrix (binomial coefficients): 'symmetric', 'lower' or 'upper'."""
    kind = _check_kind(kind)
    lower = _binomial_table(n)
    table = {"lower": lower, "upper": lower.T, "symmetric": lower.dot(lower.T)}[kind]
    return _as_array(table, np.float32)


def invpascal(n, kind=None):
    """The inverse of `pascal(n, kind)`."""
    kind = _check_kind(kind)
    i = np.arange(n)
    signs = np.where((i[:, None] - i[None, :]) % 2 == 0, 1, -1).astype(object)
    lower = signs * _binomial_table(n)
    table = {"lower": lower, "upper": lower.T, "symmetric": lower.T.dot(lower)}[kind]
    return _as_array(table, _dtypes.default_float())


def helmert(n, full=False):
    """The Helmert matrix ((n-1) x n, or n x n with its first row when `full`)."""
    if n < 1:
        raise ValueError(f"n must be a positive integer; got {n}.")
    i, j = np.arange(n - 1)[:, None], np.arange(n)[None, :]
    k = i + 1.0
    denom = np.sqrt(k * (k + 1))
    h = np.where(j <= i, 1.0 / denom, np.where(j == i + 1, -k / denom, 0.0))
    if full:
        h = np.concatenate([np.full((1, n), 1.0 / np.sqrt(n)), h])
    return _as_array(h, _dtypes.default_float())


def hadamard(n, dtype=int):
    """The n x n Hadamard matrix (Sylvester's construction; n a power of 2)."""
    if n < 1 or not math.log2(n).is_integer():
        raise ValueError(f"n must be a positive power of 2; got {n}.")
    h = np.ones((1, 1), dtype=np.int64)
    for _ in range(int(math.log2(n))):
        h = np.block([[h, h], [h, -h]])
    return _as_array(h, _dtypes.canonicalize_dtype(dtype))


def dft(n, scale=None, *, dtype=None):
    """The discrete Fourier transform matrix exp(-2 pi i j k / n) (scaled by 1/sqrt(n)
    or 1/n)."""
    if scale is not None and scale not in ("sqrtn", "n"):
        raise ValueError(f"scale must be None, 'sqrtn', or 'n'; got {scale!r}.")
    dtype = _dtypes.canonicalize_dtype(np.complex128 if dtype is None else dtype)
    if not np.issubdtype(dtype, np.complexfloating):
        raise ValueError(f"dtype must be a complex floating-point type; got {dtype}.")
    k = np.arange(n)
    omegas = np.exp(-2j * np.pi * ((k[:, None] * k[None, :]) % max(n, 1)) / max(n, 1))
    omegas = omegas / {None: 1, "sqrtn": np.sqrt(n), "n": n}[scale]
    return _as_array(omegas, dtype)
