"""The Fresnel integrals S(x) = int_0^x sin(pi t^2 / 2) dt and C(x) (Cephes' fresnl:
power series for x^2 < 2.5625, auxiliary functions f, g beyond; float32 uses shorter
polynomials and the limits 1/2 for very large x)."""
import numpy as np

from .. import _dtypes
from .. import numpy as jnp
from .._custom import custom_jvp
from ..numpy._util import promote_to_inexact
from ._prob_util import compile_eager, horner

_F32 = {
    "sn": [1.6476294637887e-09, -1.522754752581096e-07, 8.4247488085024e-06,
           -0.0003120693124703272, 0.007244727626597022, -0.09228055941124598,
           0.5235987735681432],
    "cn": [1.416802502367354e-08, -1.157231412229871e-06, 5.387223446683264e-05,
           -0.001604381798862293, 0.02818489036795073, -0.2467398198317899,
           0.9999999760004487],
    "fn": [-1903009855649.792, 135594238805.0252, -4158143148.511033, 73438484.63587323,
           -873235.6681548485, 8560.51546627547, -103.2877601091159, 2.999401847870011],
    "gn": [-186084399762.465, 12783506733.93208, -377938771.3202229, 6492611.570598858,
           -77877.89623358162, 860.2931494734327, -14.93439396592284, 0.9999841934744914],
}
_F64 = {
    "sn": [-2991.8191940101983, 708840.0452577386, -62974148.62058625, 2548908805.7337637,
           -44297951805.96978, 318016297876.5678],
    "sd": [1.0, 281.3762688899943, 45584.78108065326, 5173438.887700964, 419320245.8981112,
           22441179564.534092, 607366389490.0846],
    "cn": [-4.9884311457357354e-08, 9.504280628298596e-06, -0.0006451914356839651,
           0.018884331939670384, -0.20552590095501388, 1.0],
    "cd": [3.99982968972496e-12, 9.154392157746574e-10, 1.2500186247959882e-07,
           1.2226278902417902e-05, 0.0008680295429417843, 0.04121420907221998, 1.0],
    "fn": [0.4215435550436775, 0.1434079197807589, 0.011522095507358577, 0.000345017939782574,
           4.6361374928786735e-06, 3.055689837902576e-08, 1.0230451416490724e-10,
           1.7201074326816183e-13, 1.3428327623306275e-16, 3.763297112699879e-20],
    "fd": [1.0, 0.7515863983533789, 0.11688892585919138, 0.0064405152650885865,
           0.00015593440916415301, 1.8462756734893055e-06, 1.1269922476399903e-08,
           3.6014002958937136e-11, 5.887545336215784e-14, 4.5200143407412973e-17,
           1.2544323709001127e-20],
    "gn": [0.5044420736433832, 0.1971028335255234, 0.018764858409257526,
           0.0006840793809153931, 1.1513882611188428e-05, 9.828524436884223e-08,
           4.4534441586175015e-10, 1.0826804113902088e-12, 1.375554606332618e-15,
           8.363544356306774e-19, 1.8695871016278324e-22],
    "gd": [1.0, 1.4749575992512833, 0.33774898912002, 0.02536037414203388,
           0.0008146791071843061, 1.2754507566772912e-05, 1.0431458965757199e-07,
           4.6068072814652043e-10, 1.1027321506624028e-12, 1.3879653125957886e-15,
           8.391588162831187e-19, 1.8695871016278324e-22],
}


def _sin_cos_pi_half_x2(x):
    """sin(pi x^2 / 2) and cos(pi x^2 / 2), with x^2 / 2 reduced exactly mod 2."""
    x = jnp.abs(x)
    s = jnp.fmod(x, 2.0)
    r = jnp.fmod(s * (x - s / 2), 2.0)
    sin = jnp.where(r < 0.5, jnp.sin(np.pi * r), jnp.where(
        r > 1.5, jnp.sin(np.pi * (r - 2.0)), -jnp.sin(np.pi * (r - 1.0))))
    cos = jnp.where(r == 0.5, 0.0, jnp.where(
        r < 1.0, -jnp.sin(np.pi * (r - 0.5)), jnp.sin(np.pi * (r - 1.5))))
    return sin, cos


@custom_jvp
def fresnel(x):
    """The Fresnel integrals (S(x), C(x))."""
    (x,) = promote_to_inexact(x)
    if _dtypes.is_complex(x.dtype):
        raise NotImplementedError("fresnel does not support complex-valued inputs.")
    out_dtype = x.dtype
    if x.dtype != np.float64:
        x = x.astype(np.float32)
    single = x.dtype == np.float32
    c = {k: np.asarray(v, x.dtype) for k, v in (_F32 if single else _F64).items()}
    ax = jnp.abs(x)
    x2 = ax * ax
    t = x2 * x2
    if single:
        s_small, c_small = ax * x2 * horner(c["sn"], t), ax * horner(c["cn"], t)
    else:
        s_small = ax * x2 * horner(c["sn"], t) / horner(c["sd"], t)
        c_small = ax * horner(c["cn"], t) / horner(c["cd"], t)
    sin, cos = _sin_cos_pi_half_x2(ax)
    if single:
        s_large = c_large = 0.5
    else:
        c_large, s_large = 0.5 + sin / (np.pi * ax), 0.5 - cos / (np.pi * ax)
    t = np.pi * x2
    u, t = 1.0 / (t * t), 1.0 / t
    if single:
        f, g = 1.0 - u * horner(c["fn"], u), t * horner(c["gn"], u)
    else:
        f = 1.0 - u * horner(c["fn"], u) / horner(c["fd"], u)
        g = t * horner(c["gn"], u) / horner(c["gd"], u)
    c_mid = 0.5 + (f * sin - g * cos) / (np.pi * ax)
    s_mid = 0.5 - (f * cos + g * sin) / (np.pi * ax)
    inf, small, large = jnp.isinf(x), x2 < 2.5625, ax > 36974.0
    s = jnp.where(inf, 0.5, jnp.where(small, s_small, jnp.where(large, s_large, s_mid)))
    cc = jnp.where(inf, 0.5, jnp.where(small, c_small, jnp.where(large, c_large, c_mid)))
    sign = jnp.where(x < 0.0, -1.0, 1.0)
    return (sign * s).astype(out_dtype), (sign * cc).astype(out_dtype)


@fresnel.defjvp
def _fresnel_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    sin, cos = _sin_cos_pi_half_x2(x)
    return fresnel(x), (sin * t, cos * t)


compile_eager(globals(), "fresnel")
