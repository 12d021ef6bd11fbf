"""`scipy.optimize.line_search`: an inexact line search satisfying the strong Wolfe
conditions (Nocedal & Wright, Algorithms 3.5 and 3.6), written as JAX's
(jax/_src/scipy/optimize/line_search.py) so that BFGS takes the same steps: every
branch is computed and selected with `where`, inside `while_loop`s."""
from typing import NamedTuple

import numpy as np

from .. import numpy as jnp
from .._api import value_and_grad
from ..lax import while_loop
from ._util import inexact_arrays


def _dot(a, b):
    return jnp.dot(a, b, precision="highest")


def _cubicmin(a, fa, fpa, b, fb, c, fc):
    """The minimiser of the cubic through (a, fa), (b, fb), (c, fc) with slope fpa at a."""
    C = fpa
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    d1 = jnp.stack([jnp.stack([dc ** 2, -db ** 2]), jnp.stack([-dc ** 3, db ** 3])])
    d2 = jnp.stack([fb - fa - C * db, fc - fa - C * dc])
    A, B = _dot(d1, d2) / denom
    radical = B * B - 3. * A * C
    return a + (-B + jnp.sqrt(radical)) / (3. * A)


def _quadmin(a, fa, fpa, b, fb):
    """The minimiser of the quadratic through (a, fa), (b, fb) with slope fpa at a."""
    B = (fb - fa - fpa * (b - a)) / ((b - a) ** 2)
    return a - fpa / (2. * B)


def _replace_where(state, condition, **new):
    """`state` with the given fields replaced where `condition` holds."""
    return state._replace(**{k: jnp.where(condition, v, getattr(state, k))
                             for k, v in new.items()})


class _ZoomState(NamedTuple):
    done: object
    failed: object
    j: object
    a_lo: object
    phi_lo: object
    dphi_lo: object
    a_hi: object
    phi_hi: object
    dphi_hi: object
    a_rec: object
    phi_rec: object
    a_star: object
    phi_star: object
    dphi_star: object
    g_star: object
    nfev: object
    ngev: object


