"""`fit`, `evaluate` and `predict`: Keras-like loops over a stateless model.

Data forms: see `_adapters`; losses, loss weights and metrics per output: see
`_objective`; the compiled programs: see `_steps`.

A last batch smaller than the others is padded to the compiled batch size (with
copies of its own rows, weighted 0), so it reuses the compiled step instead of
compiling a second one; the results are those of the smaller batch. Training pads only
when that is exact: the model keeps no state (BatchNorm's batch statistics would see
the copies) and every loss and metric gives per-example values; otherwise the small
batch gets its own compiled step. Evaluation pads whenever the losses and metrics are
per-example; prediction always pads.
"""
import itertools
import math

import numpy as np
import optax
from jax import tree_util

import functorch_lite as fl
from ._abstract import Spec
from ._adapters import Feeder, leading_size, make_source, split_arrays, unpack
from ._callbacks import CallbackList, LazyLogs
from ._history import History
from ._objective import Objective, flatten, specs_of
from ._progress import Progress
from ._scope import fold_name
from ._steps import (NOT_TRACEABLE, evaluation_step, model_inputs, prediction_step,
                     training_steps)
from ._warnings import warn

_NAN_POLICIES = ("raise", "stop", "continue")


def build_objective(model, params, state, first, loss, loss_weights, metrics,
                    weighted_metrics):
    """The `Objective` for batches shaped like `first` = (x, y, sample_weight)."""
    x, y, _ = first
    predictions = model.output_spec(params, state, *model_inputs(specs_of(x)))
    return Objective(loss, loss_weights, metrics, predictions, specs_of(y),
                     weighted_metrics)


def _pad(tree, size):
    """Rows 0..n-1 of every leaf, then copies of them up to `size` rows."""
    def pad(a):
        a = np.asarray(a)
        return a[np.arange(size) % len(a)]
    return tree_util.tree_map(pad, tree)


def _class_weights(labels, table, output):
    labels = np.asarray(labels)
    if labels.ndim >= 2 and labels.shape[-1] > 1:
        labels = labels.argmax(-1)  # one-hot or probabilities
    labels = labels.reshape(len(labels), -1)
    if labels.shape[1] != 1:
        raise ValueError(f"class_weight needs one label per example, but output "
                         f"'{output}' has labels of shape {labels.shape}; use "
                         f"sample_weight for sequences")
    return np.fromiter((table.get(int(round(float(l))), 1.0) for l in labels[:, 0]),
                       np.float32, len(labels))


class Batcher:
    """Turns elements into the arguments (x, y, per-output weights, mask, count, rows)
    of a step of the compiled batch size."""

    def __init__(self, objective, where, role, batch_size, pad, class_weight=None):
        self.objective, self.where, self.role = objective, where, role
        self.batch_size, self.pad = batch_size, pad
        self.names = [o.name for o in objective.outputs]
        self.class_weight = self._per_output_class_weight(class_weight)
        self._ones = {}

    def _per_output_class_weight(self, class_weight):
        if class_weight is None:
            return [None] * len(self.names)
        if all(isinstance(k, (int, np.integer)) for k in class_weight):
            if len(self.names) > 1:
                raise ValueError(f"class_weight {{class: weight}} is ambiguous for the "
                                 f"outputs {self.names}: give {{output: {{class: weight}}}}")
            return [dict(class_weight)]
        unknown = set(class_weight) - set(self.names)
        if unknown:
            raise ValueError(f"class_weight names {sorted(unknown)}, which are not "
                             f"outputs of the model ({self.names})")
        return [class_weight.get(n) for n in self.names]

    def __call__(self, element):
        x, y, sample_weight = unpack(element, self.role, self.where)
        n = leading_size(x)
        weights = None
        if sample_weight is not None or any(t is not None for t in self.class_weight):
            weights = self._weights(y, sample_weight, n)
        size = self.batch_size if n < self.batch_size and self.pad else n
        if size != n:
            x, y = _pad(x, size), _pad(y, size)
        mask, count = self._mask(n, size)
        if weights is None:
            weights = [mask] * len(self.names)
        else:
            weights = [np.concatenate([w, np.zeros(size - n, np.float32)]) for w in weights]
        return x, y, weights, mask, count, n

    def _mask(self, n, size):
        """The device mask (1 for the n real rows, 0 for padding) and count, cached."""
        if (n, size) not in self._ones:
            mask = np.concatenate([np.ones(n, np.float32), np.zeros(size - n, np.float32)])
            self._ones[n, size] = fl.device_put((mask, np.float32(n)))
        return self._ones[n, size]

    def _weights(self, y, sample_weight, n):
        if sample_weight is None:
            per_output = [None] * len(self.names)
        elif isinstance(sample_weight, dict):
            per_output = [sample_weight.get(name) for name in self.names]
        elif isinstance(sample_weight, (tuple, list)):
            per_output = list(sample_weight)
        else:
            per_output = [sample_weight] * len(self.names)
        weights = []
        for name, labels, sw, table in zip(self.names, flatten(y), per_output,
                                           self.class_weight):
            w = np.ones(n, np.float32) if sw is None else \
                np.asarray(sw, np.float32).reshape(n, -1)[:, 0]
            if table is not None:
                w = w * _class_weights(labels, table, name or "the output")
            weights.append(w)
        return weights


