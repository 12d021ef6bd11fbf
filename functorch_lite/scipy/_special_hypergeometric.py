"""The confluent (1F1) and Gauss (2F1) hypergeometric functions and the Bessel
functions J_0..J_v, by their series (evaluated per element, see `_vectorize`)."""
import operator

import numpy as np

from .. import _dtypes, lax
from .. import numpy as jnp
from .._api_vmap import vmap
from .._custom import custom_jvp
from ._prob_util import compile_eager, promote_real as _real
from ._special_gamma import digamma, gamma
from ._special_integrals import _vectorize

_MAX_TERMS = 250


def _series(first_term, next_term, weight=None, start=1.0):
    """sum_k weight(k) term_k from term_1 = first_term, term_{k+1} = next_term(k, term_k),
    until |term| < eps |sum| (at most 250 terms); `start` is the k = 0 contribution."""
    eps = _dtypes.finfo(first_term.dtype).eps
    weight = weight or (lambda k: 1.0)

    def body(state):
        total, k, term = state
        return total + term * weight(k), k + 1, term * next_term(k, term)

    def cond(state):
        total, k, term = state
        return (k < _MAX_TERMS) & (jnp.abs(term) / jnp.abs(total) > eps)

    zero = jnp.zeros_like(first_term)
    return lax.while_loop(cond, body, (zero + start, zero + 1, first_term))[0]


# --- 1F1 ---------------------------------------------------------------------------

def _hyp1f1_series(a, b, x):
    # term_{k+1} / term_k = (a + k) x / ((b + k)(k + 1))
    return _series(a / b * x, lambda k, t: (a + k) / (b + k) * x / (k + 1))


def _hyp1f1_asymptotic(a, b, x):
    """Large |x|: Gamma(b)/Gamma(a) e^x x^(a-b) sum_k (b-a)_k (1-a)_k / (k! x^k)."""
    total = _series((b - a) * (1 - a) / x, lambda k, t: (b - a + k) * (1 - a + k) / (k + 1) / x)
    return gamma(b) / gamma(a) * jnp.exp(x) * x ** (a - b) * total


def _hyp1f1_scalar(a, b, x):
    result = lax.cond(jnp.abs(x) < 100, _hyp1f1_series, _hyp1f1_asymptotic, a, b, x)
    index = (jnp.where(a == 0, 1, 0) + jnp.where((a == b) & (a != 0), 2, 0)
             + jnp.where((b == 0) & (a != 0), 3, 0))
    return lax.select_n(index, result, jnp.ones_like(x), jnp.exp(x), jnp.full_like(x, np.inf))


def _hyp1f1_parameter_derivative(a, b, x, d_term):
    """d/da or d/db of the series: sum_k term_k * d_term(k)."""
    def scalar(a, b, x):
        return _series(a / b * x, lambda k, t: (a + k) / (b + k) * x / (k + 1),
                       weight=lambda k: d_term(a, b, k), start=0.0)
    return _vectorize(scalar, a, b, x)


@custom_jvp
def _hyp1f1(a, b, x):
    return _vectorize(_hyp1f1_scalar, a, b, x)


@_hyp1f1.defjvp
def _hyp1f1_jvp(primals, tangents):
    a, b, x = primals
    da, db, dx = tangents
    out = _hyp1f1(a, b, x)
    d_a = _hyp1f1_parameter_derivative(a, b, x, lambda a, b, k: digamma(a + k) - digamma(a))
    d_b = _hyp1f1_parameter_derivative(a, b, x, lambda a, b, k: digamma(b) - digamma(b + k))
    d_x = a / b * _hyp1f1(a + 1, b + 1, x)
    return out, d_a * da + d_b * db + d_x * dx


def hyp1f1(a, b, x):
    """Kummer's confluent hypergeometric function 1F1(a; b; x)."""
    a, b, x = _real("hyp1f1", a, b, x)
    return _hyp1f1(a, b, x)


# --- 2F1 ---------------------------------------------------------------------------

