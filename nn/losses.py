"""Keras-style loss objects (`nn.losses.CategoricalCrossentropy(from_logits=True)`, ...)
for `fit(loss=...)`: each says what it expects (`from_logits=False`, Keras' default,
means probabilities) and gives per-example values. The optax-style functions
(`nn.softmax_cross_entropy`, ...) are in `nn` itself."""
from ._losses import (Loss, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                      BinaryCrossentropy, KLDivergence, MeanSquaredError,
                      MeanAbsoluteError, Huber, FunctionLoss, LOSSES, get_loss)

__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "BinaryCrossentropy", "KLDivergence", "MeanSquaredError", "MeanAbsoluteError",
           "Huber", "FunctionLoss", "LOSSES", "get_loss"]
