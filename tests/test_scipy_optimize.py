"""scipy.optimize: BFGS takes JAX's steps (iterate by iterate, same evaluation counts),
under jit and vmap; line_search against JAX's and SciPy's."""
import numpy as np
import pytest
import scipy.optimize as sopt
import jax
import jax.numpy as jnp
import jax.scipy.optimize as jopt

import functorch_lite as fl
import functorch_lite.numpy as fnp
import functorch_lite.scipy.optimize as fopt
from harness import assert_close

F32 = np.float32


def rosenbrock(np_mod):
    return lambda x: np_mod.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def logistic_loss(np_mod):
    def loss(w, features, labels):
        logits = features @ w
        return np_mod.mean(np_mod.logaddexp(0.0, logits) - labels * logits) + \
            0.01 * np_mod.sum(w * w)
    return loss


def assert_same_results(ours, ref, rtol=1e-4, atol=1e-5):
    assert type(ours).__name__ == "OptimizeResults"
    assert ours._fields == ref._fields
    for name in ("success", "status", "nfev", "njev", "nit"):
        assert int(getattr(ours, name)) == int(getattr(ref, name)), name
    for name in ("x", "fun", "jac", "hess_inv"):
        assert_close(getattr(ours, name), getattr(ref, name), rtol, atol, name)


@pytest.mark.parametrize("steps", [1, 2, 3, 6])
def test_bfgs_iterates_match_jax_step_by_step(steps):
    x0 = np.array([-1.2, 1.0, 0.3], F32)
    options = {"maxiter": steps}
    ours = fopt.minimize(rosenbrock(fnp), x0, method="BFGS", options=options)
    ref = jopt.minimize(rosenbrock(jnp), x0, method="BFGS", options=options)
    # float32 rounding of the two programs drifts apart a little over the steps
    assert_same_results(ours, ref, rtol=1e-4 if steps < 6 else 1e-3)


def test_bfgs_with_args_converges_like_jax_and_scipy():
    """In float64 (where rounding does not drive the iterates apart over many steps)
    every field equals JAX's to 1e-9, and the minimiser is SciPy's."""
    rng = np.random.RandomState(0)
    features = rng.randn(40, 3)
    labels = (features @ np.array([1.0, -2.0, 0.5]) > 0).astype(np.float64)
    args = (features, labels)
    with fl.experimental.enable_x64():  # ours; JAX's flag is its own
        ours = fopt.minimize(logistic_loss(fnp), np.zeros(3), args, method="BFGS")
    with jax.enable_x64(True):
        ref = jopt.minimize(logistic_loss(jnp), np.zeros(3), args, method="BFGS")
    assert bool(ours.success) and np.asarray(ours.x).dtype == np.float64
    assert_same_results(ours, ref, rtol=1e-9, atol=1e-9)
    scipy_ref = sopt.minimize(logistic_loss(np), np.zeros(3), args, method="BFGS")
    np.testing.assert_allclose(ours.x, scipy_ref.x, rtol=1e-4, atol=1e-4)


def test_bfgs_under_jit_and_vmap_matches_jax():
    starts = np.array([[-1.2, 1.0], [0.5, 0.5], [2.0, -1.0]], F32)
    solve = lambda f, opt: lambda x0: opt.minimize(f, x0, method="BFGS",
                                                   options={"maxiter": 5}).x
    ours = fl.jit(fl.vmap(solve(rosenbrock(fnp), fopt)))(starts)
    ref = jax.jit(jax.vmap(solve(rosenbrock(jnp), jopt)))(starts)
    assert_close(ours, ref, 1e-4, 1e-5, "jit(vmap(minimize))")


def test_line_search_matches_jax_and_scipy():
    f = lambda np_mod: lambda x: np_mod.sum((x - 1.0) ** 4) + np_mod.sum(x ** 2)
    xk, pk = np.array([2.0, -1.5], F32), np.array([-1.0, 1.0], F32)
    ours = fopt.line_search(f(fnp), xk, pk)
    from jax._src.scipy.optimize.line_search import line_search as jax_line_search
    ref = jax_line_search(f(jnp), xk, pk)
    for name in ref._fields:
        assert_close(getattr(ours, name), getattr(ref, name), 1e-5, 1e-6, name)
    grad = lambda x: 4 * (x - 1.0) ** 3 + 2 * x
    alpha = sopt.line_search(f(np), grad, xk.astype(np.float64), pk.astype(np.float64))[0]
    np.testing.assert_allclose(float(ours.a_k), alpha, rtol=1e-4)


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="BFGS"):
        fopt.minimize(rosenbrock(fnp), np.zeros(2, F32), method="Nelder-Mead")
    with pytest.raises(TypeError, match="tuple"):
        fopt.minimize(rosenbrock(fnp), np.zeros(2, F32), [1.0], method="BFGS")
