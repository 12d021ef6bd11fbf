"""experimental.ode.odeint against scipy.integrate.solve_ivp and jax.experimental.ode
(values, pytrees, jit, vmap), its adjoint gradients against jax.grad and finite
differences, and the forward-mode error."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
from jax.experimental.ode import odeint as jax_odeint
from scipy.integrate import solve_ivp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite.experimental import enable_x64
from functorch_lite.experimental.ode import odeint
from harness import assert_close

F32 = np.float32
TS = np.linspace(0.0, 2.0, 5)


def lotka_volterra(np_mod):
    def f(y, t, a, b):
        return np_mod.stack([a * y[0] - b * y[0] * y[1], -y[1] + b * y[0] * y[1]]) * \
            (1 + 0.1 * np_mod.sin(t))
    return f


Y0, A, B = np.array([1.0, 0.5]), 1.1, 0.6


def test_values_match_solve_ivp_in_float64_and_jax_in_float32():
    with enable_x64():
        ys = odeint(lotka_volterra(fnp), Y0, TS, A, B, rtol=1e-10, atol=1e-10)
        assert np.asarray(ys).dtype == np.float64
    ref = solve_ivp(lambda t, y: lotka_volterra(np)(y, t, A, B), (TS[0], TS[-1]), Y0,
                    t_eval=TS, rtol=1e-12, atol=1e-12, method="DOP853")
    np.testing.assert_allclose(ys, ref.y.T, rtol=1e-8, atol=1e-8)
    args = (Y0.astype(F32), TS.astype(F32), F32(A), F32(B))
    assert_close(odeint(lotka_volterra(fnp), *args),
                 jax_odeint(lotka_volterra(jnp), *args), 1e-6, 1e-6, "vs jax")


def test_pytree_state_and_args_under_jit():
    def f(np_mod):
        return lambda s, t, p: {"x": s["v"], "v": -p["k"] * s["x"] - p["c"] * s["v"]}
    state, params = {"x": F32(1.0), "v": F32(0.0)}, {"k": F32(4.0), "c": F32(0.3)}
    ts = TS.astype(F32)
    ours = fl.jit(lambda s, p: odeint(f(fnp), s, ts, p))(state, params)
    assert_close(ours, jax_odeint(f(jnp), state, ts, params), 1e-6, 1e-6, "pytree")


def loss(np_mod, solver):
    return lambda y0, ts, a, b: np_mod.sum(solver(lotka_volterra(np_mod), y0, ts, a, b) ** 2)


def test_adjoint_gradients_match_jax_and_finite_differences():
    args = (Y0.astype(F32), TS.astype(F32), F32(A), F32(B))
    ours = fl.grad(loss(fnp, odeint), argnums=(0, 1, 2, 3))(*args)
    ref = jax.grad(loss(jnp, jax_odeint), argnums=(0, 1, 2, 3))(*args)
    assert_close(ours, ref, 1e-5, 1e-5, "adjoint vs jax.grad")
    with enable_x64():
        f64 = lambda *a: float(fl.jit(loss(fnp, odeint))(*a))
        grads = fl.grad(loss(fnp, odeint), argnums=(0, 1, 2, 3))(Y0, TS, A, B)
        eps, rng = 1e-6, np.random.RandomState(0)
        for i, arg in enumerate((Y0, TS, A, B)):
            direction = rng.randn(*np.shape(arg))
            plus = [Y0, TS, A, B]
            minus = list(plus)
            plus[i], minus[i] = arg + eps * direction, arg - eps * direction
            numerical = (f64(*plus) - f64(*minus)) / (2 * eps)
            np.testing.assert_allclose(np.sum(np.asarray(grads[i]) * direction), numerical,
                                       rtol=1e-5, err_msg=f"argument {i}")


def test_gradient_through_closed_over_parameter_and_vmap():
    y0, ts = Y0.astype(F32), TS.astype(F32)
    ours = fl.grad(lambda k: fnp.sum(odeint(lambda y, t: -k * y, y0, ts)))(F32(0.7))
    ref = jax.grad(lambda k: jnp.sum(jax_odeint(lambda y, t: -k * y, y0, ts)))(F32(0.7))
    assert_close(ours, ref, 1e-5, 1e-6, "closure gradient")
    rates = np.array([0.5, 1.0, 2.0], F32)
    ours = fl.vmap(lambda a: odeint(lotka_volterra(fnp), y0, ts, a, F32(B)))(rates)
    ref = jax.vmap(lambda a: jax_odeint(lotka_volterra(jnp), y0, ts, a, F32(B)))(rates)
    assert_close(ours, ref, 1e-5, 1e-6, "vmap")


def test_forward_mode_raises_and_bad_times_raise():
    y0, ts = Y0.astype(F32), TS.astype(F32)
    with pytest.raises(TypeError, match="reverse-mode"):
        fl.jvp(lambda a: odeint(lotka_volterra(fnp), y0, ts, a, F32(B)), (F32(A),),
               (F32(1.0),))
    with pytest.raises(TypeError, match="floats"):
        odeint(lotka_volterra(fnp), y0, np.arange(3), F32(A), F32(B))
