"""Exponential and sine/cosine integrals, the dilogarithm and Owen's T function
(`jax.scipy.special` names).

Functions whose evaluation iterates (series and continued fractions) are written for
one scalar and mapped over the elements with `vmap`, as JAX does with
`jnp.vectorize`: each element runs its own `while_loop` until its terms are below
machine epsilon."""
import numpy as np

from .. import _dtypes, lax
from .. import numpy as jnp
from .._api_vmap import vmap
from .._custom import custom_jvp
from ..numpy._util import promote_to_inexact
from ._prob_util import compile_eager, horner, promote_real as _real
from ._special_gamma import gammaln


def _vectorize(fun, *args):
    """`fun` on scalars, applied to every element of the broadcast arguments."""
    args = jnp.broadcast_arrays(*args)
    shape = args[0].shape
    flat = [a.reshape(-1) for a in args]
    return vmap(fun)(*flat).reshape(shape)


def _piecewise(index, branches, *operands):
    """branches[index](*operands) for a scalar index."""
    return lax.switch(index, branches, *operands)


def _last_true(*conditions):
    """The index of the last condition that holds (else their number): the piece that
    np.piecewise picks where conditions overlap."""
    index = np.int32(len(conditions))
    for i, condition in enumerate(conditions):
        index = jnp.where(condition, np.int32(i), index)
    return index


# --- exponential integrals -----------------------------------------------------------

# Cephes' ei: x f(x) + gamma + log x on (0, 2]; e^x / x (1 + f(1/x) / x) on (2^k, 2^(k+1)]
_EXPI_SMALL = ([-5.350447357812543, 218.50491688166133, -4176.572384826693,
                55411.76756393557, -331338.13311781443, 1592627.1633849454],
               [1.0, -52.505479591128626, 1259.6161867867906, -17565.495819735348,
                149306.2117002726, -729494.9239640528, 1592627.1633849454])
_EXPI_OCTAVES = [  # (2, 4], (4, 8], (8, 16], (16, 32], (32, 64], (64, inf)
    ([0.019818085032596897, -1.2716456259849176, -2.0881603356812284, 2.7555445091879367,
      -0.44095070487016, 0.046656238059358916, -0.0015450426796734852,
      7.059980605299618e-05],
     [1.0, 1.4764986709149215, 0.5629177174822436, 0.16990178978793072,
      0.02291647179034212, 0.0044501504397287525, 0.00017274396122065214,
      3.953167195549672e-05]),
    ([-1.3732153758712087, -0.7084559133740839, 1.580806855547941, -0.2601500427425623,
      0.029946746941137137, -0.001038086040188744, 4.371064420753005e-05,
      2.141783679522603e-06],
     [1.0, 0.8585231423622028, 0.4483285822873995, 0.07687932158124476,
      0.024498682410218877, 0.0008832165941927797, 0.00045909522995113536,
      -4.729848351866523e-06, 2.66519553739071e-06]),
    ([-2.1069346016919166, 1.7327338696646881, -0.2423619178935842, 0.02322724180937566,
      0.00023728804404931798, -8.343219561192553e-05, 1.3634087956052505e-05,
      -3.655412321999254e-07, 1.4649417339759612e-08, 6.17640786371036e-10],
     [1.0, -0.2298062239901678, 0.11050770414740378, -0.015665429666307924,
      0.002761106850817353, -0.00020891480122840484, 1.7085289388076754e-05,
      -4.4593117963566865e-07, 1.3946349303538475e-08, 6.150865933977338e-10]),
    ([-0.24581193676740204, -0.14833822533220778, 0.07248291795735552,
      -0.013483156873809405, 0.001342775069788637, -7.942465637159712e-05,
      2.644179518984236e-06, -4.239473659313765e-08],
     [1.0, -0.10442259084438711, -0.26764531281014026, 0.09695000254621984,
      -0.01601745692712991, 0.001496414899205908, -8.462452563778485e-05,
      2.7289384034767266e-06, -4.239462431819542e-08]),
    ([0.12125611181054567, -0.5823133179043894, 0.2348887314557017,
      -0.030400343181132484, 0.0015100821468651906, -2.5231370954995714e-05],
     [1.0, -1.002252150365854, 0.2928709694872224, -0.03337004338674008,
      0.0015605448811273888, -2.5231370936032347e-05]),
    ([-0.7657847078286127, 0.6886192415566705, -0.2132598113545206, 0.033461075523841935,
      -0.003076541477344756, 0.00017471193164549074, -6.1037116822741705e-06,
      1.218032765428652e-07, -1.0860761027932903e-09],
     [1.0, -1.8888028686623086, 1.066691687211409, -0.27519159823063805,
      0.039308526882338234, -0.003414684558602365, 0.00018668443707035555,
      -6.345146083130515e-06, 1.239754287483207e-07, -1.0860761027931265e-09]),
]


