"""nn.dot_product_attention against jax.nn.dot_product_attention: values, gradients
and vmap of the XLA computation on this machine, and the cuDNN fused-attention custom
calls (forward, backward, batched) compared with JAX's lowering for 'cuda' (checked on
any machine); on a GPU the cuDNN kernel's values too (gpu-marked)."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import nn
from harness import assert_close
from lowered import jax_text, op_counts, our_text, signatures

rng = np.random.RandomState(0)
F32 = np.float32
Q = rng.randn(2, 5, 4, 8).astype(F32)      # (B, T, N, H)
K = rng.randn(2, 6, 2, 8).astype(F32)      # (B, S, K, H): grouped queries, G = 2
V = rng.randn(2, 6, 2, 8).astype(F32)
BIAS = rng.randn(1, 4, 5, 6).astype(F32)
MASK = rng.rand(2, 1, 5, 6) > 0.3

CASES = {
    "plain": ((Q, K, V), {}),
    "bias": ((Q, K, V, BIAS), {}),
    "mask": ((Q, K, V, None, MASK), {}),
    "bias_mask_causal": ((Q, K, V, BIAS, MASK), {"is_causal": True}),
    "scale": ((Q, K, V), {"scale": 0.5}),
    "seq_lengths": ((Q, K, V), {"query_seq_lengths": np.array([3, 5], np.int32),
                                "key_value_seq_lengths": np.array([6, 2], np.int32)}),
    "local_window": ((Q, K, V), {"local_window_size": (2, 1)}),
    "unbatched_3d": ((Q[0], K[0], V[0]), {"is_causal": True}),
}


def _both(args, kw):
    ours = fl.jit(lambda *a: fl.nn.dot_product_attention(*a, **kw))
    return ours(*args), jax.nn.dot_product_attention(*args, **kw)


@pytest.mark.parametrize("name", list(CASES))
def test_xla_values_match_jax(name):
    args, kw = CASES[name]
    got, want = _both(args, kw)
    assert_close(got, want, 1e-5, 1e-5, name)


def test_xla_grads_and_vmap_match_jax():
    def loss(mod):
        return lambda q, k, v, b: mod.nn.dot_product_attention(
            q, k, v, b, MASK, is_causal=True).sum()
    got = fl.jit(fl.grad(loss(fl), argnums=(0, 1, 2, 3)))(Q, K, V, BIAS)
    want = jax.grad(loss(jax), argnums=(0, 1, 2, 3))(Q, K, V, BIAS)
    assert_close(got, want, 1e-4, 1e-4, "grads")
    qs = np.stack([Q, 2 * Q])
    got = fl.vmap(lambda q: fl.nn.dot_product_attention(q, K, V, BIAS, MASK))(qs)
    want = jax.vmap(lambda q: jax.nn.dot_product_attention(q, K, V, BIAS, MASK))(qs)
    assert_close(got, want, 1e-5, 1e-5, "vmap")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_xla_products_lower_as_jax(dtype):
    """Grouped heads are vmapped as in JAX; the products (bf16 ones with the
    BF16_BF16_F32 algorithm) match JAX's dot_generals one for one."""
    args = [x.astype(jnp.dtype(dtype)) for x in (Q, K, V)]
    got = our_text(lambda q, k, v: fl.nn.dot_product_attention(q, k, v, is_causal=True),
                   *args)
    want = jax_text(lambda q, k, v: jax.nn.dot_product_attention(q, k, v, is_causal=True),
                    *args)
    assert signatures(got, "stablehlo.dot_general") == \
        signatures(want, "stablehlo.dot_general")


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="multiple of key/value heads"):
        fl.nn.dot_product_attention(Q[:, :, :3], K, V)
    with pytest.raises(ValueError, match="mask dtype should be bool"):
        fl.nn.dot_product_attention(Q, K, V, mask=MASK.astype(F32))
    with pytest.raises(ValueError, match="Unsupported implementation"):
        fl.nn.dot_product_attention(Q, K, V, implementation="flash")
    with pytest.raises(NotImplementedError, match="float16 or bfloat16"):
        fl.nn.dot_product_attention(Q, K, V, implementation="cudnn")


# --- cuDNN's fused kernel: the custom calls JAX writes -------------------------------

BF16 = jnp.bfloat16
QB = np.ones((2, 128, 4, 64), BF16)
BB = np.ones((1, 4, 128, 128), BF16)
MB = np.ones((2, 1, 128, 128), bool)
CUSTOM_CALL = "stablehlo.custom_call"


