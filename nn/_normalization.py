"""Normalization layers: BatchNorm (running statistics in `state`), LayerNorm,
GroupNorm and RMSNorm. Statistics are computed in float32 for low-precision inputs (and
under a mixed dtype policy); outputs are in the layer's compute dtype."""
from typing import Any, Callable

import numpy as np

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._layer import Layer


def _stats_dtype(x):
    return np.float32 if np.dtype(x.dtype).itemsize < 4 else x.dtype


def _cast(x, dtype):
    return x if np.dtype(x.dtype) == np.dtype(dtype) else lax.convert_element_type(x, dtype)


def _moments(x, axes):
    """Mean and (biased) variance over `axes`, keeping the reduced axes."""
    x = _cast(x, _stats_dtype(x))
    mean = fnp.mean(x, axis=axes, keepdims=True)
    var = fnp.mean(fnp.square(x - mean), axis=axes, keepdims=True)
    return mean, var


def _along(v, x, axes):
    """Broadcast a parameter shaped like `x`'s `axes` to `x`'s shape."""
    return lax.broadcast_in_dim(v, x.shape, tuple(axes))


def _scale_and_shift(scope, layer, y, x, axes):
    shape = tuple(x.shape[a] for a in axes)
    if layer.use_scale:
        scale = scope.param("scale", shape, layer.scale_init, autocast=False)
        y = y * _along(_cast(scale, y.dtype), y, axes)
    if layer.use_bias:
        bias = scope.param("bias", shape, layer.bias_init, autocast=False)
        y = y + _along(_cast(bias, y.dtype), y, axes)
    return _cast(y, x.dtype)


def _normalized_axes(axis, ndim):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


class BatchNorm(Layer):
    """Batch normalization over every axis except `axis` (the features).

    With `training=True` it normalizes with the batch's statistics and updates the
    running ones in `state` (`mean`, `var`): `new = momentum * old + (1 - momentum) *
    batch` (biased batch variance); with `training=False` it uses the running ones and
    leaves `state` unchanged. `momentum` defaults to 0.99 as in Keras and Flax (PyTorch's
    momentum=0.1 is 0.9 here). Parameters: `scale`, `bias`; state in float32.
    """
    momentum: float = 0.99
    epsilon: float = 1e-5
    axis: int = -1
    use_scale: bool = True
    use_bias: bool = True
    scale_init: Callable = initializers.ones
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        axis = self.axis % x.ndim
        features = x.shape[axis]
        reduce_axes = tuple(i for i in range(x.ndim) if i != axis)
        running_mean = scope.state("mean", (features,), initializers.zeros)
        running_var = scope.state("var", (features,), initializers.ones)
        if scope.training:
            mean, var = _moments(x, reduce_axes)
            mean, var = fnp.reshape(mean, (features,)), fnp.reshape(var, (features,))
            m = self.momentum
            scope.set_state("mean", lax.stop_gradient(m * running_mean + (1 - m) * mean))
            scope.set_state("var", lax.stop_gradient(m * running_var + (1 - m) * var))
        else:
            mean, var = running_mean, running_var
        xf = _cast(x, _stats_dtype(x))
        y = (xf - _along(mean, xf, (axis,))) * _along(lax.rsqrt(var + self.epsilon), xf,
                                                      (axis,))
        return _scale_and_shift(scope, self, y, x, (axis,))


class LayerNorm(Layer):
    """Normalize over `axis` (an int or a tuple; default the last) per example.
    Parameters: `scale`, `bias`, shaped like the normalized axes."""
    epsilon: float = 1e-5
    axis: Any = -1
    use_scale: bool = True
    use_bias: bool = True
    scale_init: Callable = initializers.ones
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        axes = _normalized_axes(self.axis, x.ndim)
        mean, var = _moments(x, axes)
        y = (_cast(x, mean.dtype) - mean) * lax.rsqrt(var + self.epsilon)
        return _scale_and_shift(scope, self, y, x, axes)


class GroupNorm(Layer):
    """Split the channels (last axis) into `num_groups` groups (or groups of
    `group_size` channels: give one of the two) and normalize each group over it and
    the spatial axes, per example. Parameters: `scale`, `bias` (channels,).
    """
    num_groups: Any = 32
    group_size: Any = None
    epsilon: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True
    scale_init: Callable = initializers.ones
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        channels = x.shape[-1]
        if (self.num_groups is None) == (self.group_size is None):
            raise ValueError("GroupNorm: give either num_groups or group_size (set the "
                             "other to None)")
        groups = self.num_groups or channels // self.group_size
        if channels % groups or (self.group_size and channels % self.group_size):
            raise ValueError(f"GroupNorm: {channels} channels do not split into "
                             f"{self.num_groups} groups" if self.num_groups else
                             f"GroupNorm: {channels} channels do not split into groups "
                             f"of {self.group_size}")
        grouped = fnp.reshape(x, (*x.shape[:-1], groups, channels // groups))
        axes = tuple(range(1, x.ndim - 1)) + (x.ndim,)
        mean, var = _moments(grouped, axes)
        y = (_cast(grouped, mean.dtype) - mean) * lax.rsqrt(var + self.epsilon)
        y = fnp.reshape(y, x.shape)
        return _scale_and_shift(scope, self, y, x, (x.ndim - 1,))


class RMSNorm(Layer):
    """Scale by the root mean square over `axis` (no centering). Parameter: `scale`."""
    epsilon: float = 1e-6
    axis: Any = -1
    use_scale: bool = True
    scale_init: Callable = initializers.ones
    use_bias = False

    def forward(self, scope, x):
        axes = _normalized_axes(self.axis, x.ndim)
        xf = _cast(x, _stats_dtype(x))
        mean_square = fnp.mean(fnp.square(xf), axis=axes, keepdims=True)
        y = xf * lax.rsqrt(mean_square + self.epsilon)
        return _scale_and_shift(scope, self, y, x, axes)
