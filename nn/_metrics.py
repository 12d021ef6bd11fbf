"""Stateful metrics, accumulated over a whole epoch (not averaged per batch).

A metric is a frozen dataclass of settings with three functional methods:

- `init(predictions, targets)`: the zero state (a dict of float32 NumPy arrays), sized
  from the shapes of one batch (arrays or Specs);
- `update(state, predictions, targets, weights)`: the new state (traced inside `fit`'s
  compiled step); `weights` are per-example (sample weights times class weights, 0 for
  padding rows);
- `result(state)`: the value, a float (on the host).

Means (accuracy, MAE, ...) add weighted sums and weights; precision, recall and F1 add
true/false positive counts; AUC adds confusion counts at fixed thresholds; perplexity
adds token log-losses. So results equal the formulas over all examples at once (as
scikit-learn computes them), whatever the batch sizes.
"""
import dataclasses

import numpy as np

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from ._losses import (_align, _categorical_log_probabilities, _label_ids,
                      _EPSILON, one_hot, per_example_mean)


def _f32(x):
    return lax.convert_element_type(x, np.float32)


def _broadcast_weights(weights, values):
    """(batch,) weights shaped to multiply (batch, ...) values."""
    return fnp.reshape(weights, weights.shape + (1,) * (values.ndim - 1))


