"""approx_max_k / approx_min_k: the `approx_top_k` primitive, lowered as JAX lowers it
(XLA's `ApproxTopK` custom call with a comparator function, marked as the fallback that
CPU and GPU compile to an exact sort-based top k)."""

__all__ = ["approx_max_k", "approx_min_k", "approx_top_k_p"]
import functools

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, tangent_aval
from .._staging import trace_to_program
from ._reductions import take_along_axis
from ._elementwise import gt, lt

approx_top_k_p = Primitive("approx_top_k", multiple_results=True)


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
    """The `k` largest values along `reduction_dimension` and their int32 indices
    (`jax.lax.approx_max_k`; exact on CPU and GPU)."""
    return _approx_top_k(operand, k, reduction_dimension, recall_target, True,
                         reduction_input_size_override, aggregate_to_topk)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
    """The `k` smallest values along `reduction_dimension` and their int32 indices."""
    return _approx_top_k(operand, k, reduction_dimension, recall_target, False,
                         reduction_input_size_override, aggregate_to_topk)


def _approx_top_k(operand, k, reduction_dimension, recall_target, is_max_k,
                  reduction_input_size_override, aggregate_to_topk):
    if not aggregate_to_topk:
        raise NotImplementedError(
            "approx_max_k/approx_min_k with aggregate_to_topk=False: its output size is "
            "chosen by the TPU algorithm, which this library does not model. Use "
            "aggregate_to_topk=True (the default).")
    return approx_top_k_p.bind(
        operand, k=int(k), reduction_dimension=int(reduction_dimension),
        recall_target=float(recall_target), is_max_k=bool(is_max_k),
        reduction_input_size_override=int(reduction_input_size_override),
        aggregate_to_topk=True)


@approx_top_k_p.def_abstract_eval
def _approx_top_k_abstract_eval(x, *, k, reduction_dimension, **_):
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if x.ndim == 0:
        raise TypeError(f"approx_top_k operand must have >= 1 dimension, got {x.shape}")
    dims = list(x.shape)
    if dims[reduction_dimension] < k:
        raise ValueError(f"k must be smaller than the size of reduction_dim "
                         f"{dims[reduction_dimension]}, got {k}")
    if not _dtypes.is_float(x.dtype):
        raise ValueError("operand must be a floating type")
    dims[reduction_dimension] = k
    return [x.update(shape=dims), ShapedArray(dims, np.int32)]


@functools.lru_cache(maxsize=None)
def _comparator(dtype, is_max_k):
    compare = gt if is_max_k else lt
    avals = [ShapedArray((), dtype)] * 2 + [ShapedArray((), np.int32)] * 2
    program, _ = trace_to_program(lambda a, b, i, j: [compare(a, b)], avals, "comparator")
    return program


@approx_top_k_p.def_lowering
def _approx_top_k_lowering(ctx, x, *, k, reduction_dimension, recall_target, is_max_k,
                           reduction_input_size_override, aggregate_to_topk):
    aval = ctx.avals_in[0]
    dim = reduction_dimension % aval.ndim
    comparator = ctx.module.callee(_comparator(aval.dtype, is_max_k),
                                   f"top_k_{'gt' if is_max_k else 'lt'}_comparator")
    iota = ctx.op("stablehlo.iota", [], [aval.update(dtype=np.int32)],
                  attrs={"iota_dimension": f"{dim} : i64"})
    init_value = ctx.constant(-np.inf if is_max_k else np.inf, aval.dtype)
    init_index = ctx.constant(-1, np.int32)
    config = {"aggregate_to_topk": "true", "is_fallback": "true",
              "recall_target": f"{recall_target!r} : f32",
              "reduction_dim": f"{dim} : i64",
              "reduction_input_size_override": f"{reduction_input_size_override} : i64",
              "top_k": f"{k} : i64"}
    return ctx.op("stablehlo.custom_call", [x, iota, init_value, init_index], attrs={
        "api_version": "1 : i32", "backend_config": '""',
        "call_target_name": '"ApproxTopK"', "called_computations": f"[@{comparator}]",
        "has_side_effect": "false",
        "mhlo.backend_config": "{" + ", ".join(f"{k_} = {v}" for k_, v in config.items())
                               + "}"})


@approx_top_k_p.def_jvp
def _approx_top_k_jvp(primals, tangents, **params):
    (x,), (t,) = primals, tangents
    values, indices = approx_top_k_p.bind(x, **params)
    if isinstance(t, Zero):
        t_out = Zero(tangent_aval(get_aval(values)))
    else:
        axis = params["reduction_dimension"] % get_aval(x).ndim
        t_out = take_along_axis(t, indices, axis)
    return [values, indices], [t_out, Zero(tangent_aval(get_aval(indices)))]


@approx_top_k_p.def_batching
def _approx_top_k_batching(axis_data, vals, dims, *, reduction_dimension, **params):
    (x,), (d,) = vals, dims
    ndim = get_aval(x).ndim - 1
    dim = reduction_dimension % ndim
    outs = approx_top_k_p.bind(x, reduction_dimension=dim + (dim >= d), **params)
    return outs, [d, d]
