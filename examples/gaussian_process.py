"""Gaussian-process regression: fit the kernel hyperparameters by maximising the log
marginal likelihood (its gradient from `functorch_lite.grad` through a Cholesky
factorisation and triangular solves), then predict with uncertainty.

    python examples/gaussian_process.py [--steps N]

Model: y = f(x) + noise, f ~ GP(0, k) with the RBF kernel
k(x, x') = s^2 exp(-|x - x'|^2 / (2 l^2)) and noise variance sigma^2. With
K = k(X, X) + sigma^2 I = L L^T,

    -log p(y | X) = 1/2 y^T K^{-1} y + sum(log diag L) + n/2 log(2 pi).

The script checks that its gradient matches JAX's and finite differences, that the
likelihood improved, and that the predictive mean recovers the true function; it
exits 1 otherwise.
"""
import argparse
import os
import sys
import time

import numpy as np
import optax

import functorch_lite as fl
import functorch_lite.numpy as jnp
from functorch_lite.lax import linalg


def rbf_kernel(params, a, b):
    """s^2 exp(-|a - b|^2 / (2 l^2)) for 1-D inputs a (n,) and b (m,)."""
    lengthscale = jnp.exp(params["log_lengthscale"])
    signal = jnp.exp(2 * params["log_signal"])
    diff = (a[:, None] - b[None, :]) / lengthscale
    return signal * jnp.exp(-0.5 * diff * diff)


def cholesky_solve(L, y):
    """K^{-1} y from the lower Cholesky factor L of K."""
    z = linalg.triangular_solve(L, y, left_side=True, lower=True)
    return linalg.triangular_solve(L, z, left_side=True, lower=True, transpose_a=True)


def neg_log_marginal_likelihood(params, x, y):
    n = x.shape[0]
    noise = jnp.exp(2 * params["log_noise"])
    K = rbf_kernel(params, x, x) + noise * jnp.eye(n)
    L = linalg.cholesky(K)
    alpha = cholesky_solve(L, y[:, None])[:, 0]
    return (0.5 * jnp.dot(y, alpha) + jnp.sum(jnp.log(jnp.diagonal(L)))
            + 0.5 * n * np.log(2 * np.pi))


def predict(params, x, y, x_test):
    """Posterior mean and standard deviation of f at `x_test`."""
    noise = jnp.exp(2 * params["log_noise"])
    L = linalg.cholesky(rbf_kernel(params, x, x) + noise * jnp.eye(x.shape[0]))
    k_star = rbf_kernel(params, x, x_test)                   # (n, m)
    mean = k_star.T @ cholesky_solve(L, y[:, None])[:, 0]
    v = linalg.triangular_solve(L, k_star, left_side=True, lower=True)
    var = jnp.exp(2 * params["log_signal"]) - jnp.sum(v * v, axis=0)
    return mean, jnp.sqrt(jnp.maximum(var, 1e-12))


def true_function(x):
    return np.sin(3 * x) + 0.5 * np.cos(7 * x)


def make_data(n=80, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n)).astype(np.float32)
    y = (true_function(x) + noise * rng.standard_normal(n)).astype(np.float32)
    return x, y


def check_gradient(params, x, y):
    """Our gradient against JAX's and a central finite difference."""
    import jax
    import jax.numpy as jjnp

    def jax_nll(p):
        ls, s2 = jjnp.exp(p["log_lengthscale"]), jjnp.exp(2 * p["log_signal"])
        d = (x[:, None] - x[None, :]) / ls
        K = s2 * jjnp.exp(-0.5 * d * d) + jjnp.exp(2 * p["log_noise"]) * jjnp.eye(len(x))
        L = jjnp.linalg.cholesky(K)
        alpha = jax.scipy.linalg.cho_solve((L, True), y)
        return 0.5 * y @ alpha + jjnp.sum(jjnp.log(jjnp.diag(L))) + 0.5 * len(x) * np.log(
            2 * np.pi)
    ours = fl.grad(neg_log_marginal_likelihood)(params, x, y)
    ref = jax.grad(jax_nll)(params)
    worst = 0.0
    for k in params:
        g, r = float(ours[k]), float(ref[k])
        eps = 1e-2
        plus = dict(params, **{k: params[k] + eps})
        minus = dict(params, **{k: params[k] - eps})
        fd = (float(jax_nll(plus)) - float(jax_nll(minus))) / (2 * eps)
        print(f"  d/d{k:16s} ours {g:+.5f}  jax {r:+.5f}  finite difference {fd:+.5f}")
        worst = max(worst, abs(g - r) / (abs(r) + 1e-3), abs(g - fd) / (abs(fd) + 1e-1))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int,
                        default=60 if os.environ.get("FUNCTORCH_LITE_QUICK") else 150)
    args = parser.parse_args()
    start = time.time()
    x, y = make_data()
    params = {"log_lengthscale": np.float32(0.0), "log_signal": np.float32(0.0),
              "log_noise": np.float32(-1.0)}

    print("gradient check at the initial hyperparameters:")
    grad_error = check_gradient(params, x, y)

    loss_and_grad = fl.jit(fl.value_and_grad(neg_log_marginal_likelihood))
    optimizer = optax.adam(0.05)
    opt_state = optimizer.init(params)
    first = None
    for step in range(args.steps):
        loss, grads = loss_and_grad(params, x, y)
        first = float(loss) if first is None else first
        updates, opt_state = optimizer.update(grads, opt_state)
        params = optax.apply_updates(params, updates)
        if step % 25 == 0 or step == args.steps - 1:
            print(f"step {step:4d}  -log p(y|X) = {float(loss):9.4f}")
    final = float(neg_log_marginal_likelihood(params, x, y))

    x_test = np.linspace(-1.8, 1.8, 50).astype(np.float32)
    mean, std = fl.jit(predict)(params, x, y, x_test)
    rmse = float(np.sqrt(np.mean((np.asarray(mean) - true_function(x_test)) ** 2)))
    hyper = {k: float(np.exp(v)) for k, v in params.items()}
    print(f"lengthscale {hyper['log_lengthscale']:.3f}, signal {hyper['log_signal']:.3f}, "
          f"noise {hyper['log_noise']:.3f} (true noise 0.1)")
    print(f"-log p(y|X): {first:.3f} -> {final:.3f}; predictive RMSE {rmse:.4f}, mean "
          f"predictive std {float(np.mean(np.asarray(std))):.4f}; "
          f"{time.time() - start:.1f} s")

    ok = grad_error < 2e-2 and final < first - 10 and rmse < 0.1
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