def _hyp2f1_terminating(a, b, c, x):
    """The polynomial for a (or b) a non-positive integer: sum_{i<=|a|} of its terms."""
    eps = _dtypes.finfo(x.dtype).eps * 50
    swap = (b < a) & (jnp.abs(b - jnp.round(b)) < eps) & ~(
        (c % 1 == 0) & (c <= 0) & (c > b))
    a, b = jnp.where(swap, b, a), jnp.where(swap, a, b)
    n = jnp.abs(a)

    def body(i, state):
        total, term = state
        i = i.astype(x.dtype)
        term = term * -(n - i + 1) / (c + i - 1) * (b + i - 1) / i * x
        return total + term, term
    one = jnp.ones_like(x)
    return lax.fori_loop(1, n.astype(np.int32) + 1, body, (one, one))[0]


def _hyp2f1_series(a, b, c, x):
    return _series(jnp.ones_like(x), lambda k, t: (a + k - 1) * (b + k - 1) / (c + k - 1) / k * x,
                   start=0.0)


def _hyp2f1_near_one(a, b, c, x):
    """x near 1 with c - a - b an integer: the logarithmic (digamma) expansion in 1 - x
    (Abramowitz & Stegun 15.3.10-12, as Cephes' hys2f1)."""
    eps = _dtypes.finfo(x.dtype).eps
    d = c - a - b
    s = 1 - x
    rd = jnp.round(d)
    e = jnp.where(rd >= 0, d, -d)
    d1 = jnp.where(rd >= 0, d, 0.0)
    d2 = jnp.where(rd >= 0, 0.0, d)
    ard = jnp.where(rd >= 0, rd, -rd).astype(np.int32)
    log_s = jnp.log(s)
    y = (digamma(1.0) + digamma(1.0 + e) - digamma(a + d1) - digamma(b + d1) - log_s) \
        / gamma(e + 1.0)
    p = (a + d1) * (b + d1) * s / gamma(e + 2.0)

    def body(state):
        p, q, t, y = state
        r = (digamma(1.0 + t) + digamma(1.0 + t + e) - digamma(a + t + d1)
             - digamma(b + t + d1) - log_s)
        q = p * r
        p = p * s * (a + t + d1) / (t + 1.0) * (b + t + d1) / (t + 1.0 + e)
        return p, q, t + 1.0, y + q

    cond = lambda st: (st[2] < _MAX_TERMS) & (jnp.abs(st[1]) >= eps * jnp.abs(st[3]))  # noqa
    _, _, _, y = lax.while_loop(cond, body, (p, y, jnp.ones_like(x), y))

    def finite_sum(i, state):
        p, t, y1 = state
        p = p * s * (a + t + d2) * (b + t + d2) / (1.0 - e + t)
        t = t + 1.0
        p = p / t
        return p, t, y1 + p
    one = jnp.ones_like(x)
    y1 = lax.fori_loop(1, ard, finite_sum, (one, 0.0 * one, one))[2]
    gc = gamma(c)
    y1 = y1 * gamma(e) * gc / (gamma(a + d1) * gamma(b + d1))
    y2 = y * gc / (gamma(a + d2) * gamma(b + d2))
    y2 = jnp.where(ard % 2 == 1, -y2, y2)
    q = s ** rd
    combined = jnp.where(rd > 0, y2 * q + y1, y2 + y1 * q)
    return jnp.where(rd == 0, y * gc / (gamma(a) * gamma(b)), combined)


def _hyp2f1_general(a, b, c, x):
    eps = _dtypes.finfo(x.dtype).eps * 50
    d = c - a - b
    negative_integer = lambda v: (v <= 0) & (jnp.abs(v - jnp.round(v)) < eps)  # noqa: E731
    terminating = negative_integer(a) | negative_integer(b)
    index = jnp.where((x > 0.9) & ~terminating,
                      jnp.where(jnp.abs(d - jnp.round(d)) >= eps, 0, 1),
                      jnp.where(terminating, 2, 0))
    return lax.switch(index, [_hyp2f1_series, _hyp2f1_near_one, _hyp2f1_terminating],
                      a, b, c, x)


