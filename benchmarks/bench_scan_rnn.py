"""A scan-RNN gradient step, side by side with JAX.

    python benchmarks/bench_scan_rnn.py

The same Elman RNN (one `lax.scan` over 64 time steps, batch 32, hidden 128, 64
classes, softmax cross-entropy) is written once over (lax, numpy) modules; the timed
function is jit(value_and_grad(loss)) in functorch_lite and in JAX. Times are the best
of several rounds, measured in alternation so that load from other processes affects
both alike.
"""

import numpy as np
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from bench_grad_vmap import compare  # timing in alternation, shared

BATCH, TIME, HIDDEN, CLASSES = 32, 64, 128, 64


def make_loss(lax, np_):
    def loss(params, xs, targets):
        """xs: f32[T, B, C] one-hot inputs; targets: f32[T, B, C] one-hot labels."""
        def step(h, x):
            h = np_.tanh(x @ params["w_xh"] + h @ params["w_hh"] + params["b_h"])
            return h, h @ params["w_hy"]
        _, logits = lax.scan(step, np_.zeros((BATCH, HIDDEN), np.float32), xs)
        shifted = logits - np_.max(logits, axis=-1, keepdims=True)
        logp = shifted - np_.log(np_.sum(np_.exp(shifted), axis=-1, keepdims=True))
        return -np_.mean(np_.sum(logp * targets, axis=-1))
    return loss


def data():
    rng = np.random.RandomState(0)
    params = {"w_xh": rng.randn(CLASSES, HIDDEN).astype(np.float32) * 0.1,
              "w_hh": rng.randn(HIDDEN, HIDDEN).astype(np.float32) / np.sqrt(HIDDEN),
              "b_h": np.zeros(HIDDEN, np.float32),
              "w_hy": rng.randn(HIDDEN, CLASSES).astype(np.float32) * 0.1}
    eye = np.eye(CLASSES, dtype=np.float32)
    xs = eye[rng.randint(0, CLASSES, (TIME, BATCH))]
    ys = eye[rng.randint(0, CLASSES, (TIME, BATCH))]
    return params, xs, ys


def main():
    params, xs, ys = data()
    ours = fl.jit(fl.value_and_grad(make_loss(fl.lax, fnp)))
    ref = jax.jit(jax.value_and_grad(make_loss(jax.lax, jnp)))
    (l1, g1), (l2, g2) = ours(params, xs, ys), ref(params, xs, ys)
    assert np.allclose(l1, l2, rtol=1e-5)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-3, atol=1e-5)
    t_ours, t_jax = compare([ours, ref], (params, xs, ys), repeats=20)
    print(f"scan-RNN gradient step (B={BATCH}, T={TIME}, H={HIDDEN}, C={CLASSES}), "
          f"{jax.devices()[0].platform}")
    print(f"  functorch_lite {t_ours:8.3f} ms")
    print(f"  jax            {t_jax:8.3f} ms")
    print(f"  ratio (ours / jax) {t_ours / t_jax:.2f}")


if __name__ == "__main__":
    main()
