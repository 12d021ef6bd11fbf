"""`jnp.sinc` and `jnp.hypot`, whose algorithms (and so their values at the last bit,
at +-inf and for huge arguments) changed between the JAX releases we support: each is
written as the installed JAX writes it, chosen by `_jax_versions`."""
__all__ = ["sinc", "hypot"]
import math

import numpy as np

from .. import _dtypes, _jax_versions, lax
from .._core import get_aval
from .._custom import custom_jvp
from ._promotion import _lax_const, _like, _promote_inexact, _where
from ._ufuncs import (abs, add, equal, isposinf, maximum, minimum, multiply, negative,
                      not_equal, sin, subtract, true_divide)
from ._util import broadcast_arrays_


def _dtype(x):
    return get_aval(x).dtype


def _horner(x, coeffs):
    """coeffs[0] + x (coeffs[1] + x (...)), as `lax.polynomial` unrolls it."""
    acc = _lax_const(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = lax.add(lax.mul(acc, x), _lax_const(x, c))
    return acc


# --- sinc ---------------------------------------------------------------------------

def sinc(x, /):
    """sin(pi x) / (pi x), with the limit 1 at 0 and smooth derivatives there."""
    (x,) = _promote_inexact(x)
    if _jax_versions.SINC == "direct":
        return _sinc_direct(x)
    if _jax_versions.SINC == "series" or _dtypes.is_complex(_dtype(x)):
        return _sinc_series(x)
    return _sinc_range_reduced(x)


def _sinc_direct(x):
    """JAX before 0.11.1: sin(pi x) / (pi x) away from 0 (NaN at +-inf)."""
    is_zero = lax.eq(x, _lax_const(x, 0))
    pi_x = lax.mul(_lax_const(x, np.pi), x)
    safe = _where(is_zero, _lax_const(x, 1), pi_x)
    sq = lax.square(pi_x)  # 1 - t^2/6 + t^4/120 is exactly 1 at t == 0
    series = lax.add(lax.sub(_lax_const(x, 1), lax.div(sq, _lax_const(x, 6))),
                     lax.div(lax.square(sq), _lax_const(x, 120)))
    return _where(is_zero, series, lax.div(lax.sin(safe), safe))


def _sinc_series(x):
    """JAX 0.11.1-0.11.2 (and complex x since): a Taylor series of sin(u)/u for
    |u| = |pi x| < 1, sin(u)/u beyond, 0 at +-inf."""
    complex_x = _dtypes.is_complex(_dtype(x))
    if complex_x:
        re = lax.real(x)
        eq_inf = lax.bitwise_and(lax.eq(lax.abs(re), _lax_const(re, np.inf)),
                                 lax.is_finite(lax.imag(x)))
    else:
        eq_inf = lax.eq(lax.abs(x), _lax_const(x, np.inf))
    pi_x = lax.mul(_lax_const(x, np.pi), x)
    safe_pi_x = _where(eq_inf, _lax_const(x, 1), pi_x)
    abs_u = lax.abs(safe_pi_x)
    use_series = lax.lt(abs_u, _lax_const(abs_u, 1.0))
    radius = _lax_const(safe_pi_x, 1.0)  # both branches stay finite (for autodiff)
    safe_u = radius if complex_x else _where(
        lax.ge(safe_pi_x, _lax_const(safe_pi_x, 0)), radius, lax.neg(radius))
    u_series = _where(use_series, safe_pi_x, _lax_const(safe_pi_x, 0))
    u_direct = _where(use_series, safe_u, safe_pi_x)
    coeffs, eps = [], float(np.finfo(_dtype(x)).eps)
    for k in range(100):  # sin(u)/u in powers of u^2, down to machine precision
        magnitude = 1.0 / math.factorial(2 * k + 1)
        coeffs.append((-1) ** k * magnitude)
        if magnitude <= eps:
            break
    series = _horner(lax.square(u_series), coeffs)
    result = _where(use_series, series, lax.div(lax.sin(u_direct), u_direct))
    return _where(eq_inf, _lax_const(x, 0), result)


_SINC_Q = {  # Taylor coefficients of (sin(pi r)/(pi r) - 1) / r^2 in t = r^2 (JAX 0.12)
    np.dtype(np.float64): tuple(float.fromhex(h) for h in (
        "-0x1.a51a6625307d3p0", "0x1.9f9cb402bc46cp-1", "-0x1.86a8e4720db67p-3",
        "0x1.ac6805cf350a6p-6", "-0x1.33816aa4607abp-9", "0x1.374719fab3915p-13",
        "-0x1.d42498d1ce099p-18", "0x1.0fc992ff39e13p-22", "-0x1.f5f9d970ca6dfp-28",
        "0x1.79788684225eap-33", "-0x1.d7353939082fep-39")),
    np.dtype(np.float32): tuple(float.fromhex(h) for h in (
        "-0x1.a51a66p0", "0x1.9f9cb4p-1", "-0x1.86a8e4p-3", "0x1.ac6806p-6",
        "-0x1.33816ap-9", "0x1.37471ap-13")),
}


def _sinc_range_reduced(x):
    """JAX 0.12: x = n + r with n = round(x) and r exact, so
    sinc(x) = (-1)^n sinc(r) r / x, with sinc(r) = 1 + t Q(t), t = r^2."""
    orig_dtype, weak = _dtype(x), get_aval(x).weak_type  # a Python scalar stays weak
    if np.finfo(orig_dtype).bits < 32:
        x = lax.convert_element_type(x, np.float32)
    n = lax.stop_gradient(lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN))
    is_inf = equal(abs(x), np.inf)
    r = _where(is_inf, 0, subtract(x, n))
    t = multiply(r, r)
    tq = multiply(t, _horner(t, _SINC_Q[np.dtype(_dtype(x))]))
    sinc_sin = add(1, tq)
    num = add(r, multiply(r, tq))
    half_n = lax.round(multiply(0.5, n), lax.RoundingMethod.TO_NEAREST_EVEN)
    is_odd = not_equal(multiply(2, half_n), n)
    eq_n_zero = equal(n, 0)
    signed_scaled = true_divide(num, _where(is_odd, negative(x), _where(eq_n_zero, 1, x)))
    # at r == 0 (integers, +-inf) give +0.0 while keeping sinc'(n) = (-1)^n / n
    signed_scaled = _where(equal(r, 0),
                           subtract(signed_scaled, lax.stop_gradient(signed_scaled)),
                           signed_scaled)
    result = _where(eq_n_zero, sinc_sin, signed_scaled)
    return lax.convert_element_type(result, orig_dtype, weak_type=weak)


