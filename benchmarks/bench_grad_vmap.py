"""Compiled gradient step and per-example gradients, side by side with JAX.

    python benchmarks/bench_grad_vmap.py

- grad: jit(grad(loss)) of a 3-layer MLP on a batch of 256 (compiled step time).
- per-example: jit(vmap(grad(loss))) for 256 examples, against JAX and against a
  Python loop of 256 jitted grad calls.
"""
import time

import numpy as np
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp


def make_loss(np_):
    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = np_.tanh(h @ w + b)
        w, b = params[-1]
        return np_.mean((h @ w + b - y) ** 2)
    return loss


def timed(fn, *args, repeats=50):
    return compare([fn], args, repeats)[0]


def compare(fns, args, repeats=50, rounds=7):
    """Best time (ms) of each function, measured in alternation so that load from
    other processes affects all of them alike."""
    for fn in fns:
        jax.block_until_ready(fn(*args))
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(repeats):
                out = fn(*args)
            jax.block_until_ready(out)
            best[i] = min(best[i], (time.perf_counter() - t0) / repeats * 1e3)
    return best


def main():
    rng = np.random.RandomState(0)
    sizes = [32, 128, 128, 10]
    params = [(rng.randn(a, b).astype(np.float32) / np.sqrt(a), np.zeros(b, np.float32))
              for a, b in zip(sizes[:-1], sizes[1:])]
    params = jax.device_put(params)
    x = jax.device_put(rng.randn(256, 32).astype(np.float32))
    y = jax.device_put(rng.randn(256, 10).astype(np.float32))

    ours, ref = compare([fl.jit(fl.grad(make_loss(fnp))), jax.jit(jax.grad(make_loss(jnp)))],
                        (params, x, y))
    print(f"jit(grad) MLP step, batch 256     ours {ours:7.3f} ms  jax {ref:7.3f} ms  "
          f"ratio {ours / ref:5.2f}x")

    per_ex = lambda mod, np_: mod.jit(mod.vmap(mod.grad(make_loss(np_)), in_axes=(None, 0, 0)))
    ours, ref = compare([per_ex(fl, fnp), per_ex(jax, jnp)], (params, x, y), repeats=10)
    single = fl.jit(fl.grad(make_loss(fnp)))
    xs, ys = list(x), list(y)
    loop_ms = timed(lambda p: [single(p, a, b) for a, b in zip(xs, ys)], params, repeats=3)
    print(f"jit(vmap(grad)) 256 examples      ours {ours:7.3f} ms  jax {ref:7.3f} ms  "
          f"ratio {ours / ref:5.2f}x")
    print(f"python loop of 256 jit(grad) calls ours {loop_ms:7.3f} ms  "
          f"(vmap is {loop_ms / ours:5.1f}x faster)")


if __name__ == "__main__":
    main()