def _zeros(**shapes):
    return {name: np.zeros(shape, np.float32) for name, shape in shapes.items()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Metric:
    """Base class (see the module docstring). `name` overrides the name in the logs."""
    name: str = None

    default_name = "metric"

    @property
    def log_name(self):
        return self.name or self.default_name

    def init(self, predictions, targets):
        raise NotImplementedError

    def update(self, state, predictions, targets, weights):
        raise NotImplementedError

    def result(self, state):
        raise NotImplementedError


class MeanMetric(Metric):
    """The weighted mean of per-example `values(predictions, targets)` over all examples."""

    def values(self, predictions, targets):
        raise NotImplementedError

    def init(self, predictions, targets):
        return _zeros(total=(), count=())

    def update(self, state, predictions, targets, weights):
        values = self.values(predictions, targets)
        if fnp.ndim(values) == 0:  # a function giving one value per batch
            return {"total": state["total"] + _f32(values) * fnp.sum(weights),
                    "count": state["count"] + fnp.sum(weights)}
        values = _f32(per_example_mean(values))
        return {"total": state["total"] + fnp.sum(weights * values),
                "count": state["count"] + fnp.sum(weights)}

    def result(self, state):
        count = float(state["count"])
        return float(state["total"]) / count if count else 0.0


@dataclasses.dataclass(frozen=True)
class Accuracy(MeanMetric):
    """How often the highest prediction is the label (integer or one-hot labels)."""
    default_name = "accuracy"

    def values(self, predictions, targets):
        predicted = lax.argmax(predictions, predictions.ndim - 1, np.int32)
        ids = lax.convert_element_type(_label_ids(predictions, fnp.asarray(targets)),
                                       np.int32)
        return _f32(lax.eq(predicted, ids))


@dataclasses.dataclass(frozen=True)
class BinaryAccuracy(MeanMetric):
    """How often `prediction > threshold` equals the 0/1 label; with `from_logits` the
    threshold applies to sigmoid(prediction)."""
    threshold: float = 0.5
    from_logits: bool = False
    default_name = "binary_accuracy"

    def values(self, predictions, targets):
        p = fl.nn.sigmoid(predictions) if self.from_logits else predictions
        return _f32(lax.eq(p > self.threshold, _align(predictions, targets) > 0.5))


@dataclasses.dataclass(frozen=True)
class TopKAccuracy(MeanMetric):
    """How often the label is among the k highest predictions (ties count for it)."""
    k: int = 5
    default_name = "top_k_accuracy"

    @property
    def log_name(self):
        return self.name or f"top{self.k}_accuracy"

    def values(self, predictions, targets):
        ids = _label_ids(predictions, fnp.asarray(targets))
        hot = one_hot(ids, predictions.shape[-1], predictions.dtype)
        label_score = fnp.sum(hot * predictions, axis=-1, keepdims=True)
        rank = fnp.sum(lax.convert_element_type(predictions > label_score, np.int32), axis=-1)
        return _f32(rank < self.k)


@dataclasses.dataclass(frozen=True)
class MeanAbsoluteError(MeanMetric):
    default_name = "mae"

    def values(self, predictions, targets):
        return fnp.abs(predictions - _align(predictions, targets))


@dataclasses.dataclass(frozen=True)
class MeanSquaredError(MeanMetric):
    default_name = "mse"

    def values(self, predictions, targets):
        return fnp.square(predictions - _align(predictions, targets))


@dataclasses.dataclass(frozen=True)
class FunctionMetric(MeanMetric):
    """A user function `fn(predictions, targets)` giving per-example values (weighted
    exactly) or one value per batch (weighted by the batch's total weight)."""
    fn: object = None

    @property
    def log_name(self):
        return self.name or getattr(self.fn, "__name__", "metric")

    def values(self, predictions, targets):
        return self.fn(predictions, targets)


@dataclasses.dataclass(frozen=True)
class Perplexity(MeanMetric):
    """exp(mean token cross-entropy) over all tokens of the epoch. Predictions are
    (..., classes) probabilities (`from_logits=False`) or logits; labels integers."""
    from_logits: bool = False
    default_name = "perplexity"

    def values(self, predictions, targets):
        targets = fnp.asarray(targets)
        hot = one_hot(targets, predictions.shape[-1], predictions.dtype) \
            if np.issubdtype(targets.dtype, np.integer) else targets
        log_p = _categorical_log_probabilities(predictions, self.from_logits)
        return -fnp.sum(hot * log_p, axis=-1)

    def result(self, state):
        return float(np.exp(super().result(state)))


def _binary_view(metric, predictions, targets):
    """(probabilities, 0/1 labels) with equal shapes for a binary metric."""
    targets = fnp.asarray(targets)
    if metric.class_id is not None:
        probabilities = fl.nn.softmax(predictions, axis=-1) if metric.from_logits \
            else predictions
        hot = one_hot(targets, predictions.shape[-1], np.float32) \
            if np.issubdtype(targets.dtype, np.integer) else _f32(targets)
        return probabilities[..., metric.class_id], hot[..., metric.class_id] > 0.5
    if np.issubdtype(targets.dtype, np.integer) and predictions.shape[-1] > 1 \
            and tuple(targets.shape) == tuple(predictions.shape[:-1]):
        raise ValueError(f"{type(metric).__name__} is a binary metric but the predictions "
                         f"have {predictions.shape[-1]} classes: pass class_id= (one "
                         f"class against the rest) or use F1Score(average='macro')")
    probabilities = fl.nn.sigmoid(predictions) if metric.from_logits else predictions
    return probabilities, _align(predictions, targets) > 0.5


@dataclasses.dataclass(frozen=True)
class _Confusion(Metric):
    """Counts of true/false positives/negatives of `probability > threshold`."""
    threshold: float = 0.5
    from_logits: bool = False
    class_id: int = None

    def init(self, predictions, targets):
        return _zeros(tp=(), fp=(), fn=())

    def update(self, state, predictions, targets, weights):
        p, y = _binary_view(self, predictions, targets)
        positive = p > self.threshold
        w = _broadcast_weights(weights, p)
        return {"tp": state["tp"] + fnp.sum(w * _f32(positive & y)),
                "fp": state["fp"] + fnp.sum(w * _f32(positive & ~y)),
                "fn": state["fn"] + fnp.sum(w * _f32(~positive & y))}


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if float(denominator) else 0.0


@dataclasses.dataclass(frozen=True)
class Precision(_Confusion):
    """tp / (tp + fp) of `probability > threshold` over the epoch (binary; `class_id`
    for one class of a multi-class output)."""
    default_name = "precision"

    def result(self, state):
        return _ratio(state["tp"], state["tp"] + state["fp"])


@dataclasses.dataclass(frozen=True)
class Recall(_Confusion):
    """tp / (tp + fn) of `probability > threshold` over the epoch."""
    default_name = "recall"

    def result(self, state):
        return _ratio(state["tp"], state["tp"] + state["fn"])


@dataclasses.dataclass(frozen=True)
class F1Score(Metric):
    """F1 over the epoch, per class from true/false positive counts, then averaged:
    "macro" (mean over classes), "weighted" (by support) or "micro" (from the summed
    counts), as scikit-learn's `f1_score`. Predicted classes are the argmax
    (`threshold=None`) or every class whose probability exceeds `threshold` (the
    default for a single-column binary output: 0.5)."""
    average: str = "macro"
    threshold: float = None
    from_logits: bool = False
    default_name = "f1_score"

    def __post_init__(self):
        if self.average not in ("macro", "micro", "weighted"):
            raise ValueError(f"F1Score average must be 'macro', 'micro' or 'weighted', "
                             f"got {self.average!r}")

    def init(self, predictions, targets):
        classes = predictions.shape[-1]
        return _zeros(tp=(classes,), fp=(classes,), fn=(classes,))

    def update(self, state, predictions, targets, weights):
        classes, targets = predictions.shape[-1], fnp.asarray(targets)
        if np.issubdtype(targets.dtype, np.integer) and classes > 1:
            truth = one_hot(targets, classes, np.float32)
        else:
            truth = _f32(_align(predictions, targets) > 0.5)
        threshold = 0.5 if self.threshold is None and classes == 1 else self.threshold
        if threshold is None:
            predicted = one_hot(lax.argmax(predictions, predictions.ndim - 1, np.int32),
                                classes, np.float32)
        else:
            activation = fl.nn.sigmoid if classes == 1 else fl.nn.softmax
            p = activation(predictions) if self.from_logits else predictions
            predicted = _f32(p > threshold)
        w = _broadcast_weights(weights, truth)
        axes = tuple(range(truth.ndim - 1))
        return {"tp": state["tp"] + fnp.sum(w * predicted * truth, axis=axes),
                "fp": state["fp"] + fnp.sum(w * predicted * (1 - truth), axis=axes),
                "fn": state["fn"] + fnp.sum(w * (1 - predicted) * truth, axis=axes)}

    def result(self, state):
        tp, fp, fn = (np.asarray(state[k], np.float64) for k in ("tp", "fp", "fn"))
        if self.average == "micro":
            return _ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum())
        denominator = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        if self.average == "macro":
            return float(f1.mean())
        support = tp + fn
        return _ratio((f1 * support).sum(), support.sum())