class Trainer:
    """The training loop's state, as callbacks see it."""

    def __init__(self, model, params, state, optimizer, opt_state, objective, rng, feeder):
        self.model, self.params, self.state = model, params, state
        self.optimizer = optimizer
        self.opt_state = optimizer.init(params) if opt_state is None else opt_state
        self.objective, self.rng, self.feeder = objective, rng, feeder
        self.steps = training_steps(model, objective, optimizer)
        self.metric_states = objective.initial_states()
        self.step, self.epoch = 0, 0
        self.batches_done = 0  # batches of `epoch` done (set before the epoch to resume)
        self.data_position = 0  # batches drawn by the trained steps (stream mode)
        self.stop_training = False
        self.on_nan = "raise"
        self.history = History()
        self.update_mode = None  # "fused" or "eager optax update"

    def train_step(self, x, y, weights, mask, count):
        """One optimizer step; returns the step's report (a device vector)."""
        args = fl.device_put((x, y, weights, mask, count, np.int32(self.step)))
        if self.update_mode is None:
            self._choose_update_mode(args)
        if self.update_mode == "fused":
            (self.params, self.state, self.opt_state, self.metric_states,
             report) = self.steps["fused"](self.params, self.state, self.opt_state,
                                           self.metric_states, *args[:5], self.rng, args[5])
        else:
            grads, self.state, self.metric_states, report, total = self.steps["grad"](
                self.params, self.state, self.metric_states, *args[:5], self.rng, args[5])
            updates, self.opt_state = self.steps["update"](grads, self.opt_state,
                                                           self.params, total)
            self.params = self.steps["apply"](self.params, updates)
        self.step += 1
        return report

    def _choose_update_mode(self, args):
        try:
            self.steps["fused"].lower(self.params, self.state, self.opt_state,
                                      self.metric_states, *args[:5], self.rng, args[5])
            self.update_mode = "fused"
        except NOT_TRACEABLE:
            self.update_mode = "eager optax update"

    def results(self):
        return self.objective.results(self.metric_states)


def _labels_error(problems, where):
    described = "; ".join(
        f"output '{o.name or 'the output'}' has {count} integer labels outside "
        f"[0, {o.classes}) (found {low:g} .. {high:g})" for o, count, low, high in problems)
    return ValueError(f"{where}: {described}. The model's output has one column per "
                      f"class, so labels must lie in [0, classes): check the labels or "
                      f"the width of the output layer")


def _check_report(trainer, report, epoch, index, number, before, following):
    """Act on a finished step's report: labels out of range raise, the first step's
    head check warns, a non-finite loss raises or stops (rolling back to `before`, and
    past the `following` step when that one already ran)."""
    loss, invalid, contradicted = trainer.objective.read_report(report)
    where = f"epoch {epoch + 1}, batch {index + 1}"
    if invalid:
        raise _labels_error(invalid, where)
    if number == 1:
        for output in contradicted:
            what = "logits" if output.loss.expects == "logits" else "probabilities"
            other = "probabilities (every value in [0, 1], rows summing to 1: a " \
                    "Softmax or Sigmoid head?)" if what == "logits" else \
                "values outside [0, 1] (logits?)"
            warn(f"the loss {output.loss!r} of output '{output.name or 'the output'}' "
                 f"expects {what}, but the model's outputs are {other}. Pass "
                 f"from_logits={what == 'probabilities'} or change the output layer")
    if math.isfinite(loss) or trainer.on_nan == "continue":
        return
    message = f"the loss is {loss} at {where} (step {number})"
    if trainer.on_nan == "raise":
        raise FloatingPointError(
            f"{message}. Common causes: a learning rate too high, log of 0, bad inputs. "
            f"fit(..., on_nan='stop') ends training there instead (keeping the "
            f"parameters from before that step), on_nan='continue' trains on")
    trainer.params, trainer.state, trainer.opt_state = before[:3]
    if following is not None:  # undo the next step too; keep this step's metrics
        trainer.metric_states, trainer.step = following[3], number
    trainer.stop_training = True
    warn(f"{message}: training stopped with the parameters from before that step",
         RuntimeWarning)


