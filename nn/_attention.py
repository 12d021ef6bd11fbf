"""`MultiHeadAttention`: self- and cross-attention, grouped-query heads, rotary
positions, and a key/value cache in `state` for autoregressive decoding."""
from typing import Any, Callable

import numpy as np

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._attention_functions import dot_product_attention, position_mask
from ._linear import Dense
from ._layer import Layer


class MultiHeadAttention(Layer):
    """Multi-head attention over inputs (batch, length, features).

    `apply(params, state, query, key_value=None, value=None, mask=None, bias=None)`:
    self-attention when `key_value` is None, cross-attention otherwise (keys from
    `key_value`, values from `value`, default `key_value`). `mask` (boolean, True =
    attend) and `bias` (added to the logits) broadcast to (batch, heads, q_length,
    kv_length); `causal=True` lets query i see keys up to i (computed in the program,
    no stored mask).

    Sub-layers `query`, `key`, `value` (Dense to `qkv_features`, default the query's
    width; keys and values to `num_kv_heads` heads for grouped-query attention) and
    `out` (Dense to `out_features`, default the query's width). `rotary`: a
    `RotaryEmbedding` applied to queries and keys. Dropout on the attention weights
    when training.

    `implementation` as in `dot_product_attention` (None: XLA; 'cudnn': cuDNN's fused
    kernel on an NVIDIA GPU).

    Decoding (`decode=True`, self-attention): `init` with inputs (batch, max_length,
    features) creates the cache in `state` (`cached_key`, `cached_value` and
    `cache_index`); each `apply` on the next token(s) (batch, n, features) writes their
    keys and values at `cache_index`, attends over the cache up to them, and advances
    the index. Reset by taking the state from `init` again.
    """
    num_heads: int
    qkv_features: Any = None
    out_features: Any = None
    num_kv_heads: Any = None
    dropout_rate: float = 0.0
    causal: bool = False
    use_bias: bool = True
    rotary: Any = None
    decode: bool = False
    implementation: Any = None
    kernel_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def _dense(self, features):
        return Dense(features, self.use_bias, self.kernel_init, self.bias_init,
                     dtype=self.dtype, param_dtype=self.param_dtype)

    def forward(self, scope, query, key_value=None, value=None, mask=None, bias=None):
        self_attention = key_value is None
        key_value = query if self_attention else key_value
        value = key_value if value is None else value
        for name, x in (("query", query), ("key_value", key_value), ("value", value)):
            if x.ndim != 3:
                raise ValueError(f"MultiHeadAttention takes (batch, length, features) "
                                 f"inputs, got {name} of shape {tuple(x.shape)}")
        features = self.qkv_features or query.shape[-1]
        kv_heads = self.num_kv_heads or self.num_heads
        if features % self.num_heads or self.num_heads % kv_heads:
            raise ValueError(f"qkv_features={features} must be a multiple of num_heads="
                             f"{self.num_heads}, and num_heads of num_kv_heads={kv_heads}")
        head_dim = features // self.num_heads

        def heads(name, x, n):
            y = scope.child(name, self._dense(n * head_dim))(x)
            return fnp.reshape(y, (*y.shape[:-1], n, head_dim))

        q = heads("query", query, self.num_heads)
        k, v = heads("key", key_value, kv_heads), heads("value", value, kv_heads)
        causal = self.causal
        if self.decode and self_attention and not scope.initializing:
            k, v, q_positions, k_positions, valid = _update_cache(scope, k, v,
                                                                  self.rotary)
            if self.rotary is not None:
                q = self.rotary.rotate(q, q_positions)
            # the cache's valid prefix, and causality by position
            positional = position_mask(q_positions, k_positions, causal=causal,
                                       kv_length=valid)
            mask = positional if mask is None else fnp.logical_and(mask, positional)
            causal = False
        else:
            if self.decode and self_attention:
                _cache(scope, k)  # declares the cache, shaped like init's keys
            if self.rotary is not None:
                q = self.rotary.rotate(q, lax.iota(np.int32, q.shape[1]))
                k = self.rotary.rotate(k, lax.iota(np.int32, k.shape[1]))
        dropout = self.dropout_rate if scope.training else 0.0
        out = dot_product_attention(q, k, v, bias, mask, is_causal=causal,
                                    dropout_rate=dropout,
                                    dropout_rng=scope.rng if dropout else None,
                                    implementation=self.implementation)
        out = fnp.reshape(out, (*out.shape[:2], features))
        return scope.child("out", self._dense(self.out_features or query.shape[-1]))(out)


def _cache(scope, k):
    """The cache (cached_key, cached_value, cache_index); `k`'s shape is the cache's
    when `init` declares it and is not used afterwards."""
    zeros = initializers.zeros
    return (scope.state("cached_key", k.shape, zeros, k.dtype),
            scope.state("cached_value", k.shape, zeros, k.dtype),
            scope.state("cache_index", (), zeros, np.int32))


def _update_cache(scope, k, v, rotary):
    """Write the new keys and values (rotated at their positions) at the cache index;
    returns the whole cache, the positions of the new queries and of the cache, and
    the number of valid cache entries."""
    cached_k, cached_v, start = _cache(scope, k)
    n = k.shape[1]
    if n > cached_k.shape[1]:
        raise ValueError(f"MultiHeadAttention(decode=True): {n} new positions do not fit "
                         f"a cache of length {cached_k.shape[1]}")
    q_positions = start + lax.iota(np.int32, n)
    if rotary is not None:
        k = rotary.rotate(k, q_positions)
    keys = lax.dynamic_update_slice_in_dim(cached_k, k.astype(cached_k.dtype), start, 1)
    values = lax.dynamic_update_slice_in_dim(cached_v, v.astype(cached_v.dtype), start, 1)
    scope.set_state("cached_key", keys)
    scope.set_state("cached_value", values)
    scope.set_state("cache_index", start + n)
    return keys, values, q_positions, lax.iota(np.int32, keys.shape[1]), start + n
