"""Error functions and the normal distribution's CDF family, the logistic functions,
entropies and Box-Cox transforms (`jax.scipy.special` names)."""
import functools

import numpy as np

from .. import _dtypes, lax, nn
from .. import numpy as jnp
from .._core import get_aval
from .._custom import custom_jvp
from ..numpy._util import promote_to_inexact
from ._prob_util import compile_eager, horner, promote_real as _real


def _float32_or_64(name, x):
    dtype = get_aval(x).dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"x.dtype={dtype} is not supported by {name}: use float32 or "
                        f"float64.")


def erf(x):
    """The error function 2/sqrt(pi) int_0^x exp(-t^2) dt."""
    (x,) = _real("erf", x)
    return lax.erf(x)


def erfc(x):
    """The complementary error function 1 - erf(x)."""
    (x,) = _real("erfc", x)
    return lax.erfc(x)


def erfinv(x):
    """The inverse of erf on (-1, 1)."""
    (x,) = _real("erfinv", x)
    return lax.erf_inv(x)


def erfcinv(y):
    """The inverse of erfc on (0, 2): -ndtri(y / 2) / sqrt(2)."""
    (y,) = _real("erfcinv", y)
    return -ndtri(y * 0.5) / np.sqrt(2).astype(y.dtype)


# --- the standard normal CDF ----------------------------------------------------------

def ndtr(x):
    """The standard normal CDF, via erf near 0 and erfc in the tails."""
    x = jnp.asarray(x)
    _float32_or_64("ndtr", x)
    return _ndtr(x)


def _ndtr(x):
    half_sqrt_2 = 0.5 * np.sqrt(2.0)
    w = x * half_sqrt_2
    z = lax.abs(w)
    y = jnp.where(z < half_sqrt_2, 1.0 + lax.erf(w),
                  jnp.where(w > 0.0, 2.0 - lax.erfc(z), lax.erfc(z)))
    return 0.5 * y


# Cephes' ndtri: rational approximations in w = p - 1/2 (central) and in 1/z with
# z = sqrt(-2 log p) (tails, split at z = 8)
_NDTRI_P0 = [-59.96335010141079, 98.00107541859997, -56.67628574690703, 13.931260938727968,
             -1.2391658386738125]
_NDTRI_Q0 = [1.0, 1.9544885833814176, 4.676279128988815, 86.36024213908905,
             -225.46268785411937, 200.26021238006066, -82.03722561683334, 15.90562251262117,
             -1.1833162112133]
_NDTRI_P1 = [4.0554489230596245, 31.525109459989388, 57.16281922464213, 44.08050738932008,
             14.684956192885803, 2.1866330685079025, -0.1402560791713545,
             -0.03504246268278482, -0.0008574567851546854]
_NDTRI_Q1 = [1.0, 15.779988325646675, 45.39076351288792, 41.3172038254672,
             15.04253856929075, 2.504649462083094, -0.14218292285478779,
             -0.03808064076915783, -0.0009332594808954574]
_NDTRI_P2 = [3.2377489177694603, 6.915228890689842, 3.9388102529247444, 1.3330346081580755,
             0.20148538954917908, 0.012371663481782003, 0.00030158155350823543,
             2.6580697468673755e-06, 6.239745391849833e-09]
_NDTRI_Q2 = [1.0, 6.02427039364742, 3.6798356385616087, 1.3770209948908132,
             0.21623699359449663, 0.013420400608854318, 0.00032801446468212774,
             2.8924786474538068e-06, 6.790194080099813e-09]