def _settle(trainer, done, epoch, progress, following=None):
    """Check a finished step (see `_check_report`) and count it as done."""
    report, index, number, n, position, before = done
    trainer.data_position, trainer.batches_done = position, index + 1
    _check_report(trainer, report, epoch, index, number, before, following)
    progress.step(n, trainer.results)


def _train_epoch(trainer, epoch, epochs, batcher, callbacks, verbose):
    """One epoch. Each step's report (loss, label check) is read on the host; without
    per-batch callbacks that happens while the next step runs, so the device is never
    idle waiting for the host, and a non-finite loss found one step late rolls back
    both steps."""
    start = trainer.batches_done
    if start == 0:
        trainer.metric_states = trainer.objective.initial_states()
    trainer.epoch = epoch
    callbacks.on_epoch_begin(epoch, {})
    total = trainer.feeder.epoch_steps()
    progress = Progress(f"Epoch {epoch + 1}/{epochs}", total and total - start, verbose)
    elements = trainer.feeder.epoch(epoch, start)
    feeder = trainer.feeder

    def draw():  # the next batch, prepared while the device runs the current step
        element = next(elements, None)
        return None if element is None else (batcher(element), feeder.position)

    pipelined = not callbacks.overrides("on_train_batch_begin", "on_train_batch_end")
    index, pending, waiting = start, draw(), None
    while pending is not None:
        (x, y, weights, mask, count, n), position = pending
        callbacks.on_train_batch_begin(index, {})
        before = (trainer.params, trainer.state, trainer.opt_state, trainer.metric_states)
        report = trainer.train_step(x, y, weights, mask, count)
        done = (report, index, trainer.step, n, position, before)
        pending = None if trainer.stop_training else draw()
        if pipelined:
            if waiting is not None:
                _settle(trainer, waiting, epoch, progress, following=before)
            waiting = None if trainer.stop_training else done
        else:
            _settle(trainer, done, epoch, progress)
            callbacks.on_train_batch_end(index, LazyLogs(trainer.results))
        index += 1
        if trainer.stop_training:
            break
    if waiting is not None:
        _settle(trainer, waiting, epoch, progress)
    trainer.batches_done = 0
    if index == start and start == 0:
        raise ValueError(f"epoch {epoch + 1} drew no batches from the data")
    return trainer.results(), progress


def _validation_epochs(freq):
    if isinstance(freq, int) and not isinstance(freq, bool):
        if freq <= 0:
            raise ValueError(f"validation_freq must be a positive integer or a list of "
                             f"epochs, got {freq}")
        return lambda epoch: (epoch + 1) % freq == 0
    epochs = set(freq)
    return lambda epoch: epoch + 1 in epochs


def _check_fit_arguments(epochs, initial_epoch, on_nan, accumulation):
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if on_nan not in _NAN_POLICIES:
        raise ValueError(f"on_nan must be one of {_NAN_POLICIES}, got {on_nan!r}")
    if isinstance(accumulation, bool) or not isinstance(accumulation, int) or accumulation < 1:
        raise ValueError(f"gradient_accumulation_steps must be a positive integer, got "
                         f"{accumulation!r}")


