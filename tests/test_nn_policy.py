"""The dtype policy: layers built under "mixed_bfloat16" keep float32 parameters,
compute in bfloat16, normalize and take the softmax in float32, and the model returns
float32 outputs; a small transformer trains with `nn.fit` under the policy, its
parameters staying float32; explicit per-layer dtypes; the context manager."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
import optax

import functorch_lite as fl
import nn

KEY = fl.random.PRNGKey(0)
BF16, F32 = np.dtype(jnp.bfloat16), np.dtype(np.float32)


class Block(nn.Layer):
    """Pre-norm causal transformer block with rotary attention."""
    dim: int = 16

    @property
    def norm1(self):
        return nn.RMSNorm()

    @property
    def attn(self):
        return nn.MultiHeadAttention(2, causal=True, rotary=nn.RotaryEmbedding())

    @property
    def norm2(self):
        return nn.LayerNorm()

    @property
    def mlp(self):
        return nn.Sequential(up=nn.Dense(2 * self.dim), act=nn.GELU(), down=nn.Dense(self.dim))

    def forward(self, scope, x):
        x = x + scope.attn(scope.norm1(x))
        return x + scope.mlp(scope.norm2(x))


class TinyLM(nn.Layer):
    vocab: int = 7
    dim: int = 16

    @property
    def embed(self):
        return nn.Embedding(self.vocab, self.dim)

    @property
    def positions(self):
        return nn.SinusoidalPositionalEmbedding()

    @property
    def block(self):
        return Block(self.dim)

    def forward(self, scope, ids):
        x = scope.embed(ids)
        x = scope.block(x + scope.positions(x))
        return scope.embed.attend(x)  # tied output projection


def _dtypes(tree):
    return {np.dtype(leaf.dtype) for leaf in jax.tree_util.tree_leaves(tree)}


def test_policy_context_manager_and_layer_dtypes():
    assert nn.dtype_policy().name == "float32"
    with nn.set_dtype_policy("mixed_bfloat16") as policy:
        assert policy.compute_dtype == BF16 and policy.param_dtype == F32
        dense, norm = nn.Dense(4), nn.LayerNorm()
        pinned = nn.Dense(4, dtype=np.float32)
    assert nn.dtype_policy().name == "float32"
    assert (dense.dtype, dense.param_dtype, norm.dtype) == (BF16, F32, BF16)
    assert pinned.dtype == F32 and "dtype=bfloat16" in repr(dense)
    assert nn.Dense(4).dtype == F32  # built after the context: float32 again
    with pytest.raises(ValueError, match="unknown dtype policy 'mixed_int8'"):
        nn.set_dtype_policy("mixed_int8")
    with nn.set_dtype_policy("bfloat16"):
        params, _ = nn.Dense(3).init(KEY, nn.Spec((2, 4)))
    assert _dtypes(params) == {BF16}


def test_mixed_precision_computes_in_bf16_with_float32_statistics():
    with nn.set_dtype_policy("mixed_bfloat16"):
        model = TinyLM()
    ids = np.random.RandomState(0).randint(0, 7, (3, 5)).astype(np.int32)
    params, _ = model.init(KEY, ids)
    assert _dtypes(params) == {F32}
    out = model(params, ids)
    assert out.dtype == F32  # the outermost call returns the parameter dtype
    program = str(fl.make_jaxpr(lambda p: model(p, ids))(params))
    assert "bf16[3,5,32] = dot_general" in program  # the MLP runs in bfloat16
    assert "f32[3,5] = reduce_sum" in program       # norm statistics in float32
    assert "f32[3,2,1,5,5] = exp" in program         # the softmax in float32
    with nn.set_dtype_policy("float32"):
        reference = TinyLM()(params, ids)
    np.testing.assert_allclose(out, reference, rtol=0.1, atol=0.1)
    assert not np.array_equal(out, reference)  # really computed in bfloat16


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_transformer_trains_under_mixed_policy_with_float32_parameters(policy):
    """The one-line switch: the same model and fit call; the loss falls and the
    parameters and optimizer updates stay float32."""
    with nn.set_dtype_policy(policy):
        model = TinyLM()
    starts = np.random.RandomState(1).randint(0, 7, 64)
    seqs = (starts[:, None] + np.arange(9)[None, :]) % 7  # next token = token + 1
    x, y = seqs[:, :-1].astype(np.int32), seqs[:, 1:].astype(np.int32)
    params, state = model.init(KEY, x[:1])
    params, state, history = nn.fit(model, params, state, optax.adam(1e-2), (x, y),
                                    loss="cross_entropy", epochs=6, batch_size=16,
                                    verbose=0)
    assert _dtypes(params) == {F32}
    assert history["loss"][-1] < 0.3 * history["loss"][0]
    accuracy = float(np.mean(np.argmax(model(params, x), -1) == y))
    assert accuracy > 0.9


def test_explicit_layer_dtypes_and_stateful_layers_under_policy():
    """A layer's own dtype overrides the policy; BatchNorm's running statistics stay
    float32 when it computes in bfloat16; grads reach the float32 parameters."""
    layer = nn.Dense(3, dtype=jnp.bfloat16)
    x = np.ones((2, 4), np.float32)
    params, _ = layer.init(KEY, x)
    assert _dtypes(params) == {F32} and layer(params, x).dtype == F32
    with nn.set_dtype_policy("mixed_bfloat16"):
        model = nn.Sequential(conv=nn.Conv(4, 3), bn=nn.BatchNorm(), act=nn.ReLU())
    img = np.random.RandomState(2).randn(2, 5, 5, 3).astype(np.float32)
    params, state = model.init(KEY, img)
    def loss(p):
        out, new = model.apply(p, state, img, training=True)
        return fl.numpy.sum(out), new
    (_, new_state), grads = fl.value_and_grad(loss, has_aux=True)(params)
    assert _dtypes(new_state) == {F32} and _dtypes(grads) == {F32}
    assert not np.allclose(new_state["bn"]["mean"], 0)
