"""Gamma, beta and zeta functions and their relatives (`jax.scipy.special` names), over
the lax special-function primitives."""
import operator

import numpy as np

from .. import _dtypes, lax, numpy as jnp
from .._core import Tracer, get_aval
from .._custom import custom_jvp
from ..numpy._util import promote_to_inexact
from ._prob_util import compile_eager, promote_real as _real
from .._api import jvp


def gammaln(x):
    """log|Gamma(x)|."""
    (x,) = _real("gammaln", x)
    return lax.lgamma(x)


def gammasgn(x):
    """The sign of Gamma(x): +-1, or nan at the poles (non-positive integers)."""
    (x,) = _real("gammasgn", x)
    floor_x = lax.floor(x)
    negative = x < 0
    nan = (negative & (x == floor_x)) | jnp.isnan(x)
    minus = (negative & (floor_x % 2 != 0)) | ((x == 0) & jnp.signbit(x))
    return jnp.where(nan, np.nan, jnp.where(minus, -1.0, 1.0)).astype(x.dtype)


def gamma(x):
    """Gamma(x) for real x: sign(Gamma(x)) * exp(log|Gamma(x)|)."""
    (x,) = _real("gamma", x)
    return gammasgn(x) * lax.exp(lax.lgamma(x))


def loggamma(x):
    """log(Gamma(x)) for real x > 0 (nan elsewhere, as SciPy's real loggamma)."""
    (x,) = _real("loggamma", x)
    return jnp.where(x > 0, lax.lgamma(x), np.nan)


def _algdiv(a, b):
    """log(Gamma(b) / Gamma(a + b)) for b >= 8 and a <= b (from cdflib's algdiv):
    Stirling's series for the difference, without cancellation."""
    c = [0.833333333333333e-01, -0.277777777760991e-02, 0.793650666825390e-03,
         -0.595202931351870e-03, 0.837308034031215e-03, -0.165322962780713e-02]
    h = a / b
    x = h / (1 + h)
    d = b + (a - 0.5)
    x2 = x * x
    s3 = 1.0 + (x + x2)  # s_n = (1 - x^n) / (1 - x)
    s5 = 1.0 + (x + x2 * s3)
    s7 = 1.0 + (x + x2 * s5)
    s9 = 1.0 + (x + x2 * s7)
    s11 = 1.0 + (x + x2 * s9)
    t = (1.0 / b) ** 2
    w = ((((c[5] * s11 * t + c[4] * s9) * t + c[3] * s7) * t + c[2] * s5) * t + c[1] * s3) \
        * t + c[0]
    w = w * (x / b)
    u = d * lax.log1p(a / b)
    v = a * (lax.log(b) - 1.0)
    return jnp.where(u <= v, (w - v) - u, (w - u) - v)


def betaln(a, b):
    """log|B(a, b)|, accurate for large arguments (cdflib's algdiv for b >= 8)."""
    a, b = _real("betaln", a, b)
    a, b = jnp.minimum(a, b), jnp.maximum(a, b)
    small_b = lax.lgamma(a) + (lax.lgamma(b) - lax.lgamma(a + b))
    large_b = lax.lgamma(a) + _algdiv(a, b)
    return jnp.where(b < 8, small_b, large_b)


def beta(a, b):
    """The beta function B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)."""
    a, b = _real("beta", a, b)
    return gammasgn(a) * gammasgn(b) * gammasgn(a + b) * lax.exp(betaln(a, b))


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b)."""
    a, b, x = _real("betainc", a, b, x)
    return lax.betainc(a, b, x)


def factorial(n, exact=False):
    """n! = Gamma(n + 1) (0 for negative n)."""
    if exact:
        raise NotImplementedError("factorial with exact=True (an arbitrary-precision "
                                  "integer) is not available for arrays; use math.factorial.")
    (n,) = promote_to_inexact(n)
    return jnp.where(n < 0, 0, lax.exp(lax.lgamma(n + 1)))


def comb(N, k, *, repetition=False):
    """The number of combinations of N things taken k at a time (real-valued)."""
    N, k = promote_to_inexact(N, k)
    if repetition:
        return jnp.where((k == 0) & (N >= 0), 1.0, comb(N + k - 1, k))
    valid = (k <= N) & (N >= 0) & (k >= 0)
    safe_N, safe_k = jnp.where(valid, N, 0.0), jnp.where(valid, k, 0.0)
    out = lax.exp(gammaln(safe_N + 1) - gammaln(safe_k + 1) - gammaln(safe_N + 1 - safe_k))
    return jnp.where(valid, out, 0.0)


@custom_jvp
def poch(z, m):
    """The rising factorial (z)_m = Gamma(z + m) / Gamma(z)."""
    z, m = _real("poch", z, m)
    return jnp.where(m == 0.0, jnp.ones_like(z), gamma(z + m) / gamma(z))


@poch.defjvp
def _poch_jvp(primals, tangents):
    z, m = primals
    z_dot, m_dot = tangents
    out = poch(z, m)
    psi_zm = digamma(z + m)
    return out, ((psi_zm - digamma(z)) * z_dot + psi_zm * m_dot) * out


def digamma(x):
    """The digamma function psi(x) = d/dx log Gamma(x)."""
    (x,) = _real("digamma", x)
    return lax.digamma(x)


def polygamma(n, x):
    """The n-th derivative of the digamma function (n an integer array or int)."""
    n_dtype = get_aval(n).dtype
    if not _dtypes.is_integer(n_dtype):
        raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype "
                         f"{n_dtype}.")
    n, x = _real("polygamma", n, x)
    return lax.polygamma(n, x)


def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x)."""
    a, x = _real("gammainc", a, x)
    return lax.igamma(a, x)


