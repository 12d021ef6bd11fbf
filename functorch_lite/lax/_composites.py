"""`jax.lax` functions that are compositions of other primitives (so every rule comes
from theirs): dot and batch_matmul, the broadcasting and shape helpers, index_take,
the patch extraction and locally connected convolutions, and the type names JAX
exposes for dimension numbers and precision settings; scaled_dot, whose primitive
lowers to a composite of them."""

__all__ = ["dot", "batch_matmul", "broadcast_to_rank", "broadcast_like", "broadcast_shapes",
           "empty", "shape_as_value", "index_take", "dtype", "conv_transpose_shape_tuple",
           "reduce_window_shape_tuple", "conv_general_dilated_patches",
           "conv_general_dilated_local", "DotDimensionNumbers",
           "ConvGeneralDilatedDimensionNumbers", "PrecisionLike", "DotAlgorithm",
           "DotAlgorithmPreset", "AccuracyMode", "Tolerance", "scaled_dot"]
import enum
import math
from typing import Any, NamedTuple, Sequence, Tuple, Union

import ml_dtypes
import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from ._linear import dot_general, Precision
from ._conv import (conv_general_dilated, conv_dimension_numbers, conv_general_permutations,
                    ConvDimensionNumbers, _conv_transpose_padding)
from ._structural import broadcast, broadcast_in_dim, expand_dims, reshape, transpose
from ._slicing import concatenate
from ._values import convert_element_type, full
from ._indexing import GatherDimensionNumbers, gather, lower_composite
from ._elementwise import add, rem, mul
from ._platform import composite
from .._batching import bdim_at_front

DotDimensionNumbers = Tuple[Tuple[Sequence[int], Sequence[int]],
                            Tuple[Sequence[int], Sequence[int]]]
ConvGeneralDilatedDimensionNumbers = Union[Tuple[str, str, str], ConvDimensionNumbers, None]


class DotAlgorithm(NamedTuple):
    """An explicit dot algorithm (operand precisions, accumulation type, passes), as
    `jax.lax.DotAlgorithm`. Only the default algorithm is lowered here."""
    lhs_precision_type: Any
    rhs_precision_type: Any
    accumulation_type: Any
    lhs_component_count: int = 1
    rhs_component_count: int = 1
    num_primitive_operations: int = 1
    allow_imprecise_accumulation: bool = False


class DotAlgorithmPreset(enum.Enum):
    """Named dot algorithms of `jax.lax.DotAlgorithmPreset` (`precision=` of dot ops).
    DEFAULT is accepted everywhere; the others raise a clear error when lowered."""
    DEFAULT = enum.auto()
    ANY_F8_ANY_F8_F32 = enum.auto()
    ANY_F8_ANY_F8_F32_FAST_ACCUM = enum.auto()
    ANY_F8_ANY_F8_ANY = enum.auto()
    ANY_F8_ANY_F8_ANY_FAST_ACCUM = enum.auto()
    F16_F16_F16 = enum.auto()
    F16_F16_F32 = enum.auto()
    BF16_BF16_BF16 = enum.auto()
    BF16_BF16_F32 = enum.auto()
    BF16_BF16_F32_X3 = enum.auto()
    BF16_BF16_F32_X6 = enum.auto()
    BF16_BF16_F32_X9 = enum.auto()
    TF32_TF32_F32 = enum.auto()
    TF32_TF32_F32_X3 = enum.auto()
    F32_F32_F32 = enum.auto()
    F64_F64_F64 = enum.auto()

    def __str__(self):
        return self.name


PrecisionLike = Union[None, str, Precision, Tuple[str, str], Tuple[Precision, Precision],
                      DotAlgorithm, DotAlgorithmPreset]


class AccuracyMode(enum.Enum):
    """The `accuracy=` choices of JAX's transcendental functions."""
    HIGHEST = 1
    DEFAULT = 2