def _expi_positive(x):
    dtype = x.dtype
    a, b = (np.asarray(c, dtype) for c in _EXPI_SMALL)
    safe = jnp.where(x <= 2, x, 1.0)
    value = safe * horner(a, safe) / horner(b, safe) + np.euler_gamma + jnp.log(safe)
    for k, (num, den) in enumerate(_EXPI_OCTAVES, start=1):
        inside = (x > 2.0 ** k) & ((x <= 2.0 ** (k + 1)) | (k == len(_EXPI_OCTAVES)))
        w = 1.0 / jnp.where(inside, x, 2.0 ** (k + 1))
        f = w * horner(np.asarray(num, dtype), w) / horner(np.asarray(den, dtype), w) + 1.0
        value = jnp.where(inside, jnp.exp(1.0 / w) * w * f, value)
    return value


@custom_jvp
def expi(x):
    """The exponential integral Ei(x) = -PV int_{-x}^inf e^-t / t dt."""
    (x,) = _real("expi", x)
    negative = x < 0
    return jnp.where(negative, -exp1(jnp.where(negative, -x, 1.0)),
                     _expi_positive(jnp.where(negative, 1.0, x)))


@expi.defjvp
def _expi_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return expi(x), jnp.exp(x) / x * t


def _expn_series(x, n):
    """E_n(x) for x <= 1: psi(n) (-x)^(n-1) / (n-1)! - sum_k (-x)^k / ((k - n + 1) k!)."""
    eps = _dtypes.finfo(x.dtype).eps
    psi = -np.euler_gamma - jnp.log(x)
    psi = lax.fori_loop(1.0, n, lambda i, p: p + 1.0 / i, psi)
    n1 = jnp.where(n == 1, 2.0, n)
    init = (x, -x, jnp.zeros_like(x), jnp.ones_like(x), 1.0 - n,
            jnp.where(n == 1, 0.0, 1.0 / (1.0 - n1)), jnp.full_like(x, np.inf))

    def body(s):
        x, z, xk, yk, pk, ans, _ = s
        xk, pk = xk + 1.0, pk + 1.0
        yk = yk * z / xk
        ans = ans + jnp.where(pk != 0, yk / pk, 0.0)
        return x, z, xk, yk, pk, ans, jnp.where(ans != 0, jnp.abs(yk / ans), 1.0)

    s = lax.while_loop(lambda s: (s[0] > 0) & (s[6] > eps), body, init)
    return s[1] ** (n - 1) * psi / jnp.exp(gammaln(n)) - s[5]


def _expn_fraction(x, n):
    """E_n(x) for x > 1 by its continued fraction."""
    eps = _dtypes.finfo(x.dtype).eps
    big = 1.4411518807585587e17
    one = jnp.ones_like(x)
    init = (jnp.ones_like(n), one, x, one, x + n, one / (x + n), jnp.full_like(x, np.inf),
            jnp.zeros_like(x))

    def body(s):
        k, pkm2, qkm2, pkm1, qkm1, ans, _, r = s
        k = k + 1
        odd = k % 2 == 1
        yk = jnp.where(odd, 1.0, x)
        xk = jnp.where(odd, n + (k - 1) / 2, k / 2)
        pk, qk = pkm1 * yk + pkm2 * xk, qkm1 * yk + qkm2 * xk
        nonzero = qk != 0
        r = jnp.where(nonzero, pk / qk, r)
        t = jnp.where(nonzero, jnp.abs((ans - r) / r), 1.0)
        ans = jnp.where(nonzero, r, ans)
        scale = jnp.where(jnp.abs(pk) > big, 1.0 / big, 1.0)
        return k, pkm1 * scale, qkm1 * scale, pk * scale, qk * scale, ans, t, r

    s = lax.while_loop(lambda s: (x > 0) & (s[6] > eps), body, init)
    return s[5] * jnp.exp(-x)


