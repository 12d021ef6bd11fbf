"""`odeint`: adaptive-step Dormand-Prince (RK45) integration of dy/dt = func(y, t, *args)
with dense output at the requested times, differentiated in reverse mode by the
adjoint method (Pontryagin; Chen et al. 2018) as JAX's jax.experimental.ode: the
backward pass integrates the augmented dynamics (y, y_bar, t_bar, args_bar) backwards
in time between consecutive output times."""
import weakref

import numpy as np

from .. import lax
from .. import numpy as jnp
from .._api import vjp
from .._api_vmap import vmap
from .._ad import JVPTracer
from .._core import Tracer, get_aval
from .._custom_vjp import custom_vjp
from .._ir import eval_program
from .._jit import jit
from .._partial_eval import PartialEvalTrace
from .._staging import trace_to_program
from ..tree_util import tree_flatten, tree_leaves, tree_map, tree_unflatten


def _dot(a, b):
    return jnp.dot(a, b, precision="highest")


# --- pytrees as one flat vector ---------------------------------------------------------

def _ravel_pytree(tree):
    """(flat vector of every leaf in one promoted dtype, unravel function)."""
    leaves, treedef = tree_flatten(tree)
    if not leaves:
        return jnp.zeros((0,), np.float32), lambda flat: tree_unflatten(treedef, [])
    dtype = jnp.result_type(*leaves)
    shapes = [jnp.shape(x) for x in leaves]
    dtypes = [jnp.result_type(x) for x in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = jnp.concatenate([jnp.ravel(jnp.asarray(x, dtype)) for x in leaves])
    offsets = np.cumsum([0] + sizes)

    def unravel(flat):
        parts = [flat[o:o + n].reshape(s).astype(d)
                 for o, n, s, d in zip(offsets, sizes, shapes, dtypes)]
        return tree_unflatten(treedef, parts)
    return flat, unravel


def _ravel_first_arg(func, unravel):
    def flat_func(y_flat, *args):
        return _ravel_pytree(func(unravel(y_flat), *args))[0]
    return flat_func


# --- closure conversion ----------------------------------------------------------------

_CONVERTED = weakref.WeakKeyDictionary()   # func -> {signature: converted func}


def _closure_convert(func, y0, t0, args):
    """(converted, consts): `converted(y, t, *args, *consts)` computes `func(y, t, *args)`
    with every value func closes over (arrays, or tracers of an outer transformation)
    passed explicitly, so the adjoint can differentiate with respect to them. One
    converted function per (func, argument and constant types), so repeated calls hit
    the jit cache."""
    leaves, in_tree = tree_flatten((y0, t0, args))
    out_trees = []

    def flat_func(*xs):
        y, t, a = tree_unflatten(in_tree, list(xs))
        out, out_tree = tree_flatten(func(y, t, *a))
        out_trees.append(out_tree)
        return out
    avals = [get_aval(x).strip_weak_type() for x in leaves]
    program, consts = trace_to_program(flat_func, avals, "odeint dynamics")
    signature = (in_tree, tuple(avals), tuple(get_aval(c) for c in consts))
    try:
        cache = _CONVERTED.setdefault(func, {})
    except TypeError:   # not weakly referenceable: no cache
        cache = {}
    converted = cache.get(signature)
    if converted is None:
        out_tree, num_args = out_trees[0], len(args)

        def converted(y, t, *args_and_consts):
            args, consts = args_and_consts[:num_args], args_and_consts[num_args:]
            flat = tree_flatten((y, t, tuple(args)))[0]
            return tree_unflatten(out_tree, eval_program(program, [*consts, *flat]))
        cache[signature] = converted
    return converted, consts


# --- Dormand-Prince steps --------------------------------------------------------------

_DPS_C_MID = np.array([6025192743 / 30085553152 / 2, 0, 51252292925 / 65400821598 / 2,
                       -2691868925 / 45128329728 / 2, 187940372067 / 1594534317056 / 2,
                       -1776094331 / 19743644256 / 2, 11237099 / 235043384 / 2])
_ALPHA = np.array([1 / 5, 3 / 10, 4 / 5, 8 / 9, 1., 1., 0])
_BETA = np.array([[1 / 5, 0, 0, 0, 0, 0, 0], [3 / 40, 9 / 40, 0, 0, 0, 0, 0],
                  [44 / 45, -56 / 15, 32 / 9, 0, 0, 0, 0],
                  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0, 0],
                  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0, 0],
                  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0]])
_C_SOL = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_C_ERROR = np.array([35 / 384 - 1951 / 21600, 0, 500 / 1113 - 22642 / 50085,
                     125 / 192 - 451 / 720, -2187 / 6784 - -12231 / 42400,
                     11 / 84 - 649 / 6300, -1. / 60.])


def _constant(table, dtype):
    return jnp.asarray(table.astype(dtype))


