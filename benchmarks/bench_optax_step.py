"""The standard optax training step under our jit against jax.jit (issue 15).

    python benchmarks/bench_optax_step.py

An MLP (32-256-256-10, batch 256) trained by optax.adam: value_and_grad, opt.update
and apply_updates in one compiled step. Ours wraps the optimizer with
`interop.optax` and `optax.apply_updates` with `interop.from_jax`; JAX's is the same
step under `jax.jit`. Prints the median step time (ms) of each, measured in
alternating rounds, and the ratio ours / JAX.
"""
import statistics
import time

import numpy as np
import jax
import jax.numpy as jnp
import optax

import functorch_lite as fl
import functorch_lite.numpy as fnp
from bench_grad_vmap import make_loss  # the same MLP loss


def make_step(jit, value_and_grad, loss, update, apply_updates):
    @jit
    def step(params, opt_state, x, y):
        value, grads = value_and_grad(loss)(params, x, y)
        updates, opt_state = update(grads, opt_state, params)
        return apply_updates(params, updates), opt_state, value
    return step


def medians(steps, state, x, y, repeats=20, rounds=15):
    """Median over rounds of the mean step time (ms), the steps taken in alternation."""
    states = [state] * len(steps)
    times = [[] for _ in steps]
    for i, step in enumerate(steps):  # compile
        states[i] = jax.block_until_ready(step(*states[i][:2], x, y))
    for _ in range(rounds):
        for i, step in enumerate(steps):
            t0 = time.perf_counter()
            for _ in range(repeats):
                states[i] = step(*states[i][:2], x, y)
            jax.block_until_ready(states[i])
            times[i].append((time.perf_counter() - t0) / repeats * 1e3)
    return [statistics.median(t) for t in times], states


def main():
    rng = np.random.RandomState(0)
    sizes = [32, 256, 256, 10]
    params = jax.device_put([(rng.randn(a, b).astype(np.float32) / np.sqrt(a),
                              np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])])
    x = jax.device_put(rng.randn(256, 32).astype(np.float32))
    y = jax.device_put(rng.randn(256, 10).astype(np.float32))
    tx = optax.adam(1e-3)
    opt = fl.interop.optax(tx)
    ours = make_step(fl.jit, fl.value_and_grad, make_loss(fnp), opt.update,
                     fl.interop.from_jax(optax.apply_updates))
    theirs = make_step(jax.jit, jax.value_and_grad, make_loss(jnp), tx.update,
                       optax.apply_updates)
    (t_ours, t_jax), states = medians([ours, theirs], (params, tx.init(params)), x, y)
    for a, b in zip(jax.tree.leaves(states[0]), jax.tree.leaves(states[1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)  # same training
    print(f"optax.adam step, MLP 32-256-256-10, batch 256: ours {t_ours:.3f} ms, "
          f"jax.jit {t_jax:.3f} ms, ratio {t_ours / t_jax:.2f} (medians)")


if __name__ == "__main__":
    main()
