"""Spatial layers against references written with JAX: ConvTranspose with Keras'
output_padding (Keras' padding formula + jax.lax.conv_transpose) and PyTorch's padding
(the VJP of the forward convolution), DepthwiseConv and SeparableConv (one convolution
per channel), UpSampling (jnp.repeat, jax.image.resize), ZeroPadding, Cropping and
masked global pooling. Values, gradients, vmap under jit."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
import jax.lax as jlax

import nn
from nn_checks import KEY, check_layer, perturbed, randn

RNG = np.random.RandomState(0)
IMG = randn(RNG, 2, 5, 4, 3)
SEQ = randn(RNG, 2, 6, 3)
NHWC = ("NHWC", "HWIO", "NHWC")


def keras_transpose_pads(kernel, stride, padding, output_padding, dilation=1):
    """keras.src.backend.common.backend_utils, conv-transpose padding for JAX."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        output_padding = max(kernel, stride) - kernel if output_padding is None else \
            output_padding
        return kernel - 1, kernel - 1 + output_padding
    pad_len = stride + kernel - 2 if output_padding is None else \
        kernel + kernel % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, kernel - 1)
    return left, pad_len - left


def keras_conv_transpose(x, kernel, stride, padding, output_padding):
    pads = [keras_transpose_pads(kernel.shape[0], stride, padding, output_padding)] * 2
    return jlax.conv_transpose(x, kernel, (stride, stride), pads, dimension_numbers=NHWC,
                               transpose_kernel=True)


def torch_conv_transpose(x, kernel, stride, padding, output_padding):
    """PyTorch's ConvTranspose2d(padding, output_padding) as the gradient of the forward
    convolution it transposes (kernel (k, k, out, in) = the forward conv's HWIO)."""
    k = kernel.shape[0]
    sizes = [(n - 1) * stride - 2 * padding + k + output_padding for n in x.shape[1:3]]

    def forward(z):
        return jlax.conv_general_dilated(z, kernel, (stride, stride), [(padding, padding)] * 2,
                                         dimension_numbers=NHWC)
    _, vjp = jax.vjp(forward, jnp.zeros((x.shape[0], *sizes, kernel.shape[2])))
    return vjp(x)[0]


def depthwise_ref(x, kernel, stride, padding, dilation=1):
    """Each input channel convolved on its own with its depth_multiplier filters."""
    outs = [jlax.conv_general_dilated(x[..., c:c + 1], kernel[..., c:c + 1, :],
                                      (stride,) * (x.ndim - 2), padding,
                                      rhs_dilation=(dilation,) * (x.ndim - 2),
                                      dimension_numbers=NHWC if x.ndim == 4 else
                                      ("NWC", "WIO", "NWC"))
            for c in range(x.shape[-1])]
    return jnp.concatenate(outs, -1)


MASK = np.array([[1, 1, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)

CASES = {
    "conv_transpose_keras_same_output_padding": (
        nn.ConvTranspose(4, 3, strides=2, output_padding=1, transpose_kernel=True), IMG,
        lambda p, x: keras_conv_transpose(x, p["kernel"], 2, "same", 1) + p["bias"]),
    "conv_transpose_keras_valid_output_padding": (
        nn.ConvTranspose(4, 3, strides=3, padding="VALID", output_padding=2,
                         transpose_kernel=True), IMG,
        lambda p, x: keras_conv_transpose(x, p["kernel"], 3, "valid", 2) + p["bias"]),
    "conv_transpose_torch_padding": (
        nn.ConvTranspose(4, 3, strides=2, padding=((1, 2), (1, 2)), transpose_kernel=True,
                         use_bias=False), IMG,
        lambda p, x: torch_conv_transpose(x, p["kernel"], 2, padding=1, output_padding=1)),
    "depthwise2d_multiplier_stride": (
        nn.DepthwiseConv(3, depth_multiplier=2, strides=2), IMG,
        lambda p, x: depthwise_ref(x, p["depthwise_kernel"], 2, "SAME") + p["bias"]),
    "depthwise1d_valid_dilated": (
        nn.DepthwiseConv(2, padding="VALID", dilation=2, use_bias=False), SEQ,
        lambda p, x: depthwise_ref(x, p["depthwise_kernel"], 1, "VALID", 2)),
    "separable2d_strided": (
        nn.SeparableConv(5, 3, depth_multiplier=2, strides=2), IMG,
        lambda p, x: jlax.conv_general_dilated(
            depthwise_ref(x, p["depthwise_kernel"], 2, "SAME"), p["pointwise_kernel"],
            (1, 1), "VALID", dimension_numbers=NHWC) + p["bias"]),
    "upsampling_nearest": (nn.UpSampling((2, 3)), IMG,
                           lambda p, x: jnp.repeat(jnp.repeat(x, 2, 1), 3, 2)),
    "upsampling_bilinear": (nn.UpSampling(2, "bilinear"), IMG,
                            lambda p, x: jax.image.resize(x, (2, 10, 8, 3), "bilinear")),
    "upsampling1d": (nn.UpSampling(3), SEQ, lambda p, x: jnp.repeat(x, 3, 1)),
    "zero_padding_pairs": (nn.ZeroPadding(((1, 2), (0, 3))), IMG,
                           lambda p, x: jnp.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0)))),
    "zero_padding1d": (nn.ZeroPadding(2), SEQ,
                       lambda p, x: jnp.pad(x, ((0, 0), (2, 2), (0, 0)))),
    "cropping": (nn.Cropping((1, (0, 2))), IMG, lambda p, x: x[:, 1:-1, 0:2]),
}


@pytest.mark.parametrize("name", CASES)
def test_spatial_layers_match_reference(name):
    layer, x, ref = CASES[name]
    params = perturbed(layer.init(KEY, x)[0], RNG)
    check_layer(lambda p, x: layer(p, x), ref, params, (x,), tol=1e-5)


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_global_pooling_with_mask(pool):
    layer = nn.GlobalAvgPool() if pool == "avg" else nn.GlobalMaxPool(keepdims=True)

    def ref(p, x, mask):
        keep = mask[..., None]
        if pool == "avg":
            return jnp.sum(jnp.where(keep, x, 0), 1) / jnp.sum(keep, 1)
        return jnp.max(jnp.where(keep, x, -jnp.inf), 1, keepdims=True)
    check_layer(lambda p, x, mask: layer(p, x, mask=mask), ref, {}, (SEQ, MASK))


def test_spatial_errors_name_the_problem():
    with pytest.raises(ValueError, match="output_padding goes with 'SAME' or 'VALID'"):
        nn.ConvTranspose(2, 3, padding=((1, 1), (1, 1)), output_padding=1).init(KEY, IMG)
    with pytest.raises(ValueError, match="smaller than the stride"):
        nn.ConvTranspose(2, 3, strides=2, output_padding=2).init(KEY, IMG)
    with pytest.raises(ValueError, match="removes all 4 entries"):
        nn.Cropping((0, 2))({}, IMG)
    with pytest.raises(ValueError, match="interpolation must be"):
        nn.UpSampling(2, "cubic")({}, IMG)
    with pytest.raises(ValueError, match="mask must be"):
        nn.GlobalAvgPool()({}, SEQ, mask=MASK[:, :3])