@pytest.fixture(scope="module")
def jax_cudnn_lowering():
    """JAX checks for cuDNN while tracing; pretend it is there (cuDNN 9.10), as JAX
    needs nothing else to lower for 'cuda'."""
    try:
        from jax._src.cudnn import fused_attention_stablehlo as fused
        saved = fused.check_cudnn_version
    except (ImportError, AttributeError):
        pytest.skip(f"jax {jax.__version__} moved its cuDNN attention module, so JAX's "
                    f"cuda lowering cannot be produced on this machine")
    fused.check_cudnn_version = lambda: 91000
    yield
    fused.check_cudnn_version = saved


def _cudnn(mod, **kw):
    return lambda q, k, v, *bm: mod.nn.dot_product_attention(q, k, v, *bm,
                                                              implementation="cudnn", **kw)


def _grad(mod, grad, **kw):
    return lambda q, k, v, *b: grad(lambda q, k, v, *b: _cudnn(mod, **kw)(
        q, k, v, *b, *([MB] if b else [])).astype(F32).sum(),
        argnums=tuple(range(3 + len(b))))(q, k, v, *b)


CUDNN_PROGRAMS = {
    "causal": (lambda m, g: _cudnn(m, is_causal=True), (QB, QB, QB)),
    "bias_mask": (lambda m, g: lambda q, k, v, b: _cudnn(m, scale=0.3)(q, k, v, b, MB),
                  (QB, QB, QB, BB)),
    "grad_causal": (lambda m, g: _grad(m, g, is_causal=True), (QB, QB, QB)),
    "grad_bias_mask": (lambda m, g: _grad(m, g, scale=0.3), (QB, QB, QB, BB)),
    "vmap": (lambda m, g: (fl.vmap if m is fl else jax.vmap)(
        lambda q: _cudnn(m, is_causal=True)(q, q, q)), (np.ones((3, 2, 128, 4, 64), BF16),)),
}


@pytest.mark.parametrize("name", list(CUDNN_PROGRAMS))
def test_cudnn_custom_calls_lower_as_jax(name, jax_cudnn_lowering):
    make, args = CUDNN_PROGRAMS[name]
    got = our_text(make(fl, fl.grad), *args)
    want = jax_text(make(jax, jax.grad), *args)
    assert signatures(got, CUSTOM_CALL) == signatures(want, CUSTOM_CALL)
    assert op_counts(got)["stablehlo.transpose"] == op_counts(want)["stablehlo.transpose"]


def test_cudnn_elsewhere_says_it_needs_an_nvidia_gpu():
    if fl._runtime.platform() == "cuda":
        pytest.skip("this machine has an NVIDIA GPU: the kernel runs (gpu tests)")
    with pytest.raises(RuntimeError, match="needs an NVIDIA GPU.*implementation=None"):
        _cudnn(fl, is_causal=True)(QB, QB, QB)


def test_multi_head_attention_uses_cudnn_where_it_applies(monkeypatch):
    """bf16 attention in nn.MultiHeadAttention takes cuDNN's kernel on an NVIDIA GPU
    (shown here by tracing as if on one) and XLA for float32 or elsewhere."""
    x = np.ones((2, 128, 256), F32)
    with nn.set_dtype_policy("mixed_bfloat16"):  # layers compute in bfloat16
        mixed = nn.MultiHeadAttention(num_heads=4, causal=True)
    full = nn.MultiHeadAttention(num_heads=4, causal=True)
    params, state = full.init(fl.random.PRNGKey(0), x)
    in_bf16 = lambda p, x: mixed.apply(p, state, x)[0]
    in_f32 = lambda p, x: full.apply(p, state, x)[0]
    assert "__cudnn$fmha" not in our_text(in_bf16, params, x)
    monkeypatch.setattr(fl._runtime, "platform", lambda: "cuda")
    # a new function: jit keeps one trace per function, and the platform changed
    in_bf16 = lambda p, x: mixed.apply(p, state, x)[0]  # noqa: E731
    assert "__cudnn$fmha" in our_text(in_bf16, params, x)
    assert "__cudnn$fmha" not in our_text(in_f32, params, x)


@pytest.mark.gpu
def test_cudnn_values_and_grads_match_jax_on_gpu():
    q = (rng.randn(2, 128, 4, 64) * 0.5).astype(BF16)
    for kw in ({}, {"is_causal": True}):
        got = fl.jit(_cudnn(fl, **kw))(q, q, q)
        want = jax.jit(_cudnn(jax, **kw))(q, q, q)
        np.testing.assert_array_equal(np.asarray(got, F32), np.asarray(want, F32))
    got = fl.jit(_grad(fl, fl.grad, is_causal=True))(q, q, q)
    want = jax.jit(_grad(jax, jax.grad, is_causal=True))(q, q, q)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g, F32), np.asarray(w, F32))
