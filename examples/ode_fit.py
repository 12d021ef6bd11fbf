"""Fit the parameters of an ODE to noisy observations, differentiating through the
solver with `odeint`'s adjoint method.

A damped oscillator x'' = -k x - c x' is observed at 40 times with noise; starting
from a wrong guess, Adam (from example_libraries.optimizers) on (log k, log c) drives
the squared error down, each gradient costing one forward and one adjoint solve.

Run: python examples/ode_fit.py   (exits non-zero if the fit does not recover k and c
within 10%; FUNCTORCH_LITE_QUICK=1 runs fewer steps)
"""
import os
import sys

import numpy as np

import functorch_lite as fl
import functorch_lite.numpy as jnp
from functorch_lite.example_libraries import optimizers
from functorch_lite.experimental.ode import odeint

TRUE_K, TRUE_C = 4.0, 0.3


def oscillator(state, t, k, c):
    position, velocity = state
    return jnp.stack([velocity, -k * position - c * velocity])


def simulate(log_params, times):
    k, c = jnp.exp(log_params[0]), jnp.exp(log_params[1])
    return odeint(oscillator, np.array([1.0, 0.0], np.float32), times, k, c,
                  rtol=1e-5, atol=1e-5)[:, 0]


def main():
    quick = os.environ.get("FUNCTORCH_LITE_QUICK") == "1"
    steps = 40 if quick else 150
    times = np.linspace(0.0, 6.0, 40).astype(np.float32)
    rng = np.random.RandomState(0)
    truth = np.log(np.array([TRUE_K, TRUE_C], np.float32))
    observed = np.asarray(simulate(truth, times)) + 0.02 * rng.randn(40).astype(np.float32)

    def loss(log_params):
        return jnp.mean((simulate(log_params, times) - observed) ** 2)

    opt_init, opt_update, get_params = optimizers.adam(0.05)

    @fl.jit
    def step(i, opt_state):
        value, grads = fl.value_and_grad(loss)(get_params(opt_state))
        return value, opt_update(i, grads, opt_state)

    opt_state = opt_init(np.log(np.array([2.0, 1.0], np.float32)))   # the wrong guess
    first = None
    for i in range(steps):
        value, opt_state = step(i, opt_state)
        first = float(value) if first is None else first
        if i % 50 == 0 or i == steps - 1:
            k, c = np.exp(np.asarray(get_params(opt_state)))
            print(f"step {i:3d}  loss {float(value):.5f}  k {k:.3f}  c {c:.3f}")
    k, c = np.exp(np.asarray(get_params(opt_state)))
    final = float(loss(get_params(opt_state)))
    ok = abs(k - TRUE_K) < 0.1 * TRUE_K and abs(c - TRUE_C) < 0.1 * TRUE_C
    print(f"recovered k={k:.3f} (true {TRUE_K}), c={c:.3f} (true {TRUE_C}); loss "
          f"{first:.4f} -> {final:.5f}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
