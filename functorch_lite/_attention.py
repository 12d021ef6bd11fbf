"""`nn.dot_product_attention` (as `jax.nn.dot_product_attention`): the XLA computation
JAX writes, and on NVIDIA GPUs the fused cuDNN attention kernel JAX calls with
`implementation="cudnn"` (custom calls `__cudnn$fmha...`, forward and backward, with
the backend configuration JAX writes; see jax/_src/cudnn/fused_attention_stablehlo.py).

Shapes: query (B, T, N, H), key and value (B, S, K, H) with N a multiple of K (grouped
queries); bias and mask broadcast to (B, N, T, S); a mask is True where attention is
allowed. Also accepted without the batch dimension (3-D), as JAX.
"""
import json

import numpy as np
import jax

from . import _dtypes, lax, numpy as fnp
from ._batching import bdim_at_front
from ._core import Primitive, ShapedArray, get_aval
from ._custom_vjp import custom_vjp
from ._lowering import target_platform, ir_type
from ._api_vmap import vmap


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False, query_seq_lengths=None,
                          key_value_seq_lengths=None, local_window_size=None,
                          implementation=None):
    """softmax(scale * q k^T + bias, masked) v, as `jax.nn.dot_product_attention`.

    implementation: None or 'xla' (XLA's own ops, on every backend; what JAX runs for
    None), or 'cudnn' (cuDNN's fused kernel; NVIDIA GPUs, float16/bfloat16 inputs,
    head dim a multiple of 8 and at most 128, or 256 on Hopper and later).
    """
    output_shape = get_aval(query).shape
    q, k, v = (_ensure_4d(fnp.asarray(t)) for t in (query, key, value))
    bias = None if bias is None else _ensure_4d(fnp.asarray(bias))
    mask = None if mask is None else _ensure_4d(fnp.asarray(mask))
    B, S, K, H = get_aval(k).shape
    _check("value", v, (B, S, K, H), get_aval(k).dtype)
    _check("query", q, (B, -1, -1, H), get_aval(k).dtype)
    _check("mask", mask, (-1,) * 4, np.dtype(bool))
    _check("bias", bias, (-1,) * 4, None)
    for name, lengths in (("query_seq_lengths", query_seq_lengths),
                          ("key_value_seq_lengths", key_value_seq_lengths)):
        _check(name, None if lengths is None else fnp.asarray(lengths), (B,),
               np.dtype(np.int32))
    if get_aval(q).shape[-2] % K:
        raise ValueError(f"The number of query heads must be a multiple of key/value "
                         f"heads, but got {get_aval(q).shape[-2]} vs {K}")
    if isinstance(local_window_size, int):
        local_window_size = (local_window_size, local_window_size)
    scale = float(1.0 / np.sqrt(H)) if scale is None else scale
    if implementation in (None, "xla"):
        out = _attention_xla(q, k, v, bias, mask, is_causal, scale, query_seq_lengths,
                             key_value_seq_lengths, local_window_size)
    elif implementation == "cudnn":
        if query_seq_lengths is not None or key_value_seq_lengths is not None or \
                local_window_size is not None:
            raise NotImplementedError(
                "dot_product_attention(implementation='cudnn') with sequence lengths or "
                "a local window is not supported by functorch_lite; use "
                "implementation='xla'")
        out = _attention_cudnn(q, k, v, bias, mask, is_causal, scale)
    else:
        raise ValueError(f"Unsupported implementation option: {implementation!r} (None, "
                         f"'xla' or 'cudnn')")
    return fnp.reshape(out, output_shape)


def _ensure_4d(t):
    return fnp.expand_dims(t, tuple(range(4 - t.ndim))) if t.ndim < 4 else t


def _check(name, t, shape, dtype):
    if t is None:
        return
    if t.ndim != len(shape):
        raise ValueError(f"{name} ndim should be {len(shape)}, but got {t.ndim}")
    if dtype is not None and t.dtype != dtype:
        raise ValueError(f"{name} dtype should be {dtype}, but got {t.dtype}")
    if any(want != -1 and got != want for got, want in zip(t.shape, shape)):
        raise ValueError(f"{name} shape should be {shape}: but got {t.shape}")