def ndtri(p):
    """The inverse of ndtr (the standard normal quantile function)."""
    p = jnp.asarray(p)
    _float32_or_64("ndtri", p)
    dtype = p.dtype
    c = lambda v: np.asarray(v, dtype)  # noqa: E731  (constants of p's dtype)
    small_side = jnp.where(p > c(-np.expm1(-2.0)), 1.0 - p, p)
    small_side = jnp.where(small_side == 0.0, c(0.5), small_side)
    w = small_side - 0.5
    ww = w * w
    central = w + w * ww * (horner(c(_NDTRI_P0), ww) / horner(c(_NDTRI_Q0), ww))
    central = central * -c(np.sqrt(2.0 * np.pi))
    z = lax.sqrt(-2.0 * lax.log(small_side))
    first = z - lax.log(z) / z
    far = first - horner(c(_NDTRI_P2), 1 / z) / horner(c(_NDTRI_Q2), 1 / z) / z
    near = first - horner(c(_NDTRI_P1), 1 / z) / horner(c(_NDTRI_Q1), 1 / z) / z
    x = jnp.where(small_side > c(np.exp(-2.0)), central, jnp.where(z >= 8.0, far, near))
    x = jnp.where(p > c(1.0 - np.exp(-2.0)), x, -x)
    return jnp.where(p == 0.0, -np.inf, jnp.where(p == 1.0, np.inf, x)).astype(dtype)


def _norm_logpdf(x):
    return -0.5 * x * x - np.asarray(np.log(np.sqrt(2 * np.pi)), get_aval(x).dtype)


@functools.partial(custom_jvp, nondiff_argnums=(1,))
def _log_ndtr(x, series_order):
    lower, upper = (-20.0, 8.0) if x.dtype == np.float64 else (-10.0, 5.0)
    above = x > upper
    ndtr_value = _ndtr(jnp.where(above, -x, jnp.maximum(x, lower)))
    # log(1 - q) ~ -q for large x; the asymptotic series of the Mills ratio for small x
    return jnp.where(above, -ndtr_value, jnp.where(
        x > lower, lax.log(ndtr_value), _log_ndtr_lower(jnp.minimum(x, lower), series_order)))


def _log_ndtr_lower(x, series_order):
    dtype = x.dtype
    x2 = x * x
    log_scale = -0.5 * x2 - lax.log(-x) - np.asarray(0.5 * np.log(2.0 * np.pi), dtype)
    total, x2n = jnp.ones_like(x), x2
    for n in range(1, series_order + 1):  # 1 - 1/x^2 + 3/x^4 - 15/x^6 ...
        term = np.asarray(np.prod(np.arange(2 * n - 1, 1, -2)), dtype) / x2n
        total = total - term if n % 2 else total + term
        x2n = x2n * x2
    return log_scale + lax.log(total)


@_log_ndtr.defjvp
def _log_ndtr_jvp(series_order, primals, tangents):
    (x,), (t,) = primals, tangents
    out = _log_ndtr(x, series_order)
    return out, t * lax.exp(_norm_logpdf(x) - out)


def log_ndtr(x, series_order=3):
    """log of the standard normal CDF, accurate far into both tails."""
    if not isinstance(series_order, int):
        raise TypeError("series_order must be a Python integer.")
    if not 0 <= series_order <= 30:
        raise ValueError("series_order must be between 0 and 30.")
    x = jnp.asarray(x)
    _float32_or_64("log_ndtr", x)
    return _log_ndtr(x, series_order)


# --- the scaled complementary error function and Dawson's integral ---------------------

def erfcx(x):
    """exp(x^2) erfc(x), with an asymptotic series where exp(x^2) would overflow."""
    (x,) = _real("erfcx", x)
    if x.dtype in (np.float32, np.float64):
        return _erfcx(x)
    return _erfcx(x.astype(np.float32)).astype(x.dtype)


@custom_jvp
def _erfcx(x):
    nterms = 9 if x.dtype == np.float64 else 5
    large = x > np.sqrt(np.log(_dtypes.finfo(x.dtype).max))
    safe_x = jnp.where(large, 1.0, x)
    direct = lax.exp(safe_x * safe_x) * lax.erfc(safe_x)
    series = [7918.06640625, -1055.7421875, 162.421875, -29.53125, 6.5625, -1.875, 0.75,
              -0.5, 1.0][-nterms:]  # (-1)^n (2n-1)!! / 2^n in 1/x^2
    asymptotic = horner(np.asarray(series, x.dtype), 1.0 / (x * x)) / (x * np.sqrt(np.pi))
    return jnp.where(large, asymptotic, direct)