class Tolerance:
    """An error budget for transcendental functions (`accuracy=` in JAX)."""

    def __init__(self, atol=0.0, rtol=0.0, ulps=0):
        if atol < 0.0 or rtol < 0.0 or ulps < 0:
            raise ValueError("Tolerances must be non-negative.")
        if atol == 0.0 and rtol == 0.0 and ulps == 0:
            raise ValueError("At least one of atol, rtol, or ulps must be set.")
        self.atol, self.rtol, self.ulps = atol, rtol, ulps

    def __repr__(self):
        return f"Tolerance(atol={self.atol}, rtol={self.rtol}, ulps={self.ulps})"


def _plain_precision(precision):
    if isinstance(precision, DotAlgorithmPreset) and \
            precision is DotAlgorithmPreset.DEFAULT:
        return None
    if isinstance(precision, (DotAlgorithm, DotAlgorithmPreset)) or \
            type(precision).__name__ in ("DotAlgorithm", "DotAlgorithmPreset"):
        raise NotImplementedError(
            f"dot algorithm {precision} is not supported here; use precision=None, "
            f"'highest' or a lax.Precision\n  at {user_source_line()}")
    return precision


# --- dots -----------------------------------------------------------------------------

def dot(lhs, rhs, *, dimension_numbers=None, precision=None, preferred_element_type=None):
    """`jax.lax.dot`: a matrix/vector product, or `dot_general` when dimension_numbers
    are given."""
    ls, rs = get_aval(lhs).shape, get_aval(rhs).shape
    if dimension_numbers is None:
        if 1 <= len(ls) <= 2 and 1 <= len(rs) <= 2 and ls[-1] == rs[0]:
            dimension_numbers = (((len(ls) - 1,), (0,)), ((), ()))
        else:
            raise ValueError(
                "jax.lax.dot: dimension_numbers must be specified when not performing "
                "simple un-batched matrix-matrix, matrix-vector, or vector-vector "
                f"products; got lhs_shape={ls} rhs_shape={rs}")
    return dot_general(lhs, rhs, dimension_numbers, _plain_precision(precision),
                       preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    """Batched matrix product over equal leading (batch) dimensions."""
    ln, rn = get_aval(lhs).ndim, get_aval(rhs).ndim
    if min(ln, rn) < 2:
        raise ValueError(f"Arguments to batch_matmul must be at least 2D, got {ln}, {rn}")
    if ln != rn:
        raise ValueError(f"Arguments to batch_matmul must have same ndim, got {ln}, {rn}")
    batch = tuple(range(ln - 2))
    return dot_general(lhs, rhs, (((ln - 1,), (rn - 2,)), (batch, batch)),
                       precision=_plain_precision(precision))


# --- shapes ---------------------------------------------------------------------------

def broadcast_shapes(*shapes):
    """The NumPy broadcast of `shapes`."""
    return common_shape(shapes, ValueError)


def common_shape(shapes, error):
    """`broadcast_shapes`, raising `error` when the shapes do not broadcast (JAX:
    ValueError from broadcasting, TypeError from an elementwise op of equal ranks)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for dims in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise error(f"Incompatible shapes for broadcasting: "
                             f"{', '.join(map(str, map(tuple, shapes)))}\n"
                             f"  at {user_source_line()}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to_rank(x, rank):
    """`x` with leading unit dimensions added up to `rank`."""
    ndim = get_aval(x).ndim
    return x if ndim == rank else broadcast(x, (1,) * (rank - ndim))


def broadcast_like(arr, like_arr):
    """`arr` broadcast (NumPy rules) to the shape of `like_arr`."""
    return broadcast_to_shape(arr, get_aval(like_arr).shape)


def broadcast_to_shape(x, shape):
    aval = get_aval(x)
    if aval.shape == tuple(shape):
        return x
    nlead = len(shape) - aval.ndim
    if nlead < 0:
        raise ValueError(f"cannot broadcast shape {aval.shape} to {tuple(shape)}")
    keep = [i for i, d in enumerate(aval.shape) if d == shape[nlead + i]]
    squeezed = [i for i, d in enumerate(aval.shape) if d != shape[nlead + i]]
    if any(aval.shape[i] != 1 for i in squeezed):
        raise ValueError(f"cannot broadcast shape {aval.shape} to {tuple(shape)}")
    if squeezed:
        x = reshape(x, [aval.shape[i] for i in keep])
    return broadcast_in_dim(x, tuple(shape), tuple(nlead + i for i in keep))


def empty(shape, dtype):
    """An array whose values are unspecified (zeros here, as XLA's CPU backend gives)."""
    return full(shape, 0, _dtypes.canonicalize_dtype(dtype))


def shape_as_value(shape):
    """A shape as an integer array."""
    dtype = np.int64 if any(d >= 2 ** 31 for d in shape) else np.int32
    return np.asarray(shape, dtype=dtype) if len(shape) else np.zeros((0,), np.int32)


def dtype(x):
    """The dtype of an array, scalar or dtype-like, canonicalised (64-bit types shrink
    unless x64 is on)."""
    if isinstance(x, (bool, int, float, complex)):
        return _dtypes.python_scalar_dtype(x)
    if hasattr(x, "dtype") and not isinstance(x, type):
        return _dtypes.canonicalize_dtype(x.dtype)
    return _dtypes.canonicalize_dtype(np.dtype(x))


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers):
    """The output shape of `conv_transpose` with these arguments."""
    lhs_perm, rhs_perm, out_perm = conv_general_permutations(dimension_numbers)
    lhs_trans = np.take(lhs_shape, lhs_perm)
    rhs_trans = np.take(rhs_shape, rhs_perm)
    if isinstance(padding, str):
        padding = [_conv_transpose_padding(k, s, padding)
                   for k, s in zip(rhs_trans[2:], window_strides)]
    padding = list(map(np.sum, padding))
    unpadded = [(i - 1) * s - k + 2 for i, k, s in zip(lhs_trans[2:], rhs_trans[2:],
                                                      window_strides)]
    out_space = np.sum([unpadded, padding], axis=0).tolist()
    out_trans = tuple((lhs_trans[0], rhs_trans[0]) + tuple(out_space))
    return tuple(int(d) for d in np.take(out_trans, np.argsort(out_perm)))


def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None):
    """The output shape of `reduce_window` with these arguments."""
    def dilate(shape, dilation):
        return tuple(0 if d == 0 else 1 + r * (d - 1) for d, r in zip(shape, dilation))
    if base_dilation is not None:
        operand_shape = dilate(operand_shape, base_dilation)
    if window_dilation is not None:
        window_dimensions = dilate(window_dimensions, window_dilation)
    padded = [d + lo + hi for d, (lo, hi) in zip(operand_shape, padding)]
    return tuple(0 if p < w else (p - w) // s + 1
                 for p, w, s in zip(padded, window_dimensions, window_strides))