def _zoom(restricted_func_and_grad, wolfe_one, wolfe_two, a_lo, phi_lo, dphi_lo, a_hi,
          phi_hi, dphi_hi, g_0, pass_through):
    """Shrink [a_lo, a_hi] (which brackets a Wolfe point) by cubic, quadratic or
    bisection steps until a point satisfies both Wolfe conditions."""
    dtype = jnp.result_type(a_lo)
    state = _ZoomState(
        done=jnp.asarray(False), failed=jnp.asarray(False), j=jnp.asarray(0), a_lo=a_lo,
        phi_lo=phi_lo, dphi_lo=dphi_lo, a_hi=a_hi, phi_hi=phi_hi, dphi_hi=dphi_hi,
        a_rec=(a_lo + a_hi) / 2., phi_rec=(phi_lo + phi_hi) / 2.,
        a_star=jnp.ones((), dtype), phi_star=phi_lo, dphi_star=dphi_lo, g_star=g_0,
        nfev=jnp.asarray(0), ngev=jnp.asarray(0))
    delta1, delta2 = 0.2, 0.1

    def body(state):
        dalpha = state.a_hi - state.a_lo
        a, b = jnp.minimum(state.a_hi, state.a_lo), jnp.maximum(state.a_hi, state.a_lo)
        cchk, qchk = delta1 * dalpha, delta2 * dalpha
        threshold = 1e-5 if np.finfo(dalpha.dtype).bits < 64 else 1e-10
        state = state._replace(failed=state.failed | (dalpha <= threshold))
        a_j_cubic = _cubicmin(state.a_lo, state.phi_lo, state.dphi_lo, state.a_hi,
                              state.phi_hi, state.a_rec, state.phi_rec)
        use_cubic = (state.j > 0) & (a_j_cubic > a + cchk) & (a_j_cubic < b - cchk)
        a_j_quad = _quadmin(state.a_lo, state.phi_lo, state.dphi_lo, state.a_hi,
                            state.phi_hi)
        use_quad = (~use_cubic) & (a_j_quad > a + qchk) & (a_j_quad < b - qchk)
        use_bisection = (~use_cubic) & (~use_quad)
        a_j = jnp.where(use_cubic, a_j_cubic, state.a_rec)
        a_j = jnp.where(use_quad, a_j_quad, a_j)
        a_j = jnp.where(use_bisection, (state.a_lo + state.a_hi) / 2., a_j)
        phi_j, dphi_j, g_j = restricted_func_and_grad(a_j)
        phi_j = phi_j.astype(state.phi_lo.dtype)
        dphi_j = dphi_j.astype(state.dphi_lo.dtype)
        g_j = g_j.astype(state.g_star.dtype)
        state = state._replace(nfev=state.nfev + 1, ngev=state.ngev + 1)
        hi_to_j = wolfe_one(a_j, phi_j) | (phi_j >= state.phi_lo)
        star_to_j = wolfe_two(dphi_j) & (~hi_to_j)
        hi_to_lo = (dphi_j * (state.a_hi - state.a_lo) >= 0.) & (~hi_to_j) & (~star_to_j)
        lo_to_j = (~hi_to_j) & (~star_to_j)
        state = _replace_where(state, hi_to_j, a_hi=a_j, phi_hi=phi_j, dphi_hi=dphi_j,
                               a_rec=state.a_hi, phi_rec=state.phi_hi)
        state = _replace_where(state._replace(done=star_to_j | state.done), star_to_j,
                               a_star=a_j, phi_star=phi_j, dphi_star=dphi_j, g_star=g_j)
        state = _replace_where(state, hi_to_lo, a_hi=state.a_lo, phi_hi=state.phi_lo,
                               dphi_hi=state.dphi_lo, a_rec=state.a_hi,
                               phi_rec=state.phi_hi)
        state = _replace_where(state, lo_to_j & ~hi_to_lo, a_rec=state.a_lo,
                               phi_rec=state.phi_lo)
        state = _replace_where(state, lo_to_j, a_lo=a_j, phi_lo=phi_j, dphi_lo=dphi_j)
        state = state._replace(j=state.j + 1)
        return state._replace(failed=state.failed | (state.j >= 30))
    return while_loop(lambda s: (~s.done) & (~pass_through) & (~s.failed), body, state)


class _LineSearchState(NamedTuple):
    done: object
    failed: object
    i: object
    a_i1: object
    phi_i1: object
    dphi_i1: object
    nfev: object
    ngev: object
    a_star: object
    phi_star: object
    dphi_star: object
    g_star: object


class _LineSearchResults(NamedTuple):
    """Results of `line_search`: `failed`, iterations `nit`, function and gradient
    evaluations `nfev` / `ngev`, `k`, the step `a_k`, f and its gradient at the new
    point (`f_k`, `g_k`), and `status` (0 passed, 1 zoom failed, 3 maxiter reached)."""
    failed: object
    nit: object
    nfev: object
    ngev: object
    k: object
    a_k: object
    f_k: object
    g_k: object
    status: object


