"""Convolutions over channels-last inputs (N, *spatial, C) with kernels (*window, I, O):
`Conv` (1D/2D/3D, padding, strides, dilation, groups), `ConvTranspose`, and Keras'
`DepthwiseConv` and `SeparableConv`."""
from typing import Any, Callable

import numpy as np

import functorch_lite.lax as lax
from . import initializers
from ._layer import Layer

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def as_tuple(value, n, what):
    """`value` as an n-tuple of ints (an int is repeated)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{what} needs {n} values for {n} spatial dimensions, got {value}")
    return value


def dimension_numbers(nspatial):
    """Channels-last dimension numbers for `nspatial` spatial dimensions."""
    if nspatial not in _SPATIAL:
        raise ValueError(f"convolutions support 1, 2 or 3 spatial dimensions, got {nspatial}")
    s = _SPATIAL[nspatial]
    return ("N" + s + "C", s + "IO", "N" + s + "C")


def explicit_padding(padding, in_sizes, window, strides, dilation):
    """(low, high) pairs for 'SAME', 'VALID', 'CAUSAL' (1D: all padding before), an
    int, or per-dimension ints or pairs."""
    n = len(in_sizes)
    effective = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return tuple((0, 0) for _ in range(n))
        if mode == "SAME":
            pads = []
            for size, k, s in zip(in_sizes, effective, strides):
                out = -(-size // s)
                total = max((out - 1) * s + k - size, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        if mode == "CAUSAL":
            return tuple((k - 1, 0) for k in effective)
        raise ValueError(f"padding must be 'SAME', 'VALID', 'CAUSAL', ints or pairs, got "
                         f"{padding!r}")
    if isinstance(padding, (int, np.integer)):
        return tuple((int(padding), int(padding)) for _ in range(n))
    pads = tuple((int(p), int(p)) if isinstance(p, (int, np.integer)) else
                 (int(p[0]), int(p[1])) for p in padding)
    if len(pads) != n:
        raise ValueError(f"padding needs {n} entries, got {padding}")
    return pads


def _window(kernel_size, x):
    if isinstance(kernel_size, (int, np.integer)):
        return (int(kernel_size),) * (x.ndim - 2)
    return tuple(int(k) for k in kernel_size)


class Conv(Layer):
    """N-d convolution of channels-last inputs (batch, *spatial, in_features).

    `kernel_size` (an int repeats over the input's spatial dimensions), `strides`,
    `padding` ('SAME', 'VALID', 'CAUSAL', ints or (low, high) pairs), `dilation` (of the
    kernel) and `groups` (in_features and features must be multiples of it).
    Parameters: `kernel` (*kernel_size, in_features // groups, features), `bias`.
    """
    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "SAME"
    dilation: Any = 1
    groups: int = 1
    use_bias: bool = True
    kernel_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        window = _window(self.kernel_size, x)
        n = len(window)
        if x.ndim != n + 2:
            raise ValueError(f"{n}-D Conv takes inputs (batch, {n} spatial, channels), got "
                             f"shape {tuple(x.shape)}")
        in_features = x.shape[-1]
        if in_features % self.groups or self.features % self.groups:
            raise ValueError(f"groups={self.groups} must divide in_features={in_features} "
                             f"and features={self.features}")
        strides = as_tuple(self.strides, n, "strides")
        dilation = as_tuple(self.dilation, n, "dilation")
        kernel = scope.param("kernel", (*window, in_features // self.groups, self.features),
                             self.kernel_init)
        pads = explicit_padding(self.padding, x.shape[1:-1], window, strides, dilation)
        y = lax.conv_general_dilated(x, kernel, strides, pads, rhs_dilation=dilation,
                                     dimension_numbers=dimension_numbers(n),
                                     feature_group_count=self.groups)
        if self.use_bias:
            y = y + scope.param("bias", (self.features,), self.bias_init)
        return y


def keras_transpose_padding(kernel, stride, dilation, padding, output_padding):
    """Keras' (low, high) padding of the dilated input of a transposed convolution for
    'SAME' / 'VALID' with `output_padding` (extra rows at the end of the output)."""
    k = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return k - 1, k - 1 + output_padding
    total = k + k % 2 - 2 + output_padding
    low = min(total // 2 + total % 2, k - 1)
    return low, total - low


class ConvTranspose(Layer):
    """Transposed ("fractionally strided") convolution of channels-last inputs, as
    `jax.lax.conv_transpose`: upsamples by `strides`. `padding` is 'SAME', 'VALID' or
    (low, high) pairs padding the stride-dilated input (JAX's meaning); with
    `output_padding` (per dimension; Keras' and PyTorch's argument) 'SAME'/'VALID' are
    Keras': the output is (in - 1) * stride + kernel + output_padding for 'VALID'.
    `transpose_kernel=True` stores the kernel as the forward convolution's
    (*kernel_size, features, in_features) and flips it (Keras' and PyTorch's layout);
    then PyTorch's `padding=p` is `((d * (k - 1) - p, d * (k - 1) - p + output_padding),
    ...)`. Parameters: `kernel` (*kernel_size, in_features, features), `bias`.
    """
    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "SAME"
    dilation: Any = 1
    output_padding: Any = None
    use_bias: bool = True
    transpose_kernel: bool = False
    kernel_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        window = _window(self.kernel_size, x)
        n = len(window)
        if x.ndim != n + 2:
            raise ValueError(f"{n}-D ConvTranspose takes inputs (batch, {n} spatial, "
                             f"channels), got shape {tuple(x.shape)}")
        strides = as_tuple(self.strides, n, "strides")
        dilation = as_tuple(self.dilation, n, "dilation")
        # a transposed kernel is stored as the forward conv's (*window, out, in), as Flax
        io = (self.features, x.shape[-1]) if self.transpose_kernel else \
            (x.shape[-1], self.features)
        kernel = scope.param("kernel", (*window, *io), self.kernel_init)
        padding = self._padding(window, strides, dilation, n)
        y = lax.conv_transpose(x, kernel, strides, padding, rhs_dilation=dilation,
                               dimension_numbers=dimension_numbers(n),
                               transpose_kernel=self.transpose_kernel)
        if self.use_bias:
            y = y + scope.param("bias", (self.features,), self.bias_init)
        return y

    def _padding(self, window, strides, dilation, n):
        if isinstance(self.padding, str):
            mode = self.padding.upper()
            if mode not in ("SAME", "VALID"):
                raise ValueError(f"ConvTranspose padding must be 'SAME', 'VALID' or "
                                 f"(low, high) pairs, got {self.padding!r}")
            if self.output_padding is None:
                return mode
            extra = as_tuple(self.output_padding, n, "output_padding")
            for e, s, d in zip(extra, strides, dilation):
                if not 0 <= e < max(s, d):
                    raise ValueError(f"output_padding {extra} must be smaller than the "
                                     f"stride or the dilation ({strides}, {dilation})")
            return tuple(keras_transpose_padding(k, s, d, mode, e)
                         for k, s, d, e in zip(window, strides, dilation, extra))
        if self.output_padding is not None:
            raise ValueError("ConvTranspose: output_padding goes with 'SAME' or 'VALID'; "
                             "explicit (low, high) pairs already set the output size")
        return tuple(tuple(int(v) for v in p) for p in self.padding)


class DepthwiseConv(Layer):
    """Keras' depthwise convolution: each input channel convolved with its own
    `depth_multiplier` filters; output channels in*depth_multiplier, ordered
    (channel, multiplier). Parameters: `depthwise_kernel` (*kernel_size, in_features,
    depth_multiplier) (Keras' layout), `bias`."""
    kernel_size: Any
    depth_multiplier: int = 1
    strides: Any = 1
    padding: Any = "SAME"
    dilation: Any = 1
    use_bias: bool = True
    depthwise_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        return _depthwise(self, scope, x, self.use_bias)


def _depthwise(layer, scope, x, use_bias):
    window = _window(layer.kernel_size, x)
    n = len(window)
    if x.ndim != n + 2:
        raise ValueError(f"{n}-D {type(layer).__name__} takes inputs (batch, {n} spatial, "
                         f"channels), got shape {tuple(x.shape)}")
    channels, multiplier = x.shape[-1], layer.depth_multiplier
    strides = as_tuple(layer.strides, n, "strides")
    dilation = as_tuple(layer.dilation, n, "dilation")
    kernel = scope.param("depthwise_kernel", (*window, channels, multiplier),
                         layer.depthwise_init)
    kernel = lax.reshape(kernel, (*window, 1, channels * multiplier))
    pads = explicit_padding(layer.padding, x.shape[1:-1], window, strides, dilation)
    y = lax.conv_general_dilated(x, kernel, strides, pads, rhs_dilation=dilation,
                                 dimension_numbers=dimension_numbers(n),
                                 feature_group_count=channels)
    if use_bias:
        y = y + scope.param("bias", (channels * multiplier,), layer.bias_init)
    return y


class SeparableConv(Layer):
    """Keras' depthwise-separable convolution: a `DepthwiseConv` (with the strides,
    padding and dilation) then a 1x1 convolution to `features`. Parameters:
    `depthwise_kernel` (*kernel_size, in_features, depth_multiplier),
    `pointwise_kernel` (1.., in_features * depth_multiplier, features), `bias`."""
    features: int
    kernel_size: Any
    depth_multiplier: int = 1
    strides: Any = 1
    padding: Any = "SAME"
    dilation: Any = 1
    use_bias: bool = True
    depthwise_init: Callable = initializers.glorot_uniform()
    pointwise_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        y = _depthwise(self, scope, x, use_bias=False)
        n = x.ndim - 2
        kernel = scope.param("pointwise_kernel", (*(1,) * n, y.shape[-1], self.features),
                             self.pointwise_init)
        y = lax.conv_general_dilated(y, kernel, (1,) * n, ((0, 0),) * n,
                                     dimension_numbers=dimension_numbers(n))
        if self.use_bias:
            y = y + scope.param("bias", (self.features,), self.bias_init)
        return y