# --- indexing -------------------------------------------------------------------------

def index_take(src, idxs, axes):
    """src[idxs[0], idxs[1], ...] along `axes` (indices taken modulo the sizes)."""
    shape = get_aval(src).shape
    indices = concatenate([expand_dims(i, (1,)) for i in idxs], 1)
    ind_aval = get_aval(indices)
    sizes = np.array([shape[ax] for ax in axes], ind_aval.dtype)
    sizes = broadcast_in_dim(sizes, ind_aval.shape, (ind_aval.ndim - 1,))
    indices = rem(add(rem(indices, sizes), sizes), sizes)  # Python's modulo: -1 -> n - 1
    slice_sizes = [1 if i in axes else d for i, d in enumerate(shape)]
    dnums = GatherDimensionNumbers(offset_dims=tuple(range(1, len(shape) - len(axes) + 1)),
                                   collapsed_slice_dims=tuple(axes),
                                   start_index_map=tuple(axes))
    return gather(src, indices, dnums, tuple(slice_sizes))


# --- patches and locally connected convolutions ---------------------------------------

def conv_general_dilated_patches(lhs, filter_shape, window_strides, padding,
                                 lhs_dilation=None, rhs_dilation=None,
                                 dimension_numbers=None, precision=None,
                                 preferred_element_type=None):
    """The patches a convolution with `filter_shape` would see, flattened into the
    feature dimension (channel-major), computed as JAX does: a grouped convolution
    with an identity kernel."""
    aval = get_aval(lhs)
    filter_shape = tuple(filter_shape)
    dn = conv_dimension_numbers(aval.shape, (1, 1) + filter_shape, dimension_numbers)
    lhs_spec, rhs_spec, _ = dn
    spatial_size = math.prod(filter_shape)
    n_channels = aval.shape[lhs_spec[1]]
    rhs = np.eye(spatial_size, dtype=aval.dtype)
    rhs = np.broadcast_to(rhs, (n_channels, spatial_size, spatial_size))
    rhs = rhs.reshape((n_channels * spatial_size, 1, *filter_shape))
    rhs = np.moveaxis(rhs, (0, 1), (rhs_spec[0], rhs_spec[1]))
    return conv_general_dilated(
        lhs, np.ascontiguousarray(rhs), window_strides, padding, lhs_dilation,
        rhs_dilation, dn, feature_group_count=n_channels,
        precision=None if precision is None else (precision, Precision.DEFAULT),
        preferred_element_type=preferred_element_type)


