"""Losses over functorch_lite arrays (optax's losses call jax.numpy, which our tracers
do not enter, so the formulas are restated here with the same conventions).

Two forms, both taking `(predictions, targets)`:

- functions named after optax's (`softmax_cross_entropy`, `binary_cross_entropy_with_logits`,
  ...) that take logits and return the mean over examples (`reduction="mean"`; also
  "sum" and "none"), plus the functional metrics `accuracy`, `top_k_accuracy`,
  `binary_accuracy`;
- Keras-style loss objects (`CategoricalCrossentropy(from_logits=False)`, ...) that say
  what they expect: `from_logits=False` (Keras' default) means the predictions are
  probabilities. `fit` uses their `per_example` values, so sample weights, class
  weights and padded batches weight each example exactly.
"""
import dataclasses

import numpy as np

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp


def _reduce(per_example, reduction):
    if reduction == "mean":
        return fnp.mean(per_example)
    if reduction == "sum":
        return fnp.sum(per_example)
    if reduction == "none":
        return per_example
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def one_hot(labels, num_classes, dtype=np.float32):
    """(..., ) integer labels -> (..., num_classes) one-hot vectors."""
    shape = (*labels.shape, num_classes)
    dims = tuple(range(labels.ndim))
    index = lax.broadcasted_iota(labels.dtype, shape, labels.ndim)
    hot = lax.eq(lax.broadcast_in_dim(labels, shape, dims), index)
    return lax.convert_element_type(hot, dtype)


def _as_targets(logits, labels):
    """One-hot targets for integer labels; probability targets pass through."""
    if np.issubdtype(labels.dtype, np.integer):
        if tuple(labels.shape) != tuple(logits.shape[:-1]):
            raise ValueError(f"integer labels of shape {tuple(labels.shape)} do not match "
                             f"logits of shape {tuple(logits.shape)} (expected "
                             f"{tuple(logits.shape[:-1])})")
        return one_hot(labels, logits.shape[-1], logits.dtype)
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(f"one-hot labels of shape {tuple(labels.shape)} do not match "
                         f"logits of shape {tuple(logits.shape)}")
    return labels


def _align(predictions, targets):
    """Targets shaped like the predictions: a (N,) target for (N, 1) predictions (a
    Dense(1) head) gains the trailing axis, as Keras does; other mismatches raise."""
    targets = fnp.asarray(targets)
    p_shape, t_shape = tuple(predictions.shape), tuple(targets.shape)
    if p_shape == t_shape:
        return targets
    if p_shape == t_shape + (1,):
        return fnp.expand_dims(targets, -1)
    raise ValueError(f"predictions of shape {p_shape} and targets of shape {t_shape} do "
                     f"not match (elementwise losses need equal shapes)")


