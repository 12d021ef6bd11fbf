"""What `fit` and `evaluate` compute from a model's outputs: per-output losses, loss
weights and metrics, resolved once from the shapes of the first batch.

Outputs are named by their path in the model's output tree: a single array is the
output "" (logs "loss", "accuracy"), a dict output's keys name its outputs, a tuple's
entries are "output_0", "output_1", ... (logs "loss" for the weighted total, then
"<name>_loss" and "<name>_<metric>"). `loss`, `loss_weights` and `metrics` are one
value for every output, a dict by output name, or a list in output order (for
metrics: a list of lists).

Every built-in loss and metric gives per-example values, so sample weights, class
weights and the zero weights of padding rows apply exactly: a batch's loss is
sum(weight * loss) / examples (Keras' "sum over batch size"). As in Keras, `metrics`
count every example once and `weighted_metrics` (logged as "weighted_<name>") apply the
sample and class weights.
"""
import numpy as np
from jax import tree_util

import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from ._abstract import Spec, eval_shape
from ._losses import get_loss
from ._metrics import MeanMetric, get_metric
from ._paths import path_string


def _named_leaves(tree):
    """[(name, leaf)] of an output or target tree (see the module docstring)."""
    pairs = tree_util.tree_flatten_with_path(tree)[0]
    named = []
    for path, leaf in pairs:
        name = path_string(path)
        named.append((f"output_{name}" if name.isdigit() else name, leaf))
    return named


def flatten(tree):
    return tree_util.tree_leaves(tree)


def _per_output(value, names, what, default):
    """`value` spread over the outputs: one value, a dict by name or a list in order."""
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{what} has entries {sorted(unknown)} that are not outputs "
                             f"of the model (its outputs: {names})")
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"{what} lists {len(value)} entries for the model's "
                             f"{len(names)} outputs {names}")
        return list(value)
    return [default if value is None else value] * len(names)


def _metrics_per_output(metrics, names):
    if isinstance(metrics, dict):
        return [list(m) if isinstance(m, (list, tuple)) else [m]
                for m in _per_output(metrics, names, "metrics", [])]
    metrics = list(metrics or ())
    if len(names) > 1 and len(metrics) == len(names) and metrics and \
            all(isinstance(m, (list, tuple)) or m is None for m in metrics):
        return [list(m or ()) for m in metrics]
    return [metrics for _ in names]


def _label_classes(prediction, target):
    """The number of classes integer `target` labels index, or None."""
    if np.issubdtype(target.dtype, np.integer) and prediction.ndim >= 1 \
            and tuple(target.shape) == tuple(prediction.shape[:-1]) \
            and prediction.shape[-1] > 1:
        return int(prediction.shape[-1])
    return None


class Output:
    def __init__(self, name, loss, weight, metrics, weighted, classes):
        self.name, self.loss, self.weight = name, loss, weight
        self.metrics, self.weighted, self.classes = tuple(metrics), tuple(weighted), classes

    def key(self):
        return (self.name, self.loss, self.weight, self.metrics, self.weighted,
                self.classes)

    def all_metrics(self):
        """[(log name, metric, weighted)] of this output."""
        return [(m.log_name, m, False) for m in self.metrics] + \
            [("weighted_" + m.log_name, m, True) for m in self.weighted]

    def log(self, what):
        return f"{self.name}_{what}" if self.name else what