def _interp_fit_dopri(y0, y1, k, dt):
    """Coefficients of the quartic through the step (dense output)."""
    y_mid = y0 + dt.astype(y0.dtype) * _dot(_constant(_DPS_C_MID, y0.dtype), k)
    dt = dt.astype(y0.dtype)
    dy0, dy1 = k[0], k[-1]
    a = -2. * dt * dy0 + 2. * dt * dy1 - 8. * y0 - 8. * y1 + 16. * y_mid
    b = 5. * dt * dy0 - 3. * dt * dy1 + 18. * y0 + 14. * y1 - 32. * y_mid
    c = -4. * dt * dy0 + dt * dy1 - 11. * y0 - 5. * y1 + 16. * y_mid
    return jnp.stack([a, b, c, dt * dy0, y0])


def _polyval(coefficients, x):
    """Horner's rule over the leading axis of `coefficients`."""
    result = jnp.zeros_like(coefficients[0])
    for c in coefficients:
        result = result * x + c
    return result


def _initial_step_size(fun, t0, y0, order, rtol, atol, f0):
    dtype = y0.dtype
    scale = atol + jnp.abs(y0) * rtol
    d0 = jnp.linalg.norm(y0 / scale.astype(dtype))
    d1 = jnp.linalg.norm(f0 / scale.astype(dtype))
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1)
    f1 = fun(y0 + h0.astype(dtype) * f0, t0 + h0)
    d2 = jnp.linalg.norm((f1 - f0) / scale.astype(dtype)) / h0
    h1 = jnp.where((d1 <= 1e-15) & (d2 <= 1e-15), jnp.maximum(1e-6, h0 * 1e-3),
                   (0.01 / jnp.maximum(d1, d2)) ** (1. / (order + 1.)))
    return jnp.minimum(100. * h0, h1)


def _runge_kutta_step(func, y0, f0, t0, dt):
    alpha, beta = _constant(_ALPHA, dt.dtype), _constant(_BETA, f0.dtype)

    def stage(i, k):
        ti = t0 + dt * alpha[i - 1]
        yi = y0 + dt.astype(f0.dtype) * _dot(beta[i - 1, :], k)
        return k.at[i, :].set(func(yi, ti))
    k = jnp.zeros((7, f0.shape[0]), f0.dtype).at[0, :].set(f0)
    k = lax.fori_loop(1, 7, stage, k)
    y1 = dt.astype(f0.dtype) * _dot(_constant(_C_SOL, f0.dtype), k) + y0
    y1_error = dt.astype(f0.dtype) * _dot(_constant(_C_ERROR, f0.dtype), k)
    return y1, k[-1], y1_error, k


def _mean_error_ratio(error_estimate, rtol, atol, y0, y1):
    err_tol = atol + rtol * jnp.maximum(jnp.abs(y0), jnp.abs(y1))
    err_ratio = error_estimate / err_tol.astype(error_estimate.dtype)
    squared = jnp.real(err_ratio) ** 2 + jnp.imag(err_ratio) ** 2 \
        if jnp.issubdtype(err_ratio.dtype, np.complexfloating) else err_ratio ** 2
    return jnp.sqrt(jnp.mean(squared))


def _optimal_step_size(last_step, mean_error_ratio, safety=0.9, ifactor=10.0,
                       dfactor=0.2, order=5.0):
    """The next step size from the error of the last one (Hairer et al., II.4)."""
    dfactor = jnp.where(mean_error_ratio < 1, 1.0, dfactor)
    factor = jnp.minimum(ifactor, jnp.maximum(
        mean_error_ratio ** (-1.0 / order) * safety, dfactor))
    return jnp.where(mean_error_ratio == 0, last_step * ifactor, last_step * factor)


def _reject_forward_mode(tree):
    """odeint is differentiated by its adjoint (reverse mode); like JAX's, it has no
    forward-mode rule: a tangent that is not being linearized for reverse mode raises."""
    for x in tree_leaves(tree):
        while isinstance(x, Tracer):
            if isinstance(x, JVPTracer):
                tangent = x.tangent
                if not (isinstance(tangent, Tracer) and
                        isinstance(tangent._trace, PartialEvalTrace)):
                    raise TypeError(
                        "odeint supports reverse-mode differentiation (grad, vjp, jacrev) "
                        "only, as jax.experimental.ode.odeint: forward mode (jvp, jacfwd, "
                        "hessian) cannot be applied to its adjoint rule. Use jacrev, or "
                        "differentiate a fixed-step solver written with lax.scan.")
                x = x.primal
            else:
                x = getattr(x, "val", None)


# --- the integrator and its adjoint ----------------------------------------------------

