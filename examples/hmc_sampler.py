"""Hamiltonian Monte Carlo on a correlated 2-D Gaussian with `fori_loop`, `scan`,
`grad`, `vmap` and `functorch_lite.random`.

    python examples/hmc_sampler.py

Each HMC step draws a momentum, integrates Hamiltonian dynamics with a leapfrog
`fori_loop` (the force is `grad` of the log density), and accepts or rejects with a
Metropolis test. A `scan` runs the chain; `vmap` over keys runs several chains at once.
"""
import time

import numpy as np

import functorch_lite as jax
import functorch_lite.numpy as jnp
from functorch_lite import lax, random

MEAN = np.array([1.0, -2.0], np.float32)
COV = np.array([[1.0, 0.8], [0.8, 1.5]], np.float32)
PRECISION = np.linalg.inv(COV).astype(np.float32)
STEP_SIZE, LEAPFROG_STEPS, NUM_SAMPLES, NUM_CHAINS, BURN_IN = 0.25, 10, 2000, 8, 200


def log_density(x):
    d = x - MEAN
    return -0.5 * jnp.sum(d * (PRECISION @ d))


def leapfrog(x, p):
    force = jax.grad(log_density)

    def step(i, state):
        x, p = state
        p = p + 0.5 * STEP_SIZE * force(x)
        x = x + STEP_SIZE * p
        p = p + 0.5 * STEP_SIZE * force(x)
        return x, p
    return lax.fori_loop(0, LEAPFROG_STEPS, step, (x, p))


def hmc_step(x, key):
    k_momentum, k_accept = random.split(key)
    p = random.normal(k_momentum, x.shape)
    x_new, p_new = leapfrog(x, p)
    energy = -log_density(x) + 0.5 * jnp.sum(p * p)
    energy_new = -log_density(x_new) + 0.5 * jnp.sum(p_new * p_new)
    accept = jnp.log(random.uniform(k_accept)) < energy - energy_new
    return jnp.where(accept, x_new, x), accept


@jax.jit
def run_chain(key, x0):
    keys = random.split(key, NUM_SAMPLES)

    def chain_step(x, key):
        x, accepted = hmc_step(x, key)
        return x, (x, accepted)
    _, (samples, accepted) = lax.scan(chain_step, x0, keys)
    return samples, accepted


def main():
    start = time.perf_counter()
    chain_keys = random.split(random.PRNGKey(0), NUM_CHAINS)
    starts = random.normal(random.PRNGKey(1), (NUM_CHAINS, 2)) * 3.0
    samples, accepted = jax.vmap(run_chain)(chain_keys, starts)
    samples = np.asarray(samples)[:, BURN_IN:].reshape(-1, 2)
    print(f"{NUM_CHAINS} chains x {NUM_SAMPLES} HMC steps in "
          f"{time.perf_counter() - start:.1f} s, acceptance {float(np.mean(accepted)):.2f}")
    np.set_printoptions(precision=3, suppress=True)
    print("sample mean", samples.mean(0), "  true mean", MEAN)
    print("sample cov\n", np.cov(samples.T), "\ntrue cov\n", COV)
    assert np.allclose(samples.mean(0), MEAN, atol=0.1)
    assert np.allclose(np.cov(samples.T), COV, atol=0.15)


if __name__ == "__main__":
    main()
