"""Dense, Embedding and Flatten."""
import math
from typing import Callable

import numpy as np

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._layer import Layer
from ._scope import Scope


def dense(x, kernel):
    """Contract the last axis of `x` with the first of `kernel`."""
    return lax.dot_general(x, kernel, (((x.ndim - 1,), (0,)), ((), ())))


class Dense(Layer):
    """A fully connected layer: `y = x @ kernel + bias` over the last axis of `x`.

    Parameters: `kernel` (in_features, features) and `bias` (features,).
    """
    features: int
    use_bias: bool = True
    kernel_init: Callable = initializers.glorot_uniform()
    bias_init: Callable = initializers.zeros

    def forward(self, scope, x):
        kernel = scope.param("kernel", (x.shape[-1], self.features), self.kernel_init,
                             self.param_dtype)
        y = dense(x, kernel)
        if self.use_bias:
            y = y + scope.param("bias", (self.features,), self.bias_init, self.param_dtype)
        return y


class Embedding(Layer):
    """A lookup table: integer ids of any shape -> vectors of size `features`.

    Parameter: `embedding` (num_embeddings, features), initialized as Flax's `Embed`:
    normal with variance 1 / features. `attend` computes logits against the table (a
    tied output projection): `scope.embed.attend(h)` inside a layer's `forward`, or
    `embed.attend(params, h)` directly.
    """
    num_embeddings: int
    features: int
    embedding_init: Callable = initializers.variance_scaling(1.0, "fan_in", "normal",
                                                             out_axis=0)

    def _table(self, scope):
        return scope.param("embedding", (self.num_embeddings, self.features),
                           self.embedding_init)

    def forward(self, scope, ids):
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Embedding takes integer ids, got {ids.dtype}")
        return fnp.take(self._table(scope), ids, axis=0)

    def attend(self, scope, x):
        """`x @ embedding.T`: scores (..., num_embeddings) of `x` (..., features)
        against every row of the table. `scope` is the layer's scope, or its params."""
        if not isinstance(scope, Scope):
            return self.apply(scope, {}, x, method="attend")[0]
        table = self._table(scope)
        return lax.dot_general(x, table, (((x.ndim - 1,), (1,)), ((), ())))


class Flatten(Layer):
    """Flatten all axes after the first (the batch axis)."""

    def forward(self, scope, x):
        return lax.reshape(x, (x.shape[0], math.prod(x.shape[1:])))