def _expn_asymptotic(x, n):
    """E_n(x) for large n."""
    xk = x + n
    yk = 1.0 / (xk * xk)
    ans = yk * n * (6.0 * x * x - 8.0 * n * x + n * n)
    ans = yk * (ans + n * (n - 2.0 * x))
    ans = yk * (ans + n)
    return (ans + 1.0) * jnp.exp(-x) / xk


def _expn_scalar(n, x):
    n1 = jnp.where(n == 1, n + n, n)
    index = _last_true((n < 0) | (x < 0), (x == 0) & (n < 2), (x == 0) & (n >= 2),
                        (n == 0) & (x >= 0), n >= 5000, x > 1)
    constant = lambda v: lambda x, n: jnp.full_like(x, v)  # noqa: E731
    return _piecewise(index, [constant(np.nan), constant(np.inf),
                              lambda x, n: jnp.ones_like(x) / n1,
                              lambda x, n: jnp.exp(-x) / x, _expn_asymptotic,
                              _expn_fraction, _expn_series], x, n)


@custom_jvp
def _expn(n, x):
    return _vectorize(_expn_scalar, n, x)


@_expn.defjvp
def _expn_jvp(primals, tangents):
    n, x = primals
    return _expn(n, x), -tangents[1] * _expn(n - 1, x)


def expn(n, x):
    """The generalized exponential integral E_n(x) = int_1^inf e^(-x t) / t^n dt."""
    n, x = _real("expn", n, x)
    return _expn(lax.stop_gradient(n), x)


def exp1(x):
    """The exponential integral E_1(x)."""
    (x,) = _real("exp1", x)
    return expn(1, x)


# --- sine and cosine integrals, dilogarithm ---------------------------------------------

_SICI_SERIES = (  # Si(x) = x SN(x^2)/SD(x^2), Ci(x) = gamma + log x + x^2 CN/CD on [0, 4]
    [-8.391678279103039e-11, 4.625917144270128e-08, -9.757593038436328e-06,
     0.0009769454381704354, -0.04134703162294066, 1.0],
    [2.0326926619595193e-12, 1.279978911799433e-09, 4.418278428012189e-07,
     9.964121220438756e-05, 0.01420852393261499, 1.0],
    [2.0252400238910228e-11, -1.3524950491579076e-08, 3.593250514199931e-06,
     -0.0004740072068734079, 0.028915965260755523, -1.0],
    [4.077460400618806e-12, 3.067809975818878e-09, 1.2321035568588342e-06,
     0.00031744202477503275, 0.051002805623644606, 4.0])
_SICI_AUXILIARY = {  # f(x), g(x) of the asymptotic forms on (4, 8] and (8, inf)
    4: ([4.236128628922166, 5.4593771716181285, 1.6208328770153833, 0.16700661183132304,
         0.006810201324725182, 0.00010893658065032867, 5.489002234213736e-07],
        [1, 8.16496634205391, 7.308288225055645, 1.867922579501842, 0.1787920529631499,
         0.007017106683227897, 0.00011003435715391573, 5.489002527562557e-07],
        [0.08710016989731142, 0.6113791099522193, 0.3971802963923375, 0.07485277376284691,
         0.005388686814621773, 0.00016199979459893403, 1.9796387414096365e-06,
         7.825790407440903e-09],
        [1, 1.6440220241335535, 0.666296701268988, 0.09887717612776888,
         0.006223963454417684, 0.0001732210814741771, 2.0265918208634397e-06,
         7.825792189335346e-09]),
    8: ([0.4558808734704653, 0.7137152741001467, 0.16030015822231947, 0.01160642294081244,
         0.00034955644244785906, 4.8621543082645475e-06, 3.200927900910049e-08,
         9.41779576128513e-11, 9.70507110881952e-14],
        [1.0, 0.9174636118736841, 0.17868554533207454, 0.012225359477197129,
         0.00035869648188185157, 4.924350643178815e-06, 3.21956939101046e-08,
         9.437205903502767e-11, 9.70507110881952e-14],
        [0.6973599534432762, 0.33041097930563207, 0.03848787676499743,
         0.001717182390523479, 3.4894116550227946e-05, 3.471311670841167e-07,
         1.7040445278204452e-09, 3.859459254302766e-12, 3.1404009894636335e-15],
        [1.0, 1.6854889881101165, 0.48785225869530496, 0.04679131942596258,
         0.0019028442667439953, 3.684755044425611e-05, 3.5704322344374083e-07,
         1.7269374896631615e-09, 3.878301660239547e-12, 3.1404009894636335e-15]),
}