def _hyp2f1_scalar(a, b, c, x):
    eps = _dtypes.finfo(x.dtype).eps * 50
    d, s, ca, cb = c - a - b, 1 - x, c - a, c - b
    near_integer_d = jnp.abs(d - jnp.round(d)) < eps
    index = jnp.where(
        (x == 0) | (((a == 0) | (b == 0)) & (c != 0)), 0, jnp.where(
            (c == 0) | ((c < 0) & (c % 1 == 0)), 1, jnp.where(
                (d <= -1) & ~(~near_integer_d & (s < 0)), 2, jnp.where(
                    (d <= 0) & (x == 1), 1, jnp.where(
                        (x < 1) & (b == c), 3, jnp.where(
                            (x < 1) & (a == c), 4, jnp.where(
                                x > 1, 1, jnp.where(x == 1, 5, 6))))))))
    return lax.switch(index, [
        lambda: jnp.ones_like(x), lambda: jnp.full_like(x, np.inf),
        lambda: s ** d * _hyp2f1_general(ca, cb, c, x),  # Euler's transformation
        lambda: s ** (-a), lambda: s ** (-b),
        lambda: gamma(c) * gamma(d) / (gamma(ca) * gamma(cb)),  # Gauss's theorem at x = 1
        lambda: _hyp2f1_general(a, b, c, x)])


def _hyp2f1_parameter_derivative(a, b, c, x, d_term):
    def scalar(a, b, c, x):
        return _series(a * b / c * x, lambda k, t: (a + k) * (b + k) / (c + k) / (k + 1) * x,
                       weight=lambda k: d_term(a, b, c, k), start=0.0)
    return _vectorize(scalar, a, b, c, x)


@custom_jvp
def _hyp2f1(a, b, c, x):
    return _vectorize(_hyp2f1_scalar, a, b, c, x)


@_hyp2f1.defjvp
def _hyp2f1_jvp(primals, tangents):
    a, b, c, x = primals
    da, db, dc, dx = tangents
    out = _hyp2f1(a, b, c, x)
    d_a = _hyp2f1_parameter_derivative(a, b, c, x, lambda a, b, c, k: digamma(a + k) - digamma(a))
    d_b = _hyp2f1_parameter_derivative(a, b, c, x, lambda a, b, c, k: digamma(b + k) - digamma(b))
    d_c = _hyp2f1_parameter_derivative(a, b, c, x, lambda a, b, c, k: digamma(c) - digamma(c + k))
    d_x = a * b / c * _hyp2f1(a + 1, b + 1, c + 1, x)
    return out, d_a * da + d_b * db + d_c * dc + d_x * dx


def hyp2f1(a, b, c, x):
    """The Gauss hypergeometric function 2F1(a, b; c; x) for real x <= 1."""
    a, b, c, x = _real("hyp2f1", a, b, c, x)
    return _hyp2f1(a, b, c, x)


# --- Bessel J_n ------------------------------------------------------------------------

def _bessel_jn_scalar(z, v, n_iter):
    """J_0..J_v(z) by Miller's backward recurrence from order n_iter, normalised with
    J_0 + 2 J_2 + 2 J_4 + ... = 1."""
    def step(carry, k):
        f0, f1, norm = carry
        f = 2.0 * (k + 1.0) * f1 / z - f0
        norm = jnp.where(k % 2 == 0, norm + 2.0 * f, norm)
        return (f1, f, norm), f

    init = (jnp.zeros_like(z), jnp.full_like(z, 1e-16), jnp.zeros_like(z))
    (_, _, norm), values = lax.scan(step, init, jnp.arange(n_iter + 1, dtype=z.dtype),
                                    reverse=True)
    return values[:v + 1] / (norm - values[0])


def bessel_jn(z, *, v, n_iter=50):
    """The Bessel functions J_0(z) ... J_v(z), stacked along a new first axis."""
    z = jnp.asarray(z)
    (z,) = _real("bessel_jn", z)
    v, n_iter = operator.index(v), int(n_iter)
    fun = lambda z: _bessel_jn_scalar(z, v, n_iter)  # noqa: E731
    for _ in range(z.ndim):
        fun = vmap(fun)
    return jnp.moveaxis(fun(z), -1, 0)


compile_eager(globals(), "hyp1f1 hyp2f1 bessel_jn", {"bessel_jn": ("v", "n_iter")})