@_erfcx.defjvp
def _erfcx_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    out = _erfcx(x)
    return out, t * (2 * x * out - 2.0 / np.sqrt(np.pi))


# Cephes' dawsn: rational approximations on [0, 3.25), [3.25, 6.25) and beyond
_DAWSN = {
    "AN": [1.1368149897175597e-11, 8.492622676674738e-10, 1.9443420417555306e-08,
           9.531517412544844e-07, 3.078283098749132e-06, 0.00035251336852028877,
           -0.0008501498467244109, 0.04226182230055466, -0.09174803717734524, 1.0],
    "AD": [2.403720730667626e-11, 1.488646813684934e-09, 5.212652810105416e-08,
           1.2725847827318697e-06, 2.324902498207895e-05, 0.00032552474182605793,
           0.003488058146571626, 0.027944853119882897, 0.15887424196012057,
           0.5749186294893204, 1.0],
    "BN": [0.5089551564179009, -0.24475441814269785, 0.09415123353035344,
           -0.021871125514203903, 0.003662076123295692, -0.0004232091144603888,
           3.5964130479389666e-05, -2.1464035171996896e-06, 9.100107800763914e-08,
           -2.4027452082825098e-09, 3.592333854409284e-11],
    "BD": [1.0, -0.6318398698733682, 0.2367067882282487, -0.053180636700322324,
           0.008480417185862954, -0.0009479967684866654, 7.810255929445524e-05,
           -4.558751532524426e-06, 1.8910035811142186e-07, -4.913246913319206e-09,
           7.184664032357345e-11],
    "CN": [-0.5905928605347732, 0.6292352427243688, -0.17285897538038814,
           0.016483704782518965, -0.0004868276130204627],
    "CD": [1.0, -2.698200571975449, 1.7327079904594784, -0.3937085822819395,
           0.03442789240412334, -0.0009736552260409412],
}


def dawsn(x):
    """Dawson's integral exp(-x^2) int_0^x exp(t^2) dt."""
    (x,) = _real("dawsn", x)
    if x.dtype in (np.float32, np.float64):
        return _dawsn(x)
    return _dawsn(x.astype(np.float32)).astype(x.dtype)


@custom_jvp
def _dawsn(x):
    c = {k: np.asarray(v, x.dtype) for k, v in _DAWSN.items()}
    ax = lax.abs(x)
    first = ax < 3.25
    second = (ax >= 3.25) & (ax < 6.25)
    ax1 = jnp.where(first, ax, 1.0)
    value1 = ax1 * horner(c["AN"], ax1 * ax1) / horner(c["AD"], ax1 * ax1)
    ax2 = jnp.where(second, ax, 1.0)
    t2 = 1.0 / (ax2 * ax2)
    value2 = 0.5 / ax2 * (1.0 + t2 * horner(c["BN"], t2) / horner(c["BD"], t2))
    ax3 = jnp.where(ax >= 6.25, ax, 1.0)
    t3 = 1.0 / (ax3 * ax3)
    value3 = 0.5 / ax3 * (1.0 + t3 * horner(c["CN"], t3) / horner(c["CD"], t3))
    return jnp.sign(x) * jnp.where(first, value1, jnp.where(second, value2, value3))


@_dawsn.defjvp
def _dawsn_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    out = _dawsn(x)
    return out, t * (1.0 - 2.0 * x * out)


# --- logistic functions, entropies ---------------------------------------------------

@custom_jvp
def logit(x):
    """log(x / (1 - x))."""
    (x,) = promote_to_inexact(x)
    return lax.log(lax.div(x, lax.sub(lax.full_like(x, 1), x)))


