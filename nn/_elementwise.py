"""Layers without parameters that act elementwise: activations (as layers), `Lambda`
for any function, and `Dropout`."""
from typing import Any, Callable

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from ._layer import Layer


class Lambda(Layer):
    """Wrap a function of the input(s) as a layer (e.g. `Lambda(fl.nn.relu)`)."""
    fn: Callable

    def forward(self, scope, *inputs, **kwargs):
        return self.fn(*inputs, **kwargs)


class ReLU(Layer):
    """max(x, 0)."""

    def forward(self, scope, x):
        return fl.nn.relu(x)


class LeakyReLU(Layer):
    """x for x >= 0, negative_slope * x otherwise."""
    negative_slope: float = 0.01

    def forward(self, scope, x):
        return fl.nn.leaky_relu(x, self.negative_slope)


class ELU(Layer):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    alpha: float = 1.0

    def forward(self, scope, x):
        return fl.nn.elu(x, self.alpha)


class GELU(Layer):
    """Gaussian error linear unit (tanh approximation by default, as JAX)."""
    approximate: bool = True

    def forward(self, scope, x):
        return fl.nn.gelu(x, approximate=self.approximate)


class Sigmoid(Layer):
    """1 / (1 + exp(-x))."""

    def forward(self, scope, x):
        return fl.nn.sigmoid(x)


class Tanh(Layer):
    """tanh(x)."""

    def forward(self, scope, x):
        return fnp.tanh(x)


class SiLU(Layer):
    """x * sigmoid(x) (also called swish)."""

    def forward(self, scope, x):
        return fl.nn.silu(x)


class Softplus(Layer):
    """log(1 + exp(x))."""

    def forward(self, scope, x):
        return fl.nn.softplus(x)


class Softmax(Layer):
    """softmax over `axis`."""
    axis: int = -1

    def forward(self, scope, x):
        return fl.nn.softmax(x, axis=self.axis)


class LogSoftmax(Layer):
    """log_softmax over `axis`."""
    axis: int = -1

    def forward(self, scope, x):
        return fl.nn.log_softmax(x, axis=self.axis)


class Dropout(Layer):
    """Zero each entry with probability `rate` when `training=True` and scale the
    others by 1 / (1 - rate); the identity otherwise. Needs `rng` when training.
    `broadcast_dims` share one mask along those axes (e.g. (1, 2) for whole channels).
    """
    rate: float
    broadcast_dims: Any = ()

    def forward(self, scope, x):
        if not 0 <= self.rate <= 1:
            raise ValueError(f"Dropout rate must be in [0, 1], got {self.rate}")
        if not scope.training or self.rate == 0:
            return x
        if self.rate >= 1:
            return lax.full_like(x, 0)
        dims = {d % x.ndim for d in self.broadcast_dims}
        mask_shape = tuple(1 if i in dims else n for i, n in enumerate(x.shape))
        keep_prob = 1.0 - self.rate
        keep = fl.random.bernoulli(scope.rng, keep_prob, mask_shape)
        return fnp.where(keep, x / keep_prob, 0)
