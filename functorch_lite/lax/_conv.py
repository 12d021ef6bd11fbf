"""conv_general_dilated (with conv, conv_transpose and the dimension-number helpers):
every rule of the convolution primitive."""

__all__ = ["conv_general_dilated", "conv", "conv_with_general_padding", "conv_transpose",
           "ConvDimensionNumbers", "conv_dimension_numbers", "conv_general_permutations",
           "conv_shape_tuple", "conv_general_shape_tuple", "conv_transpose_shape_tuple"]
from typing import NamedTuple

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, is_undefined, tangent_aval
from ._linear import (padtype_to_pads, _canonical_precision, _precision_attr,
                      _bilinear_jvp)
from ._structural import rev, i64_array, transpose, reshape
from ._values import convert_element_type
from .._lowering import dense_attr


# --- conv_general_dilated ---------------------------------------------------------
#
# Ignoring space, with m = batch, j = input feature, k = output feature, a convolution
# contracts like a matmul: [m, j] [j, k] -> [m, k]. Its transposes are convolutions too:
# lhs: [m, k] [k, j] -> [m, j] (kernel spatially reversed, in/out features swapped);
# rhs: [j, m] [m, k] -> [j, k] (lhs and output take the kernel's role).
# Feature groups [m, gj] [j, gk] -> [m, gk] turn into batch groups under the rhs
# transpose and vice versa (as in JAX's convolution.py).

