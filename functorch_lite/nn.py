"""`functorch_lite.nn`: activation and utility functions, as `jax.nn`.

Every function is a composite of primitives (no rules of its own). Where JAX attaches a
custom derivative (relu, relu6, softmax), the composite is written so that plain
differentiation gives JAX's derivative: relu'(0) = relu'(nan) = 0, relu6'(0) =
relu6'(6) = 0, and softmax's max-shift carries no gradient; softplus and log_sigmoid
use the logaddexp primitive, which has JAX's rule.

>>> import functorch_lite as fl, functorch_lite.numpy as fnp
>>> fl.nn.relu(fnp.asarray([-1.0, 0.0, 2.0])).tolist()
[0.0, 0.0, 2.0]
"""

__all__ = ["relu", "relu6", "gelu", "silu", "swish", "elu", "selu", "celu", "leaky_relu",
           "softplus", "sigmoid", "log_sigmoid", "hard_tanh", "hard_sigmoid", "hard_silu",
           "hard_swish", "soft_sign", "mish", "squareplus", "sparse_plus",
           "sparse_sigmoid", "tanh", "identity", "glu", "softmax", "log_softmax",
           "logsumexp", "logmeanexp", "log1mexp", "one_hot", "standardize", "scaled_matmul",
           "scaled_dot_general", "get_scaled_dot_general_config",
           "dot_product_attention"]
import dataclasses

import ml_dtypes
import numpy as np

from . import _dtypes, lax, numpy as fnp
from .numpy._util import promote_to_inexact
from ._core import get_aval
from ._custom import custom_jvp
from .lax._util import canonicalize_axis
from ._attention import dot_product_attention
from .numpy._reductions import _count

# --- elementwise activations --------------------------------------------------------


def relu(x):
    """max(x, 0), with JAX's derivative: 1 where x > 0, else 0 (at 0 and at NaN too)."""
    x = fnp.asarray(x)
    return fnp.where(fnp.greater(x, 0), x, lax.stop_gradient(fnp.maximum(x, 0)))


def relu6(x):
    """min(max(x, 0), 6), with JAX's derivative: 1 where 0 < x < 6, else 0 (at both
    kinks and at NaN too)."""
    x = fnp.asarray(x)
    inside = fnp.logical_and(fnp.greater(x, 0), fnp.less(x, 6))
    return fnp.where(inside, x, lax.stop_gradient(fnp.minimum(fnp.maximum(x, 0), 6.0)))


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return lax.logistic(x)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    x = fnp.asarray(x)
    return fnp.multiply(x, sigmoid(x))


swish = silu


def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation unless `approximate=False`."""
    x = fnp.asarray(x)
    (x,) = promote_to_inexact(x)
    dtype = get_aval(x).dtype
    if approximate:
        sqrt_2_over_pi = np.asarray(np.sqrt(2 / np.pi), dtype)
        inner = fnp.multiply(sqrt_2_over_pi, fnp.add(x, fnp.multiply(0.044715,
                                                                     fnp.power(x, 3))))
        return fnp.multiply(x, fnp.multiply(0.5, fnp.add(1.0, fnp.tanh(inner))))
    sqrt_half = np.asarray(np.sqrt(0.5), dtype)
    out = fnp.multiply(fnp.multiply(0.5, x), lax.erfc(fnp.multiply(fnp.negative(x),
                                                                   sqrt_half)))
    return lax.convert_element_type(out, dtype)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    x = fnp.asarray(x)
    positive = fnp.greater(x, 0)
    return fnp.where(positive, x, fnp.multiply(alpha, fnp.expm1(fnp.where(positive, 0.0, x))))


def selu(x):
    """Scaled exponential linear unit (self-normalising constants of Klambauer et al.)."""
    return fnp.multiply(1.0507009873554805, elu(x, 1.6732632423543772))


def celu(x, alpha=1.0):
    """max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
    return fnp.add(fnp.maximum(x, 0.0),
                   fnp.multiply(alpha, fnp.expm1(fnp.true_divide(fnp.minimum(x, 0.0), alpha))))