class Objective:
    """Resolved losses and metrics for one output structure (hashable, so compiled
    steps are shared by every `fit`/`evaluate` call with the same configuration)."""

    def __init__(self, loss, loss_weights, metrics, predictions, targets,
                 weighted_metrics=()):
        named_predictions = _named_leaves(predictions)
        names = [n for n, _ in named_predictions]
        self.structure = tree_util.tree_structure(predictions)
        target_leaves = flatten(targets) if targets is not None else []
        if targets is not None:
            target_names = [n for n, _ in _named_leaves(targets)]
            if target_names != names:
                raise ValueError(f"the targets have entries {target_names} but the model's "
                                 f"outputs are {names}: give one target per output, in the "
                                 f"same structure")
        losses = [None if l is None else get_loss(l)
                  for l in _per_output(loss, names, "loss", None)]
        weights = [float(w) for w in _per_output(loss_weights, names, "loss_weights", 1.0)]
        self.outputs = []
        for i, ((name, prediction), metric_list, weighted_list) in enumerate(zip(
                named_predictions, _metrics_per_output(metrics, names),
                _metrics_per_output(weighted_metrics, names))):
            target = target_leaves[i] if target_leaves else None
            resolve = lambda ms: [get_metric(m, losses[i], prediction) for m in ms]
            classes = None if target is None else _label_classes(prediction, target)
            self.outputs.append(Output(name, losses[i], weights[i], resolve(metric_list),
                                       resolve(weighted_list), classes))
        self.has_loss = any(o.loss is not None for o in self.outputs)
        self.per_example = targets is None or self._probe(named_predictions, target_leaves)
        self._initial = self._initial_states(named_predictions, target_leaves)

    def _probe(self, named_predictions, target_leaves):
        """Check every loss and metric on the batch's shapes (so shape mistakes show
        before compiling) and learn whether all give per-example values."""
        per_example = True
        for output, (_, prediction), target in zip(self.outputs, named_predictions,
                                                   target_leaves):
            functions = [] if output.loss is None else [output.loss.per_example]
            functions += [m.values for _, m, _ in output.all_metrics()
                          if isinstance(m, MeanMetric)]
            for fn in functions:
                per_example &= eval_shape(fn, prediction, target).ndim > 0
        return per_example

    def _initial_states(self, named_predictions, target_leaves):
        scalar = lambda: np.zeros((), np.float32)
        metrics = [[m.init(p, t) for _, m, _ in o.all_metrics()] for o, (_, p), t in
                   zip(self.outputs, named_predictions, target_leaves or
                       [None] * len(self.outputs))]
        return {"loss": [scalar(), scalar()],
                "output_losses": [[scalar(), scalar()] for _ in self.outputs],
                "metrics": metrics, "invalid_labels": scalar()}

    def key(self):
        return (self.structure, tuple(o.key() for o in self.outputs))

    def __hash__(self):
        return hash(self.key())

    def __eq__(self, other):
        return isinstance(other, Objective) and self.key() == other.key()

    def initial_states(self):
        return tree_util.tree_map(np.copy, self._initial)

    # --- traced ---------------------------------------------------------------------

    def losses(self, predictions, targets, weights, count):
        """(weighted total loss, [per-output loss or None]) of one batch."""
        total, parts = fnp.zeros((), np.float32), []
        for output, p, t, w in zip(self.outputs, flatten(predictions), flatten(targets),
                                   weights):
            if output.loss is None:
                parts.append(None)
                continue
            values = lax.convert_element_type(output.loss.per_example(p, t), np.float32)
            part = values if values.ndim == 0 else fnp.sum(w * values) / count
            parts.append(part)
            total = total + output.weight * part
        return total, parts

    def update(self, states, predictions, targets, weights, mask, count, total, parts):
        """The metric states after one batch (`mask`: 1 for real rows, 0 for padding)."""
        add = lambda pair, value: [pair[0] + value * count, pair[1] + count]
        invalid = states["invalid_labels"]
        new = {"loss": add(states["loss"], total), "output_losses": [], "metrics": []}
        for output, pair, part, metric_states, p, t, w in zip(
                self.outputs, states["output_losses"], parts, states["metrics"],
                flatten(predictions), flatten(targets), weights):
            new["output_losses"].append(pair if part is None else add(pair, part))
            new["metrics"].append([m.update(s, p, t, w if weighted else mask) for
                                   (_, m, weighted), s in zip(output.all_metrics(),
                                                              metric_states)])
            if output.classes is not None:
                counted = fnp.reshape(mask, mask.shape + (1,) * (t.ndim - 1))
                invalid = invalid + fnp.sum(self._invalid(output, t) * counted)
        new["invalid_labels"] = invalid
        return new

    @staticmethod
    def _invalid(output, labels):
        return lax.convert_element_type((labels < 0) | (labels >= output.classes),
                                        np.float32)

    def step_report(self, total, predictions, targets):
        """A float32 vector for the host after a train step: [loss, invalid labels,
        smallest label, largest label (per classified output), head flags]."""
        values = [total]
        for output, p, t in zip(self.outputs, flatten(predictions), flatten(targets)):
            if output.classes is not None:
                values += [fnp.sum(self._invalid(output, t)),
                           lax.convert_element_type(fnp.min(t), np.float32),
                           lax.convert_element_type(fnp.max(t), np.float32)]
            if output.loss is not None:
                values.append(output.loss.contradicted(p))
        return fnp.stack([lax.convert_element_type(v, np.float32) for v in values])

    # --- host -----------------------------------------------------------------------

    def results(self, states):
        """The logs (floats) of accumulated `states`."""
        states = tree_util.tree_map(np.asarray, states)
        mean = lambda pair: float(pair[0]) / float(pair[1]) if float(pair[1]) else 0.0
        logs = {"loss": mean(states["loss"])} if self.has_loss else {}
        for output, pair, metric_states in zip(self.outputs, states["output_losses"],
                                               states["metrics"]):
            if output.loss is not None and len(self.outputs) > 1:
                logs[output.log("loss")] = mean(pair)
            for (name, metric, _), state in zip(output.all_metrics(), metric_states):
                logs[output.log(name)] = metric.result(state)
        return logs

    def read_report(self, report):
        """(loss, [(output, invalid, low, high)], [output whose head contradicts its
        loss]) from a `step_report` vector."""
        values, i = list(np.asarray(report)), 1
        invalid, contradicted = [], []
        for output in self.outputs:
            if output.classes is not None:
                if values[i]:
                    invalid.append((output, int(values[i]), values[i + 1], values[i + 2]))
                i += 3
            if output.loss is not None:
                if values[i]:
                    contradicted.append(output)
                i += 1
        return float(values[0]), invalid, contradicted


def specs_of(tree):
    """Specs of a tree of arrays."""
    return tree_util.tree_map(lambda a: Spec(a.shape, a.dtype), tree)