def odeint(func, y0, t, *args, rtol=1.4e-8, atol=1.4e-8, mxstep=np.inf, hmax=np.inf):
    """Solve dy/dt = func(y, t, *args) from y(t[0]) = y0; returns y at each time of the
    increasing array `t` (leading axis). y0 and args may be pytrees of arrays;
    `rtol`/`atol` bound the local error, `mxstep` the steps between two output times,
    `hmax` the step size. Reverse-mode derivatives (with respect to y0, t, args and
    anything func closes over) solve the adjoint equation backwards in time.

    >>> import numpy as np
    >>> from functorch_lite.experimental.ode import odeint
    >>> ys = odeint(lambda y, t, k: -k * y, np.float32(1.0), np.array([0.0, 1.0], np.float32),
    ...             np.float32(2.0))
    >>> round(float(ys[1]), 4)      # exp(-2)
    0.1353
    """
    for arg in tree_leaves(args):
        try:
            get_aval(arg)
        except TypeError:
            raise TypeError(f"The contents of odeint *args must be arrays or scalars, but "
                            f"got {arg}.") from None
    t = jnp.asarray(t)
    if not jnp.issubdtype(t.dtype, np.floating):
        raise TypeError(f"t must be an array of floats, but got {t}.")
    converted, consts = _closure_convert(func, y0, t[0], args)
    _reject_forward_mode((y0, t, args, consts))
    return _odeint_wrapper(converted, rtol, atol, mxstep, hmax, y0, t, *args, *consts)


def _odeint_wrapper_fn(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    y0, unravel = _ravel_pytree(y0)
    out = _odeint(_ravel_first_arg(func, unravel), rtol, atol, mxstep, hmax, y0, ts, *args)
    return vmap(unravel)(out)


_odeint_wrapper = jit(_odeint_wrapper_fn, static_argnums=(0, 1, 2, 3, 4))


def _odeint_fn(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    func_ = lambda y, t: func(y, t, *args)

    def scan_fun(carry, target_t):
        def keep_stepping(state):
            i, _, _, t, dt, _, _ = state
            return (t < target_t) & (i < mxstep) & (dt > 0)

        def step(state):
            i, y, f, t, dt, last_t, interp_coeff = state
            next_y, next_f, next_y_error, k = _runge_kutta_step(func_, y, f, t, dt)
            next_t = t + dt
            error_ratio = _mean_error_ratio(next_y_error, rtol, atol, y, next_y)
            new_interp_coeff = _interp_fit_dopri(y, next_y, k, dt)
            dt = jnp.clip(_optimal_step_size(dt, error_ratio), 0., hmax)
            new = [i + 1, next_y, next_f, next_t, dt, t, new_interp_coeff]
            old = [i + 1, y, f, t, dt, last_t, interp_coeff]
            accept = error_ratio <= 1.
            return [jnp.where(accept, a, b) for a, b in zip(new, old)]
        _, *carry = lax.while_loop(keep_stepping, step, [jnp.asarray(0)] + carry)
        _, _, t, _, last_t, interp_coeff = carry
        relative_output_time = (target_t - last_t) / (t - last_t)
        return carry, _polyval(interp_coeff, relative_output_time.astype(interp_coeff.dtype))

    f0 = func_(y0, ts[0])
    dt = jnp.clip(_initial_step_size(func_, ts[0], y0, 4, rtol, atol, f0), 0., hmax)
    init_carry = [y0, f0, ts[0], dt, ts[0], jnp.stack([y0] * 5)]
    _, ys = lax.scan(scan_fun, init_carry, ts[1:])
    return jnp.concatenate((y0[None], ys))


_odeint = custom_vjp(_odeint_fn, nondiff_argnums=(0, 1, 2, 3, 4))


def _odeint_fwd(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    ys = _odeint(func, rtol, atol, mxstep, hmax, y0, ts, *args)
    return ys, (ys, ts, args)


def _odeint_rev(func, rtol, atol, mxstep, hmax, res, g):
    ys, ts, args = res

    def aug_dynamics(augmented_state, t, *args):
        """The adjoint dynamics, with time reversed."""
        y, y_bar, *_ = augmented_state
        y_dot, vjpfun = vjp(func, y, -t, *args)
        return (-y_dot, *vjpfun(y_bar))

    def scan_fun(carry, i):
        y_bar, t0_bar, args_bar = carry
        at = lambda x, j: lax.dynamic_index_in_dim(x, j, keepdims=False)
        t_bar = jnp.real(_dot(func(at(ys, i), at(ts, i), *args), at(g, i)))   # dL/dt_i
        t0_bar = t0_bar - t_bar
        _, y_bar, t0_bar, args_bar = odeint(
            aug_dynamics, (at(ys, i), y_bar, t0_bar, args_bar),
            jnp.stack([-at(ts, i), -at(ts, i - 1)]), *args, rtol=rtol, atol=atol,
            mxstep=mxstep, hmax=hmax)
        y_bar, t0_bar, args_bar = tree_map(lambda x: x[1], (y_bar, t0_bar, args_bar))
        return (y_bar + at(g, i - 1), t0_bar, args_bar), t_bar

    init_carry = (g[-1], jnp.zeros((), ts.dtype), tree_map(jnp.zeros_like, args))
    (y_bar, t0_bar, args_bar), rev_ts_bar = lax.scan(
        scan_fun, init_carry, jnp.arange(ts.shape[0] - 1, 0, -1))
    ts_bar = jnp.concatenate([t0_bar[None], jnp.flip(rev_ts_bar, 0)])
    return (y_bar, ts_bar, *args_bar)


_odeint.defvjp(_odeint_fwd, _odeint_rev)