def softmax_cross_entropy(logits, labels, *, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy of softmax(logits) (classes on the last axis) against integer
    labels or one-hot/probability targets; `label_smoothing` mixes the targets with the
    uniform distribution: t' = (1 - s) t + s / num_classes."""
    targets = _as_targets(logits, labels)
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / logits.shape[-1]
    per_example = -fnp.sum(targets * fl.nn.log_softmax(logits, axis=-1), axis=-1)
    return _reduce(per_example, reduction)


def binary_cross_entropy_with_logits(logits, labels, *, reduction="mean"):
    """Sigmoid cross-entropy of `logits` against labels in [0, 1] (elementwise),
    computed stably from log-sigmoids."""
    labels = _align(logits, labels)
    labels = lax.convert_element_type(labels, logits.dtype) \
        if np.dtype(labels.dtype) != np.dtype(logits.dtype) else labels
    loss = -labels * fl.nn.log_sigmoid(logits) - (1 - labels) * fl.nn.log_sigmoid(-logits)
    return _reduce(loss, reduction)


def mean_squared_error(predictions, targets, *, reduction="mean"):
    """(predictions - targets)^2, elementwise before reduction."""
    return _reduce(fnp.square(predictions - _align(predictions, targets)), reduction)


def huber_loss(predictions, targets, *, delta=1.0, reduction="mean"):
    """0.5 e^2 for |e| <= delta, delta (|e| - 0.5 delta) beyond (e = error)."""
    abs_error = fnp.abs(predictions - _align(predictions, targets))
    quadratic = fnp.minimum(abs_error, delta)
    linear = abs_error - quadratic
    return _reduce(0.5 * quadratic * quadratic + delta * linear, reduction)


def kl_divergence(log_predictions, targets, *, reduction="mean"):
    """KL(targets || predictions) over the last axis, from log-probabilities of the
    predictions and probabilities of the targets (optax's convention); 0 log 0 = 0."""
    safe_log = fnp.log(fnp.where(targets > 0, targets, 1))
    per_example = fnp.sum(targets * (safe_log - log_predictions), axis=-1)
    return _reduce(per_example, reduction)


def _label_ids(logits, labels):
    if np.issubdtype(labels.dtype, np.integer):
        return labels
    return lax.argmax(labels, labels.ndim - 1, np.int32)


def accuracy(logits, labels):
    """Fraction of examples whose highest logit is the label (int or one-hot)."""
    predicted = lax.argmax(logits, logits.ndim - 1, np.int32)
    ids = lax.convert_element_type(_label_ids(logits, labels), np.int32)
    return fnp.mean(lax.convert_element_type(lax.eq(predicted, ids), np.float32))


def top_k_accuracy(logits, labels, k=5):
    """Fraction of examples whose label is among the k highest logits (ties count in
    the label's favour)."""
    ids = _label_ids(logits, labels)
    targets = one_hot(ids, logits.shape[-1], logits.dtype)
    label_logit = fnp.sum(targets * logits, axis=-1, keepdims=True)
    rank = fnp.sum(lax.convert_element_type(logits > label_logit, np.int32), axis=-1)
    return fnp.mean(lax.convert_element_type(rank < k, np.float32))


def binary_accuracy(logits, labels, threshold=0.0):
    """Fraction of entries where (logits > threshold) equals the 0/1 label."""
    predicted = logits > threshold
    labels = _align(logits, labels)
    return fnp.mean(lax.convert_element_type(lax.eq(predicted, labels > 0.5), np.float32))


def mean_absolute_error(predictions, targets, *, reduction="mean"):
    """|predictions - targets|, elementwise before reduction."""
    return _reduce(fnp.abs(predictions - _align(predictions, targets)), reduction)


# --- loss objects -------------------------------------------------------------------

_EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to [eps, 1 - eps]


def per_example_mean(values):
    """(batch, ...) values -> (batch,) means over every axis but the first."""
    if values.ndim <= 1:
        return values
    return fnp.mean(fnp.reshape(values, (values.shape[0], -1)), axis=1)


def _as_float(x, like):
    return x if np.dtype(x.dtype) == np.dtype(like.dtype) else \
        lax.convert_element_type(x, like.dtype)


@dataclasses.dataclass(frozen=True)
class Loss:
    """A loss object: `per_example(predictions, targets)` gives one value per example
    (the mean over any other axes); calling it gives their (weighted) mean.

    `expects` is "logits" or "probabilities" for classification losses (None for
    regression), and `fit` warns when the model's outputs contradict it.
    """

    expects = None

    def per_example(self, predictions, targets):
        raise NotImplementedError

    def __call__(self, predictions, targets, sample_weight=None):
        values = self.per_example(predictions, targets)
        if sample_weight is not None:
            values = values * sample_weight
        return fnp.mean(values)

    def contradicted(self, predictions):
        """A traced 0/1 flag: the predictions cannot be what `expects` says."""
        return fnp.zeros((), np.float32)


def _probability_flags(predictions, categorical):
    inside = fnp.all((predictions >= 0) & (predictions <= 1))
    if categorical and predictions.shape[-1] > 1:
        inside = inside & fnp.all(fnp.abs(fnp.sum(predictions, axis=-1) - 1) < 1e-3)
    return inside


class _Probabilistic(Loss):
    categorical = True

    @property
    def expects(self):
        return "logits" if self.from_logits else "probabilities"

    def contradicted(self, predictions):
        predictions = lax.convert_element_type(predictions, np.float32)
        looks_like_probabilities = _probability_flags(predictions, self.categorical)
        if self.from_logits:
            return lax.convert_element_type(looks_like_probabilities, np.float32)
        in_range = fnp.all((predictions >= 0) & (predictions <= 1))
        return lax.convert_element_type(~in_range, np.float32)


def _categorical_log_probabilities(predictions, from_logits):
    if from_logits:
        return fl.nn.log_softmax(predictions, axis=-1)
    # Keras: rescale so that the classes sum to 1, clip to [eps, 1 - eps], take logs
    probabilities = predictions / fnp.sum(predictions, axis=-1, keepdims=True)
    return fnp.log(fnp.clip(probabilities, _EPSILON, 1 - _EPSILON))


@dataclasses.dataclass(frozen=True)
class CategoricalCrossentropy(_Probabilistic):
    """Cross-entropy over the last axis against integer labels or one-hot/probability
    targets. `from_logits=False` (Keras' default): the predictions are probabilities
    (a Softmax head); True: logits. `label_smoothing` s mixes the targets with the
    uniform distribution: (1 - s) t + s / classes."""
    from_logits: bool = False
    label_smoothing: float = 0.0

    def per_example(self, predictions, targets):
        targets = _as_targets(predictions, fnp.asarray(targets))
        if self.label_smoothing:
            classes = predictions.shape[-1]
            targets = targets * (1.0 - self.label_smoothing) + self.label_smoothing / classes
        log_p = _categorical_log_probabilities(predictions, self.from_logits)
        return per_example_mean(-fnp.sum(targets * log_p, axis=-1))


@dataclasses.dataclass(frozen=True)
class SparseCategoricalCrossentropy(_Probabilistic):
    """Cross-entropy against integer class labels (shape of the predictions without
    their last axis). `from_logits=False` (Keras' default): probabilities."""
    from_logits: bool = False

    def per_example(self, predictions, targets):
        targets = fnp.asarray(targets)
        if not np.issubdtype(targets.dtype, np.integer):
            raise TypeError(f"SparseCategoricalCrossentropy needs integer class labels, "
                            f"got {np.dtype(targets.dtype).name} targets of shape "
                            f"{tuple(targets.shape)}; use CategoricalCrossentropy for "
                            f"one-hot or probability targets")
        return CategoricalCrossentropy(self.from_logits).per_example(predictions, targets)


@dataclasses.dataclass(frozen=True)
class BinaryCrossentropy(_Probabilistic):
    """Elementwise binary cross-entropy against labels in [0, 1]. `from_logits=False`
    (Keras' default): the predictions are probabilities (a Sigmoid head); True:
    logits, computed stably from log-sigmoids. `label_smoothing` s: t (1 - s) + s / 2."""
    from_logits: bool = False
    label_smoothing: float = 0.0
    categorical = False

    def per_example(self, predictions, targets):
        targets = _as_float(_align(predictions, targets), predictions)
        if self.label_smoothing:
            targets = targets * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            log_p, log_not_p = fl.nn.log_sigmoid(predictions), fl.nn.log_sigmoid(-predictions)
        else:
            p = fnp.clip(predictions, _EPSILON, 1 - _EPSILON)
            log_p, log_not_p = fnp.log(p), fnp.log(1 - p)
        return per_example_mean(-targets * log_p - (1 - targets) * log_not_p)


@dataclasses.dataclass(frozen=True)
class KLDivergence(_Probabilistic):
    """KL(targets || predictions) over the last axis; targets are probabilities,
    predictions probabilities (`from_logits=False`, Keras) or logits."""
    from_logits: bool = False

    def per_example(self, predictions, targets):
        targets = _as_float(fnp.asarray(targets), predictions)
        log_p = fl.nn.log_softmax(predictions, axis=-1) if self.from_logits else \
            fnp.log(fnp.clip(predictions, _EPSILON, 1))  # Keras: no renormalising
        safe_log_t = fnp.log(fnp.clip(targets, _EPSILON, 1))
        return per_example_mean(fnp.sum(targets * (safe_log_t - log_p), axis=-1))


@dataclasses.dataclass(frozen=True)
class MeanSquaredError(Loss):
    """(predictions - targets)^2, averaged over each example's entries."""

    def per_example(self, predictions, targets):
        return per_example_mean(mean_squared_error(predictions, targets, reduction="none"))


@dataclasses.dataclass(frozen=True)
class MeanAbsoluteError(Loss):
    """|predictions - targets|, averaged over each example's entries."""

    def per_example(self, predictions, targets):
        return per_example_mean(mean_absolute_error(predictions, targets, reduction="none"))


@dataclasses.dataclass(frozen=True)
class Huber(Loss):
    """0.5 e^2 for |e| <= delta, delta (|e| - 0.5 delta) beyond, per entry."""
    delta: float = 1.0

    def per_example(self, predictions, targets):
        return per_example_mean(huber_loss(predictions, targets, delta=self.delta,
                                           reduction="none"))


@dataclasses.dataclass(frozen=True)
class FunctionLoss(Loss):
    """A user function `fn(predictions, targets)` returning per-example values (or a
    scalar: then sample weights and padded batches cannot weight its examples)."""
    fn: object = None

    def per_example(self, predictions, targets):
        values = self.fn(predictions, targets)
        return values if fnp.ndim(values) == 0 else per_example_mean(values)


LOSSES = {
    # optax / PyTorch meaning: computed from logits
    "cross_entropy": CategoricalCrossentropy(from_logits=True),
    "softmax_cross_entropy": CategoricalCrossentropy(from_logits=True),
    "sigmoid_binary_cross_entropy": BinaryCrossentropy(from_logits=True),
    # Keras names, Keras meaning: probabilities
    "categorical_crossentropy": CategoricalCrossentropy(),
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy(),
    "binary_crossentropy": BinaryCrossentropy(),
    "kl_divergence": KLDivergence(),
    "kld": KLDivergence(),
    # regression
    "mse": MeanSquaredError(),
    "mean_squared_error": MeanSquaredError(),
    "mae": MeanAbsoluteError(),
    "mean_absolute_error": MeanAbsoluteError(),
    "huber": Huber(),
}

_AMBIGUOUS = {
    "binary_cross_entropy": "'binary_crossentropy' (Keras: probabilities, a Sigmoid head) "
                            "or 'sigmoid_binary_cross_entropy' (optax: logits)",
}


def get_loss(loss):
    """A `Loss` from a name in `LOSSES`, a `Loss` object or a function
    `(predictions, targets) -> per-example values or scalar`."""
    if isinstance(loss, Loss):
        return loss
    if callable(loss):
        return FunctionLoss(loss)
    if loss in _AMBIGUOUS:
        raise ValueError(f"loss {loss!r} is ambiguous: say {_AMBIGUOUS[loss]}, or pass "
                         f"nn.BinaryCrossentropy(from_logits=...)")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {sorted(LOSSES)}, a loss object "
                         f"(nn.CategoricalCrossentropy(from_logits=True), ...) or a "
                         f"function (predictions, targets) -> per-example losses")
    return LOSSES[loss]
