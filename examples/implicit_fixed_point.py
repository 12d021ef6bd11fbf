"""Implicit differentiation of a fixed point with `custom_vjp`.

z*(a) solves z = f(a, z) with f(a, z) = tanh(W z + a), a contraction. Differentiating
through the solver's iterations would store every iterate; instead the implicit
function theorem gives the VJP from z* alone:
    u = g + (df/dz)^T u          (an adjoint fixed point, solved the same way)
    a_bar = (df/da)^T u
The gradient of a loss of z*(a) is checked against central finite differences, and
so is a forward-mode directional derivative (`jvp` of a custom_vjp function, which
functorch_lite computes by transposing the bwd rule).

Run: python examples/implicit_fixed_point.py   (exits non-zero if the check fails)
"""
import sys
from functools import partial

import numpy as np

import functorch_lite as fl
import functorch_lite.numpy as jnp
from functorch_lite import lax


@partial(fl.custom_vjp, nondiff_argnums=(0,))
def fixed_point(f, a, z_init):
    """Iterate z <- f(a, z) from z_init until it stops moving."""
    def cond(state):
        z_prev, z, i = state
        change = jnp.max(jnp.abs(z - z_prev))
        return jnp.where(i < 200, change, 0.0) > 1e-6  # at most 200 iterations

    def body(state):
        _, z, i = state
        return z, f(a, z), i + 1
    _, z_star, _ = lax.while_loop(cond, body, (z_init, f(a, z_init), 0))
    return z_star


def fixed_point_fwd(f, a, z_init):
    z_star = fixed_point(f, a, z_init)
    return z_star, (a, z_star)


def fixed_point_bwd(f, res, z_star_bar):
    a, z_star = res
    _, vjp_a = fl.vjp(lambda a: f(a, z_star), a)
    # u = z_star_bar + (df/dz)^T u, itself a fixed point (with the same implicit VJP)
    u = fixed_point(partial(_adjoint_iteration, f), (a, z_star, z_star_bar), z_star_bar)
    a_bar, = vjp_a(u)
    return a_bar, jnp.zeros_like(z_star)


def _adjoint_iteration(f, packed, u):
    a, z_star, z_star_bar = packed
    _, vjp_z = fl.vjp(lambda z: f(a, z), z_star)
    return z_star_bar + vjp_z(u)[0]


fixed_point.defvjp(fixed_point_fwd, fixed_point_bwd)


def main():
    rng = np.random.RandomState(0)
    n = 6
    W = rng.randn(n, n).astype(np.float32)
    W *= 0.5 / np.linalg.norm(W, 2)  # spectral norm 0.5: a contraction
    target = rng.randn(n).astype(np.float32)

    def layer(a, z):
        return jnp.tanh(W @ z + a)

    def loss(a):
        z_star = fixed_point(layer, a, jnp.zeros(n))
        return jnp.sum((z_star - target) ** 2)

    a = rng.randn(n).astype(np.float32)
    grad_implicit = np.asarray(fl.jit(fl.grad(loss))(a))

    eps = 1e-2  # float32: a larger step keeps rounding error below truncation error
    loss_jit = fl.jit(loss)
    grad_fd = np.array([(float(loss_jit(a + eps * e)) - float(loss_jit(a - eps * e)))
                        / (2 * eps) for e in np.eye(n, dtype=np.float32)])

    print("loss at a:", float(loss(a)))
    print("implicit (custom_vjp) gradient:", np.array2string(grad_implicit, precision=5))
    print("finite-difference gradient:    ", np.array2string(grad_fd, precision=5))
    err = np.max(np.abs(grad_implicit - grad_fd)) / np.max(np.abs(grad_fd))
    ok = err < 1e-2
    print(f"max relative difference {err:.1e}: {'OK' if ok else 'MISMATCH'}")

    # forward mode (JAX cannot do this for a custom_vjp): jvp transposes the bwd rule,
    # itself linear in the cotangent, including the adjoint fixed-point solve in it
    t = rng.randn(n).astype(np.float32)
    _, directional = fl.jit(lambda a, t: fl.jvp(loss, (a,), (t,)))(a, t)
    directional_fd = (float(loss_jit(a + eps * t)) - float(loss_jit(a - eps * t))) / (2 * eps)
    print(f"directional derivative: jvp {float(directional):.5f}, "
          f"grad . t {float(grad_implicit @ t):.5f}, finite differences {directional_fd:.5f}")
    fwd_ok = abs(float(directional) - directional_fd) < 1e-2 * max(1.0, abs(directional_fd))
    print("forward mode:", "OK" if fwd_ok else "MISMATCH")
    return 0 if ok and fwd_ok else 1


if __name__ == "__main__":
    sys.exit(main())
