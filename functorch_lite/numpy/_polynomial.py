"""Polynomials in NumPy's coefficient convention (highest degree first), as
jax.numpy: poly, polyval, polyfit, roots, polyadd/sub/mul/div, polyder, polyint,
vander."""

__all__ = ["poly", "polyval", "polyfit", "roots", "polyadd", "polysub", "polymul",
           "polydiv", "polyder", "polyint", "vander"]
import operator

import numpy as np

from .. import _dtypes, lax
from .._core import ConcretizationTypeError, Tracer, get_aval
from .. import numpy as jnp
from ._util import asarray, compiled, promote_dtypes, promote_to_inexact


def _len(x):
    return get_aval(x).shape[0]


@compiled("N", "increasing")
def vander(x, N=None, increasing=False):
    """Columns are powers of x (decreasing unless `increasing`)."""
    x = asarray(x)
    if get_aval(x).ndim != 1:
        raise ValueError("x must be a one-dimensional array")
    N = _len(x) if N is None else operator.index(N)
    if N < 0:
        raise ValueError("N must be nonnegative")
    iota = lax.iota(get_aval(x).dtype, N)
    if not increasing:
        iota = lax.sub(lax.full_like(iota, N - 1), iota)
    return jnp.power(x[..., None], jnp.expand_dims(iota, tuple(range(get_aval(x).ndim))))


@compiled()
def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with the given roots (or with the
    eigenvalues of a square matrix as roots)."""
    (zeros,) = promote_to_inexact(asarray(seq_of_zeros))
    zeros = jnp.atleast_1d(zeros)
    shape = get_aval(zeros).shape
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        zeros = jnp.linalg.eigvals(zeros)
    if get_aval(zeros).ndim != 1:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    dt = get_aval(zeros).dtype
    if _len(zeros) == 0:
        return jnp.ones((), dtype=dt)
    a = jnp.ones((1,), dtype=dt)
    for k in range(_len(zeros)):
        a = jnp.convolve(a, jnp.array([1, -zeros[k]], dtype=dt), mode="full")
    return a


@compiled("unroll")
def polyval(p, x, *, unroll=16):
    """p[0] * x**(n-1) + ... + p[n-1], by Horner's rule (a scan over coefficients)."""
    p, x = promote_dtypes(asarray(p), asarray(x))
    shape = jnp.broadcast_shapes(get_aval(p).shape[1:], get_aval(x).shape)
    y = lax.full_like(x, 0, shape=shape)
    y, _ = lax.scan(lambda y, c: (y * x + c, None), y, p, unroll=unroll)
    return y


@compiled()
def polyadd(a1, a2):
    """The sum polynomial (the shorter one aligned at the constant term)."""
    a1, a2 = promote_dtypes(asarray(a1), asarray(a2))
    if _len(a2) <= _len(a1):
        return a1.at[-_len(a2):].add(a2)
    return a2.at[-_len(a1):].add(a1)


@compiled()
def polysub(a1, a2):
    """The difference polynomial a1 - a2."""
    a1, a2 = promote_dtypes(asarray(a1), asarray(a2))
    return polyadd(a1, -a2)


def polymul(a1, a2, *, trim_leading_zeros=False):
    """The product polynomial (a full convolution of the coefficients)."""
    a1, a2 = promote_to_inexact(asarray(a1), asarray(a2))
    if trim_leading_zeros and (_len(a1) > 1 or _len(a2) > 1):
        a1, a2 = jnp.trim_zeros(a1, trim="f"), jnp.trim_zeros(a2, trim="f")
    if _len(a1) == 0:
        a1 = jnp.zeros(1, dtype=get_aval(a2).dtype)
    if _len(a2) == 0:
        a2 = jnp.zeros(1, dtype=get_aval(a1).dtype)
    return jnp.convolve(a1, a2, mode="full")


def _trim_zeros_tol(filt, tol, trim="fb"):
    if isinstance(filt, Tracer):
        raise ConcretizationTypeError(filt, "polydiv(trim_leading_zeros=True)")
    nz = np.abs(np.asarray(filt)) < tol
    if nz.all():
        return jnp.empty(0, get_aval(filt).dtype)
    start = int(np.argmin(nz)) if "f" in trim.lower() else 0
    end = int(np.argmin(nz[::-1])) if "b" in trim.lower() else 0
    return filt[start:_len(filt) - end]


def polydiv(u, v, *, trim_leading_zeros=False):
    """(quotient, remainder) of polynomial division."""
    u, v = promote_to_inexact(asarray(u), asarray(v))
    m, n = _len(u) - 1, _len(v) - 1
    scale = 1.0 / v[0]
    q = jnp.zeros(max(m - n + 1, 1), dtype=get_aval(u).dtype)
    for k in range(0, m - n + 1):
        d = scale * u[k]
        q = q.at[k].set(d)
        u = u.at[k:k + n + 1].add(-d * v)
    if trim_leading_zeros:
        u = _trim_zeros_tol(u, np.sqrt(_dtypes.finfo(get_aval(u).dtype).eps), trim="f")
    return q, u