def gammaincc(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    a, x = _real("gammaincc", a, x)
    return lax.igammac(a, x)


def multigammaln(a, d):
    """log of the multivariate gamma function of dimension d (a Python int)."""
    if isinstance(d, Tracer):
        raise TypeError("the d argument of multigammaln must be a concrete integer, not a "
                        "traced value; mark it static.")
    d = operator.index(d)
    (a,) = _real("multigammaln", a)
    dtype = a.dtype
    constant = 0.25 * d * (d - 1) * np.log(np.pi)
    b = jnp.arange(d, dtype=dtype) / 2
    return jnp.sum(gammaln(jnp.expand_dims(a, -1) - b), axis=-1) + np.asarray(constant, dtype)


# --- Hurwitz zeta -------------------------------------------------------------------

# (2k)! / B_2k for k = 1..16: the Euler-Maclaurin correction terms of zeta
_EULER_MACLAURIN = np.array([
    12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1307674368000 / 691, 74724249600.0,
    -10670622842880000 / 3617, 5109094217170944000 / 43867,
    -802857662698291200000 / 174611, 14101100039391805440000 / 77683,
    -1693824136731743669452800000 / 236364091, 186134520519971831808000000 / 657931,
    -37893265687455865519472640000000 / 3392780147,
    759790291646040068357842010112000000 / 1723168255201,
    -134196726836183700385281186201600000000 / 7709321041217])


def _zeta_euler_maclaurin(s, a):
    """zeta(s, a) by Euler-Maclaurin summation: N terms summed, the tail as an integral
    plus M Bernoulli corrections (N = M = 8 in float32, 16 in float64). Differentiable
    in both arguments; it defines zeta's derivatives."""
    dtype = get_aval(a).dtype
    n = m = 8 if dtype == np.float32 else 16
    s_, a_ = jnp.expand_dims(s, -1), jnp.expand_dims(a, -1)
    k = np.arange(n, dtype=dtype)
    head = jnp.sum((a_ + k) ** (-s_), -1)
    integral = lax.div((a + n) ** (1 - s), s - 1)
    t0 = (a + n) ** (-s)
    rising = jnp.cumprod((s_ + np.arange(2 * m, dtype=dtype)) / (a_ + n), -1)[..., ::2]
    rising = jnp.minimum(rising, _dtypes.finfo(dtype).max)
    corrections = rising / _EULER_MACLAURIN[:m].astype(dtype)
    return head + integral + t0 * (0.5 + corrections.sum(-1))


@custom_jvp
def zeta(x, q=None):
    """The Hurwitz zeta function zeta(x, q) = sum_n (n + q)^-x (q is required)."""
    if q is None:
        raise NotImplementedError("Riemann zeta function not implemented; pass q != None to "
                                  "compute the Hurwitz Zeta function.")
    x, q = _real("zeta", x, q)
    return lax.zeta(x, q)


@zeta.defjvp
def _zeta_jvp(primals, tangents):
    x, q = primals
    x, q = _real("zeta", x, q)
    return zeta(x, q), jvp(_zeta_euler_maclaurin, (x, q), tuple(
        t.astype(x.dtype) for t in tangents))[1]


def i0e(x):
    """exp(-|x|) I0(x)."""
    (x,) = _real("i0e", x)
    return lax.bessel_i0e(x)


def i0(x):
    """The modified Bessel function of the first kind of order 0."""
    (x,) = _real("i0", x)
    return lax.exp(lax.abs(x)) * lax.bessel_i0e(x)


def i1e(x):
    """exp(-|x|) I1(x)."""
    (x,) = _real("i1e", x)
    return lax.bessel_i1e(x)


def i1(x):
    """The modified Bessel function of the first kind of order 1."""
    (x,) = _real("i1", x)
    return lax.exp(lax.abs(x)) * lax.bessel_i1e(x)


def bernoulli(n):
    """The Bernoulli numbers B_0 ... B_n (B_1 = -1/2), from
    B_2k = (-1)^(k+1) 2 (2k)! zeta(2k) / (2 pi)^2k with zeta summed to 50 terms."""
    n = operator.index(n)
    if n < 0:
        raise ValueError("n must be a non-negative integer.")
    first = jnp.array([1, -1 / 2, 1 / 6])
    if n < 3:
        return first[:n + 1]
    out = jnp.zeros(n + 1).at[:3].set(first)
    m = jnp.arange(4, n + 1, 2, dtype=out.dtype)
    prefactor = 1.0 / np.pi ** 2 * jnp.cumprod(-(m - 1) * m / 4 / np.pi ** 2)
    k = jnp.arange(2, 50, dtype=out.dtype)
    zeta_minus_one = jnp.sum(k[:, None] ** (-m[None, :]), axis=0)
    return out.at[4::2].set(prefactor * (1 + zeta_minus_one))


compile_eager(globals(), """gammaln gammasgn gamma loggamma betaln beta betainc factorial comb
    poch digamma polygamma gammainc gammaincc multigammaln zeta i0 i0e i1 i1e bernoulli""",
              {"factorial": ("exact",), "comb": ("repetition",), "multigammaln": ("d",),
               "bernoulli": ("n",)})
