"""`fit`, `evaluate` and `predict`: Keras-like training over a stateless model.

The train step is one jitted program: `functorch_lite.value_and_grad` of the loss,
then the optax update. optax's update functions compute with `jax.numpy`, which our
tracers cannot enter, so the step calls them through `functorch_lite.interop.call_jax`
(JAX stages the update and its StableHLO becomes part of our executable). Should that
fail for some optimizer, the update runs after the jitted gradient step, eagerly on
the concrete gradients (`history.update_mode` says which path ran).
"""
import functools

import numpy as np
from jax import tree_util

import functorch_lite as fl
from ._callbacks import History
from ._data import Batches
from ._scope import fold_name
from ._losses import get_loss, get_metrics
from ._progress import ProgressBar

# exceptions that mean "this optimizer's update cannot be traced by functorch_lite"
_NOT_TRACEABLE = (TypeError, ValueError, AttributeError, NotImplementedError,
                  fl.ConcretizationTypeError)


def _add_updates(params, updates):
    """optax.apply_updates with our ops: p + u in p's dtype."""
    def add(p, u):
        if u is None:
            return p
        s = p + u
        return s if s.dtype == p.dtype else fl.lax.convert_element_type(s, p.dtype)
    return tree_util.tree_map(add, params, updates, is_leaf=lambda x: x is None)


_apply_updates = fl.jit(_add_updates)


@functools.lru_cache(maxsize=64)
def _steps(model, loss_fn, metric_items):
    """The jitted functions for one (model, loss, metrics): cached across calls."""
    metric_fns = dict(metric_items)

    def objective(params, state, x, y, rng, step):
        key = None if rng is None else fl.random.fold_in(rng, step)
        out, new_state = model.apply(params, state, x, rng=key, training=True)
        loss = loss_fn(out, y)
        metrics = {name: fn(out, y) for name, fn in metric_fns.items()}
        return loss, (new_state, metrics)

    grad_step = fl.value_and_grad(objective, has_aux=True)

    def fused(optimizer):
        def step(params, state, opt_state, x, y, rng, step):
            (loss, (new_state, metrics)), grads = grad_step(params, state, x, y, rng, step)
            updates, opt_state = fl.interop.call_jax(optimizer.update, grads, opt_state,
                                                     params)
            return _add_updates(params, updates), new_state, opt_state, loss, metrics
        return fl.jit(step)

    def evaluate(params, state, x, y):
        out, _ = model.apply(params, state, x, training=False)
        values = {name: fn(out, y) for name, fn in metric_fns.items()}
        if loss_fn is not None:
            values = {"loss": loss_fn(out, y), **values}
        return values

    def predict(params, state, x):
        return model.apply(params, state, x, training=False)[0]

    return {"grad": fl.jit(grad_step), "fused": fused, "evaluate": fl.jit(evaluate),
            "predict": fl.jit(predict)}


class Trainer:
    """The training loop's state, as callbacks see it."""

    def __init__(self, model, params, state, optimizer, opt_state, loss_fn, metric_fns, rng):
        self.model, self.params, self.state = model, params, state
        self.optimizer = optimizer
        self.opt_state = optimizer.init(params) if opt_state is None else opt_state
        self.loss_fn, self.metric_fns = loss_fn, metric_fns
        self.rng = rng
        self.step = 0
        self.stop_training = False
        self.history = History()
        self.steps = _steps(model, loss_fn, tuple(metric_fns.items()))
        self.fused_step = None   # set when the optimizer update joins the jitted step
        self.update_mode = None  # "fused" or "eager optax update"

    def train_step(self, x, y):
        """One optimizer step on a batch; returns (loss, metrics) as device scalars."""
        # device arrays take the jitted function's fast path (no retracing checks)
        x, y, step = fl.device_put((x, y, np.int32(self.step)))
        if self.update_mode is None:
            self._choose_update_mode(x, y, step)
        if self.update_mode == "fused":
            (self.params, self.state, self.opt_state, loss,
             metrics) = self.fused_step(self.params, self.state, self.opt_state, x, y,
                                        self.rng, step)
        else:
            (loss, (self.state, metrics)), grads = self.steps["grad"](
                self.params, self.state, x, y, self.rng, step)
            updates, self.opt_state = self.optimizer.update(grads, self.opt_state,
                                                            self.params)
            self.params = _apply_updates(self.params, updates)
        self.step += 1
        return loss, metrics

    def _choose_update_mode(self, x, y, step):
        fused = self.steps["fused"](self.optimizer)
        try:
            fused.lower(self.params, self.state, self.opt_state, x, y, self.rng, step)
        except _NOT_TRACEABLE:
            self.update_mode = "eager optax update"
            return
        self.fused_step, self.update_mode = fused, "fused"