def leaky_relu(x, negative_slope=0.01):
    """x for x >= 0, negative_slope * x otherwise."""
    x = fnp.asarray(x)
    return fnp.where(fnp.greater_equal(x, 0), x, fnp.multiply(negative_slope, x))


def softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    return fnp.logaddexp(x, 0)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    x = fnp.asarray(x)
    return fnp.negative(softplus(fnp.negative(x)))


def hard_tanh(x):
    """x clipped to [-1, 1]."""
    x = fnp.asarray(x)
    return fnp.where(fnp.greater(x, 1), 1, fnp.where(fnp.less(x, -1), -1, x))


def hard_sigmoid(x):
    """relu6(x + 3) / 6."""
    return fnp.true_divide(relu6(fnp.add(x, 3.0)), 6.0)


def hard_silu(x):
    """x * hard_sigmoid(x) (also called hard_swish)."""
    x = fnp.asarray(x)
    return fnp.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def soft_sign(x):
    """x / (|x| + 1)."""
    x = fnp.asarray(x)
    return fnp.true_divide(x, fnp.add(fnp.abs(x), 1))


def mish(x):
    """x * tanh(softplus(x))."""
    x = fnp.asarray(x)
    return fnp.multiply(x, fnp.tanh(softplus(x)))


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    x = fnp.asarray(x)
    return fnp.true_divide(fnp.add(x, fnp.sqrt(fnp.add(fnp.square(x), b))), 2)


def sparse_plus(x):
    """0 for x <= -1, x for x >= 1, (x + 1)^2 / 4 in between."""
    x = fnp.asarray(x)
    middle = fnp.true_divide(fnp.power(fnp.add(x, 1.0), 2), 4)
    return fnp.where(fnp.less_equal(x, -1.0), 0.0,
                     fnp.where(fnp.greater_equal(x, 1.0), x, middle))


def sparse_sigmoid(x):
    """(x + 1) / 2 clipped to [0, 1]."""
    return fnp.multiply(0.5, fnp.clip(fnp.add(x, 1.0), 0.0, 2.0))


def tanh(x):
    """Hyperbolic tangent."""
    return fnp.tanh(x)


def identity(x):
    """x itself."""
    return fnp.asarray(x)