@logit.defjvp
def _logit_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    (x,) = promote_to_inexact(x)
    return logit(x), t / (x * (1 - x))


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    (x,) = promote_to_inexact(x)
    return lax.logistic(x)


@custom_jvp
def xlogy(x, y):
    """x * log(y), taken as 0 where x == 0 (unless y is nan)."""
    x, y = promote_to_inexact(x, y)
    return jnp.where((x != 0.0) | jnp.isnan(y), x * lax.log(y), jnp.zeros_like(x))


@xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    x, y = promote_to_inexact(*primals)
    out = xlogy(x, y)
    return out, (tangents[0] * lax.log(y) + tangents[1] * x / y).astype(out.dtype)


@custom_jvp
def xlog1py(x, y):
    """x * log1p(y), taken as 0 where x == 0 (unless y is nan)."""
    x, y = promote_to_inexact(x, y)
    return jnp.where((x != 0.0) | jnp.isnan(y), x * lax.log1p(y), jnp.zeros_like(x))


@xlog1py.defjvp
def _xlog1py_jvp(primals, tangents):
    x, y = promote_to_inexact(*primals)
    out = xlog1py(x, y)
    return out, (tangents[0] * lax.log1p(y) + tangents[1] * x / (1 + y)).astype(out.dtype)


@custom_jvp
def _xlogx(x):
    return xlogy(x, x)


@_xlogx.defjvp
def _xlogx_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _xlogx(x), t * (lax.log(x) + 1)


def entr(x):
    """-x log x for x >= 0 (0 at 0), -inf for x < 0."""
    (x,) = _real("entr", x)
    return jnp.where(x < 0, -np.inf, -_xlogx(x)).astype(x.dtype)


def rel_entr(p, q):
    """p log(p / q) elementwise (0 where p == 0 <= q; inf where undefined)."""
    p, q = _real("rel_entr", p, q)
    both_positive = (p > 0) & (q > 0)
    safe_p, safe_q = jnp.where(both_positive, p, 1), jnp.where(both_positive, q, 1)
    value = _xlogx(safe_p) - xlogy(safe_p, safe_q)
    return jnp.where(both_positive, value, jnp.where((p == 0) & (q >= 0), 0.0, np.inf)
                     ).astype(p.dtype)


def kl_div(p, q):
    """p log(p / q) - p + q elementwise."""
    p, q = _real("kl_div", p, q)
    return rel_entr(p, q) - p + q


def boxcox(x, lmbda):
    """The Box-Cox transform (x^lmbda - 1) / lmbda (log x at lmbda == 0)."""
    x, lmbda = promote_to_inexact(x, lmbda)
    return _boxcox(lax.log(x), lmbda)


def boxcox1p(x, lmbda):
    """The Box-Cox transform of 1 + x."""
    x, lmbda = promote_to_inexact(x, lmbda)
    return _boxcox(lax.log1p(x), lmbda)


def _boxcox(log_x, lmbda):
    zero = lmbda == 0
    safe = jnp.where(zero, jnp.ones_like(lmbda), lmbda)
    return jnp.where(zero, log_x, jnp.expm1(safe * log_x) / safe)


def softmax(x, /, *, axis=None):
    """exp(x) / sum(exp(x)) over `axis` (all axes by default, as SciPy)."""
    return nn.softmax(x, axis=axis)


def log_softmax(x, /, *, axis=None):
    """x - logsumexp(x) over `axis` (all axes by default, as SciPy)."""
    return nn.log_softmax(x, axis=axis)


logsumexp = nn.logsumexp


compile_eager(globals(), """erf erfc erfinv erfcinv ndtr ndtri log_ndtr erfcx dawsn logit expit
    xlogy xlog1py entr rel_entr kl_div boxcox boxcox1p softmax log_softmax""",
              {"log_ndtr": ("series_order",), "softmax": ("axis",),
               "log_softmax": ("axis",)})