# --- the XLA computation (JAX's _dot_product_attention_xla) --------------------------

def _attention_xla(q, k, v, bias, mask, is_causal, scale, q_seqlen, kv_seqlen, window):
    B, T, N, H = q.shape
    _, S, K, _ = k.shape
    G = N // K
    q = fnp.reshape(q, (B, T, K, G, H))

    def grouped(t):  # (B, N, T, S) -> (B, K, G, T, S)
        if t is None:
            return None
        tB, tN, tT, tS = t.shape
        if tN == 1:
            return fnp.broadcast_to(t[:, :, None, :, :], (tB, tN, G, tT, tS))
        return fnp.reshape(t, (tB, K, G, tT, tS))

    core = vmap(lambda q, b, m: _attention_core(q, k, v, b, m, is_causal, scale,
                                                q_seqlen, kv_seqlen, window),
                in_axes=(3, None if bias is None else 2, None if mask is None else 2),
                out_axes=3)
    return fnp.reshape(core(q, grouped(bias), grouped(mask)), (B, T, N, H))


def _attention_core(q, k, v, bias, mask, is_causal, scale, q_seqlen, kv_seqlen, window):
    logits_dtype = _dtypes.promote_types(q.dtype, np.float32)
    # bf16/f16 inputs: products in the input type, accumulated in f32 (as JAX)
    precision = {np.dtype(_dtypes.bfloat16): "BF16_BF16_F32",
                 np.dtype(np.float16): "F16_F16_F32"}.get(np.dtype(q.dtype))
    logits = fnp.einsum("BTNH,BSNH->BNTS", q, k, precision=precision,
                        preferred_element_type=logits_dtype)
    logits = logits * fnp.array(scale, dtype=logits.dtype)
    if bias is not None:
        logits = (logits + bias).astype(logits.dtype)
    logits = _apply_masks(logits, mask, is_causal, q_seqlen, kv_seqlen, window)
    from .nn import softmax  # nn re-exports this module
    probs = softmax(logits.astype(np.float32), axis=-1).astype(k.dtype)
    encoded = fnp.einsum("BNTS,BSNH->BTNH", probs, v)
    if q_seqlen is not None:
        valid = fnp.arange(encoded.shape[1])[None, :] < q_seqlen[:, None]
        encoded = encoded * valid[:, :, None, None].astype(encoded.dtype)
    return encoded


def _apply_masks(logits, mask, is_causal, q_seqlen, kv_seqlen, window):
    if mask is None and not is_causal and q_seqlen is None and kv_seqlen is None and \
            window is None:
        return logits
    combined = fnp.ones_like(logits, dtype=bool)
    if mask is not None:
        combined = fnp.logical_and(combined, mask)
    T, S = logits.shape[2], logits.shape[3]
    if is_causal:
        combined = fnp.logical_and(combined, fnp.tril(fnp.ones((T, S), dtype=bool))[None, None])
    if window is not None:
        q_pos, k_pos = fnp.arange(T), fnp.arange(S)
        left = q_pos[:, None] <= k_pos[None, :] + window[0]
        right = q_pos[:, None] >= k_pos[None, :] - window[1]
        combined = fnp.logical_and(combined, fnp.logical_and(right, left)[None, None])
    if q_seqlen is not None or kv_seqlen is not None:
        valid = True
        if q_seqlen is not None:
            valid = fnp.arange(T)[None, :, None] < q_seqlen[:, None, None]
        if kv_seqlen is not None:
            valid = fnp.logical_and(valid, fnp.arange(S)[None, None, :] <
                                    kv_seqlen[:, None, None])
        combined = fnp.logical_and(combined, valid[:, None, :, :])
    big = min(float(np.finfo(logits.dtype).max), float(np.finfo(np.float32).max))
    return fnp.where(combined, logits, fnp.array(-0.7 * big, dtype=logits.dtype))


