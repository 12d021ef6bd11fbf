"""A character-level RNN trained with `lax.scan` + `grad` + optax, then sampled with
`lax.scan` and `random.categorical`.

    python examples/rnn_scan.py

The recurrence is one `scan` over time; `grad` differentiates through it (the forward
scan stores per-step residuals, a reverse scan computes the gradient), and the whole
training step, optax update included, is one jitted XLA executable.
"""
import time

import numpy as np
import optax

import functorch_lite as jax
import functorch_lite.numpy as jnp
from functorch_lite import lax, random

TEXT = (
    "the quick brown fox jumps over the lazy dog. "
    "a journey of a thousand miles begins with a single step. "
    "all that glitters is not gold. "
    "to be or not to be, that is the question. "
    "the early bird catches the worm. "
    "where there is a will there is a way. "
) * 4
CHARS = sorted(set(TEXT))
VOCAB = len(CHARS)
DATA = np.array([CHARS.index(c) for c in TEXT], np.int32)
HIDDEN, SEQ_LEN, BATCH, STEPS = 96, 32, 32, 300


def init_params(key):
    k1, k2, k3 = random.split(key, 3)
    scale = 1.0 / np.sqrt(HIDDEN)
    return {
        "w_xh": random.normal(k1, (VOCAB, HIDDEN)) * 0.3,
        "w_hh": random.normal(k2, (HIDDEN, HIDDEN)) * scale,
        "b_h": jnp.zeros(HIDDEN),
        "w_hy": random.normal(k3, (HIDDEN, VOCAB)) * scale,
        "b_y": jnp.zeros(VOCAB),
    }


def one_hot(ids):
    return (ids[..., None] == jnp.arange(VOCAB)).astype(jnp.float32)


def log_softmax(logits):
    shifted = logits - jnp.max(logits, axis=-1, keepdims=True)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=-1, keepdims=True))


def rnn_step(params, h, x_t):
    h = jnp.tanh(x_t @ params["w_xh"] + h @ params["w_hh"] + params["b_h"])
    return h, h @ params["w_hy"] + params["b_y"]


def loss_fn(params, inputs, targets):
    """Mean next-character negative log-likelihood; inputs/targets: int32[B, T]."""
    xs = jnp.transpose(one_hot(inputs), (1, 0, 2))  # time-major for scan
    h0 = jnp.zeros((inputs.shape[0], HIDDEN))
    _, logits = lax.scan(lambda h, x: rnn_step(params, h, x), h0, xs)
    logp = log_softmax(jnp.transpose(logits, (1, 0, 2)))
    return -jnp.mean(jnp.sum(logp * one_hot(targets), axis=-1))


optimizer = optax.adam(1e-2)


@jax.jit
def train_step(params, opt_state, inputs, targets):
    loss, grads = jax.value_and_grad(loss_fn)(params, inputs, targets)
    updates, opt_state = jax.interop.call_jax(optimizer.update, grads, opt_state, params)
    params = jax.tree_util.tree_map(lambda p, u: p + u, params, updates)
    return params, opt_state, loss


@jax.jit
def sample(params, key, first_char):
    """Generate 80 characters, feeding each sample back in (a scan carrying the key)."""
    def step(carry, _):
        h, key, char = carry
        key, sub = random.split(key)
        h, logits = rnn_step(params, h, one_hot(char))
        char = random.categorical(sub, logits * 2.0)  # temperature 0.5
        return (h, key, char), char
    _, chars = lax.scan(step, (jnp.zeros(HIDDEN), key, first_char), None, length=80)
    return chars


def batches(rng):
    while True:
        starts = rng.integers(0, len(DATA) - SEQ_LEN - 1, BATCH)
        window = np.stack([DATA[s:s + SEQ_LEN + 1] for s in starts])
        yield window[:, :-1], window[:, 1:]


def main():
    params = init_params(random.PRNGKey(0))
    opt_state = optimizer.init(params)
    data = batches(np.random.default_rng(0))
    start = time.perf_counter()
    for step in range(STEPS + 1):
        inputs, targets = next(data)
        params, opt_state, loss = train_step(params, opt_state, inputs, targets)
        if step % 50 == 0:
            print(f"step {step:4d}  loss {float(loss):.3f}")
    print(f"{STEPS} steps in {time.perf_counter() - start:.1f} s "
          f"(uniform guessing: loss {np.log(VOCAB):.2f})")
    chars = sample(params, random.PRNGKey(1), jnp.asarray(CHARS.index("t")))
    print("sample: t" + "".join(CHARS[int(c)] for c in np.asarray(chars)))


if __name__ == "__main__":
    main()
