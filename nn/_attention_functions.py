"""`dot_product_attention`, with `jax.nn.dot_product_attention`'s signature and
semantics (bias, boolean mask, `is_causal`, `scale`, sequence lengths, local windows,
grouped-query attention, `return_residual`), plus dropout on the weights for layers.

Masks built from positions (causal, local window, sequence lengths, the decoding
cache) are computed inside the program from `iota` comparisons, which XLA fuses into
the `select` before the softmax: no (T, S) mask is ever stored.
"""
import numpy as np

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from functorch_lite.dtypes import promote_types


def causal_mask(q_length, kv_length=None):
    """A (q_length, kv_length) boolean host mask: query i sees keys 0..i + (kv_length -
    q_length) (the queries are the last `q_length` positions)."""
    kv_length = q_length if kv_length is None else kv_length
    return np.tril(np.ones((q_length, kv_length), dtype=bool), kv_length - q_length)


def position_mask(q_positions, k_positions, *, causal=False, window=None, kv_length=None):
    """A boolean mask (..., T, S) from query and key positions (int arrays (..., T) and
    (..., S), traced or not): key j is visible to query i when j <= i (`causal`),
    i - left <= j <= i + right (`window` = (left, right)) and j < kv_length."""
    q = fnp.expand_dims(q_positions, -1)
    k = fnp.expand_dims(k_positions, -2)
    mask = None

    def both(a, b):
        return b if a is None else fnp.logical_and(a, b)
    if causal:
        mask = both(mask, k <= q)
    if window is not None:
        left, right = window
        mask = both(mask, fnp.logical_and(q <= k + left, q >= k - right))
    if kv_length is not None:
        mask = both(mask, k < fnp.expand_dims(kv_length, -1))
    return mask


def _ensure_4d(t):
    return None if t is None else fnp.reshape(t, (1,) * (4 - t.ndim) + tuple(t.shape))


def _grouped(t, shape):
    """A (b, n, t, s) mask or bias as (B, K, G, T, S): n is 1 or N = K * G."""
    b, n, tq, s = t.shape
    B, K, G, T, S = shape
    t = fnp.reshape(t, (b, 1, 1, tq, s) if n == 1 else (b, K, G, tq, s))
    return fnp.broadcast_to(t, shape)


def _large_negative(dtype):
    return np.asarray(-0.7 * min(float(np.finfo(dtype).max), float(np.finfo(np.float32).max)),
                      dtype)