class _Mean:
    """Running means of device scalars weighted by batch size (synced lazily)."""

    def __init__(self):
        self.pending, self.sums, self.count = [], {}, 0

    def add(self, values, n):
        self.pending.append((values, n))

    def result(self):
        for values, n in self.pending:
            for name, v in values.items():
                self.sums[name] = self.sums.get(name, 0.0) + float(v) * n
            self.count += n
        self.pending = []
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}


def _epoch_batches(data, batch_size, key):
    if isinstance(data, tuple) and len(data) == 2 and hasattr(data[0], "shape"):
        return Batches(data, batch_size, key=key)
    return data() if callable(data) else data


@fl.errors.api_boundary
def fit(model, params, state, optimizer, data, *, loss="cross_entropy", epochs=1,
        batch_size=32, validation_data=None, metrics=(), callbacks=(), rng=None,
        shuffle=True, opt_state=None, verbose=1):
    """Train `model` with an optax `optimizer`; returns `(params, state, history)`.

    `data` is `(x, y)` arrays (mini-batches of `batch_size`, reshuffled every epoch by
    a key derived from `rng` when `shuffle`), or an iterable / a zero-argument callable
    giving `(x, y)` batches. `loss` is a name ("cross_entropy", "mse",
    "binary_cross_entropy", "huber", ...) or `fn(outputs, targets) -> scalar`;
    `metrics` are names ("accuracy", "top5_accuracy") or functions.
    `validation_data=(x, y)` is evaluated after every epoch ("val_" logs). `rng`
    (default PRNGKey(0)) drives shuffling and the layers' randomness (Dropout); the
    key of step s is `fold_in(rng, s)`. A progress bar shows loss, metrics and speed
    (`verbose=0` silent, 2 one line per epoch). Callbacks: `EarlyStopping`,
    `ModelCheckpoint`, `LearningRateLogger` or any `Callback`.
    `history.opt_state` holds the final optimizer state.
    """
    loss_fn = get_loss(loss)
    metric_fns = get_metrics(metrics)
    rng = fl.random.PRNGKey(0) if rng is None else rng
    dropout_rng, shuffle_rng = fold_name(rng, "layers"), fold_name(rng, "shuffle")
    trainer = Trainer(model, params, state, optimizer, opt_state, loss_fn, metric_fns,
                      dropout_rng)
    callbacks = list(callbacks)
    for cb in callbacks:
        cb.on_train_begin(trainer)
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, trainer)
        key = fl.random.fold_in(shuffle_rng, epoch) if shuffle else None
        epoch_data = _epoch_batches(data, batch_size, key)
        total = len(epoch_data) if hasattr(epoch_data, "__len__") else None
        bar = ProgressBar(epoch, epochs, total, verbose)
        running, samples, i = _Mean(), 0, -1
        for i, (x, y) in enumerate(epoch_data):
            loss_value, metric_values = trainer.train_step(x, y)
            n = len(x)
            samples += n
            running.add({"loss": loss_value, **metric_values}, n)
            if bar.wants_update():
                bar.update(i + 1, samples, running.result())
        bar.total = bar.total or i + 1
        logs = running.result()
        if validation_data is not None:
            val = evaluate(model, trainer.params, trainer.state, validation_data,
                           loss=loss_fn, metrics=metric_fns, batch_size=max(batch_size, 256))
            logs.update({f"val_{k}": v for k, v in val.items()})
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs, trainer)
        bar.finish(samples, logs)
        trainer.history.append(epoch, logs)
        if trainer.stop_training:
            if verbose:
                print(f"Stopped early after epoch {epoch + 1}")
            break
    for cb in callbacks:
        cb.on_train_end(trainer)
    trainer.history.opt_state = trainer.opt_state
    trainer.history.update_mode = trainer.update_mode
    return trainer.params, trainer.state, trainer.history


@fl.errors.api_boundary
def evaluate(model, params, state, data, *, loss=None, metrics=(), batch_size=256):
    """Mean loss (when `loss` is given) and metrics over `data` = (x, y) or an iterable
    of (x, y) batches, with `training=False`. Returns a dict."""
    loss_fn = None if loss is None else get_loss(loss)
    metric_fns = get_metrics(metrics)
    step = _steps(model, loss_fn, tuple(metric_fns.items()))["evaluate"]
    running = _Mean()
    for x, y in _epoch_batches(data, batch_size, None):
        running.add(step(params, state, *fl.device_put((x, y))), len(x))
    result = running.result()
    order = (["loss"] if loss_fn is not None else []) + list(metric_fns)
    return {name: result[name] for name in order if name in result}


@fl.errors.api_boundary
def predict(model, params, state, x, *, batch_size=256):
    """Model outputs for every row of `x` (`training=False`), computed in batches."""
    step = _steps(model, None, ())["predict"]
    outs = [step(params, state, fl.device_put(xb)) for xb in Batches(x, batch_size)]
    return tree_util.tree_map(lambda *parts: fl.device_put(np.concatenate(parts)), *outs)


__all__ = ["fit", "evaluate", "predict", "Trainer"]
