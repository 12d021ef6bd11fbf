"""Initializers: ours equal jax.nn.initializers bit for bit for the same key (every
initializer, under jit as `init` runs them, and eagerly), JAX's and Flax's initializers
work as any layer's kernel_init/bias_init on our keys, and typed JAX keys are accepted."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
import flax.linen as flax_nn

import functorch_lite as fl
import nn

I, J = nn.initializers, jax.nn.initializers
KEY = fl.random.PRNGKey(0)
SHAPE = (3, 3, 4, 8)

# (name, ours, JAX's): every initializer of jax.nn.initializers that takes a key
PAIRS = [
    ("zeros", I.zeros, J.zeros), ("ones", I.ones, J.ones),
    ("constant", I.constant(0.7), J.constant(0.7)),
    ("normal", I.normal(0.3), J.normal(0.3)),
    ("uniform", I.uniform(0.3), J.uniform(0.3)),
    ("truncated_normal", I.truncated_normal(0.3, None, -1.5, 1.0),
     J.truncated_normal(0.3, None, -1.5, 1.0)),
    ("orthogonal", I.orthogonal(1.3, column_axis=-2), J.orthogonal(1.3, column_axis=-2)),
    ("delta_orthogonal", I.delta_orthogonal(1.3), J.delta_orthogonal(1.3)),
] + [(f"variance_scaling_{mode}_{dist}", I.variance_scaling(1.7, mode, dist, in_axis=(0, 2)),
      J.variance_scaling(1.7, mode, dist, in_axis=(0, 2)))
     for mode in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
     for dist in ("truncated_normal", "normal", "uniform")] + [
    (name, getattr(I, name)(), getattr(J, name)())
    for name in ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                 "lecun_uniform", "lecun_normal", "xavier_uniform", "kaiming_normal")]


def _all(inits, fold_in, dtype=np.float32):
    """Every initializer in one program, each with its own key."""
    return lambda key: [init(fold_in(key, i), SHAPE, dtype) for i, init in enumerate(inits)]


def test_every_initializer_equals_jax_bit_for_bit_under_jit():
    ours = fl.jit(_all([p[1] for p in PAIRS], fl.random.fold_in))(KEY)
    theirs = jax.jit(_all([p[2] for p in PAIRS], jax.random.fold_in))(
        jax.random.PRNGKey(0))
    for (name, _, _), a, b in zip(PAIRS, ours, theirs):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_low_precision_and_eager_initializers_equal_jax():
    """The scale constants are computed in the parameter dtype, as JAX does (bfloat16,
    float16); eager calls equal JAX's eager calls."""
    samplers = [p for p in PAIRS if p[0] in ("normal", "variance_scaling_fan_in_normal",
                                             "variance_scaling_fan_avg_uniform", "he_normal")]
    for dtype in (jnp.bfloat16, np.float16):
        ours = fl.jit(_all([p[1] for p in samplers], fl.random.fold_in, dtype))(KEY)
        theirs = jax.jit(_all([p[2] for p in samplers], jax.random.fold_in, dtype))(
            jax.random.PRNGKey(0))
        for (name, _, _), a, b in zip(samplers, ours, theirs):
            assert a.dtype == b.dtype == dtype, name
            np.testing.assert_array_equal(np.asarray(a, np.float32),
                                          np.asarray(b, np.float32), err_msg=name)
    for name, ours, theirs in (PAIRS[3], PAIRS[-5]):  # normal, he_normal eagerly
        np.testing.assert_array_equal(ours(KEY, SHAPE), theirs(jax.random.PRNGKey(0), SHAPE),
                                      err_msg=name)


def test_factory_dtype_and_fans_follow_jax():
    assert I.normal(0.1, dtype=jnp.bfloat16)(KEY, (2, 3)).dtype == jnp.bfloat16
    assert I.compute_fans((3, 3, 4, 8)) == (36.0, 72.0)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.he_normal()(KEY, (4,))
    with pytest.raises(ValueError, match="mode must be"):
        I.variance_scaling(1.0, "fan_sum", "normal")
    with pytest.raises(NotImplementedError, match="complex"):
        I.glorot_normal()(KEY, (2, 2), np.complex64)
    # bfloat16 has no LAPACK QR: drawn in float32 and rounded (JAX raises here)
    w = np.asarray(I.orthogonal()(KEY, (4, 3), jnp.bfloat16), np.float32)
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=2e-2)


@pytest.mark.parametrize("source", ["jax", "flax"])
def test_jax_and_flax_initializers_work_in_layers(source):
    """JAX's and Flax's initializers receive our (raw uint32[2]) keys and give the
    values they give for the same JAX key."""
    lib = J if source == "jax" else flax_nn.initializers
    kernel_init, bias_init = lib.lecun_normal(), lib.constant(0.5)
    layer = nn.Dense(6, kernel_init=kernel_init, bias_init=bias_init)
    params, _ = layer.init(KEY, nn.Spec((2, 4)))
    key = nn.fold_name(KEY, "kernel")
    np.testing.assert_array_equal(params["kernel"], kernel_init(jax.numpy.asarray(key), (4, 6)))
    np.testing.assert_array_equal(params["bias"], np.full(6, 0.5, np.float32))
    conv = nn.Conv(3, 2, kernel_init=lib.he_uniform())
    assert conv.init(KEY, nn.Spec((1, 5, 5, 2)))[0]["kernel"].shape == (2, 2, 2, 3)


def test_typed_jax_keys_and_bad_initializers():
    layer = nn.Dense(3)
    raw, _ = layer.init(KEY, nn.Spec((1, 2)))
    typed, _ = layer.init(jax.random.key(0), nn.Spec((1, 2)))
    np.testing.assert_array_equal(raw["kernel"], typed["kernel"])
    with pytest.raises(ValueError, match="declared float32\\[2, 3\\]"):
        nn.Dense(3, kernel_init=lambda k, s, d: jnp.zeros((3, 2), d)).init(
            KEY, nn.Spec((1, 2)))