def line_search(f, xk, pk, old_fval=None, old_old_fval=None, gfk=None, c1=1e-4, c2=0.9,
                maxiter=20):
    """A step a along pk from xk satisfying the strong Wolfe conditions
    f(xk + a pk) <= f(xk) + c1 a f'(xk; pk) and |f'(xk + a pk; pk)| <= c2 |f'(xk; pk)|.
    `old_fval`, `gfk`: f and its gradient at xk if known; `old_old_fval`: f at the
    previous iterate (chooses the first trial step, as SciPy)."""
    xk, pk = inexact_arrays(xk, pk)

    def restricted_func_and_grad(t):
        phi, g = value_and_grad(f)(xk + jnp.asarray(t, dtype=pk.dtype) * pk)
        return phi, jnp.real(_dot(g, pk)), g

    evaluated_at_start = old_fval is None or gfk is None
    if evaluated_at_start:
        phi_0, dphi_0, gfk = restricted_func_and_grad(0)
    else:
        phi_0, dphi_0 = old_fval, jnp.real(_dot(gfk, pk))
    if old_old_fval is not None:
        candidate = 1.01 * 2 * (phi_0 - old_old_fval) / dphi_0
        start_value = jnp.where(candidate > 1, 1.0, candidate)
    else:
        start_value = 1

    def wolfe_one(a_i, phi_i):   # sufficient decrease fails
        return phi_i > phi_0 + c1 * a_i * dphi_0

    def wolfe_two(dphi_i):       # curvature condition holds
        return jnp.abs(dphi_i) <= -c2 * dphi_0
    zero = jnp.zeros((), pk.dtype)
    state = _LineSearchState(
        done=jnp.asarray(False), failed=jnp.asarray(False), i=jnp.asarray(1), a_i1=zero,
        phi_i1=phi_0, dphi_i1=dphi_0, nfev=jnp.asarray(int(evaluated_at_start)),
        ngev=jnp.asarray(int(evaluated_at_start)), a_star=zero, phi_star=phi_0,
        dphi_star=dphi_0, g_star=gfk)

    def body(state):
        a_i = jnp.where(state.i == 1, start_value, state.a_i1 * 2.).astype(pk.dtype)
        phi_i, dphi_i, g_i = restricted_func_and_grad(a_i)
        state = state._replace(nfev=state.nfev + 1, ngev=state.ngev + 1)
        star_to_zoom1 = wolfe_one(a_i, phi_i) | ((phi_i >= state.phi_i1) & (state.i > 1))
        star_to_i = wolfe_two(dphi_i) & (~star_to_zoom1)
        star_to_zoom2 = (dphi_i >= 0.) & (~star_to_zoom1) & (~star_to_i)
        zoom1 = _zoom(restricted_func_and_grad, wolfe_one, wolfe_two, state.a_i1,
                      state.phi_i1, state.dphi_i1, a_i, phi_i, dphi_i, gfk, ~star_to_zoom1)
        zoom2 = _zoom(restricted_func_and_grad, wolfe_one, wolfe_two, a_i, phi_i, dphi_i,
                      state.a_i1, state.phi_i1, state.dphi_i1, gfk, ~star_to_zoom2)
        state = state._replace(nfev=state.nfev + zoom1.nfev + zoom2.nfev,
                               ngev=state.ngev + zoom1.ngev + zoom2.ngev)
        star = dict(a_star=zoom1.a_star, phi_star=zoom1.phi_star,
                    dphi_star=zoom1.dphi_star, g_star=zoom1.g_star)
        state = _replace_where(state._replace(
            done=star_to_zoom1 | state.done,
            failed=(star_to_zoom1 & zoom1.failed) | state.failed), star_to_zoom1, **star)
        state = _replace_where(state._replace(done=star_to_i | state.done), star_to_i,
                               a_star=a_i, phi_star=phi_i, dphi_star=dphi_i, g_star=g_i)
        star = dict(a_star=zoom2.a_star, phi_star=zoom2.phi_star,
                    dphi_star=zoom2.dphi_star, g_star=zoom2.g_star)
        state = _replace_where(state._replace(
            done=star_to_zoom2 | state.done,
            failed=(star_to_zoom2 & zoom2.failed) | state.failed), star_to_zoom2, **star)
        return state._replace(i=state.i + 1, a_i1=a_i, phi_i1=phi_i, dphi_i1=dphi_i)
    state = while_loop(lambda s: (~s.done) & (s.i <= maxiter) & (~s.failed), body, state)
    status = jnp.where(state.failed, 1, jnp.where(state.i > maxiter, 3, 0))
    alpha_k = state.a_star
    if np.finfo(alpha_k.dtype).bits != 64:   # keep tiny float32 steps away from zero
        alpha_k = jnp.where(jnp.abs(alpha_k) < 1e-8, jnp.sign(alpha_k) * 1e-8, alpha_k)
    return _LineSearchResults(failed=state.failed | (~state.done), nit=state.i - 1,
                              nfev=state.nfev, ngev=state.ngev, k=state.i, a_k=alpha_k,
                              f_k=state.phi_star, g_k=state.g_star, status=status)