@dataclasses.dataclass(frozen=True)
class AUC(Metric):
    """Area under the ROC curve over the epoch, from confusion counts at
    `num_thresholds` thresholds evenly spaced in [0, 1] and the trapezoidal rule (Keras'
    AUC). Exact (scikit-learn's `roc_auc_score`) when every score lies between
    thresholds; otherwise within about 1 / num_thresholds."""
    num_thresholds: int = 200
    from_logits: bool = False
    class_id = None
    default_name = "auc"

    def thresholds(self):
        inner = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
        return np.asarray([-_EPSILON] + inner + [1 + _EPSILON], np.float32)

    def init(self, predictions, targets):
        n = self.num_thresholds
        return _zeros(tp=(n,), fp=(n,), tn=(n,), fn=(n,))

    def update(self, state, predictions, targets, weights):
        p, y = _binary_view(self, predictions, targets)
        w = fnp.reshape(_broadcast_weights(weights, p) * fnp.ones_like(_f32(p)), (-1, 1))
        p, y = fnp.reshape(_f32(p), (-1, 1)), fnp.reshape(_f32(y), (-1, 1))
        above = _f32(p > self.thresholds()[None, :])
        return {"tp": state["tp"] + fnp.sum(w * above * y, axis=0),
                "fp": state["fp"] + fnp.sum(w * above * (1 - y), axis=0),
                "tn": state["tn"] + fnp.sum(w * (1 - above) * (1 - y), axis=0),
                "fn": state["fn"] + fnp.sum(w * (1 - above) * y, axis=0)}

    def result(self, state):
        tp, fp, tn, fn = (np.asarray(state[k], np.float64) for k in ("tp", "fp", "tn", "fn"))
        tpr = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=tp + fn > 0)
        fpr = np.divide(fp, fp + tn, out=np.zeros_like(fp), where=fp + tn > 0)
        return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))


_NAMED = {
    "categorical_accuracy": lambda logits: Accuracy(),
    "sparse_categorical_accuracy": lambda logits: Accuracy(),
    "binary_accuracy": lambda logits: BinaryAccuracy(from_logits=logits),
    "top5_accuracy": lambda logits: TopKAccuracy(5),
    "top_5_accuracy": lambda logits: TopKAccuracy(5),
    "top_k_categorical_accuracy": lambda logits: TopKAccuracy(5),
    "sparse_top_k_categorical_accuracy": lambda logits: TopKAccuracy(5),
    "mae": lambda logits: MeanAbsoluteError(),
    "mean_absolute_error": lambda logits: MeanAbsoluteError(),
    "mse": lambda logits: MeanSquaredError(),
    "mean_squared_error": lambda logits: MeanSquaredError(),
    "precision": lambda logits: Precision(from_logits=logits),
    "recall": lambda logits: Recall(from_logits=logits),
    "auc": lambda logits: AUC(from_logits=logits),
    "f1_score": lambda logits: F1Score(from_logits=logits),
    "f1": lambda logits: F1Score(from_logits=logits),
    "perplexity": lambda logits: Perplexity(from_logits=logits),
}


def get_metric(metric, loss=None, predictions=None):
    """A `Metric` from an object, a function `(predictions, targets) -> values` or a
    name. Names take `from_logits` from the output's `loss` (a loss on logits makes
    "precision", "auc", ... apply a sigmoid/softmax first), and "accuracy" is binary
    (threshold 0.5 on probabilities) for single-column outputs or a binary
    cross-entropy, else the argmax accuracy."""
    if isinstance(metric, Metric):
        return metric
    if callable(metric):
        return FunctionMetric(fn=metric)
    logits = getattr(loss, "expects", None) == "logits"
    if metric in ("accuracy", "acc"):
        single_column = predictions is not None and (predictions.ndim < 2
                                                     or predictions.shape[-1] == 1)
        binary = single_column or getattr(loss, "categorical", True) is False
        chosen = BinaryAccuracy(from_logits=logits) if binary else Accuracy()
        return dataclasses.replace(chosen, name=metric)
    if metric not in _NAMED:
        raise ValueError(f"unknown metric {metric!r}; known: "
                         f"{sorted(_NAMED) + ['accuracy']}, a metric object "
                         f"(nn.metrics.F1Score(average='macro'), ...) or a function "
                         f"(predictions, targets) -> per-example values")
    return dataclasses.replace(_NAMED[metric](logits), name=metric)