def glu(x, axis=-1):
    """Gated linear unit: the first half of `axis` times sigmoid of the second half."""
    x = fnp.asarray(x)
    aval = get_aval(x)
    axis = canonicalize_axis(axis, aval.ndim)
    size = aval.shape[axis]
    if size % 2:
        raise ValueError(f"glu needs an even size along axis {axis}, got shape {aval.shape}")
    first = lax.slice_in_dim(x, 0, size // 2, axis=axis)
    second = lax.slice_in_dim(x, size // 2, size, axis=axis)
    return fnp.multiply(first, sigmoid(second))


# --- normalisations over axes -------------------------------------------------------

def _masked(x, where, fill):
    return x if where is None else fnp.where(where, x, fill)


def softmax(x, axis=-1, where=None):
    """exp(x) / sum(exp(x)) along `axis`, shifted by the (gradient-free) maximum for
    numerical stability; entries excluded by `where` are 0."""
    x = fnp.asarray(x)
    x_safe = _masked(x, where, -np.inf)
    x_max = lax.stop_gradient(fnp.max(x_safe, axis, keepdims=True, initial=-np.inf))
    unnormalized = fnp.exp(fnp.subtract(x_safe, x_max))
    total = fnp.sum(_masked(unnormalized, where, 0), axis, keepdims=True)
    return _masked(fnp.true_divide(unnormalized, total), where, 0)


def log_softmax(x, axis=-1, where=None):
    """x - logsumexp(x) along `axis`, computed stably; entries excluded by `where` are
    -inf."""
    x = fnp.asarray(x)
    x_safe = _masked(x, where, -np.inf)
    x_max = fnp.max(x_safe, axis, keepdims=True, initial=-np.inf)
    shifted = fnp.subtract(x_safe, lax.stop_gradient(x_max))
    summed = fnp.sum(_masked(fnp.exp(shifted), where, 0), axis, keepdims=True)
    return _masked(fnp.subtract(shifted, fnp.log(summed)), where, -np.inf)


def _reduction_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(canonicalize_axis(int(a), ndim) for a in axes))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """log(sum(b * exp(a))) over `axis`, stable for large |a|. With `return_sign`, the
    pair (log|sum|, sign(sum)); otherwise negative sums give NaN."""
    a = fnp.asarray(a)
    if where is not None:
        a = fnp.where(where, a, 0)
    if b is not None:
        a, b = promote_to_inexact(a, b)
        a = fnp.where(fnp.not_equal(b, 0), a, -np.inf)
    else:
        (a,) = promote_to_inexact(a)
    dims = _reduction_axes(axis, get_aval(a).ndim)
    amax = fnp.max(_masked(a, where, -np.inf), dims, keepdims=keepdims, initial=-np.inf)
    amax = lax.stop_gradient(fnp.where(fnp.isfinite(amax), amax, 0))
    amax_with_dims = amax if keepdims else lax.expand_dims(amax, dims)
    exp_a = fnp.exp(fnp.subtract(a, amax_with_dims))
    if b is not None:
        exp_a = fnp.multiply(exp_a, b)
    sumexp = fnp.sum(_masked(exp_a, where, 0), dims, keepdims=keepdims)
    sign = lax.sign(sumexp)
    if return_sign or not _dtypes.is_complex(get_aval(sumexp).dtype):
        sumexp = fnp.abs(sumexp)
    out = fnp.add(fnp.log(sumexp), amax)
    if return_sign:
        return out, sign
    if b is not None and not _dtypes.is_complex(get_aval(out).dtype):
        out = fnp.where(fnp.less(sign, 0), np.asarray(np.nan, get_aval(out).dtype), out)
    return out


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """log(mean(exp(x))) over `axis` (the entries where `where` holds), computed stably
    as logsumexp(x) - log(count)."""
    lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
    dims = _reduction_axes(axis, get_aval(fnp.asarray(x)).ndim)
    count = _count(fnp.asarray(x), dims, keepdims, where, get_aval(lse).dtype)
    return fnp.subtract(lse, fnp.log(count))


@custom_jvp
def log1mexp(x):
    """log(1 - exp(-x)) for x > 0, accurate for small and large x (two formulas
    switched at log 2); derivative 1 / expm1(x) (as JAX's custom rule)."""
    x = fnp.asarray(x)
    return fnp.where(fnp.less(x, np.log(2.0)), fnp.log(fnp.negative(fnp.expm1(-x))),
                     fnp.log1p(fnp.negative(fnp.exp(-x))))


log1mexp.defjvps(lambda g, ans, x: fnp.divide(g, fnp.expm1(x)))


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    """1 where x equals the class index along a new axis of size `num_classes`."""
    x = fnp.asarray(x)
    num_classes = int(num_classes)
    dtype = _dtypes.default_float() if dtype is None else dtype
    aval = get_aval(x)
    if not isinstance(axis, (int, np.integer)):
        raise NotImplementedError("one_hot over a named vmap axis is not supported; pass "
                                  "an integer axis")
    out_axis = canonicalize_axis(int(axis), aval.ndim + 1)
    rhs_shape = [1] * aval.ndim
    rhs_shape.insert(out_axis, num_classes)
    classes = np.arange(num_classes, dtype=aval.dtype).reshape(rhs_shape)
    return lax.convert_element_type(
        fnp.equal(lax.expand_dims(x, (out_axis,)), classes), dtype)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None):
    """(x - mean) / sqrt(variance + epsilon) along `axis` (statistics computed when not
    given; variance as E[x^2] - E[x]^2, clipped at 0, as JAX's default)."""
    x = fnp.asarray(x)
    if mean is None:
        mean = fnp.mean(x, axis, keepdims=True, where=where)
    if variance is None:
        variance = fnp.subtract(fnp.mean(fnp.square(x), axis, keepdims=True, where=where),
                                fnp.square(mean))
        variance = fnp.clip(variance, 0)
    return fnp.multiply(fnp.subtract(x, mean), lax.rsqrt(fnp.add(variance, epsilon)))