def cudnn_applies(query, key, local_window_size=None, query_seq_lengths=None,
                  key_value_seq_lengths=None):
    """Whether cuDNN's fused attention kernel computes this attention here: an NVIDIA
    GPU, float16/bfloat16 inputs of one dtype, head dim a multiple of 8 and at most 128
    (256 from Hopper on), no sequence lengths or local window."""
    from functorch_lite._attention import _hopper_or_later
    d = query.shape[-1]
    return (fl._runtime.platform() == "cuda"
            and np.dtype(query.dtype).name in ("float16", "bfloat16")
            and query.dtype == key.dtype and d % 8 == 0
            and d <= (256 if _hopper_or_later() else 128)
            and local_window_size is None and query_seq_lengths is None
            and key_value_seq_lengths is None)


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False, query_seq_lengths=None,
                          key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual=False, dropout_rate=0.0,
                          dropout_rng=None):
    """softmax(q k^T * scale + bias, masked) v, as `jax.nn.dot_product_attention`.

    Shapes: query (B, T, N, H), key and value (B, S, K, H) with N a multiple of K
    (grouped-query attention), or the same without the batch axis. `bias` (added to
    the logits) and `mask` (boolean, True = attend) broadcast to (B, N, T, S).
    `is_causal`: query i sees keys 0..i (top-left aligned, as JAX). `scale` defaults to
    1 / sqrt(H). `query_seq_lengths` / `key_value_seq_lengths` (int32 (B,)) mask
    padding; `local_window_size` (left, right) or an int limits each query to a band.
    Logits and softmax are computed in float32 at least. Returns (B, T, N, H) (and the
    log-sum-exp of the logits, (B, T, N), with `return_residual`). Beyond JAX:
    `dropout_rate` with `dropout_rng` drops attention weights (for training).
    `implementation`: None (cuDNN's fused kernel where `cudnn_applies`, else XLA),
    'xla' or 'cudnn'.
    """
    if implementation is None and not (dropout_rate or return_residual) and \
            cudnn_applies(query, key, local_window_size, query_seq_lengths,
                          key_value_seq_lengths):
        implementation = "cudnn"
    if implementation == "cudnn":  # cuDNN's fused kernel (NVIDIA GPUs), as jax.nn's
        if dropout_rate or return_residual:
            raise NotImplementedError(
                "dot_product_attention(implementation='cudnn') with dropout_rate or "
                "return_residual: use implementation=None or 'xla'")
        return fl.nn.dot_product_attention(
            query, key, value, bias, mask, scale=scale, is_causal=is_causal,
            query_seq_lengths=query_seq_lengths,
            key_value_seq_lengths=key_value_seq_lengths,
            local_window_size=local_window_size, implementation="cudnn")
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation must be None, 'xla' or "
                         f"'cudnn', got {implementation!r}")
    output_shape = tuple(query.shape)
    query, key, value = (_ensure_4d(fnp.asarray(t)) for t in (query, key, value))
    bias, mask = _ensure_4d(bias), _ensure_4d(mask)
    B, S, K, H = key.shape
    _, T, N, _ = query.shape
    _check(query, key, value, mask, N, K, H, B, S)
    if isinstance(local_window_size, (int, np.integer)):
        local_window_size = (int(local_window_size), int(local_window_size))
    scale = 1.0 / np.sqrt(H) if scale is None else scale
    G = N // K
    grouped = (B, K, G, T, S)

    logits_dtype = promote_types(query.dtype, np.float32)
    q = fnp.reshape(query, (B, T, K, G, H))
    # (B, T, K, G, H) x (B, S, K, H) -> (B, K, T, G, S) -> (B, K, G, T, S)
    logits = lax.dot_general(q, key, (((4,), (3,)), ((0, 2), (0, 2))),
                             preferred_element_type=logits_dtype)
    logits = lax.transpose(logits, (0, 1, 3, 2, 4))
    logits = logits * np.asarray(scale, logits_dtype)
    if bias is not None:
        logits = (logits + _grouped(bias, grouped)).astype(logits_dtype)

    combined = None if mask is None else _grouped(mask, grouped)
    positions = position_mask(lax.iota(np.int32, T), lax.iota(np.int32, S),
                              causal=is_causal, window=local_window_size)
    if positions is not None:
        combined = positions if combined is None else fnp.logical_and(combined, positions)
    if query_seq_lengths is not None or key_value_seq_lengths is not None:
        padding = _padding_mask(T, S, query_seq_lengths, key_value_seq_lengths)
        combined = padding if combined is None else fnp.logical_and(combined, padding)
    if combined is not None:
        logits = fnp.where(combined, logits, _large_negative(logits_dtype))

    logits = logits.astype(np.float32)
    probs = fl.nn.softmax(logits, axis=-1)
    if dropout_rate > 0.0:
        keep = fl.random.bernoulli(dropout_rng, 1.0 - dropout_rate, probs.shape)
        probs = fnp.where(keep, probs / (1.0 - dropout_rate), 0)
    probs = probs.astype(key.dtype)
    # (B, K, G, T, S) x (B, S, K, H) -> (B, K, G, T, H) -> (B, T, K, G, H)
    encoded = lax.dot_general(probs, value, (((4,), (1,)), ((0, 1), (0, 2))))
    encoded = fnp.reshape(lax.transpose(encoded, (0, 3, 1, 2, 4)), (B, T, N, H))
    if query_seq_lengths is not None:
        valid = lax.iota(np.int32, T)[None, :] < fnp.asarray(query_seq_lengths)[:, None]
        encoded = encoded * valid[:, :, None, None].astype(encoded.dtype)
    encoded = fnp.reshape(encoded, output_shape)
    if not return_residual:
        return encoded
    lse = fl.nn.logsumexp(logits, axis=-1).astype(key.dtype)  # (B, K, G, T)
    lse = fnp.reshape(lax.transpose(lse, (0, 3, 1, 2)), (B, T, N))
    return encoded, lax.stop_gradient(fnp.reshape(lse, output_shape[:-1]))


def _padding_mask(T, S, q_lengths, kv_lengths):
    """(B, 1, 1, T, S): query t and key s are both within their sequence lengths."""
    mask = True
    if q_lengths is not None:
        mask = lax.iota(np.int32, T)[None, :, None] < fnp.asarray(q_lengths)[:, None, None]
    if kv_lengths is not None:
        kv = lax.iota(np.int32, S)[None, None, :] < fnp.asarray(kv_lengths)[:, None, None]
        mask = fnp.logical_and(mask, kv)
    return mask[:, None, None, :, :]


def _check(query, key, value, mask, N, K, H, B, S):
    if tuple(value.shape) != (B, S, K, H) or value.dtype != key.dtype:
        raise ValueError(f"dot_product_attention: value must have key's shape and dtype "
                         f"{key.dtype}{[B, S, K, H]}, got {value.dtype}{list(value.shape)}")
    if query.shape[0] != B or query.shape[3] != H or query.dtype != key.dtype:
        raise ValueError(f"dot_product_attention: query {query.dtype}{list(query.shape)} "
                         f"must match key {key.dtype}{list(key.shape)} in batch, head size "
                         f"and dtype")
    if mask is not None and mask.dtype != np.bool_:
        raise ValueError(f"dot_product_attention: mask must be boolean, got {mask.dtype}; "
                         f"pass additive float masks as bias")
    if N % K:
        raise ValueError(f"dot_product_attention: the number of query heads ({N}) must be "
                         f"a multiple of the number of key/value heads ({K})")