# --- hypot --------------------------------------------------------------------------

def hypot(x1, x2, /):
    """sqrt(x1**2 + x2**2) without intermediate overflow."""
    x1, x2 = _promote_inexact(x1, x2)
    if _dtypes.is_complex(_dtype(x1)):
        raise ValueError("jnp.hypot is not well defined for complex-valued inputs. "
                         "Please convert to real values first, such as by using abs(x)")
    if _jax_versions.HYPOT_SCALED:
        return _scaled_hypot(*broadcast_arrays_(x1, x2))[0]
    x1, x2 = lax.abs(x1), lax.abs(x2)
    idx_inf = lax.bitwise_or(isposinf(x1), isposinf(x2))
    x1, x2 = maximum(x1, x2), minimum(x1, x2)
    zero = lax.eq(x1, _like(x1, 0))
    ratio = lax.div(x2, _where(zero, _like(x1, 1), x1))
    x = _where(zero, x1, lax.mul(x1, lax.sqrt(lax.add(_like(x1, 1), lax.square(ratio)))))
    return _where(idx_inf, _lax_const(x, np.inf), x)


@custom_jvp
def _scaled_hypot(x1, x2):
    """(r, x1 / r, x2 / r), r = hypot(x1, x2), as JAX 0.12's lax.hypot: rescaled by a
    power of two so that the squares neither overflow nor underflow."""
    a1, a2 = lax.abs(x1), lax.abs(x2)
    m = lax.max(a1, a2)
    finfo = np.finfo(_dtype(x1))
    k = (finfo.nmant - finfo.minexp + 1) // 2
    e_hi = (finfo.maxexp - 1) // 2
    hi = lax.ge(m, _lax_const(x1, 2.0 ** e_hi))
    lo = lax.le(m, _lax_const(x1, 2.0 ** (e_hi - k)))
    s_down, s_up, one = (lax.full_like(x1, v) for v in (2.0 ** -k, 2.0 ** k, 1.0))
    y1 = lax.select(hi, lax.mul(x1, s_down), lax.select(lo, lax.mul(x1, s_up), x1))
    y2 = lax.select(hi, lax.mul(x2, s_down), lax.select(lo, lax.mul(x2, s_up), x2))
    inv_scale = lax.select(hi, s_up, lax.select(lo, s_down, one))
    r_scaled = lax.sqrt(lax.add(lax.square(y1), lax.square(y2)))
    inf = lax.full_like(x1, np.inf)
    r = lax.select(lax.bitwise_or(lax.eq(a1, inf), lax.eq(a2, inf)), inf,
                   lax.mul(r_scaled, inv_scale))
    return r, lax.div(y1, r_scaled), lax.div(y2, r_scaled)


@_scaled_hypot.defjvp
def _scaled_hypot_jvp(primals, tangents):
    # in terms of the outputs only, so derivatives of any order never differentiate
    # the power-of-two scale (as JAX)
    (x1, x2), (dx1, dx2) = primals, tangents
    r, u1, u2 = _scaled_hypot(x1, x2)
    dr = add(multiply(u1, dx1), multiply(u2, dx2))
    return (r, u1, u2), (dr, true_divide(subtract(dx1, multiply(u1, dr)), r),
                         true_divide(subtract(dx2, multiply(u2, dr)), r))
