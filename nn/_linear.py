"""Dense, Embedding and Flatten."""
import math
from typing import Any, Callable

import numpy as np

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._layer import Layer


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

    Parameter: `embedding` (num_embeddings, features). `attend(params, x)` computes
    logits against the table (for tied input/output embeddings).
    """
    num_embeddings: int
    features: int
    embedding_init: Callable = initializers.normal(1.0)

    def forward(self, scope, ids):
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Embedding takes integer ids, got {ids.dtype}")
        table = scope.param("embedding", (self.num_embeddings, self.features),
                            self.embedding_init, self.param_dtype)
        return fnp.take(table, ids, axis=0)

    def attend(self, params, x):
        """`x @ embedding.T`: scores of `x` against every row of the table."""
        table = params["embedding"]
        return lax.dot_general(x, table, (((x.ndim - 1,), (1,)), ((), ())))


class Flatten(Layer):
    """Flatten all axes after the first (the batch axis)."""

    def forward(self, scope, x):
        return lax.reshape(x, (x.shape[0], math.prod(x.shape[1:])))