@fl.errors.api_boundary
def fit(model, params, state, optimizer, data, *, loss="cross_entropy", loss_weights=None,
        metrics=(), weighted_metrics=(), epochs=1, batch_size=None, steps_per_epoch=None,
        validation_data=None, validation_split=0.0, validation_freq=1, validation_steps=None,
        validation_batch_size=None, sample_weight=None, class_weight=None,
        initial_epoch=0, shuffle=True, gradient_accumulation_steps=1, callbacks=(),
        rng=None, opt_state=None, on_nan="raise", verbose=1):
    """Train `model` with an optax `optimizer`; returns `(params, state, history)`.

    See docs/training.md for every argument; in short (Keras' meanings):

    - `data`: `(x, y)` / `(x, y, sample_weight)` arrays (x, y: arrays, tuples or dicts;
      a tuple x is passed as positional inputs, a dict as one argument), batched by
      `batch_size` (default 32) and reshuffled every epoch when `shuffle`; or an
      iterable of such batches (re-iterated each epoch), a function returning one, or
      an iterator with `steps_per_epoch`.
    - `loss` (default "cross_entropy": softmax cross-entropy from logits), `loss_weights`,
      `metrics` and `weighted_metrics`: one for all outputs, or per output (dict by
      name / list).
    - `validation_data` or `validation_split`, every `validation_freq` epochs ("val_"
      logs); `sample_weight`, `class_weight`; `initial_epoch`;
      `gradient_accumulation_steps` (optax.MultiSteps).
    - `rng` (default PRNGKey(0)) drives shuffling and the layers' randomness; the
      layers' key at step s is `fold_in(rng_layers, s)`, so runs are reproducible.
    - `on_nan`: "raise" (default) a FloatingPointError naming the epoch and batch of a
      non-finite loss, "stop" (as `TerminateOnNaN`), or "continue".
    - `verbose`: 0 silent, 1 a progress bar (one line per epoch when not on a
      terminal), 2 one line per epoch.
    """
    _check_fit_arguments(epochs, initial_epoch, on_nan, gradient_accumulation_steps)
    rng = fl.random.PRNGKey(0) if rng is None else rng
    if validation_split:
        if validation_data is not None:
            raise ValueError("pass validation_data or validation_split, not both")
        data, validation_data = split_arrays(data, validation_split)
    source = make_source(data, "fit", where="data", batch_size=batch_size,
                         shuffle_key=fold_name(rng, "shuffle") if shuffle else None,
                         sample_weight=sample_weight)
    feeder = Feeder(source, steps_per_epoch)
    should_validate = _validation_epochs(validation_freq)
    validations = sum(map(should_validate, range(initial_epoch, epochs)))
    validation = None
    if validation_data is not None:
        validation = Feeder(make_source(validation_data, "evaluate",
                                        where="validation_data",
                                        batch_size=batch_size if validation_batch_size is None
                                        else validation_batch_size))
    for name, fed, passes in (("data", feeder, epochs - initial_epoch),
                              ("validation_data", validation, validations)):
        if fed is not None and fed.source.one_shot and fed.steps is None and passes > 1:
            raise ValueError(
                f"{name} is a one-shot iterator (e.g. a generator object) but would be "
                f"iterated {passes} times. Pass a function returning a fresh iterator "
                f"(e.g. `lambda: make_batches()`), a re-iterable (a list, nn.batches, a "
                f"DataLoader)" + (", or steps_per_epoch with an endless iterator"
                                  if name == "data" else ""))
    if gradient_accumulation_steps > 1:
        optimizer = optax.MultiSteps(optimizer, gradient_accumulation_steps
                                     ).gradient_transformation()
    first = unpack(feeder.peek(), "fit", "data")
    objective = build_objective(model, params, state, first, loss, loss_weights, metrics,
                                weighted_metrics)
    trainer = Trainer(model, params, state, optimizer, opt_state, objective,
                      fold_name(rng, "layers"), feeder)
    trainer.epoch, trainer.on_nan = initial_epoch, on_nan
    pad = objective.per_example and not tree_util.tree_leaves(state)
    weighted = sample_weight is not None or class_weight is not None or \
        (first[2] is not None)
    if weighted and not objective.per_example:
        raise ValueError("sample_weight / class_weight need losses and metrics that give "
                         "per-example values; a loss or metric function returned a "
                         "scalar: return the unreduced (batch,) values")
    batcher = Batcher(objective, "data", "fit", leading_size(first[0]), pad, class_weight)
    callbacks = CallbackList(callbacks, trainer)
    callbacks.on_train_begin({})
    logs, epoch = {}, trainer.epoch
    while epoch < epochs and not trainer.stop_training:
        logs, progress = _train_epoch(trainer, epoch, epochs, batcher, callbacks, verbose)
        if validation is not None and should_validate(epoch):
            val_logs = _evaluate(model, trainer.params, trainer.state, objective,
                                 validation, validation_steps, callbacks, 0,
                                 "validation_data")
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callbacks.on_epoch_end(epoch, logs)
        trainer.history.append(epoch, logs)
        progress.finish(logs)
        epoch += 1
    callbacks.on_train_end(logs)
    trainer.history.opt_state = trainer.opt_state
    trainer.history.update_mode = trainer.update_mode
    return trainer.params, trainer.state, trainer.history


