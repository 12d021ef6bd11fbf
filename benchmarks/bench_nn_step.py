"""The compiled train step of a small CNN (the quickstart digits model: two 3x3
convolutions, max pooling, two dense layers; Adam), built with `nn` on functorch_lite
versus the same model written directly with jax.lax / jax.numpy under jax.jit.

    python benchmarks/bench_nn_step.py

Both steps compute the loss gradient and apply optax's Adam update in one executable
(ours calls optax through `functorch_lite.interop.call_jax`). Times are the best of
several rounds, measured in alternation.
"""
import time

import numpy as np
import optax

import jax
import jax.numpy as jnp
import jax.lax as jlax

import functorch_lite as fl
import nn

MODEL = nn.Sequential(
    conv1=nn.Conv(32, 3), act1=nn.ReLU(),
    conv2=nn.Conv(64, 3), act2=nn.ReLU(), pool=nn.MaxPool(2),
    flatten=nn.Flatten(), hidden=nn.Dense(128), act3=nn.ReLU(), logits=nn.Dense(10))
OPTIMIZER = optax.adam(1e-3)


def jax_forward(p, x):
    dn = ("NHWC", "HWIO", "NHWC")
    conv = lambda x, q: jlax.conv_general_dilated(x, q["kernel"], (1, 1), "SAME",
                                                  dimension_numbers=dn) + q["bias"]
    h = jax.nn.relu(conv(x, p["conv1"]))
    h = jax.nn.relu(conv(h, p["conv2"]))
    h = jlax.reduce_window(h, -jnp.inf, jlax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    h = h.reshape(h.shape[0], -1)
    h = jax.nn.relu(h @ p["hidden"]["kernel"] + p["hidden"]["bias"])
    return h @ p["logits"]["kernel"] + p["logits"]["bias"]


@jax.jit
def jax_step(params, opt_state, x, y):
    def loss_fn(p):
        return optax.softmax_cross_entropy_with_integer_labels(jax_forward(p, x), y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = OPTIMIZER.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


@fl.jit
def our_step(params, opt_state, x, y):
    def loss_fn(p):
        return nn.softmax_cross_entropy(MODEL(p, x), y)
    loss, grads = fl.value_and_grad(loss_fn)(params)
    updates, opt_state = fl.interop.call_jax(OPTIMIZER.update, grads, opt_state, params)
    params = fl.tree_util.tree_map(lambda p, u: p + u, params, updates)
    return params, opt_state, loss


def compare(fns, args, repeats=20, rounds=7):
    """Best time (ms) per call of each step, in alternation (shared-machine noise hits
    all alike). Each step threads its own (params, opt_state); returns the times and
    each step's last loss."""
    states = [list(args) for _ in fns]
    losses = [None] * len(fns)

    def run(i, n):
        for _ in range(n):
            states[i][0], states[i][1], losses[i] = fns[i](*states[i])
        jax.block_until_ready(losses[i])

    for i in range(len(fns)):
        run(i, 1)
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i in range(len(fns)):
            t0 = time.perf_counter()
            run(i, repeats)
            best[i] = min(best[i], (time.perf_counter() - t0) / repeats * 1e3)
    return best, losses


def main():
    rng = np.random.default_rng(0)
    for batch in (32, 128):
        # inputs already on the device, as nn.fit passes them
        x = jax.device_put(rng.random((batch, 8, 8, 1), dtype=np.float32))
        y = jax.device_put(rng.integers(0, 10, batch).astype(np.int32))
        params, _ = MODEL.init(fl.random.PRNGKey(0), x[:1])
        params = jax.device_put(params)
        opt_state = OPTIMIZER.init(params)
        (ours, ref), (loss_ours, loss_ref) = compare([our_step, jax_step],
                                                     (params, opt_state, x, y))
        print(f"CNN train step (conv-conv-pool-dense-dense, Adam), batch {batch:3d}: "
              f"ours {ours:7.3f} ms  jax {ref:7.3f} ms  ratio {ours / ref:5.2f}x  "
              f"(losses after the same steps {float(loss_ours):.4f} vs {float(loss_ref):.4f})")


if __name__ == "__main__":
    main()
