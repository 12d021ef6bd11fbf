"""Newton's method with `functorch_lite.hessian`: L2-regularised logistic regression.

The loss is strictly convex, so Newton's method
    w <- w - H(w)^{-1} g(w)
converges quadratically. The Hessian comes from `hessian` (forward-over-reverse), the
step from a Cholesky solve, and the whole step is one jitted program.

Run: python examples/newton_hessian.py   (exits non-zero if it does not converge)
"""
import sys

import numpy as np

import functorch_lite as fl
import functorch_lite.numpy as jnp
from functorch_lite.lax import linalg


def make_data(n=200, d=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d).astype(np.float32)
    w_true = rng.randn(d).astype(np.float32)
    p = 1.0 / (1.0 + np.exp(-X @ w_true))
    y = (rng.rand(n) < p).astype(np.float32)
    return X, y


def loss(w, X, y, l2=1e-2):
    """Mean binary cross-entropy of sigmoid(X @ w), plus (l2 / 2) |w|^2."""
    logits = X @ w
    # log(1 + exp(z)) - y z, written stably
    nll = jnp.maximum(logits, 0.0) - logits * y + jnp.log(1.0 + jnp.exp(-jnp.abs(logits)))
    return jnp.mean(nll) + 0.5 * l2 * jnp.sum(w * w)


@fl.jit
def newton_step(w, X, y):
    g = fl.grad(loss)(w, X, y)
    H = fl.hessian(loss)(w, X, y)
    L = linalg.cholesky(H)
    z = linalg.triangular_solve(L, g[:, None], left_side=True, lower=True)
    step = linalg.triangular_solve(L, z, left_side=True, lower=True, transpose_a=True)
    return w - step[:, 0], jnp.sqrt(jnp.sum(g * g))


def main():
    X, y = make_data()
    w = np.zeros(X.shape[1], np.float32)
    print(f"step  loss        |grad|")
    for step in range(8):
        w, grad_norm = newton_step(w, X, y)
        print(f"{step:4d}  {float(loss(w, X, y)):.8f}  {float(grad_norm):.3e}")
    final_grad = float(jnp.sqrt(jnp.sum(fl.grad(loss)(w, X, y) ** 2)))
    # check: the gradient vanishes at the optimum (float32 precision)
    ok = final_grad < 1e-5
    print(f"final |grad| = {final_grad:.2e}: {'converged' if ok else 'NOT converged'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