class ConvDimensionNumbers(NamedTuple):
    """Positions of (batch, feature, *spatial) in lhs and output, and of
    (out feature, in feature, *spatial) in the kernel."""
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def conv_general_permutations(dimension_numbers):
    """(lhs_perm, rhs_perm, out_perm) for string specs such as ('NHWC', 'HWIO', 'NHWC');
    spatial dimensions are ordered as they appear in the kernel spec."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    charpairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for i, (a, b) in enumerate(charpairs):
        spec = dimension_numbers[i]
        if not spec.count(a) == spec.count(b) == 1 or len(spec) != len(set(spec)):
            raise TypeError(f"convolution dimension_numbers[{i}] must contain '{a}' and "
                            f"'{b}' exactly once and no duplicates, got {spec!r}")
    if not set(lhs_spec) - {"N", "C"} == set(rhs_spec) - {"O", "I"} == \
            set(out_spec) - {"N", "C"}:
        raise TypeError(f"convolution dimension_numbers must have the same spatial "
                        f"characters, got {dimension_numbers}")

    def perm(spec, pair):
        spatial = [i for i, c in enumerate(spec) if c not in pair]
        if spec is not rhs_spec:
            spatial.sort(key=lambda i: rhs_spec.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1]), *spatial)
    return tuple(perm(s, p) for s, p in zip(dimension_numbers, charpairs))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers):
    """Canonical ConvDimensionNumbers from None, a string triple or ConvDimensionNumbers."""
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return ConvDimensionNumbers(*(tuple(int(i) for i in s) for s in dimension_numbers))
    if len(lhs_shape) != len(rhs_shape):
        raise TypeError(f"convolution requires lhs and rhs of equal rank, got shapes "
                        f"{tuple(lhs_shape)} and {tuple(rhs_shape)}")
    if dimension_numbers is None:
        iota = tuple(range(len(lhs_shape)))
        return ConvDimensionNumbers(iota, iota, iota)
    if len(dimension_numbers) != 3 or not all(isinstance(s, str) for s in dimension_numbers):
        raise TypeError(f"convolution dimension_numbers must be None, ConvDimensionNumbers "
                        f"or three strings, got {dimension_numbers!r}")
    for spec in dimension_numbers:
        if len(spec) != len(lhs_shape):
            raise TypeError(f"convolution dimension_numbers {dimension_numbers} do not "
                            f"match the rank of shapes {tuple(lhs_shape)}, {tuple(rhs_shape)}")
    return ConvDimensionNumbers(*conv_general_permutations(dimension_numbers))


def _dilate_shape(shape, dilation):
    return tuple(0 if d == 0 else 1 + r * (d - 1) for d, r in zip(shape, dilation))


def _strided_out_size(size, window, stride):
    return 0 if size < window else (size - window) // stride + 1


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1):
    """Output shape of a conv with operands in canonical (N, C, *spatial) order."""
    if isinstance(pads, str):
        pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
    if len(pads) != len(lhs_shape) - 2:
        raise TypeError(f"wrong number of explicit pads for convolution: expected "
                        f"{len(lhs_shape) - 2}, got {len(pads)}")
    padded = [d + lo + hi for d, (lo, hi) in zip(lhs_shape[2:], pads)]
    if any(p < 0 for p in padded):
        raise ValueError(f"negative padding {pads} larger than lhs spatial shape "
                         f"{tuple(lhs_shape[2:])}")
    space = tuple(_strided_out_size(p, k, s) for p, k, s in zip(padded, rhs_shape[2:], strides))
    return (lhs_shape[0] // batch_group_count, rhs_shape[0], *space)


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                             dimension_numbers):
    lhs_perm, rhs_perm, out_perm = conv_general_permutations(dimension_numbers)
    out = conv_shape_tuple(np.take(lhs_shape, lhs_perm), np.take(rhs_shape, rhs_perm),
                           window_strides, padding)
    return tuple(int(d) for d in np.take(out, np.argsort(out_perm)))


conv_general_dilated_p = Primitive("conv_general_dilated")


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None):
    """General N-d convolution (XLA's Conv): `padding` is 'SAME', 'SAME_LOWER', 'VALID'
    or (low, high) pairs; `dimension_numbers` e.g. ('NHWC', 'HWIO', 'NHWC'), default
    ('NCHW', 'OIHW', 'NCHW'); lhs dilation is transposed convolution, rhs dilation is
    atrous convolution."""
    lhs_shape, rhs_shape = get_aval(lhs).shape, get_aval(rhs).shape
    dnums = conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)
    nspatial = len(lhs_shape) - 2
    lhs_dilation = (1,) * nspatial if lhs_dilation is None else tuple(lhs_dilation)
    rhs_dilation = (1,) * nspatial if rhs_dilation is None else tuple(rhs_dilation)
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dilation):
            raise ValueError("string padding is not implemented for transposed convolution "
                             "(lhs_dilation); give explicit pads or use conv_transpose")
        kernel = _dilate_shape(np.take(rhs_shape, dnums.rhs_spec)[2:], rhs_dilation)
        padding = padtype_to_pads(np.take(lhs_shape, dnums.lhs_spec)[2:], kernel,
                                  window_strides, padding)
    try:
        padding = tuple((int(lo), int(hi)) for lo, hi in padding)
    except (TypeError, ValueError) as e:
        raise ValueError(f"conv_general_dilated padding must be a string or (low, high) "
                         f"pairs, got {padding}") from e
    if preferred_element_type is not None:
        preferred_element_type = _dtypes.canonicalize_dtype(preferred_element_type)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=tuple(int(s) for s in window_strides), padding=padding,
        lhs_dilation=tuple(int(d) for d in lhs_dilation),
        rhs_dilation=tuple(int(d) for d in rhs_dilation), dimension_numbers=dnums,
        feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count), precision=_canonical_precision(precision),
        preferred_element_type=preferred_element_type)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """NCHW/OIHW convolution with 'SAME'/'VALID' padding."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                              precision=None, preferred_element_type=None):
    """NCHW/OIHW convolution with explicit padding and dilations."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                rhs_dilation=rhs_dilation, precision=precision,
                                preferred_element_type=preferred_element_type)


def _conv_transpose_padding(k, s, padding):
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
    elif padding == "VALID":
        pad_len = k + s - 2 + max(k - s, 0)
        pad_a = k - 1
    elif isinstance(padding, tuple):
        pads = tuple(k - p - 1 for p in padding)
        pad_a, pad_len = pads[0], sum(pads)
    else:
        raise ValueError(f"invalid padding mode: {padding}")
    return pad_a, pad_len - pad_a


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers):
    """Output shape of `conv_transpose` (padding 'SAME', 'VALID' or (low, high) pairs)."""
    lhs_perm, rhs_perm, out_perm = conv_general_permutations(dimension_numbers)
    lhs_trans, rhs_trans = np.take(lhs_shape, lhs_perm), np.take(rhs_shape, rhs_perm)
    if isinstance(padding, str):
        padding = [_conv_transpose_padding(k, s, padding)
                   for k, s in zip(rhs_trans[2:], window_strides)]
    out_space = [(i - 1) * s - k + 2 + int(np.sum(p)) for i, k, s, p in
                 zip(lhs_trans[2:], rhs_trans[2:], window_strides, padding)]
    out_trans = (lhs_trans[0], rhs_trans[0], *out_space)
    return tuple(int(d) for d in np.take(out_trans, np.argsort(out_perm)))


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None,
                   use_consistent_padding=False):
    """Fractionally strided ("transposed") convolution, as jax.lax.conv_transpose."""
    ndim = get_aval(lhs).ndim
    if dimension_numbers is None:
        spatial = "HWD"[:ndim - 2] if ndim <= 5 else None
        if spatial is None:
            raise ValueError("no default dimension_numbers for rank > 5")
        dimension_numbers = ("N" + spatial + "C", spatial + "IO", "N" + spatial + "C")
    dn = conv_dimension_numbers(get_aval(lhs).shape, get_aval(rhs).shape, dimension_numbers)
    k_sdims = np.take(get_aval(rhs).shape, dn.rhs_spec)[2:]
    rhs_dilation = (1,) * (ndim - 2) if rhs_dilation is None else tuple(rhs_dilation)
    if use_consistent_padding or padding in ("SAME", "VALID"):
        eff = _dilate_shape(k_sdims, rhs_dilation)
        per_dim = [padding] * len(strides) if isinstance(padding, str) else \
            [tuple(p) for p in padding]
        pads = tuple(_conv_transpose_padding(k, s, p) for k, s, p in zip(eff, strides, per_dim))
    else:
        pads = padding
    if transpose_kernel:
        rhs = rev(rhs, tuple(dn.rhs_spec[2:]))
        perm = list(range(ndim))
        perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = dn.rhs_spec[1], dn.rhs_spec[0]
        rhs = transpose(rhs, perm)
    return conv_general_dilated(lhs, rhs, (1,) * (ndim - 2), pads, strides, rhs_dilation, dn,
                                precision=precision,
                                preferred_element_type=preferred_element_type)


@conv_general_dilated_p.def_abstract_eval
def _conv_abstract_eval(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count,
                        precision, preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    where = f"conv_general_dilated (lhs {lhs.shape}, rhs {rhs.shape})"
    if lhs.ndim != rhs.ndim:
        raise TypeError(f"{where}: lhs and rhs must have the same rank")
    if preferred_element_type is None and lhs.dtype != rhs.dtype:
        raise TypeError(f"{where} requires equal dtypes, got {lhs.dtype} and {rhs.dtype}")
    if feature_group_count < 1 or batch_group_count < 1:
        raise ValueError(f"{where}: group counts must be positive")
    if feature_group_count > 1 and batch_group_count > 1:
        raise ValueError(f"{where}: at most one of feature_group_count and "
                         f"batch_group_count may exceed 1")
    in_features, kernel_in = lhs.shape[lhs_spec[1]], rhs.shape[rhs_spec[1]]
    if in_features % feature_group_count or in_features // feature_group_count != kernel_in:
        raise ValueError(f"{where}: lhs feature size {in_features} divided by "
                         f"feature_group_count={feature_group_count} must equal the kernel "
                         f"input feature size {kernel_in}")
    out_features = rhs.shape[rhs_spec[0]]
    if out_features % feature_group_count or out_features % batch_group_count:
        raise ValueError(f"{where}: kernel output feature size {out_features} must be a "
                         f"multiple of the group counts")
    if lhs.shape[lhs_spec[0]] % batch_group_count:
        raise ValueError(f"{where}: batch_group_count={batch_group_count} must divide the "
                         f"batch size {lhs.shape[lhs_spec[0]]}")
    if len(window_strides) != lhs.ndim - 2 or len(padding) != lhs.ndim - 2:
        raise ValueError(f"{where}: need {lhs.ndim - 2} window strides and pads, got "
                         f"{window_strides} and {padding}")
    lhs_t = _dilate_shape(np.take(lhs.shape, lhs_spec), (1, 1, *lhs_dilation))
    rhs_t = _dilate_shape(np.take(rhs.shape, rhs_spec), (1, 1, *rhs_dilation))
    out_t = conv_shape_tuple(lhs_t, rhs_t, window_strides, padding, batch_group_count)
    shape = np.take(out_t, np.argsort(out_spec))
    return ShapedArray(shape, preferred_element_type or lhs.dtype,
                       lhs.weak_type and rhs.weak_type)


def _conv_spec_text(spec, names):
    labels = [""] * len(spec)
    labels[spec[0]], labels[spec[1]] = names
    for i, d in enumerate(spec[2:]):
        labels[d] = str(i)
    return "[" + ", ".join(labels) + "]"


@conv_general_dilated_p.def_lowering
def _conv_lowering(ctx, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                   dimension_numbers, feature_group_count, batch_group_count, precision,
                   preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    dn = (f"#stablehlo.conv<{_conv_spec_text(lhs_spec, 'bf')}x"
          f"{_conv_spec_text(rhs_spec, 'oi')}->{_conv_spec_text(out_spec, 'bf')}>")
    lt, rt = ctx.avals_in
    out = ctx.avals_out[0]
    if lt.dtype != out.dtype:
        lhs = ctx.op("stablehlo.convert", [lhs], [lt.update(dtype=out.dtype)])
    if rt.dtype != out.dtype:
        rhs = ctx.op("stablehlo.convert", [rhs], [rt.update(dtype=out.dtype)])
    attrs = {
        "batch_group_count": f"{batch_group_count} : i64",
        "dimension_numbers": dn,
        "feature_group_count": f"{feature_group_count} : i64",
        "lhs_dilation": i64_array(lhs_dilation),
        "padding": dense_attr(np.asarray(padding, np.int64).reshape(-1, 2), np.int64,
                              (len(padding), 2)),
        "rhs_dilation": i64_array(rhs_dilation),
        "window_strides": i64_array(window_strides),
    }
    return ctx.op("stablehlo.convolution", [lhs, rhs],
                  attrs={**attrs, **_precision_attr(precision)})


@conv_general_dilated_p.def_jvp
def _conv_jvp(primals, tangents, **params):
    return _bilinear_jvp(conv_general_dilated_p, primals, tangents, params)


def conv_general_vjp_lhs_padding(in_shape, window_dimensions, window_strides, out_shape,
                                 padding, lhs_dilation, rhs_dilation):
    """Pads of the convolution that maps an output cotangent back to the input."""
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
    out_d = _dilate_shape(out_shape, window_strides)
    before = [r - lo - 1 for r, (lo, _) in zip(rhs_d, padding)]
    after = [l + r - 1 - o - b for l, r, o, b in zip(lhs_d, rhs_d, out_d, before)]
    return tuple(zip(before, after))


def _conv_vjp_rhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                          lhs_dilation, rhs_dilation):
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
    out_d = _dilate_shape(out_shape, window_strides)
    los = [lo for lo, _ in padding]
    his = [o - l + r - lo - 1 for o, l, r, lo in zip(out_d, lhs_d, rhs_d, los)]
    return tuple(zip(los, his))


def _swap_spec(spec):
    return (spec[1], spec[0], *spec[2:])


def _reshape_axis_into(src, dst, x):
    """Merge axis `src` into axis `dst` (src becomes the major part of dst)."""
    shape = get_aval(x).shape
    perm = [i for i in range(len(shape)) if i != src]
    perm.insert(dst, src)
    new_shape = [d for i, d in enumerate(shape) if i != src]
    new_shape[dst] *= shape[src]
    return reshape(x, new_shape, perm)


def _reshape_axis_out_of(src, size1, x):
    """Split axis `src` into (size1, rest)."""
    shape = list(get_aval(x).shape)
    size2, ragged = divmod(shape[src], size1)
    assert not ragged
    shape[src:src + 1] = [size1, size2]
    return reshape(x, shape)


def _conv_transpose_lhs(g, rhs, lhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    rhs_shape = get_aval(rhs).shape
    if feature_group_count > 1 or batch_group_count > 1:
        # move the group from the kernel's output features into its input features
        groups = max(feature_group_count, batch_group_count)
        rhs = _reshape_axis_out_of(rhs_spec[0], groups, rhs)
        rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1], rhs)
    pads = conv_general_vjp_lhs_padding(
        np.take(lhs_aval.shape, lhs_spec[2:]), np.take(rhs_shape, rhs_spec[2:]),
        window_strides, np.take(get_aval(g).shape, out_spec[2:]), padding, lhs_dilation,
        rhs_dilation)
    kernel = rev(rhs, tuple(rhs_spec[2:]))
    if get_aval(kernel).dtype != get_aval(g).dtype:
        kernel = convert_element_type(kernel, get_aval(g).dtype)
    out = conv_general_dilated(
        g, kernel, window_strides=lhs_dilation, padding=pads, lhs_dilation=window_strides,
        rhs_dilation=rhs_dilation,
        dimension_numbers=ConvDimensionNumbers(out_spec, _swap_spec(rhs_spec), lhs_spec),
        feature_group_count=max(feature_group_count, batch_group_count),
        precision=precision, preferred_element_type=preferred_element_type)
    out = convert_element_type(out, lhs_aval.dtype, get_aval(out).weak_type)
    if batch_group_count > 1:
        out = _reshape_axis_out_of(lhs_spec[1], batch_group_count, out)
        out = _reshape_axis_into(lhs_spec[1], lhs_spec[0], out)
    return out


def _conv_transpose_rhs(g, lhs, rhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    if get_aval(g).size == 0:
        return Zero(tangent_aval(rhs_aval))
    pads = _conv_vjp_rhs_padding(
        np.take(get_aval(lhs).shape, lhs_spec[2:]), np.take(rhs_aval.shape, rhs_spec[2:]),
        window_strides, np.take(get_aval(g).shape, out_spec[2:]), padding, lhs_dilation,
        rhs_dilation)
    if get_aval(lhs).dtype != get_aval(g).dtype:
        lhs = convert_element_type(lhs, get_aval(g).dtype)
    out = conv_general_dilated(
        lhs, g, window_strides=rhs_dilation, padding=pads, lhs_dilation=lhs_dilation,
        rhs_dilation=window_strides,
        dimension_numbers=ConvDimensionNumbers(_swap_spec(lhs_spec), _swap_spec(out_spec),
                                               _swap_spec(rhs_spec)),
        feature_group_count=batch_group_count, batch_group_count=feature_group_count,
        precision=precision, preferred_element_type=preferred_element_type)
    return convert_element_type(out, rhs_aval.dtype, get_aval(out).weak_type)


@conv_general_dilated_p.def_transpose
def _conv_transpose_rule(ct, lhs, rhs, **params):
    if is_undefined(lhs) and is_undefined(rhs):
        raise TypeError("conv_general_dilated of two linear values is not linear")
    if is_undefined(lhs):
        return [_conv_transpose_lhs(ct, rhs, lhs.aval, **params), None]
    return [None, _conv_transpose_rhs(ct, lhs, rhs.aval, **params)]


@conv_general_dilated_p.def_batching
def _conv_batching(axis_data, vals, dims, **params):
    lhs, rhs = vals
    lhs_dim, rhs_dim = dims
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    fgc, bgc = params["feature_group_count"], params["batch_group_count"]
    bind = lambda l, r, **changes: conv_general_dilated_p.bind(l, r, **{**params, **changes})
    if lhs_dim is not None and rhs_dim is not None:
        # each example has its own kernel: one grouped convolution over all examples
        if bgc > 1:
            new_lhs = _reshape_axis_into(lhs_dim, lhs_spec[0], lhs)
            changes = {"batch_group_count": bgc * axis_data.size}
        else:
            new_lhs = _reshape_axis_into(lhs_dim, lhs_spec[1], lhs)
            changes = {"feature_group_count": fgc * axis_data.size}
        new_rhs = _reshape_axis_into(rhs_dim, rhs_spec[0], rhs)
        out = bind(new_lhs, new_rhs, **changes)
        return _reshape_axis_out_of(out_spec[1], axis_data.size, out), out_spec[1]
    if lhs_dim is not None:
        if bgc == 1:  # fold the vmapped axis into the batch
            out = bind(_reshape_axis_into(lhs_dim, lhs_spec[0], lhs), rhs)
            return _reshape_axis_out_of(out_spec[0], axis_data.size, out), out_spec[0]
        new_lhs = _reshape_axis_out_of(lhs_spec[0] + int(lhs_dim <= lhs_spec[0]), bgc, lhs)
        new_lhs = _reshape_axis_into(lhs_dim + int(lhs_spec[0] < lhs_dim), lhs_spec[0] + 1,
                                     new_lhs)
        new_lhs = _reshape_axis_into(lhs_spec[0], lhs_spec[0], new_lhs)
        out = bind(new_lhs, rhs)
        return _reshape_axis_out_of(out_spec[0], axis_data.size, out), out_spec[0]
    if fgc == 1 and bgc == 1:  # fold the vmapped axis into the output features
        out = bind(lhs, _reshape_axis_into(rhs_dim, rhs_spec[0], rhs))
        return _reshape_axis_out_of(out_spec[1], axis_data.size, out), out_spec[1]
    groups = fgc if fgc > 1 else bgc
    new_rhs = _reshape_axis_out_of(rhs_spec[0] + int(rhs_dim <= rhs_spec[0]), groups, rhs)
    new_rhs = _reshape_axis_into(rhs_dim + int(rhs_spec[0] < rhs_dim), rhs_spec[0] + 1,
                                 new_rhs)
    new_rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[0], new_rhs)
    out = bind(lhs, new_rhs)
    out = _reshape_axis_out_of(out_spec[1], groups, out)
    out = _reshape_axis_out_of(out_spec[1] + 1, axis_data.size, out)
    return _reshape_axis_into(out_spec[1], out_spec[1] + 1, out), out_spec[1]
