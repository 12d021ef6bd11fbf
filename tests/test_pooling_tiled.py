"""Pooling whose windows tile the input (stride == window) is lowered as reshape +
reduce, its max/min derivatives as elementwise select chains (no reduce_window, no
select_and_scatter): values, JVPs and VJPs equal JAX's reduce_window bit for bit,
ties, infinities and NaNs included (JAX's VJP gives a tie's cotangent to the first
maximum, its JVP the first maximum's tangent); vmap, grad of grad, nn layers."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.lax as flax
import nn

F32 = np.float32
OPS = {"max": (flax.max, jax.lax.max, -np.inf), "min": (flax.min, jax.lax.min, np.inf),
       "sum": (flax.add, jax.lax.add, 0.0)}


def awkward_images():
    """NHWC images with ties (also of infinities), NaNs and windows of -inf only."""
    x = np.random.RandomState(0).randn(2, 6, 4, 3).astype(F32)
    x[0, 0, 0, 0] = x[0, 0, 1, 0] = x[0, 1, 1, 0] = 9.0       # a three-way tie
    x[0, 2, 2, 0] = x[0, 3, 3, 0] = -9.0                     # a tie of minima
    x[0, 4, 2, 1] = x[0, 4, 3, 1] = np.inf
    x[0, 4, 0, 2] = x[0, 5, 1, 2] = -np.inf
    x[1, 0, 0, 0] = np.nan                                   # NaN first in its window
    x[1, 3, 3, 1] = np.nan                                   # NaN last in its window
    x[1, 2:4, 2:4, 2] = -np.inf                              # a window of -inf only
    x[1, 4:6, 0:2, 2] = np.inf
    x[1, 0:2, 2:4, 1] = 1.0                                  # a window of equal values
    return x


def pools(kind, window, padding="VALID"):
    ours_op, ref_op, init = OPS[kind]
    dims = (1, *window, 1)
    if not isinstance(padding, str):
        padding = ((0, 0), *padding, (0, 0))
    return (lambda x: flax.reduce_window(x, init, ours_op, dims, dims, padding),
            lambda x: jax.lax.reduce_window(x, init, ref_op, dims, dims, padding))


def assert_same(got, want, exact):
    if exact:
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["max", "min", "sum"])
@pytest.mark.parametrize("window,padding", [((2, 2), "VALID"),
                                            ((3, 2), ((1, 2), (0, 0)))], ids=str)
def test_values_and_derivatives_equal_reduce_window(kind, window, padding):
    ours, ref = pools(kind, window, padding)
    x = awkward_images()
    if kind == "sum":  # sums of infinities of both signs are NaN alike; keep them apart
        x = np.where(np.isinf(x), F32(5.0), x)
    out_shape = jax.eval_shape(ref, x).shape
    rng = np.random.RandomState(1)
    t, ct = rng.randn(*x.shape).astype(F32), rng.randn(*out_shape).astype(F32)
    jvp = fl.jit(lambda x, t: fl.jvp(ours, (x,), (t,)))
    vjp = fl.jit(lambda x, ct: fl.vjp(ours, x)[1](ct)[0])
    text = jvp.lower(x, t).as_text() + vjp.lower(x, ct).as_text()
    assert "stablehlo.reduce_window" not in text
    assert "stablehlo.select_and_scatter" not in text
    want_out, want_t = jax.jvp(ref, (x,), (t,))
    got_out, got_t = jvp(x, t)
    exact = kind != "sum"
    assert_same(got_out, want_out, exact)
    assert_same(got_t, want_t, exact)
    assert_same(vjp(x, ct), jax.vjp(ref, x)[1](ct)[0], exact)
    assert_same(ours(x), want_out, exact)  # eager


def test_integer_max_pool_and_general_path_for_overlapping_windows():
    x = np.random.RandomState(2).randint(-3, 3, (2, 4, 6, 1)).astype(np.int32)
    low, dims = np.int32(np.iinfo(np.int32).min), (1, 2, 3, 1)
    np.testing.assert_array_equal(
        fl.jit(lambda x: flax.reduce_window(x, low, flax.max, dims, dims, "VALID"))(x),
        jax.lax.reduce_window(x, low, jax.lax.max, dims, dims, "VALID"))
    overlapping = lambda x: flax.reduce_window(x, -np.inf, flax.max, (1, 2, 2, 1),
                                               (1, 1, 1, 1), "VALID")
    text = fl.jit(fl.grad(lambda x: overlapping(x).sum())).lower(
        awkward_images()).as_text()
    assert "stablehlo.select_and_scatter" in text


@pytest.mark.parametrize("kind", ["max", "sum"])
def test_per_example_gradients_and_grad_of_grad(kind):
    ours, ref = pools(kind, (2, 2))
    x = np.random.RandomState(3).randn(2, 6, 4, 3).astype(F32)
    x[:, 0, 0] = x[:, 1, 1]  # ties in every example
    w = np.random.RandomState(4).randn(3, 2, 3).astype(F32)
    loss = lambda pool, np_: lambda x: np_.sum(np_.sin(pool(x[None]) * w) ** 2)
    got = fl.jit(fl.vmap(fl.grad(loss(ours, fl.numpy))))(x)
    want = jax.vmap(jax.grad(loss(ref, jnp)))(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # grad of grad: the derivative of a gradient's weighted sum
    v = np.random.RandomState(5).randn(*x.shape[1:]).astype(F32)
    second = lambda grad, np_, pool: grad(lambda x: np_.sum(
        grad(loss(pool, np_))(x) * v))
    got = fl.jit(second(fl.grad, fl.numpy, ours))(x[0])
    want = second(jax.grad, jnp, ref)(x[0])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_nn_pooling_layers_tile_and_match_jax():
    x = np.random.RandomState(6).randn(2, 8, 6, 3).astype(F32)
    x[:, ::2, ::2] = x[:, 1::2, 1::2]  # every window has a tie
    ct = np.random.RandomState(7).randn(2, 4, 3, 3).astype(F32)
    for layer, ref in ((nn.MaxPool(2), lambda x: jax.lax.reduce_window(
            x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")),
            (nn.AvgPool(2, padding="SAME"), lambda x: jax.lax.reduce_window(
                x, 0.0, jax.lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4)):
        params, _ = layer.init(fl.random.PRNGKey(0), x)
        forward = lambda x: layer(params, x)
        backward = fl.jit(lambda x, ct: fl.vjp(forward, x)[1](ct)[0])
        assert "reduce_window" not in backward.lower(x, ct).as_text()
        want, want_back = jax.vjp(ref, x)
        np.testing.assert_allclose(fl.jit(forward)(x), want, rtol=1e-6)
        np.testing.assert_allclose(backward(x, ct), want_back(ct)[0], rtol=1e-6)


def test_windows_longer_than_the_chain_limit_keep_select_and_scatter():
    from functorch_lite.lax._windowed_tiled import MAX_CHAIN
    n = MAX_CHAIN + 1
    x = np.random.RandomState(8).randn(2, 2 * n).astype(F32)
    x[0, :3] = 7.0  # a tie
    ours = lambda x: flax.reduce_window(x, -np.inf, flax.max, (1, n), (1, n), "VALID")
    ref = lambda x: jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, n), (1, n), "VALID")
    grad = fl.jit(fl.grad(lambda x: (ours(x) ** 2).sum()))
    text = grad.lower(x).as_text()
    assert "stablehlo.select_and_scatter" in text
    np.testing.assert_array_equal(grad(x), jax.grad(lambda x: (ref(x) ** 2).sum())(x))