# --- cuDNN's fused kernel ------------------------------------------------------------

def _attention_cudnn(q, k, v, bias, mask, is_causal, scale):
    dtype = np.dtype(q.dtype)
    if dtype not in (np.dtype(np.float16), np.dtype(_dtypes.bfloat16)) or \
            len({dtype, np.dtype(k.dtype), np.dtype(v.dtype)}) != 1:
        raise NotImplementedError(f"dot_product_attention(implementation='cudnn') needs "
                                  f"float16 or bfloat16 q, k, v of one dtype, got "
                                  f"{q.dtype}, {k.dtype}, {v.dtype}; use "
                                  f"implementation='xla'")
    H, T, S = q.shape[-1], q.shape[1], k.shape[1]
    h_max = 256 if _hopper_or_later() else 128
    if H > h_max or H % 8:
        raise NotImplementedError(f"The head dim must be <= {h_max} and a multiple of 8, "
                                  f"but got {H} (implementation='cudnn')")
    if mask is not None:  # as JAX: the mask becomes a large negative bias
        negative = {np.dtype(_dtypes.bfloat16): -2 << 40, np.dtype(np.float16): -2 << 14}
        mask = fnp.where(mask, fnp.array(0, dtype), fnp.array(negative[dtype], dtype))
    if bias is not None and mask is not None:
        bias = bias + mask
    elif bias is None:
        bias = mask
    if bias is not None and bias.shape[2:] != (T, S):
        raise ValueError(f"Bias must have same seq length as QKV, got {bias.shape[2]} "
                         f"and {bias.shape[3]}")
    mask_type = "CAUSAL" if is_causal else "NO_MASK"
    if bias is None:
        return _cudnn_no_bias(q, k, v, scale, mask_type)
    return _cudnn_with_bias(q, k, v, bias, scale, mask_type)


def _hopper_or_later():
    """Whether the GPU this process runs on has compute capability 9.0 or later (False
    when lowering for a GPU that is not here, as JAX)."""
    device = jax.devices()[0]
    capability = getattr(device, "compute_capability", None)
    return capability is not None and tuple(map(int, capability.split("."))) >= (9, 0)


fwd_p = Primitive("cudnn_attention_fwd", multiple_results=True)
bwd_p = Primitive("cudnn_attention_bwd", multiple_results=True)


def _forward(q, k, v, bias, scale, mask_type, training):
    operands = (q, k, v) if bias is None else (q, k, v, bias)
    return fwd_p.bind(*operands, scale=scale, mask_type=mask_type, training=training)


def _backward(q, k, v, bias, stats, out, g, scale, mask_type):
    operands = (q, k, v, stats, g, out) if bias is None else (q, k, v, stats, g, bias, out)
    return bwd_p.bind(*operands, scale=scale, mask_type=mask_type,
                      has_bias=bias is not None)


def _no_bias(q, k, v, scale, mask_type):
    return _forward(q, k, v, None, scale, mask_type, False)[0]


def _with_bias(q, k, v, bias, scale, mask_type):
    return _forward(q, k, v, bias, scale, mask_type, False)[0]


_cudnn_no_bias = custom_vjp(_no_bias, nondiff_argnums=(3, 4))
_cudnn_no_bias.defvjp(
    lambda q, k, v, scale, mask_type: (lambda o, s: (o, (q, k, v, s, o)))(
        *_forward(q, k, v, None, scale, mask_type, True)),
    lambda scale, mask_type, res, g: tuple(
        _backward(*res[:3], None, res[3], res[4], g, scale, mask_type)))
_cudnn_with_bias = custom_vjp(_with_bias, nondiff_argnums=(4, 5))
_cudnn_with_bias.defvjp(
    lambda q, k, v, bias, scale, mask_type: (lambda o, s: (o, (q, k, v, bias, s, o)))(
        *_forward(q, k, v, bias, scale, mask_type, True)),
    lambda scale, mask_type, res, g: tuple(
        _backward(*res[:4], res[4], res[5], g, scale, mask_type)))