def conv_general_dilated_local(lhs, rhs, window_strides, padding, filter_shape,
                               lhs_dilation=None, rhs_dilation=None, dimension_numbers=None,
                               precision=None):
    """A locally connected ("unshared") convolution: a separate filter at every output
    position, `rhs` holding them along its spatial dimensions."""
    lhs_precision = precision[0] if isinstance(precision, (tuple, list)) else precision
    patches = conv_general_dilated_patches(lhs, filter_shape, window_strides, padding,
                                           lhs_dilation, rhs_dilation, dimension_numbers,
                                           lhs_precision)
    _, rhs_spec, out_spec = conv_dimension_numbers(
        get_aval(lhs).shape, (1, 1) + tuple(filter_shape), dimension_numbers)
    lhs_b = list(out_spec[2:])
    rhs_b = list(rhs_spec[2:])
    rhs_b = [rhs_b[i] for i in sorted(range(len(rhs_b)), key=lambda k: lhs_b[k])]
    lhs_b = sorted(lhs_b)
    dn = (([out_spec[1]], [rhs_spec[1]]), (lhs_b, rhs_b))
    out = dot_general(patches, rhs, dn, precision=precision)
    ndim = get_aval(out).ndim
    return transpose(out, _moveaxis_perm(ndim, (ndim - 2, ndim - 1),
                                         (out_spec[0], out_spec[1])))


