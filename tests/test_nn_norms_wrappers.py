"""Normalization layers and weight wrappers against Flax's modules run on the same
parameters (GroupNorm with group_size, RMSNorm, SpectralNorm with its power-iteration
state, WeightNorm), Embedding.attend (tied output projection) and Lambda; values,
gradients, vmap under jit."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
import flax.linen as flax_nn

import functorch_lite as fl
import nn
from nn_checks import KEY, check_layer, perturbed, randn

RNG = np.random.RandomState(0)
IMG = randn(RNG, 2, 4, 4, 6)


def test_group_norm_with_group_size_matches_flax():
    layer = nn.GroupNorm(num_groups=None, group_size=3, epsilon=1e-6)
    params = perturbed(layer.init(KEY, IMG)[0], RNG)
    flax_layer = flax_nn.GroupNorm(num_groups=None, group_size=3)
    check_layer(lambda p, x: layer(p, x), lambda p, x: flax_layer.apply({"params": p}, x),
                params, (IMG,), tol=1e-5)
    with pytest.raises(ValueError, match="either num_groups or group_size"):
        nn.GroupNorm(num_groups=2, group_size=3).init(KEY, IMG)


def test_rms_norm_matches_flax():
    layer = nn.RMSNorm()
    x = randn(RNG, 3, 5, 8)
    params = perturbed(layer.init(KEY, x)[0], RNG)
    check_layer(lambda p, x: layer(p, x),
                lambda p, x: flax_nn.RMSNorm().apply({"params": p}, x), params, (x,))


@pytest.mark.parametrize("training", [False, True])
def test_spectral_norm_matches_flax(training):
    """The normalized kernel, the output, and the updated u and sigma (only when
    training, Flax's update_stats) equal flax.linen.SpectralNorm's."""
    layer = nn.SpectralNorm(nn.Conv(4, 3), n_steps=2)
    params, state = layer.init(KEY, IMG)
    params = perturbed(params, RNG)
    assert state["u"]["kernel"].shape == (1, 4) and set(params) == {"layer"}
    flax_layer = flax_nn.SpectralNorm(flax_nn.Conv(4, (3, 3)), n_steps=2)

    def flax_variables(p, s):
        return {"params": {"layer_instance": p["layer"]},
                "batch_stats": {"layer_instance/kernel/u": s["u"]["kernel"],
                                "layer_instance/kernel/sigma": s["sigma"]["kernel"]}}

    def ours(p, x):
        out, new = layer.apply(p, state, x, training=training)
        return out, new["u"]["kernel"], new["sigma"]["kernel"]

    def ref(p, x):
        out, new = flax_layer.apply(flax_variables(p, state), x, update_stats=training,
                                    mutable=["batch_stats"])
        stats = new["batch_stats"]
        return out, stats["layer_instance/kernel/u"], stats["layer_instance/kernel/sigma"]
    check_layer(ours, ref, params, (IMG,), tol=1e-5)


def test_spectral_norm_inside_sequential_updates_state_under_jit():
    model = nn.Sequential(sn=nn.SpectralNorm(nn.Dense(4)), act=nn.ReLU())
    x = randn(RNG, 3, 5)
    params, state = model.init(KEY, x)
    _, new = fl.jit(lambda p, s, x: model.apply(p, s, x, training=True))(params, state, x)
    assert not np.allclose(new["sn"]["u"]["kernel"], state["sn"]["u"]["kernel"])
    _, same = model.apply(params, state, x)
    np.testing.assert_array_equal(same["sn"]["u"]["kernel"], state["sn"]["u"]["kernel"])
    with pytest.raises(ValueError, match="keeps state"):
        nn.SpectralNorm(nn.Dense(4))(params["sn"], x)
    with pytest.raises(ValueError, match="has 4 dimensions and error_on_non_matrix"):
        nn.SpectralNorm(nn.Conv(2, 3), error_on_non_matrix=True).init(KEY, IMG)


@pytest.mark.parametrize("feature_axes", [-1, None])
def test_weight_norm_matches_flax(feature_axes):
    layer = nn.WeightNorm(nn.Dense(5), feature_axes=feature_axes)
    x = randn(RNG, 3, 4)
    params = perturbed(layer.init(KEY, x)[0], RNG)
    assert params["scale"]["kernel"].shape == ((5,) if feature_axes == -1 else ())
    flax_layer = flax_nn.WeightNorm(flax_nn.Dense(5), feature_axes=feature_axes)

    def ref(p, x):
        return flax_layer.apply({"params": {"layer_instance": p["layer"],
                                            "layer_instance/kernel/scale": p["scale"]["kernel"]}},
                                x)
    check_layer(lambda p, x: layer(p, x), ref, params, (x,))


def test_embedding_attend_ties_the_output_projection():
    """`scope.embed.attend(h)` in a parent layer uses the same table as the lookup: one
    parameter, and the logits are h @ table.T."""
    class TiedLM(nn.Layer):
        @property
        def embed(self):
            return nn.Embedding(11, 4)

        def forward(self, scope, ids):
            return scope.embed.attend(fl.numpy.tanh(scope.embed(ids)))

    ids = RNG.randint(0, 11, (2, 3)).astype(np.int32)
    params = perturbed(TiedLM().init(KEY, ids)[0], RNG)
    assert jax.tree_util.tree_map(jnp.shape, params) == {"embed": {"embedding": (11, 4)}}

    def ref(p, ids):
        table = p["embed"]["embedding"]
        return jnp.tanh(table[ids]) @ table.T
    check_layer(lambda p, ids: TiedLM()(p, ids), ref, params, (ids,))
    embed = nn.Embedding(11, 4)
    h = randn(RNG, 2, 4)
    np.testing.assert_allclose(embed.attend(params["embed"], h),
                               h @ params["embed"]["embedding"].T, rtol=1e-5, atol=1e-6)


def test_embedding_default_init_is_flax_embed():
    """normal with variance 1 / features (Flax's Embed), the same values as Flax's
    default initializer for the same key."""
    params, _ = nn.Embedding(50, 8).init(KEY, np.zeros((1,), np.int32))
    flax_init = flax_nn.initializers.variance_scaling(1.0, "fan_in", "normal", out_axis=0)
    key = nn.fold_name(KEY, "embedding")
    np.testing.assert_array_equal(params["embedding"],
                                  jax.jit(flax_init, static_argnums=1)(key, (50, 8)))


def test_lambda_layer_under_jit_grad_vmap():
    layer = nn.Lambda(lambda x, y: fl.numpy.tanh(x) * y)
    x, y = randn(RNG, 3, 4), randn(RNG, 3, 4)
    check_layer(lambda p, x, y: layer(p, x, y), lambda p, x, y: jnp.tanh(x) * y, {}, (x, y))