@fwd_p.def_abstract_eval
def _fwd_abstract(q, k, v, *bias, scale, mask_type, training):
    B, T, N, _ = q.shape
    out = [q.update(shape=(B, T, N, v.shape[-1]), weak_type=False)]
    return out + [ShapedArray((B, N, T), np.float32)] if training else out


@bwd_p.def_abstract_eval
def _bwd_abstract(q, k, v, stats, g, *bias_and_out, scale, mask_type, has_bias):
    grads = [a.update(weak_type=False) for a in (q, k, v)]
    return grads + [bias_and_out[0].update(weak_type=False)] if has_bias else grads


def _batch_into_b(axis_data, vals, dims, prim, params):
    """vmap folds the mapped axis into cuDNN's batch dimension (as JAX's batcher)."""
    vals = [bdim_at_front(axis_data.size, x, d) for x, d in zip(vals, dims)]
    flat = [lax.reshape(x, (axis_data.size * x.shape[1], *x.shape[2:])) for x in vals]
    outs = prim.bind(*flat, **params)
    return [lax.reshape(o, (axis_data.size, o.shape[0] // axis_data.size, *o.shape[1:]))
            for o in outs], [0] * len(outs)


fwd_p.def_batching(lambda axis_data, vals, dims, **p: _batch_into_b(axis_data, vals, dims,
                                                                  fwd_p, p))
bwd_p.def_batching(lambda axis_data, vals, dims, **p: _batch_into_b(axis_data, vals, dims,
                                                                  bwd_p, p))


def _cudnn_platform_check(name):
    if target_platform() != "cuda":
        raise RuntimeError(
            f"dot_product_attention(implementation='cudnn') runs cuDNN's fused attention "
            f"kernel, which needs an NVIDIA GPU (lowering for {target_platform()!r}); use "
            f"implementation=None or 'xla' ({name})")


def _backend_config(q, k, scale, mask_type, backward):
    """The JSON cuDNN's XLA custom call reads (the dictionary JAX builds)."""
    B, T, N, _ = q.shape
    S = k.shape[1]
    dims = (["bmm1_grad_gemm1", ((2, 1), ((0, 1), (0, 2)))],
            ["bmm1_grad_gemm2", ((3, 1), ((0, 1), (0, 2)))],
            ["bmm2_grad_gemm1", ((2, 1), ((0, 1), (0, 2)))],
            ["bmm2_grad_gemm2", ((3, 3), ((0, 2), (0, 2)))]) if backward else \
        (["bmm1", ((3, 3), ((0, 2), (0, 2)))], ["bmm2", ((3, 1), ((0, 1), (0, 2)))])
    config = {
        "algorithm": {"algo_id": "0", "math_type": "TENSOR_OP_MATH",
                      "tuning_knobs": {"17": "1", "24": "0"}, "is_cudnn_frontend": True,
                      "workspace_size": "0"},
        "fmha_scale": scale,
        "intermediate_tensor_shape": {
            "element_type": {"bfloat16": "BF16", "float16": "F16"}[np.dtype(q.dtype).name],
            "dimensions": [str(B), str(N), str(T), str(S)], "tuple_shapes": [],
            "layout": {"dim_level_types": [], "dim_unique": [], "dim_ordered": [],
                       "minor_to_major": ["3", "2", "1", "0"], "tiles": [],
                       "element_size_in_bits": "0", "memory_space": "0",
                       "index_primitive_type": "PRIMITIVE_TYPE_INVALID",
                       "pointer_primitive_type": "PRIMITIVE_TYPE_INVALID",
                       "dynamic_shape_metadata_prefix_bytes": "0"},
            "is_dynamic_dimension": [False] * 4},
        "is_flash_attention": True,
        "mask_type": mask_type,
    }
    for name, ((lc, rc), (lb, rb)) in dims:
        config[f"{name}_dot_dimension_numbers"] = {
            "lhs_contracting_dimensions": [str(lc)], "rhs_contracting_dimensions": [str(rc)],
            "lhs_batch_dimensions": [str(i) for i in lb],
            "rhs_batch_dimensions": [str(i) for i in rb]}
    config.update(dropout_rate=0.0, seed=42, sliding_window_length=0, max_seg_per_batch=1,
                  is_paged_attention=False)
    return json.dumps({"operation_queue_id": "0", "cudnn_fmha_backend_config": config})


def _custom_call(ctx, target, operands, results, result_layouts, config):
    layout = lambda dims: f"dense<{list(dims) if len(dims) > 1 else dims[0]}> : " \
                          f"tensor<{len(dims)}xindex>"
    default = lambda rank: tuple(range(rank - 1, -1, -1))
    attrs = {
        "api_version": "2 : i32",
        "backend_config": '"' + config.replace('"', "\\22") + '"',
        "call_target_name": f'"{target}"',
        "operand_layouts": "[" + ", ".join(layout(default(len(ctx.avals_in[i].shape)))
                                           for i in range(len(operands))) + "]",
        "result_layouts": "[" + ", ".join(layout(l) for l in result_layouts) + "]",
    }
    out_types = [ir_type(a) for a in results] + ["tensor<0xui8>"]
    return ctx.op("stablehlo.custom_call", list(operands), out_types=out_types,
                  attrs=attrs)


def _to_btnh(ctx, x, aval):
    B, N, T, H = aval.shape
    return ctx.op("stablehlo.transpose", [x], [aval.update(shape=(B, T, N, H))],
                  attrs={"permutation": "array<i64: 0, 2, 1, 3>"})


@fwd_p.def_lowering
def _fwd_lowering(ctx, q, k, v, *bias, scale, mask_type, training):
    _cudnn_platform_check("forward")
    qa, ka, va = ctx.avals_in[:3]
    B, T, N, _ = qa.shape
    out_bnth = qa.update(shape=(B, N, T, va.shape[-1]))
    results, layouts = [out_bnth], [(3, 1, 2, 0)]
    if training:
        results.append(ShapedArray((B, N, T), np.float32))
        layouts.append((2, 1, 0))
    layouts.append((0,))
    target = "__cudnn$fmhaScaleBiasSoftmax" if bias else "__cudnn$fmhaSoftmax"
    outs = _custom_call(ctx, target, [q, k, v, *bias], results, layouts,
                        _backend_config(qa, ka, scale, mask_type, backward=False))
    return [_to_btnh(ctx, outs[0], out_bnth), *outs[1:len(results)]]


@bwd_p.def_lowering
def _bwd_lowering(ctx, q, k, v, stats, g, *bias_and_out, scale, mask_type, has_bias):
    _cudnn_platform_check("backward")
    qa, ka, va = ctx.avals_in[:3]
    (B, T, N, H), (_, S, K, _) = qa.shape, ka.shape
    grads = [qa.update(shape=(B, N, T, H)), ka.update(shape=(B, K, S, H)),
             va.update(shape=(B, K, S, va.shape[-1]))]
    layouts = [(3, 1, 2, 0)] * 3
    if has_bias:
        bias_aval = ctx.avals_in[5]
        grads.append(bias_aval)
        layouts.append(tuple(range(bias_aval.ndim - 1, -1, -1)))
    layouts.append((0,))
    target = ("__cudnn$fmhaScaleBiasSoftmaxBackward" if has_bias
              else "__cudnn$fmhaSoftmaxBackward")
    outs = _custom_call(ctx, target, [q, k, v, stats, g, *bias_and_out], grads, layouts,
                        _backend_config(qa, ka, scale, mask_type, backward=True))
    return [_to_btnh(ctx, o, a) for o, a in zip(outs[:3], grads)] + outs[3:len(grads)]
