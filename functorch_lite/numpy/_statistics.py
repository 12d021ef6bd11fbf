"""Covariance, correlation and linear interpolation: cov, corrcoef, interp, as in
jax.numpy."""
import numpy as np

from .. import _dtypes, lax
from .._core import get_aval
from ._util import asarray
from ._shape import atleast_2d, concatenate, swapaxes
from ._reductions import sum as sum_
from ._linalg_basic import matmul, diagonal
from ._promotion import _promote_inexact
from ._ufuncs import sqrt, clip, where, remainder
from ._sorting import searchsorted

__all__ = ["cov", "corrcoef", "interp"]


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """Covariance matrix of the variables in `m` (rows are variables unless
    `rowvar=False`), with optional frequency and analytic weights."""
    m = asarray(m)
    transpose = not rowvar and get_aval(m).ndim != 1  # (jnp's rule; NumPy's differs)
    m = atleast_2d(m)
    (m,) = _promote_inexact(m)
    if transpose:
        m = swapaxes(m, 0, 1)
    if y is not None:
        y = atleast_2d(asarray(y))
        if not rowvar and get_aval(y).shape[0] != 1:
            y = swapaxes(y, 0, 1)
        m = concatenate([m, y.astype(get_aval(m).dtype)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    variables, n = get_aval(m).shape
    if n == 0:  # no observation: NaN, as jnp
        return lax.full(() if variables == 1 else (variables, variables), np.nan,
                        get_aval(m).dtype)
    w = None
    if fweights is not None:
        w = asarray(fweights).astype(get_aval(m).dtype)
    if aweights is not None:
        a = asarray(aweights).astype(get_aval(m).dtype)
        w = a if w is None else w * a
    if w is None:
        avg = sum_(m, axis=1) / n
        fact = n - ddof
        centered = m - avg[:, None]
        return _squeeze_scalar(matmul(centered, swapaxes(centered, 0, 1)) / fact)
    w_sum = sum_(w)
    avg = sum_(m * w, axis=1) / w_sum
    if ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * sum_(w * asarray(aweights).astype(get_aval(m).dtype)) / w_sum
    centered = m - avg[:, None]
    return _squeeze_scalar(matmul(centered * w, swapaxes(centered, 0, 1)) / fact)


def _squeeze_scalar(c):
    shape = get_aval(c).shape
    return lax.reshape(c, ()) if shape == (1, 1) else c


def corrcoef(x, y=None, rowvar=True):
    """Pearson correlation coefficients (the covariance normalised by the variances),
    clipped to [-1, 1]."""
    c = cov(x, y, rowvar)
    if get_aval(c).ndim == 0:
        return c / c
    d = diagonal(c)
    stddev = sqrt(d)
    c = c / stddev[:, None] / stddev[None, :]
    return clip(c, -1, 1)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (xp, fp) (xp increasing) at x;
    values beyond the ends are fp[0]/fp[-1] unless `left`/`right` are given."""
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    dtype = _dtypes.result_type_of([(get_aval(a).dtype, get_aval(a).weak_type)
                                    for a in (x, xp, fp)])[0]
    if not _dtypes.is_inexact(dtype):
        dtype = _dtypes.default_float()
    x, xp, fp = (a.astype(dtype) for a in (x, xp, fp))
    if period is not None:
        x = remainder(x, period)
        xp, fp = lax.sort((remainder(xp, period), fp), num_keys=1)
        xp = concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = concatenate([fp[-1:], fp, fp[:1]])
    n = get_aval(xp).shape[0]
    i = clip(searchsorted(xp, x, side="right"), 1, n - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    delta = x1 - x0
    safe = where(delta == 0, 1, delta)
    out = where(delta == 0, f0, f0 + (x - x0) * (f1 - f0) / safe)
    if period is None:
        out = where(x < xp[0], fp[0] if left is None else left, out)
        out = where(x > xp[-1], fp[-1] if right is None else right, out)
    return out
