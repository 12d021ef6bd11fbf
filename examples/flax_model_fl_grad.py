"""A Flax linen model trained with functorch_lite's `jit(value_and_grad)` and an optax
optimizer: the model and optimizer are JAX code, run inside our transformations by
`functorch_lite.interop.from_jax` and `functorch_lite.interop.optax`.

    python examples/flax_model_fl_grad.py

Checks, then prints: the first step's loss and gradients equal JAX's own
`jax.jit(jax.value_and_grad)` of the same loss, and the model (Dense, BatchNorm with its
running statistics, Dropout) learns a two-moons style problem to a good accuracy.
"""
import numpy as np
import jax
import flax.linen as nn
import optax

import functorch_lite as fl

STEPS = 300  # about 10 s on a CPU


class Classifier(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Dense(32)(x)
        x = nn.BatchNorm(use_running_average=not train)(x)
        x = nn.Dropout(0.1, deterministic=not train)(nn.relu(x))
        return nn.Dense(2)(x)


def moons(n, rng):
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.stack([np.cos(t) + label, np.sin(t) * (1 - 2 * label) + 0.5 * label], axis=1)
    return (x + 0.1 * rng.normal(size=x.shape)).astype(np.float32), label.astype(np.int32)


model = Classifier()


def loss_fn(params, batch_stats, x, y, key):
    logits, updated = model.apply({"params": params, "batch_stats": batch_stats}, x, True,
                                  rngs={"dropout": key}, mutable=["batch_stats"])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, updated["batch_stats"]


def main():
    x, y = moons(256, np.random.default_rng(0))
    variables = model.init(jax.random.PRNGKey(0), x, False)
    params, batch_stats = variables["params"], variables["batch_stats"]
    opt = fl.interop.optax(optax.adam(1e-2))
    apply_updates = fl.interop.from_jax(optax.apply_updates)
    value_and_grad = fl.value_and_grad(fl.interop.from_jax(loss_fn), has_aux=True)

    @fl.jit
    def step(params, batch_stats, opt_state, key):
        (loss, batch_stats), grads = value_and_grad(params, batch_stats, x, y, key)
        updates, opt_state = opt.update(grads, opt_state, params)
        return apply_updates(params, updates), batch_stats, opt_state, loss

    key = jax.random.PRNGKey(1)
    (loss, _), grads = value_and_grad(params, batch_stats, x, y, key)
    (jloss, _), jgrads = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))(
        params, batch_stats, x, y, key)
    assert np.allclose(loss, jloss, rtol=1e-6), (loss, jloss)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(jgrads)):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6)
    print(f"first loss {float(loss):.4f} and gradients equal JAX's")

    opt_state = opt.init(params)
    for i in range(STEPS):
        key, sub = jax.random.split(key)
        params, batch_stats, opt_state, loss = step(params, batch_stats, opt_state, sub)
    logits = model.apply({"params": params, "batch_stats": batch_stats}, x, False)
    accuracy = float((np.argmax(logits, axis=1) == y).mean())
    print(f"after {STEPS} steps: loss {float(loss):.4f}, accuracy {accuracy:.3f}")
    assert accuracy > 0.9, accuracy


if __name__ == "__main__":
    main()
