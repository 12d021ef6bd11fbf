"""Scaled dot-product attention and `MultiHeadAttention` (masks, causal)."""
import math
from typing import Any, Callable

import numpy as np

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._linear import Dense
from ._layer import Layer


def causal_mask(q_length, kv_length=None):
    """A (q_length, kv_length) boolean mask: query i sees keys 0..i (a host constant)."""
    kv_length = q_length if kv_length is None else kv_length
    return np.tril(np.ones((q_length, kv_length), dtype=bool), kv_length - q_length)


def cudnn_applies(query, key, dropout_rate=0.0):
    """Whether cuDNN's fused attention kernel can compute this attention here: an
    NVIDIA GPU, float16/bfloat16 inputs, no dropout, head dim a multiple of 8 and at
    most 128 (256 from Hopper on)."""
    from functorch_lite._attention import _hopper_or_later
    d = query.shape[-1]
    return (fl._runtime.platform() == "cuda" and dropout_rate == 0.0
            and np.dtype(query.dtype).name in ("float16", "bfloat16")
            and query.dtype == key.dtype and d % 8 == 0
            and d <= (256 if _hopper_or_later() else 128))


def dot_product_attention(query, key, value, mask=None, *, dropout_rate=0.0,
                          dropout_rng=None, implementation=None):
    """softmax(q k^T / sqrt(d)) v for inputs (batch, length, heads, head_dim).

    `mask` (True = attend) broadcasts to (batch, heads, q_length, kv_length). Returns
    (batch, q_length, heads, head_dim). Dropout on the weights needs `dropout_rng`.
    implementation: None (cuDNN's fused kernel where `cudnn_applies`, else XLA),
    'xla' or 'cudnn'.
    """
    if implementation == "cudnn" or (implementation is None and
                                     cudnn_applies(query, key, dropout_rate)):
        if dropout_rate > 0.0:
            raise NotImplementedError("attention dropout with implementation='cudnn'")
        return fl.nn.dot_product_attention(query, key, value, mask=mask,
                                           implementation="cudnn")
    if implementation not in (None, "xla"):
        raise ValueError(f"implementation must be None, 'xla' or 'cudnn', got "
                         f"{implementation!r}")
    b, lq, h, d = query.shape
    lk = key.shape[1]
    # (b, lq, h, d) x (b, lk, h, d) -> (b, h, lq, lk)
    logits = lax.dot_general(query, key, (((3,), (3,)), ((0, 2), (0, 2))))
    if np.dtype(logits.dtype) != np.float32:
        logits = lax.convert_element_type(logits, np.float32)
    logits = logits / np.float32(math.sqrt(d))
    if mask is not None:
        mask = fnp.broadcast_to(mask, (b, h, lq, lk))
        logits = fnp.where(mask, logits, np.finfo(np.float32).min)
    weights = fl.nn.softmax(logits, axis=-1)
    if dropout_rate > 0.0:
        keep = fl.random.bernoulli(dropout_rng, 1.0 - dropout_rate, weights.shape)
        weights = fnp.where(keep, weights / (1.0 - dropout_rate), 0)
    weights = lax.convert_element_type(weights, value.dtype)
    # (b, h, lq, lk) x (b, lk, h, d) -> (b, h, lq, d) -> (b, lq, h, d)
    out = lax.dot_general(weights, value, (((3,), (1,)), ((0, 1), (0, 2))))
    return lax.transpose(out, (0, 2, 1, 3))


class MultiHeadAttention(Layer):
    """Multi-head attention over inputs (batch, length, features).

    `apply(params, state, query, key_value=None, mask=None)`: self-attention when
    `key_value` is None. `mask` (True = attend) broadcasts to (batch, heads, q_length,
    kv_length); `causal=True` adds the causal mask. `implementation` as in
    `dot_product_attention` (None: cuDNN's fused kernel on an NVIDIA GPU for float16/
    bfloat16 inputs, XLA otherwise). Sub-layers `query`, `key`, `value`
    (Dense to `qkv_features`, default the query's width) and `out` (Dense to
    `out_features`, default the query's width). Dropout on the attention weights when
    training.
    """
    num_heads: int
    qkv_features: Any = None
    out_features: Any = None
    dropout_rate: float = 0.0
    causal: bool = False
    use_bias: bool = True
    implementation: Any = None
    kernel_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def _dense(self, features):
        return Dense(features, self.use_bias, self.kernel_init, self.bias_init)

    def forward(self, scope, query, key_value=None, mask=None):
        key_value = query if key_value is None else key_value
        if query.ndim != 3 or key_value.ndim != 3:
            raise ValueError(f"MultiHeadAttention takes (batch, length, features) inputs, "
                             f"got {tuple(query.shape)} and {tuple(key_value.shape)}")
        features = self.qkv_features or query.shape[-1]
        if features % self.num_heads:
            raise ValueError(f"qkv_features={features} is not a multiple of "
                             f"num_heads={self.num_heads}")
        head_dim = features // self.num_heads

        def heads(name, x):
            y = scope.child(name, self._dense(features))(x)
            return fnp.reshape(y, (*y.shape[:-1], self.num_heads, head_dim))

        q, k, v = heads("query", query), heads("key", key_value), heads("value", key_value)
        if self.causal:
            causal = causal_mask(query.shape[1], key_value.shape[1])
            mask = causal if mask is None else fnp.logical_and(mask, causal)
        dropout = self.dropout_rate if scope.training else 0.0
        out = dot_product_attention(q, k, v, mask, dropout_rate=dropout,
                                    dropout_rng=scope.rng if dropout else None,
                                    implementation=self.implementation)
        out = fnp.reshape(out, (*out.shape[:2], features))
        return scope.child("out", self._dense(self.out_features or query.shape[-1]))(out)
