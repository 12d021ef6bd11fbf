"""jit's caches: keyed on the function and the jit options (as JAX's), so inline
`jit(f)(x)` reuses the trace; safe under threads (a new signature traces and compiles
once); bounded (an LRU of `functorch_lite_cache_size` entries); and memory stays flat
over many cached or eager calls."""
import gc
import os
import threading
import weakref

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _dispatch, _jit

FULL = os.environ.get("FUNCTORCH_LITE_FULL_MEMORY_TEST") == "1"


@pytest.fixture
def cache_size():
    """Set functorch_lite_cache_size for one test (restored afterwards)."""
    before = fl.config.functorch_lite_cache_size
    yield lambda n: fl.config.update("functorch_lite_cache_size", n)
    fl.config.update("functorch_lite_cache_size", before)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


# --- keyed on the function --------------------------------------------------------

def test_inline_jit_reuses_the_trace_and_executable(compiles):
    traces = []

    def f(x):
        traces.append(1)
        return fnp.sin(x) * 2.0 + x.sum()
    x = np.arange(5.0, dtype=np.float32)
    results = [fl.jit(f)(x) for _ in range(5)]
    assert len(traces) == 1 and compiles[0] == 1
    for r in results:
        np.testing.assert_allclose(r, jnp.sin(x) * 2.0 + x.sum(), rtol=1e-6)
    fl.jit(f)(np.ones(3, np.float32))  # a new signature traces again
    assert len(traces) == 2


def test_common_gotchas_global_example_matches_jax():
    """JAX's "Common Gotchas" example: jit caches on the function, so a changed global
    is not seen until the signature changes."""
    def run(jit, np_):
        namespace = {"g": 0.0}
        exec("def impure_uses_globals(x):\n    return x + g", namespace)
        f = namespace["impure_uses_globals"]
        first = jit(f)(4.0)
        namespace["g"] = 10.0
        second = jit(f)(5.0)
        third = jit(f)(np_.array([4.0]))
        return [np.asarray(v) for v in (first, second, third)]
    ours, theirs = run(fl.jit, fnp), run(jax.jit, jnp)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    assert float(ours[1]) == 5.0 and ours[2].tolist() == [14.0]


def test_options_and_functions_have_their_own_traces():
    traces = []

    def f(x, n):
        traces.append(n)
        return x * n
    x = np.float32(2.0)
    assert float(fl.jit(f, static_argnums=1)(x, 3)) == 6.0
    assert float(fl.jit(f, static_argnums=1)(x, 3)) == 6.0
    assert float(fl.jit(f, static_argnums=1)(x, 4)) == 8.0
    assert float(fl.jit(f)(x, 3)) == 6.0  # other options: traced anew
    assert traces[:3] == [3, 4, traces[2]] and len(traces) == 3
    assert float(fl.jit(lambda x, n: x * n, static_argnums=1)(x, 3)) == 6.0


def test_a_functions_traces_die_with_it():
    def make():
        def f(x):
            return x + 1.0
        return f
    f = make()
    fl.jit(f)(1.0)
    ref = weakref.ref(f)
    assert f in _jit._TRACE_CACHES
    del f
    gc.collect()
    assert ref() is None


# --- threads ----------------------------------------------------------------------

def test_threads_calling_a_new_jit_function_trace_and_compile_once(compiles):
    traces = []

    def f(x):
        traces.append(threading.get_ident())
        return fnp.tanh(x) * 3.0 - 1.0
    jitted = fl.jit(f)
    barrier = threading.Barrier(2)
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    results = [None, None]

    def worker(i):
        barrier.wait()
        results[i] = np.asarray(jitted(x))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(traces) == 1 and compiles[0] == 1
    for r in results:
        np.testing.assert_allclose(r, jnp.tanh(x) * 3.0 - 1.0, rtol=1e-6, atol=1e-6)