@custom_jvp
def sici(x):
    """The sine and cosine integrals (Si(x), Ci(x))."""
    (x,) = _real("sici", x)
    dtype = x.dtype
    ax = jnp.abs(x)
    sn, sd, cn, cd = (np.asarray(c, dtype) for c in _SICI_SERIES)
    t = ax * ax
    si_series = jnp.where(ax == 0, 0.0, ax * horner(sn, t) / horner(sd, t))
    ci_series = jnp.where(ax == 0, -np.inf,
                          np.euler_gamma + jnp.log(ax) + t * horner(cn, t) / horner(cd, t))
    z = 1.0 / (ax * ax)
    aux = {k: [np.asarray(c, dtype) for c in v] for k, v in _SICI_AUXILIARY.items()}
    f = jnp.where(ax < 8.0, horner(aux[4][0], z) / (ax * horner(aux[4][1], z)),
                  horner(aux[8][0], z) / (ax * horner(aux[8][1], z)))
    g = jnp.where(ax < 8.0, z * horner(aux[4][2], z) / horner(aux[4][3], z),
                  z * horner(aux[8][2], z) / horner(aux[8][3], z))
    s, c = jnp.sin(ax), jnp.cos(ax)
    si_asymptotic, ci_asymptotic = np.pi / 2 - f * c - g * s, f * s - g * c
    si_far = jnp.where(jnp.isposinf(ax), np.pi / 2, np.pi / 2 - c / ax)
    ci_far = jnp.where(jnp.isposinf(ax), 0.0, s / ax)
    near, middle = ax <= 4, (ax > 4) & (ax <= 1e9)
    si = jnp.where(near, si_series, jnp.where(middle, si_asymptotic, si_far))
    ci = jnp.where(near, ci_series, jnp.where(middle, ci_asymptotic, ci_far))
    return (jnp.sign(x) * si).astype(dtype), jnp.where(jnp.isneginf(x), np.nan, ci).astype(dtype)


@sici.defjvp
def _sici_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return sici(x), (jnp.sinc(x / np.pi) * t, jnp.cos(x) / x * t)


_SPENCE_A = [4.6512858607399003e-05, 0.007315890452380947, 0.13384763957830903,
             0.8796913117545303, 2.7114985119655346, 4.256971560081218, 3.297713409852251,
             1.0]
_SPENCE_B = [0.0006909904889125533, 0.02540437639325444, 0.2829748606025681,
             1.4117259775183106, 3.6380053334513707, 5.03278880143317, 3.547713409852251,
             1.0]


def spence(x):
    """Spence's function (the dilogarithm) int_1^x log(t) / (1 - t) dt for x >= 0."""
    x = jnp.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x.dtype={x.dtype} is not supported by spence: use float32 or "
                        f"float64.")
    dtype = x.dtype
    invert = x > 2.0
    y = jnp.where(invert, 1.0 / jnp.where(invert, x, 1.0), x)
    above, below = y > 1.5, y < 0.5
    invert = invert | above
    w = jnp.where(above, 1.0 / y - 1.0, jnp.where(below, -y, y - 1.0))
    value = -w * horner(np.asarray(_SPENCE_A, dtype), w) / horner(np.asarray(_SPENCE_B, dtype), w)
    value = jnp.where(below, np.pi ** 2 / 6.0 - jnp.log(y) * jnp.log(1.0 - y) - value, value)
    value = jnp.where(invert, -0.5 * jnp.log(y) ** 2 - value, value)
    value = jnp.where(x == 1.0, 0.0, jnp.where(x == 0.0, np.pi ** 2 / 6, value))
    return jnp.where(x < 0.0, np.nan, value).astype(dtype)


