"""Bayesian logistic regression sampled with Hamiltonian Monte Carlo, the log posterior
written with `functorch_lite.scipy.stats` log-densities.

    python examples/bayesian_logistic_hmc.py      (FUNCTORCH_LITE_QUICK=1: a short run)

The data are simulated from known weights with typed PRNG keys. The posterior over the
weights is  N(0, 2^2) prior  x  Bernoulli(expit(X w)) likelihood; `grad` of its log
density drives the leapfrog integrator, a `scan` runs each chain, and `vmap` over keys
runs several chains at once, all compiled as one program. The chains start near the
maximum a posteriori weights (found by gradient ascent): far from the mode, a leapfrog
trajectory gains so much energy that the logistic saturates. The script checks that
the chains agree (R-hat), that the posterior mean sits near the MAP weights, and that
the true weights are within the posterior's spread.
"""
import os
import time

import numpy as np

import functorch_lite as jax
import functorch_lite.numpy as jnp
from functorch_lite import lax, random
from functorch_lite.scipy import special, stats

QUICK = bool(os.environ.get("FUNCTORCH_LITE_QUICK"))
NUM_POINTS, NUM_FEATURES = 300, 3
TRUE_WEIGHTS = np.array([0.5, 1.5, -1.0, 0.8], np.float32)  # intercept first
STEP_SIZE, LEAPFROG_STEPS = 0.05, 12
NUM_SAMPLES, NUM_CHAINS, BURN_IN = (400, 4, 100) if QUICK else (2000, 8, 300)


def simulate(key):
    """Features x ~ N(0, 1) (with a column of ones) and labels y ~ Bernoulli(expit(x w))."""
    k_x, k_y = random.split(key)
    x = random.normal(k_x, (NUM_POINTS, NUM_FEATURES))
    x = jnp.concatenate([jnp.ones((NUM_POINTS, 1)), x], axis=1)
    y = random.bernoulli(k_y, special.expit(x @ TRUE_WEIGHTS))
    return x, y.astype(jnp.float32)


def log_posterior(w, x, y):
    log_prior = jnp.sum(stats.norm.logpdf(w, 0.0, 2.0))
    log_likelihood = jnp.sum(stats.bernoulli.logpmf(y, special.expit(x @ w)))
    return log_prior + log_likelihood


def hmc_step(w, key, x, y):
    force = jax.grad(log_posterior)
    k_momentum, k_accept = random.split(key)
    p = random.normal(k_momentum, w.shape)

    def leapfrog(i, state):
        w, p = state
        p = p + 0.5 * STEP_SIZE * force(w, x, y)
        w = w + STEP_SIZE * p
        return w, p + 0.5 * STEP_SIZE * force(w, x, y)
    w_new, p_new = lax.fori_loop(0, LEAPFROG_STEPS, leapfrog, (w, p))
    energy = -log_posterior(w, x, y) + 0.5 * jnp.sum(p * p)
    energy_new = -log_posterior(w_new, x, y) + 0.5 * jnp.sum(p_new * p_new)
    accept = jnp.log(random.uniform(k_accept)) < energy - energy_new
    return jnp.where(accept, w_new, w), accept


@jax.jit
def sample(keys, starts, x, y):
    """NUM_CHAINS chains (one per key) of NUM_SAMPLES HMC steps each."""
    def chain(key, w0):
        def step(w, key):
            w, accepted = hmc_step(w, key, x, y)
            return w, (w, accepted)
        return lax.scan(step, w0, random.split(key, NUM_SAMPLES))[1]
    return jax.vmap(chain)(keys, starts)


@jax.jit
def map_estimate(x, y):
    """The maximum a posteriori weights, by gradient ascent on the log posterior."""
    grad = jax.grad(log_posterior)
    return lax.fori_loop(0, 500, lambda i, w: w + 0.002 * grad(w, x, y),
                         jnp.zeros(NUM_FEATURES + 1))


def r_hat(chains):
    """Gelman-Rubin potential scale reduction of each coordinate (chains: C x S x D)."""
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean(axis=0)
    between = n * chains.mean(axis=1).var(axis=0, ddof=1)
    return np.sqrt(((n - 1) / n * within + between / n) / within)


def main():
    key = random.key(0)
    k_data, k_start, k_chains = random.split(key, 3)
    x, y = simulate(k_data)
    w_map = np.asarray(map_estimate(x, y))
    start = time.perf_counter()
    starts = w_map + 0.1 * random.normal(k_start, (NUM_CHAINS, NUM_FEATURES + 1))
    draws, accepted = sample(random.split(k_chains, NUM_CHAINS), starts, x, y)
    draws = np.asarray(draws)[:, BURN_IN:]
    print(f"{NUM_CHAINS} chains x {NUM_SAMPLES} HMC steps in {time.perf_counter() - start:.1f}"
          f" s, acceptance {float(np.mean(accepted)):.2f}")
    posterior = draws.reshape(-1, NUM_FEATURES + 1)
    mean, std = posterior.mean(0), posterior.std(0)
    np.set_printoptions(precision=3, suppress=True)
    print("posterior mean", mean, "\nposterior std ", std, "\nMAP           ", w_map,
          "\ntrue weights  ", TRUE_WEIGHTS, "\nR-hat         ", r_hat(draws))
    assert float(np.mean(accepted)) > 0.5
    assert (r_hat(draws) < 1.1).all()
    assert np.all(np.abs(mean - w_map) < 0.5 * std + 0.05)  # a nearly Gaussian posterior
    assert np.all(np.abs(mean - TRUE_WEIGHTS) < 4 * std)


if __name__ == "__main__":
    main()
