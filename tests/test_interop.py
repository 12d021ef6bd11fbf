"""interop.call_jax: an optax update inside our jit compiles into one executable."""
import numpy as np
import jax
import jax.numpy as jnp
import optax

import functorch_lite as fl
import functorch_lite.numpy as fnp


def test_optax_update_inside_jit_matches_jax():
    opt = optax.adam(0.1)
    params = {"w": np.linspace(-1, 1, 3).astype(np.float32), "b": np.zeros(3, np.float32)}
    x = np.arange(3, dtype=np.float32)

    def step(p, s):
        g = fl.grad(lambda p: fnp.sum((x * p["w"] + p["b"]) ** 2))(p)
        u, s = fl.interop.call_jax(opt.update, g, s, p)
        return fl.tree_util.tree_map(lambda a, b: a + b, p, u), s

    def ref_step(p, s):
        g = jax.grad(lambda p: jnp.sum((x * p["w"] + p["b"]) ** 2))(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    p, s = params, opt.init(params)
    rp, rs = params, opt.init(params)
    step_j = fl.jit(step)
    for _ in range(3):
        p, s = step_j(p, s)
        rp, rs = ref_step(rp, rs)
    for k in params:
        np.testing.assert_allclose(p[k], rp[k], rtol=1e-5, atol=1e-6)
    assert "callee = @jaxfn" in step_j.lower(params, opt.init(params)).as_text()


def test_call_jax_eager_vmap_and_jvp():
    x = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(fl.interop.call_jax(jnp.sin, x), np.sin(x), rtol=1e-6)
    batched = fl.vmap(lambda v: fl.interop.call_jax(jnp.cumsum, v))(x)
    np.testing.assert_allclose(batched, np.cumsum(x, axis=1), rtol=1e-6)
    _, t = fl.jvp(lambda v: fl.interop.call_jax(jnp.sin, v), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(t, np.cos(x), rtol=1e-6)


def test_concrete_array_indexed_or_updated_with_tracers():
    xs = jax.device_put(np.arange(5.0, dtype=np.float32))
    # closed-over jax.Array indexed by a loop counter / a vmapped index
    assert float(fl.lax.fori_loop(0, 5, lambda i, c: c + xs[i], 0.0)) == 10.0
    np.testing.assert_array_equal(fl.vmap(lambda i: xs[i])(np.array([0, 2, 4])), [0, 2, 4])
    # .at updates of a concrete array with traced values, under vmap and grad
    z = fnp.zeros(5)
    out = fl.vmap(lambda v: z.at[1].set(v))(np.arange(3.0, dtype=np.float32))
    np.testing.assert_array_equal(out[:, 1], [0, 1, 2])
    assert float(fl.grad(lambda v: fnp.sum(z.at[1].set(v) ** 2))(3.0)) == 6.0
    # without tracers, JAX's own methods run unchanged
    np.testing.assert_array_equal(xs.at[1].set(9.0), [0, 9, 2, 3, 4])
    assert float(xs[1]) == 1.0


def test_call_jax_integer_operand_and_reverse_mode():
    out, t = fl.jvp(lambda x: fl.interop.call_jax(lambda a, n: a * n, x, 3), (2.0,), (1.0,))
    assert float(out) == 6.0 and float(t) == 3.0
    f = lambda x: fl.interop.call_jax(lambda a: jnp.sin(a) * a, x)  # noqa: E731
    ref = lambda x: jnp.sin(x) * x  # noqa: E731
    x = jnp.arange(3.0)
    np.testing.assert_allclose(fl.jit(fl.grad(lambda v: f(v).sum()))(x),
                               jax.grad(lambda v: ref(v).sum())(x), rtol=1e-6)
    np.testing.assert_allclose(fl.hessian(lambda v: f(v).sum())(x),
                               jax.hessian(lambda v: ref(v).sum())(x), rtol=1e-6)
    np.testing.assert_allclose(fl.jacrev(fl.vmap(f))(x), jax.jacrev(ref)(x), rtol=1e-6)


def test_traced_slice_bounds_on_concrete_array_name_the_fix():
    import pytest
    table = jax.device_put(np.arange(6.0, dtype=np.float32))
    with pytest.raises(IndexError, match="dynamic_slice"):
        fl.jit(lambda i: table[i:])(1)


def test_call_jax_under_our_x64_mode_keeps_64_bits():
    """With functorch_lite's x64 on (JAX's off), the embedded JAX function sees the
    64-bit operands as they are, eagerly and under jit/vmap/jvp; JAX's flag is left off."""
    x_host = np.arange(3.0) + 1e-10

    def total(v):
        return jnp.sum(v * 2)
    with jax.enable_x64(True):
        want = float(total(x_host))
    fl.config.update("jax_enable_x64", True)
    try:
        x = fnp.asarray(x_host)
        results = [fl.interop.call_jax(total, x),
                   fl.jit(lambda v: fl.interop.call_jax(total, v))(x),
                   fl.jvp(lambda v: fl.interop.call_jax(total, v), (x,), (x,))[1],
                   fl.vmap(lambda v: fl.interop.call_jax(total, v))(x[None])[0]]
        for r in results:
            assert r.dtype == np.float64 and float(r) == want
        assert jax.config.jax_enable_x64 is False
    finally:
        fl.config.update("jax_enable_x64", False)


def test_interop_trace_caches_are_bounded_like_jit():
    """call_jax's embedded functions, from_jax's and to_jax's traces are kept per
    argument signature in LRUs of functorch_lite_cache_size entries, as jit's are:
    calls on ever new shapes do not grow memory without end."""
    from functorch_lite import _jax_call
    before = fl.config.functorch_lite_cache_size
    fl.config.update("functorch_lite_cache_size", 2)
    try:
        mean = fl.interop.from_jax(lambda x: jnp.mean(x ** 2))
        ours = fl.interop.to_jax(lambda x: fnp.mean(x ** 2))
        square = lambda x: x * x  # noqa: E731
        for n in range(1, 6):
            x = np.arange(n, dtype=np.float32)
            want = float(jnp.mean(x ** 2))
            np.testing.assert_allclose(float(fl.jit(mean)(x)), want, rtol=1e-6)
            np.testing.assert_allclose(float(ours(x)), want, rtol=1e-6)
            fl.jit(lambda v: fl.interop.call_jax(square, v))(x)
        assert len(mean._traced) == 2 and len(ours._traces) == 2
        assert len(_jax_call._functions) <= 2
    finally:
        fl.config.update("functorch_lite_cache_size", before)