# --- Owen's T ------------------------------------------------------------------------

_OWENS_T_NODES = np.array([
    0.0035082039676451716, 0.031279042338030756, 0.08526682628321945, 0.16245071730812277,
    0.25851196049125436, 0.3680755384069753, 0.485010929056047, 0.6027751415261857,
    0.7147788421775323, 0.814755109887601, 0.8971102975594897, 0.9572380808594426,
    0.991788329746297])
_OWENS_T_WEIGHTS = np.array([
    0.018831438115323503, 0.01856708624397765, 0.018042093461223385, 0.017263829606398752,
    0.016243219975989858, 0.014994592034116705, 0.013535474469662087, 0.011886351605820165,
    0.010070377242777432, 0.008113054574229958, 0.006041900952847024,
    0.0038862217010742057, 0.001679303108454609])


@custom_jvp
def _owens_t(h, a):
    h, abs_a = jnp.abs(h), jnp.abs(a)
    root_2 = np.sqrt(2).astype(h.dtype)
    small_a = abs_a <= 1.0
    mod_a = jnp.where(small_a, abs_a, 1.0 / abs_a)
    mod_h = jnp.where(small_a, h, abs_a * h)
    # T(h, a) = a / (2 pi) int_0^1 exp(-h^2 (1 + a^2 t^2) / 2) / (1 + a^2 t^2) dt
    r = jnp.square(mod_a)[..., None] * _OWENS_T_NODES.astype(h.dtype)
    integrand = jnp.exp(-0.5 * jnp.square(mod_h)[..., None] * (1.0 + r)) / (1.0 + r)
    result = mod_a * jnp.sum(integrand * _OWENS_T_WEIGHTS.astype(h.dtype), -1)
    result = jnp.where(mod_h == 0.0, jnp.arctan(mod_a) / (2 * np.pi), result)
    result = jnp.where(mod_a == 1.0, 0.125 * lax.erfc(-mod_h / root_2) *
                       lax.erfc(mod_h / root_2), result)
    # |a| > 1: T(h, a) = (Phi(h) + Phi(ah)) / 2 - Phi(h) Phi(ah) - T(ah, 1/a) (- 1/2 if h<0)
    norm_h, norm_ah = lax.erfc(h / root_2), lax.erfc(abs_a * h / root_2)
    swapped = jnp.where(abs_a * h <= 0.67,
                        0.25 - 0.25 * lax.erf(h / root_2) * lax.erf(abs_a * h / root_2) - result,
                        0.25 * (norm_h + norm_ah - norm_h * norm_ah) - result)
    result = lax.sign(a) * jnp.where(abs_a > 1.0, swapped, result)
    return jnp.where(jnp.isnan(a) | jnp.isnan(h), np.nan, result).astype(h.dtype)


@_owens_t.defjvp
def _owens_t_jvp(primals, tangents):
    (h, a), (dh, da) = primals, tangents
    root_2 = np.sqrt(2).astype(h.dtype)
    d_h = -jnp.exp(-0.5 * h * h) * lax.erf(a * h / root_2) / (2.0 * np.sqrt(2.0 * np.pi))
    d_a = jnp.exp(-0.5 * (a * a + 1.0) * h * h) / (2.0 * np.pi * (a * a + 1.0))
    out = _owens_t(h, a)
    return out, (d_h * dh + d_a * da).astype(out.dtype)


def owens_t(h, a):
    """Owen's T function T(h, a) = P(X > h, 0 < Y < a X) for independent normals."""
    h, a = promote_to_inexact(h, a)
    return _owens_t(h, a)


compile_eager(globals(), "expi exp1 expn sici spence owens_t")
