"""Dispatch overheads and trace+lower time, side by side with JAX (one run, ratios).

    python benchmarks/bench_overhead.py

Measures: a cached jit call on small device arrays, one eager primitive (sin, add),
and tracing + lowering a 64-layer MLP to StableHLO text (a fresh function each time,
so nothing is cached).
"""
import time

import numpy as np
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp


def per_call_us(fn, n=20000, repeats=5):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


def mlp(np_mod, depth=64, width=32):
    def f(params, x):
        for w, b in params:
            x = np_mod.tanh(x @ w + b)
        return np_mod.sum(x)
    rng = np.random.RandomState(0)
    params = [(rng.randn(width, width).astype(np.float32) * 0.1,
               np.zeros(width, np.float32)) for _ in range(depth)]
    return f, params, rng.randn(8, width).astype(np.float32)


def trace_lower_ms(jit, np_mod, repeats=5):
    f, params, x = mlp(np_mod)
    best = float("inf")
    for _ in range(repeats):
        g = lambda p, x: f(p, x)  # a fresh function: no cache hit
        t0 = time.perf_counter()
        jit(g).lower(params, x).as_text()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def row(name, ours, theirs, unit):
    print(f"{name:34s} ours {ours:9.2f} {unit}   jax {theirs:9.2f} {unit}   "
          f"ratio {ours / theirs:5.2f}x")


def main():
    x = jax.device_put(np.ones((3,), np.float32))
    y = jax.device_put(np.ones((3,), np.float32))
    fj, ff = jax.jit(lambda a, b: a + b), fl.jit(lambda a, b: a + b)
    row("cached jit call (a+b, f32[3])", per_call_us(lambda: ff(x, y)),
        per_call_us(lambda: fj(x, y)), "us")
    row("eager sin (f32[3])", per_call_us(lambda: fnp.sin(x)),
        per_call_us(lambda: jnp.sin(x)), "us")
    row("eager add (f32[3] + f32[3])", per_call_us(lambda: fnp.add(x, y)),
        per_call_us(lambda: jnp.add(x, y)), "us")
    row("eager lax.sin (one primitive)", per_call_us(lambda: fl.lax.sin(x)),
        per_call_us(lambda: jax.lax.sin(x)), "us")
    row("trace+lower 64-layer MLP", trace_lower_ms(fl.jit, fnp),
        trace_lower_ms(jax.jit, jnp), "ms")


if __name__ == "__main__":
    main()