def _evaluate(model, params, state, objective, feeder, steps, callbacks, verbose, where,
              first=None):
    step = evaluation_step(model, objective)
    states = objective.initial_states()
    elements = itertools.islice(feeder.epoch(0), steps)
    callbacks.on_test_begin({})
    progress = Progress("Evaluate", steps or feeder.source.pass_length, verbose)
    batcher = None
    for index, element in enumerate(elements):
        if batcher is None:
            size = leading_size(unpack(element, "evaluate", where)[0])
            batcher = Batcher(objective, where, "evaluate", size, objective.per_example)
        x, y, weights, mask, count, n = batcher(element)
        callbacks.on_test_batch_begin(index, {})
        states = step(params, state, states, *fl.device_put((x, y, weights, mask, count)))
        callbacks.on_test_batch_end(index, LazyLogs(lambda: objective.results(states)))
        progress.step(n, lambda: objective.results(states))
    if batcher is None:
        raise ValueError(f"{where} yielded no batches")
    if float(states["invalid_labels"]):
        raise ValueError(f"{where}: {int(float(states['invalid_labels']))} integer labels "
                         f"lie outside [0, classes) of their output: check the labels or "
                         f"the width of the output layer")
    logs = objective.results(states)
    progress.finish(logs)
    callbacks.on_test_end(logs)
    return logs


@fl.errors.api_boundary
def evaluate(model, params, state, data, *, loss=None, loss_weights=None, metrics=(),
             weighted_metrics=(), batch_size=None, steps=None, sample_weight=None,
             callbacks=(), verbose=0):
    """The loss (when `loss` is given) and metrics over all of `data` with
    `training=False`, accumulated over the whole data (see `fit` for the data forms and
    per-output losses and metrics; `batch_size` defaults to 256). Returns a dict."""
    source = make_source(data, "evaluate", where="data",
                         batch_size=256 if batch_size is None else batch_size,
                         sample_weight=sample_weight)
    feeder = Feeder(source)
    first = unpack(feeder.peek(), "evaluate", "data")
    objective = build_objective(model, params, state, first, loss, loss_weights, metrics,
                                weighted_metrics)
    return _evaluate(model, params, state, objective, feeder, steps,
                     CallbackList(callbacks), verbose, "data")


@fl.errors.api_boundary
def predict(model, params, state, x, *, batch_size=None, steps=None, callbacks=(),
            verbose=0):
    """Model outputs (training=False) for every example of `x` (arrays, tuples or dicts
    of arrays, or an iterable of batches), computed in batches of `batch_size`
    (default 256; a smaller last batch is padded and its padding dropped) and
    concatenated. Zero examples give an empty result of the right shape."""
    source = make_source(x, "predict", where="x",
                         batch_size=256 if batch_size is None else batch_size)
    step = prediction_step(model)
    callbacks = CallbackList(callbacks)
    callbacks.on_predict_begin({})
    progress = Progress("Predict", steps or source.pass_length, verbose)
    outputs, size = [], None
    for index, element in enumerate(itertools.islice(Feeder(source).epoch(0), steps)):
        xb = unpack(element, "predict", "x")[0]
        n = leading_size(xb)
        size = size or n
        if n < size:
            xb = _pad(xb, size)
        callbacks.on_predict_batch_begin(index, {})
        out = tree_util.tree_map(lambda a: np.asarray(a)[:n],
                                 step(params, state, fl.device_put(xb)))
        callbacks.on_predict_batch_end(index, {"outputs": out})
        progress.step(n, dict)
        outputs.append(out)
    progress.finish({})
    callbacks.on_predict_end({})
    if not outputs:
        return _empty_outputs(model, params, state, source)
    return tree_util.tree_map(lambda *parts: fl.device_put(np.concatenate(parts)), *outputs)


def _empty_outputs(model, params, state, source):
    if not hasattr(source, "arrays"):
        raise ValueError("predict: x yielded no batches")
    one = tree_util.tree_map(lambda a: Spec((1, *a.shape[1:]), a.dtype), source.arrays[0])
    specs = model.output_spec(params, state, *model_inputs(one))
    return tree_util.tree_map(lambda s: fl.device_put(np.zeros((0, *s.shape[1:]), s.dtype)),
                              specs)


__all__ = ["fit", "evaluate", "predict", "Trainer"]
