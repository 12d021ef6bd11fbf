"""Losses and metrics over functorch_lite arrays (optax's losses call jax.numpy, which
our tracers do not enter, so the formulas are restated here with the same
conventions). Every loss takes `(predictions, targets)` and by default returns the
mean over examples (`reduction="mean"`; also "sum" and "none")."""
import functools

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


LOSSES = {
    "cross_entropy": softmax_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
    "categorical_crossentropy": softmax_cross_entropy,
    "sparse_categorical_crossentropy": softmax_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy_with_logits,
    "binary_crossentropy": binary_cross_entropy_with_logits,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "huber": huber_loss,
    "kl_divergence": kl_divergence,
}

METRICS = {
    "accuracy": accuracy,
    "acc": accuracy,
    "top5_accuracy": functools.partial(top_k_accuracy, k=5),
    "top_5_accuracy": functools.partial(top_k_accuracy, k=5),
    "binary_accuracy": binary_accuracy,
}


def get_loss(loss):
    """A loss function from a name in `LOSSES` or a callable."""
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {sorted(LOSSES)} or a function "
                         f"(predictions, targets) -> scalar")
    return LOSSES[loss]


def get_metrics(metrics):
    """{name: fn} from names in `METRICS`, callables (named by __name__) or a dict."""
    if isinstance(metrics, dict):
        return dict(metrics)
    result = {}
    for m in metrics or ():
        if callable(m):
            result[getattr(m, "__name__", f"metric{len(result)}")] = m
        elif m in METRICS:
            result[m] = METRICS[m]
        else:
            raise ValueError(f"unknown metric {m!r}; known: {sorted(METRICS)} or a "
                             f"function (predictions, targets) -> scalar")
    return result