def _moveaxis_perm(ndim, source, destination):
    order = [i for i in range(ndim) if i not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return tuple(order)


# --- scaled_dot: block-scaled (MX) products ---------------------------------------------

scaled_dot_p = Primitive("scaled_dot")


def _scale_broadcast(scale, operand_shape, contracting):
    """Repeat each block scale over its block of the contracting dimensions."""
    for i in contracting:
        shape = get_aval(scale).shape
        if shape[i] != operand_shape[i]:
            block = operand_shape[i] // shape[i]
            wide = (*shape[:i + 1], block, *shape[i + 1:])
            scale = broadcast_in_dim(reshape(scale, (*shape[:i + 1], 1, *shape[i + 1:])),
                                     wide, tuple(range(len(wide))))
            scale = reshape(scale, (*shape[:i], shape[i] * block, *shape[i + 1:]))
    return scale


def _scaled_dot_decomposition(lhs, rhs, lhs_scale, rhs_scale, *, dimension_numbers,
                              preferred_element_type):
    (lc, rc), _ = dimension_numbers
    bf16 = _dtypes.bfloat16
    lhs = mul(convert_element_type(lhs, bf16), convert_element_type(
        _scale_broadcast(lhs_scale, get_aval(lhs).shape, lc), bf16))
    rhs = mul(convert_element_type(rhs, bf16), convert_element_type(
        _scale_broadcast(rhs_scale, get_aval(rhs).shape, rc), bf16))
    return dot_general(lhs, rhs, dimension_numbers,
                       preferred_element_type=preferred_element_type)


def scaled_dot(lhs, rhs, *, lhs_scale=None, rhs_scale=None, dimension_numbers=None,
               preferred_element_type=None):
    """A dot of (float8) operands scaled blockwise along the contracting dimensions, as
    `jax.lax.scaled_dot`: lowered to a `stablehlo.composite "xla.scaled_dot"` whose
    decomposition converts to bfloat16, multiplies by the broadcast scales and calls
    dot_general (the result is bfloat16 unless `preferred_element_type`)."""
    ndim = get_aval(lhs).ndim
    if dimension_numbers is None:
        if ndim < 2:
            raise TypeError("scaled_dot does not support 0-rank and 1-rank operands.")
        batch = tuple(range(ndim - 2))
        dimension_numbers = (((ndim - 1,), (ndim - 2,)), (batch, batch))
    dn = tuple(tuple(tuple(int(d) for d in ds) for ds in pair) for pair in dimension_numbers)
    (lc, rc), _ = dn
    e8m0 = np.dtype(ml_dtypes.float8_e8m0fnu)

    def unit_scale(x, contracting):
        return full([1 if i in contracting else d for i, d in enumerate(get_aval(x).shape)],
                    1, e8m0)
    lhs_scale = unit_scale(lhs, lc) if lhs_scale is None else lhs_scale
    rhs_scale = unit_scale(rhs, rc) if rhs_scale is None else rhs_scale
    return scaled_dot_p.bind(lhs, rhs, lhs_scale, rhs_scale, dimension_numbers=dn,
                             preferred_element_type=np.dtype(preferred_element_type or
                                                             _dtypes.bfloat16))


@scaled_dot_p.def_abstract_eval
def _scaled_dot_abstract_eval(lhs, rhs, lhs_scale, rhs_scale, *, dimension_numbers,
                              preferred_element_type):
    (lc, rc), (lb, rb) = dimension_numbers
    if len({lhs.ndim, rhs.ndim, lhs_scale.ndim, rhs_scale.ndim}) != 1:
        raise TypeError(f"All input tensors must have the same rank. Got lhs rank: "
                        f"{lhs.ndim} rhs rank: {rhs.ndim} lhs_scale rank: {lhs_scale.ndim} "
                        f"rhs_scale rank: {rhs_scale.ndim}.")
    for side, x, scale, contracting in (("LHS", lhs, lhs_scale, lc),
                                        ("RHS", rhs, rhs_scale, rc)):
        for i, size in enumerate(x.shape):
            if i in contracting:
                if size % scale.shape[i] or size // scale.shape[i] < 2:
                    raise TypeError(f"{side} contracting dim {i} of size {size} must be a "
                                    f"multiple (at least 2) of its scale's dim size "
                                    f"{scale.shape[i]}.")
            elif scale.shape[i] != size:
                raise TypeError(f"{side} dim {i} of size {size} does not match scale dim "
                                f"size {scale.shape[i]}.")
    free = lambda n, c, b: [i for i in range(n) if i not in c and i not in b]
    shape = ([lhs.shape[i] for i in lb] + [lhs.shape[i] for i in free(lhs.ndim, lc, lb)] +
             [rhs.shape[i] for i in free(rhs.ndim, rc, rb)])
    return ShapedArray(shape, preferred_element_type)


@scaled_dot_p.def_lowering
def _scaled_dot_lowering(ctx, *args, dimension_numbers, preferred_element_type):
    call = composite(_scaled_dot_decomposition, "xla.scaled_dot")
    return lower_composite(ctx, lambda *xs: call(
        *xs, dimension_numbers=dimension_numbers,
        preferred_element_type=preferred_element_type), list(args), ctx.avals_in)


@scaled_dot_p.def_batching
def _scaled_dot_batching(axis_data, vals, dims, *, dimension_numbers,
                         preferred_element_type):
    vals = [bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims)]
    (lc, rc), (lb, rb) = dimension_numbers
    up = lambda ds: tuple(d + 1 for d in ds)
    dn = ((up(lc), up(rc)), ((0, *up(lb)), (0, *up(rb))))
    return scaled_dot_p.bind(*vals, dimension_numbers=dn,
                             preferred_element_type=preferred_element_type), 0