@compiled("m")
def polyder(p, m=1):
    """The m-th derivative's coefficients."""
    (p,) = promote_to_inexact(asarray(p))
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive")
    if m == 0:
        return p
    dtype = get_aval(p).dtype
    coeff = (jnp.arange(m, _len(p), dtype=dtype)[np.newaxis]
             - jnp.arange(m, dtype=dtype)[:, np.newaxis]).prod(0)
    return p[:-m] * coeff[::-1]


@compiled("m")
def polyint(p, m=1, k=None):
    """The m-th antiderivative's coefficients (integration constants `k`)."""
    m = operator.index(m)
    p, k = promote_to_inexact(asarray(p), asarray(0 if k is None else k))
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = jnp.atleast_1d(k)
    if _len(k) == 1:
        k = jnp.full((m,), k[0])
    if get_aval(k).shape != (m,):
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or m.")
    if m == 0:
        return p
    dtype = get_aval(p).dtype
    grid = (jnp.arange(_len(p) + m, dtype=dtype)[np.newaxis]
            - jnp.arange(m, dtype=dtype)[:, np.newaxis])
    coeff = jnp.maximum(1, grid).prod(0)[::-1]
    return jnp.true_divide(jnp.concatenate((p, k)), coeff)


@compiled("deg", "rcond", "full", "cov")
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial fit of degree `deg` (with weights, residuals and the
    covariance of the coefficients on request)."""
    x, y = asarray(x), asarray(y)
    deg = operator.index(deg)
    order = deg + 1
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if get_aval(x).ndim != 1:
        raise TypeError("expected 1D vector for x")
    if get_aval(x).size == 0:
        raise TypeError("expected non-empty vector for x")
    if get_aval(y).ndim < 1 or get_aval(y).ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if _len(x) != _len(y):
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = _len(x) * float(_dtypes.finfo(get_aval(x).dtype).eps) \
            if _dtypes.is_inexact(get_aval(x).dtype) else \
            _len(x) * float(_dtypes.finfo(_dtypes.default_float()).eps)
    lhs, rhs = vander(x, order), y
    if w is not None:
        (w,) = promote_to_inexact(asarray(w))
        if get_aval(w).ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if _len(w) != _len(y):
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, np.newaxis]
        rhs = rhs * (w[:, np.newaxis] if get_aval(rhs).ndim == 2 else w)
    scale = jnp.sqrt((lhs * lhs).sum(axis=0))
    lhs = lhs / scale[np.newaxis, :]
    c, resids, rank, s = jnp.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale[np.newaxis, :]).T if get_aval(c).ndim > 1 else c / scale
    if full:
        return c, resids, rank, s, asarray(rcond)
    if not cov:
        return c
    vbase = jnp.linalg.inv(jnp.dot(lhs.T, lhs)) / jnp.outer(scale, scale)
    if cov == "unscaled":
        fac = jnp.array(1.0)
    else:
        if _len(x) <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        fac = resids / (_len(x) - order)
    if get_aval(y).ndim == 1:
        return c, vbase * jnp.atleast_1d(fac)[np.newaxis]
    return c, vbase[:, :, np.newaxis] * jnp.atleast_1d(fac)[np.newaxis, np.newaxis, :]


def _roots_no_zeros(p):
    if get_aval(p).size < 2:
        return jnp.array([], dtype=np.result_type(get_aval(p).dtype, np.complex64))
    a = jnp.diag(jnp.ones((get_aval(p).size - 2,), get_aval(p).dtype), -1)
    a = a.at[0, :].set(-p[1:] / p[0])
    return jnp.linalg.eigvals(a)


def _roots_with_zeros(p, num_leading_zeros):
    p = jnp.where(_len(p) == num_leading_zeros, 1.0, p)
    r = _roots_no_zeros(jnp.roll(p, -num_leading_zeros))
    r = lax.sort_key_val(r == 0, r)[1]
    return jnp.where(jnp.arange(get_aval(r).size) < get_aval(r).size - num_leading_zeros,
                     r, complex(np.nan, np.nan))


def roots(p, *, strip_zeros=True):
    """The roots (complex) of the polynomial: eigenvalues of its companion matrix.
    Leading zeros are stripped (a concrete p is needed, else pass strip_zeros=False:
    then each leading zero gives a NaN root)."""
    (p,) = promote_to_inexact(asarray(p))
    p = jnp.atleast_1d(p)
    if get_aval(p).ndim != 1:
        raise ValueError("Input must be a rank-1 array.")
    if get_aval(p).size < 2:
        return jnp.array([], dtype=np.result_type(get_aval(p).dtype, np.complex64))
    num_leading_zeros = jnp.where(jnp.all(p == 0), _len(p), jnp.argmin(p == 0))
    if strip_zeros:
        if isinstance(num_leading_zeros, Tracer):
            raise ConcretizationTypeError(
                num_leading_zeros, "jnp.roots() under jit (pass strip_zeros=False: leading "
                                   "zeros then give NaN roots)")
        return _roots_no_zeros(p[int(num_leading_zeros):])
    return _roots_with_zeros(p, num_leading_zeros)