# --- block-scaled (MX / NVFP4) matrix products -------------------------------------------

@dataclasses.dataclass
class BlockScaleConfig:
    """How an operand is quantized for scaled_dot_general (as jax.nn's)."""
    mode: str
    block_size: int
    data_type: object
    scale_type: object
    global_scale: object
    infer_only: bool


def get_scaled_dot_general_config(mode, global_scale=None):
    """The BlockScaleConfig of 'mxfp8' (float8_e4m3fn data, e8m0 scales per 32) or
    'nvfp4' (float4_e2m1fn data, e4m3fn scales per 16)."""
    if mode == "nvfp4":
        return BlockScaleConfig("nvfp4", 16, np.dtype(ml_dtypes.float4_e2m1fn),
                                np.dtype(ml_dtypes.float8_e4m3fn),
                                fnp.ones((1,), np.float32) if global_scale is None
                                else global_scale, False)
    if mode == "mxfp8":
        return BlockScaleConfig("mxfp8", 32, np.dtype(ml_dtypes.float8_e4m3fn),
                                np.dtype(ml_dtypes.float8_e8m0fnu), None, False)
    raise ValueError(f"Unsupported mode: {mode}")


def scaled_matmul(lhs, rhs, lhs_scales, rhs_scales, preferred_element_type=np.float32):
    """Batched block-scaled products: lhs (B, M, K) and rhs (B, N, K), each scaled by
    its (B, M|N, K // block) scales -> (B, M, N). JAX runs this with cuDNN on NVIDIA
    GPUs; here it is `lax.scaled_dot` (the dequantize-then-dot composite JAX uses on
    ROCm), which gives the same numbers on every backend."""
    shapes = [get_aval(x).shape for x in (lhs, rhs, lhs_scales, rhs_scales)]
    if any(len(s) != 3 for s in shapes):
        raise ValueError("scaled_matmul requires all inputs to be 3-dimensional arrays")
    (b_a, m_a, k_a), (b_b, n_b, k_b), (b_as, m_as, k_as), (b_bs, n_bs, k_bs) = shapes
    if k_a != k_b or b_a != b_b:
        raise ValueError(f"scaled_matmul requires inputs a and b to have matching batch "
                         f"(B) and contract (K) dimensions, but got shapes {shapes[0]} and "
                         f"{shapes[1]}")
    if k_as != k_bs or b_as != b_bs:
        raise ValueError(f"scaled_matmul requires scales to have matching batch (B) and "
                         f"contract (K) dimensions, but got shapes {shapes[2]} and "
                         f"{shapes[3]}")
    if m_as != m_a or n_bs != n_b:
        raise ValueError(f"scaled_matmul requires scales to match non-contract dimensions "
                         f"of inputs, but got shapes a: {shapes[0]}, b: {shapes[1]}, "
                         f"a_scales: {shapes[2]}, b_scales: {shapes[3]}")
    return lax.scaled_dot(lhs, rhs, lhs_scale=lhs_scales, rhs_scale=rhs_scales,
                          dimension_numbers=(((2,), (2,)), ((0,), (0,))),
                          preferred_element_type=_dtypes.canonicalize_dtype(
                              preferred_element_type))


def scaled_dot_general(lhs, rhs, dimension_numbers, preferred_element_type=np.float32,
                       configs=None, implementation=None):
    """dot_general, or with block-scale `configs` a quantized product. Only the
    unquantized form (configs=None) is implemented here."""
    if configs is not None:
        raise NotImplementedError(
            "scaled_dot_general with block-scale configs (MXFP8/NVFP4 quantization of "
            "the operands) is not implemented; quantize the operands yourself and call "
            "nn.scaled_matmul, or pass configs=None")
    return lax.dot_general(lhs, rhs, dimension_numbers,
                           preferred_element_type=preferred_element_type)
