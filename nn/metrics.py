"""Stateful metrics for `fit` / `evaluate` (`nn.metrics.F1Score(average="macro")`, ...),
accumulated over the whole epoch: `init`, `update`, `result` (see `_metrics`)."""
from ._metrics import (Metric, MeanMetric, Accuracy, BinaryAccuracy, TopKAccuracy,
                       MeanAbsoluteError, MeanSquaredError, Perplexity, Precision, Recall,
                       F1Score, AUC, FunctionMetric, get_metric)

__all__ = ["Metric", "MeanMetric", "Accuracy", "BinaryAccuracy", "TopKAccuracy",
           "MeanAbsoluteError", "MeanSquaredError", "Perplexity", "Precision", "Recall",
           "F1Score", "AUC", "FunctionMetric", "get_metric"]