def test_results_stay_correct_under_eight_threads():
    """8 threads start together on new signatures of the same functions (jit, grad of
    jit, vmap, eager jnp) and check every result against JAX."""
    def loss(w, x):
        return fnp.sum(fnp.tanh(x @ w) ** 2)

    def loss_ref(w, x):
        return jnp.sum(jnp.tanh(x @ w) ** 2)
    ours = {"value": fl.jit(loss), "grad": fl.grad(fl.jit(loss)),
            "vmap": fl.jit(fl.vmap(loss, in_axes=(None, 0)))}
    theirs = {"value": loss_ref, "grad": jax.grad(loss_ref),
              "vmap": jax.vmap(loss_ref, in_axes=(None, 0))}
    barrier = threading.Barrier(8)
    errors = []

    def worker(t):
        rng = np.random.RandomState(t)
        n = 2 + t % 3  # threads share some signatures and not others
        barrier.wait()
        try:
            for _ in range(5):
                w = rng.randn(n, 2).astype(np.float32)
                x = rng.randn(4, n).astype(np.float32)
                xs = rng.randn(3, 4, n).astype(np.float32)
                for name, fn in ours.items():
                    arg = xs if name == "vmap" else x
                    np.testing.assert_allclose(fn(w, arg), theirs[name](w, arg),
                                               rtol=2e-5, atol=1e-5, err_msg=name)
                np.testing.assert_allclose(fnp.exp(x), np.exp(x), rtol=1e-6)
        except Exception as e:  # reported below, with the thread's number
            errors.append((t, e))
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# --- bounded caches ---------------------------------------------------------------

def test_caches_are_bounded_lrus(cache_size, compiles):
    cache_size(4)
    traces = []

    def f(x):
        traces.append(x.shape)
        return x * 2.0
    jitted = fl.jit(f)
    ones = [jax.device_put(np.ones(k, np.float32)) for k in range(1, 11)]
    for x in ones:
        np.testing.assert_array_equal(jitted(x), 2 * np.ones(x.shape))
        fl.lax.sin(x)
    assert len(jitted._traces.programs) == 4 and len(jitted._traces.fast) == 4
    assert len(_dispatch._executables) == 4
    jitted(ones[-1])  # recently used: still cached
    assert len(traces) == 10
    np.testing.assert_array_equal(jitted(ones[0]), [2.0])  # evicted: traced again
    assert len(traces) == 11
    with pytest.raises(ValueError, match="positive int"):
        fl.config.update("functorch_lite_cache_size", 0)


def _eager_calls(n_shapes, calls, warm_after):
    """`calls` eager calls over `n_shapes` shapes, alternating a jnp function (its eager
    jit cache) and a lax primitive (the per-primitive executable cache). Returns the
    RSS after `warm_after` shapes and at the end."""
    per_shape = calls // n_shapes
    for k in range(1, n_shapes + 1):
        x = np.full((k,), 0.5, np.float32)
        for _ in range(per_shape):
            y = fnp.sin(x) if k % 2 else fl.lax.cos(x)
        np.testing.assert_allclose(y, np.sin(x) if k % 2 else np.cos(x), rtol=1e-6)
        if k == warm_after:
            gc.collect()
            warm = rss_mb()
    gc.collect()
    return warm, rss_mb()


def test_eager_calls_over_many_shapes_keep_memory_flat(cache_size):
    """Each new shape compiles (about 150 kB of executable); the executables are freed
    as the LRU evicts them, so memory stops growing once the caches are full. 5,000
    calls over 300 shapes with a cache of 8 here (unbounded, memory would grow by about
    40 MB); 100,000 calls over 1,000 shapes with a cache of 64 with
    FUNCTORCH_LITE_FULL_MEMORY_TEST=1."""
    n_shapes, calls, size = (1000, 100_000, 64) if FULL else (300, 5000, 8)
    cache_size(size)
    warm, end = _eager_calls(n_shapes, calls, warm_after=4 * size)
    print(f"{calls} eager calls over {n_shapes} shapes: RSS {warm:.1f} MB once the "
          f"caches are full, {end:.1f} MB at the end")
    assert end - warm < 10


def test_cached_jit_calls_keep_memory_flat():
    """1,000,000 calls with FUNCTORCH_LITE_FULL_MEMORY_TEST=1 (the issue's bound:
    < 5 MB); 200,000 here."""
    f = fl.jit(lambda x, y: x * y + 1.0)
    x, y = fnp.ones((16,)), fnp.ones((16,))
    for _ in range(2000):
        f(x, y)
    gc.collect()
    before = rss_mb()
    for _ in range(1_000_000 if FULL else 200_000):
        f(x, y)
    grown = rss_mb() - before  # as the program sees it: no forced collection
    print(f"RSS growth over cached jit calls: {grown:.2f} MB")
    assert grown < (5 if FULL else 2)
