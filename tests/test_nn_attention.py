"""Attention and positions: nn.dot_product_attention against jax.nn.dot_product_attention
(every option), MultiHeadAttention (self, cross, grouped-query, rotary, masks) against
a JAX reference, the decoding cache against full causal attention, and the positional
embeddings against keras_hub's and Hugging Face's formulas written with JAX. Values,
gradients, vmap, under jit (one compiled program per case)."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import nn
from nn_checks import KEY, check_layer, perturbed, randn

RNG = np.random.RandomState(0)
Q, K, V = randn(RNG, 2, 5, 4, 3), randn(RNG, 2, 6, 2, 3), randn(RNG, 2, 6, 2, 3)
BIAS = randn(RNG, 2, 1, 5, 6)
MASK = RNG.rand(2, 4, 5, 6) > 0.3
LENGTHS = dict(query_seq_lengths=np.array([3, 5], np.int32),
               key_value_seq_lengths=np.array([6, 2], np.int32))

DPA_CASES = {
    "plain_gqa": {},
    "bias": {"bias": True},
    "mask": {"mask": MASK},
    "causal_scale": {"is_causal": True, "scale": 0.3},
    "window": {"local_window_size": (1, 2)},
    "window_int_causal": {"local_window_size": 1, "is_causal": True},
    "lengths": LENGTHS,
    "all_with_residual": {"bias": True, "mask": MASK, "is_causal": True,
                          "return_residual": True},
}


@pytest.mark.parametrize("name", DPA_CASES)
def test_dot_product_attention_matches_jax(name):
    options = dict(DPA_CASES[name])
    with_bias = options.pop("bias", False)

    def make(fn):
        def run(_, q, k, v, *bias):
            return fn(q, k, v, *bias, **options)
        return run
    inputs = (Q, K, V, BIAS) if with_bias else (Q, K, V)
    # vmap: our batching against jax.vmap of JAX's function
    check_layer(make(nn.dot_product_attention), make(jax.nn.dot_product_attention), {},
                inputs)


def test_dot_product_attention_unbatched_bf16_and_errors():
    ours = fl.jit(lambda q, k, v: nn.dot_product_attention(q, k, v, is_causal=True))
    theirs = jax.jit(lambda q, k, v: jax.nn.dot_product_attention(q, k, v, is_causal=True))
    q, k, v = Q[0], K[0], V[0]  # (T, N, H) without the batch axis
    np.testing.assert_allclose(ours(q, k, v), theirs(q, k, v), rtol=1e-5, atol=1e-6)
    qb, kb, vb = (a.astype(jnp.bfloat16) for a in (Q, K, V))
    got, want = ours(qb, kb, vb), theirs(qb, kb, vb)
    assert got.dtype == want.dtype == jnp.bfloat16
    np.testing.assert_array_equal(np.asarray(got, np.float32), np.asarray(want, np.float32))
    with pytest.raises(NotImplementedError, match="implementation='cudnn'"):
        nn.dot_product_attention(Q, K, V, implementation="cudnn")
    with pytest.raises(ValueError, match="multiple of the number of key/value heads"):
        nn.dot_product_attention(Q[:, :, :3], K, V)
    with pytest.raises(ValueError, match="mask must be boolean"):
        nn.dot_product_attention(Q, K, V, mask=MASK.astype(np.float32))


def test_causal_mask_is_computed_in_the_program():
    """No (T, S) boolean constant: the causal mask is an iota comparison XLA fuses."""
    program = fl.make_jaxpr(lambda q, k, v: nn.dot_product_attention(
        q, k, v, is_causal=True))(Q, K, V)
    text = str(program)
    assert "iota" in text and "bool[5,6] = le" in text
    assert all(np.ndim(c) == 0 for c in getattr(program, "consts", []))


# --- MultiHeadAttention --------------------------------------------------------------

def _rotate_half(x, positions, base=10000.0, scaling=1.0):
    """Hugging Face Llama's rotary embedding (rotate_half), positions (T,), with linear
    scaling (positions / scaling)."""
    d = x.shape[-1]
    inv = 1.0 / base ** (jnp.arange(0, d, 2, dtype=jnp.float32) / d)
    freqs = (positions.astype(jnp.float32) / scaling)[:, None] * inv
    emb = jnp.concatenate([freqs, freqs], -1)[:, None, :]  # (T, 1, D)
    rotated = jnp.concatenate([-x[..., d // 2:], x[..., :d // 2]], -1)
    return x * jnp.cos(emb) + rotated * jnp.sin(emb)


def _mha_ref(p, q_in, kv_in, v_in, num_heads, kv_heads, mask=None, causal=False,
             rotary=False):
    def proj(name, x, n):
        y = x @ p[name]["kernel"] + p[name]["bias"]
        return y.reshape(*y.shape[:-1], n, -1)
    q = proj("query", q_in, num_heads)
    k, v = proj("key", kv_in, kv_heads), proj("value", v_in, kv_heads)
    if rotary:
        q = _rotate_half(q, jnp.arange(q.shape[1]))
        k = _rotate_half(k, jnp.arange(k.shape[1]))
    out = jax.nn.dot_product_attention(q, k, v, mask=mask, is_causal=causal)
    out = out.reshape(*out.shape[:2], -1)
    return out @ p["out"]["kernel"] + p["out"]["bias"]


X = randn(RNG, 2, 5, 8)


def test_self_attention_causal_grouped_rotary():
    layer = nn.MultiHeadAttention(4, num_kv_heads=2, causal=True, rotary=nn.RotaryEmbedding())
    params = perturbed(layer.init(KEY, X)[0], RNG)
    assert params["key"]["kernel"].shape == (8, 4) and params["query"]["kernel"].shape == (8, 8)
    check_layer(lambda p, x: layer(p, x),
                lambda p, x: _mha_ref(p, x, x, x, 4, 2, causal=True, rotary=True),
                params, (X,), tol=1e-4)


def test_attention_bias_and_weight_dropout():
    """A logit bias, and dropout of the attention weights when training: the kept
    weights are those of jax.random.bernoulli with the layer's key (our PRNG is JAX's),
    scaled by 1 / (1 - rate)."""
    layer = nn.MultiHeadAttention(4, num_kv_heads=2, dropout_rate=0.5)
    bias = randn(RNG, 2, 4, 5, 5)
    params = perturbed(layer.init(KEY, X, bias=bias)[0], RNG)
    rng = fl.random.PRNGKey(7)

    def ref(p, x, bias):
        def heads(name, n):
            y = x @ p[name]["kernel"] + p[name]["bias"]
            return y.reshape(2, 5, n, 2)
        q, k, v = heads("query", 4), heads("key", 2), heads("value", 2)
        q = q.reshape(2, 5, 2, 2, 2)                              # (B, T, K, G, H)
        logits = jnp.einsum("btkgh,bskh->bkgts", q, k) / np.sqrt(2)
        logits = logits + bias.reshape(2, 2, 2, 5, 5)
        weights = jax.nn.softmax(logits, -1)
        keep = jax.random.bernoulli(jnp.asarray(rng), 0.5, weights.shape)
        weights = jnp.where(keep, weights / 0.5, 0)
        out = jnp.einsum("bkgts,bskh->btkgh", weights, v).reshape(2, 5, 8)
        return out @ p["out"]["kernel"] + p["out"]["bias"]
    check_layer(lambda p, x, bias: layer(p, x, bias=bias, training=True, rng=rng), ref,
                params, (X, bias), tol=1e-4, vmap=False)
    np.testing.assert_allclose(layer(params, X, bias=bias),  # no dropout unless training
                               layer(params, X, bias=bias, rng=rng), rtol=0)


def test_cross_attention_with_mask_and_separate_values():
    layer = nn.MultiHeadAttention(2, qkv_features=4, out_features=3)
    memory, values = randn(RNG, 2, 7, 6), randn(RNG, 2, 7, 5)
    mask = RNG.rand(2, 1, 5, 7) > 0.3
    params = perturbed(layer.init(KEY, X, memory, values, mask=mask)[0], RNG)
    assert params["value"]["kernel"].shape == (5, 4) and params["out"]["kernel"].shape == (4, 3)
    check_layer(lambda p, q, kv, v: layer(p, q, kv, v, mask=mask),
                lambda p, q, kv, v: _mha_ref(p, q, kv, v, 2, 2, mask=mask),
                params, (X, memory, values), tol=1e-4)


def test_decoding_cache_equals_full_causal_attention():
    """Prefill two tokens, then decode one at a time: the same outputs as causal
    attention over the whole sequence (with rotary positions and grouped heads); the
    cache index advances; a too-long chunk is refused."""
    x = randn(RNG, 2, 6, 8)
    options = dict(causal=True, num_kv_heads=2, rotary=nn.RotaryEmbedding(interleaved=True))
    full = nn.MultiHeadAttention(4, **options)
    decoder = nn.MultiHeadAttention(4, decode=True, **options)
    params = perturbed(full.init(KEY, x)[0], RNG)
    _, cache = decoder.init(KEY, x)
    assert cache["cached_key"].shape == (2, 6, 2, 2) and int(cache["cache_index"]) == 0
    step = fl.jit(lambda p, c, t: decoder.apply(p, c, t))
    outs = []
    for chunk in (x[:, :2], x[:, 2:3], x[:, 3:4], x[:, 4:5], x[:, 5:6]):
        y, cache = step(params, cache, chunk)
        outs.append(y)
    assert int(cache["cache_index"]) == 6
    np.testing.assert_allclose(np.concatenate(outs, 1), full(params, x), rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match="do not fit a cache of length 6"):
        decoder.apply(params, cache, randn(RNG, 2, 7, 8))


# --- positional embeddings ------------------------------------------------------------

def _keras_sine(length, hidden, start=0, max_wavelength=10000.0):
    """keras_hub.layers.SinePositionEncoding, written with jax.numpy."""
    positions = jnp.arange(length, dtype=jnp.float32) + start
    min_freq = jnp.float32(1 / max_wavelength)
    timescales = jnp.power(min_freq, (2 * (jnp.arange(hidden) // 2)).astype(jnp.float32)
                           / jnp.float32(hidden))
    angles = positions[:, None] * timescales[None, :]
    cos_mask = (jnp.arange(hidden) % 2).astype(jnp.float32)
    return jnp.sin(angles) * (1 - cos_mask) + jnp.cos(angles) * cos_mask


def _meta_rotary(x, positions, base=10000.0):
    """Meta's Llama: pairs (2i, 2i+1) as complex numbers times exp(i * angle)."""
    d = x.shape[-1]
    freqs = 1.0 / base ** (jnp.arange(0, d, 2)[: d // 2].astype(jnp.float32) / d)
    angles = positions.astype(jnp.float32)[:, None] * freqs  # (T, D/2)
    pairs = x.reshape(*x.shape[:-1], d // 2, 2)
    z = (pairs[..., 0] + 1j * pairs[..., 1]) * jnp.exp(1j * angles)[:, None, :]
    return jnp.stack([z.real, z.imag], -1).reshape(x.shape)


HEADS = randn(RNG, 2, 5, 3, 8)  # (batch, length, heads, head_dim)
POSITION_CASES = {
    "sinusoidal": (nn.SinusoidalPositionalEmbedding(), X, {},
                   lambda p, x: jnp.broadcast_to(_keras_sine(5, 8), x.shape)),
    "sinusoidal_start": (nn.SinusoidalPositionalEmbedding(100.0), X, {"start": 3},
                         lambda p, x: jnp.broadcast_to(_keras_sine(5, 8, 3, 100.0), x.shape)),
    "learned_start": (nn.PositionalEmbedding(9), X, {"start": 2},
                      lambda p, x: jnp.broadcast_to(p["embedding"][2:7], x.shape)),
    "learned_positions": (nn.PositionalEmbedding(9), X,
                          {"positions": np.array([4, 0, 8, 1, 1], np.int32)},
                          lambda p, x: jnp.broadcast_to(p["embedding"][jnp.array(
                              [4, 0, 8, 1, 1])], x.shape)),
    "rotary_half_split": (nn.RotaryEmbedding(), HEADS, {},
                          lambda p, x: _rotate_half(x, jnp.arange(5))),
    "rotary_scaled_positions": (nn.RotaryEmbedding(500.0, scaling_factor=2.0), HEADS,
                                {"positions": np.array([0, 3, 3, 7, 9], np.int32)},
                                lambda p, x: _rotate_half(x, jnp.array([0, 3, 3, 7, 9]),
                                                          500.0, 2.0)),
    "rotary_interleaved_start": (nn.RotaryEmbedding(interleaved=True), HEADS, {"start": 4},
                                 lambda p, x: _meta_rotary(x, jnp.arange(4, 9))),
}


@pytest.mark.parametrize("name", POSITION_CASES)
def test_positional_embeddings_match_reference_formulas(name):
    layer, x, kwargs, ref = POSITION_CASES[name]
    params = perturbed(layer.init(KEY, x, **kwargs)[0], RNG)
    check_layer(lambda p, x: layer(p, x, **kwargs), ref, params, (x,), tol=2e-5)


def test_positional_embedding_range_is_checked_and_traced_start_works():
    layer = nn.PositionalEmbedding(6)
    params, _ = layer.init(KEY, X)
    with pytest.raises(ValueError, match="positions 3..7"):
        layer(params, X, start=3)
    at = fl.jit(lambda p, x, s: layer(p, x, start=s))
    np.testing.assert_array_equal(at(params, X[:, :2], 3)[0], params["embedding"][3:5])
