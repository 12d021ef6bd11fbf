"""Learning-rate callbacks: `ReduceLROnPlateau`, `LearningRateScheduler` and
`LearningRateLogger`.

An optax optimizer's learning rate is baked into its update function, so changing it
during training needs `optax.inject_hyperparams`, which keeps the hyperparameters in
the optimizer *state*:

    optimizer = optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)

The callbacks then read and replace `opt_state.hyperparams["learning_rate"]` (wherever
it sits in the state: inside `optax.chain`, `optax.MultiSteps`, ...), which the
compiled train step takes as an input, so nothing is recompiled.
"""
import math

import numpy as np
import optax
from jax import tree_util

import functorch_lite as fl
from ._callbacks import Callback, _Monitor

_HINT = ("wrap the optimizer with optax.inject_hyperparams, e.g. "
         "optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)")


def _is_injected(node):
    return isinstance(node, optax.InjectHyperparamsState) or (
        hasattr(node, "hyperparams") and isinstance(getattr(node, "hyperparams"), dict))


def get_learning_rate(opt_state, name="learning_rate"):
    """The (first) injected hyperparameter `name` in `opt_state` as a float, or None."""
    for node in tree_util.tree_leaves(opt_state, is_leaf=_is_injected):
        if _is_injected(node) and name in node.hyperparams:
            return float(np.asarray(node.hyperparams[name]))
    return None


def set_learning_rate(opt_state, value, name="learning_rate"):
    """`opt_state` with every injected hyperparameter `name` set to `value` (same
    dtype); raises ValueError when the optimizer does not inject it."""
    found = []

    def replace(node):
        if not (_is_injected(node) and name in node.hyperparams):
            return node
        found.append(node)
        old = node.hyperparams[name]
        new = fl.device_put(np.asarray(value, np.asarray(old).dtype))
        return node._replace(hyperparams={**node.hyperparams, name: new})
    new_state = tree_util.tree_map(replace, opt_state, is_leaf=_is_injected)
    if not found:
        raise ValueError(f"the optimizer state has no injected {name!r}: {_HINT}")
    return new_state


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` has not improved by
    `min_delta` for `patience` epochs, then wait `cooldown` epochs; never below
    `min_lr`. Needs an `optax.inject_hyperparams` optimizer. Logs "lr"."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau factor must lie in (0, 1), got {factor}")
        self.tracker = _Monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, \
            cooldown, min_lr

    def on_train_begin(self, logs=None):
        if get_learning_rate(self.trainer.opt_state) is None:
            raise ValueError(f"ReduceLROnPlateau changes the learning rate: {_HINT}")
        self.tracker.reset()
        self.wait, self.cooldown_left = 0, 0

    def on_epoch_end(self, epoch, logs=None):
        trainer = self.trainer
        lr = get_learning_rate(trainer.opt_state)
        logs["lr"] = lr
        current = self.tracker.value(logs, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.tracker.improved(current):
            self.tracker.best, self.wait = current, 0
        elif self.cooldown_left <= 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new = max(lr * self.factor, self.min_lr)
                trainer.opt_state = set_learning_rate(trainer.opt_state, new)
                self.cooldown_left, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to `schedule(epoch, lr)` (or
    `schedule(epoch)`), Keras' callback. Needs an `optax.inject_hyperparams`
    optimizer. Logs "lr". (A per-step optax schedule passed as the learning rate is the
    other way.)"""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        trainer = self.trainer
        lr = get_learning_rate(trainer.opt_state)
        if lr is None:
            raise ValueError(f"LearningRateScheduler changes the learning rate: {_HINT}")
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        new = float(new)
        if not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}) gave {new}")
        trainer.opt_state = set_learning_rate(trainer.opt_state, new)

    def on_epoch_end(self, epoch, logs=None):
        logs["lr"] = get_learning_rate(self.trainer.opt_state)


class LearningRateLogger(Callback):
    """Add the learning rate to the epoch logs as "lr": `schedule(step)` when given (an
    optax schedule), else the injected hyperparameter of the optimizer state."""

    def __init__(self, schedule=None):
        self.schedule = schedule

    def on_epoch_end(self, epoch, logs=None):
        if self.schedule is not None:
            lr = self.schedule(self.trainer.step) if callable(self.schedule) \
                else self.schedule
            logs["lr"] = float(np.asarray(lr))
            return
        lr = get_learning_rate(self.trainer.opt_state)
        if lr is None:
            raise ValueError(f"LearningRateLogger found no learning rate: pass "
                             f"schedule= or {_HINT}")
        logs["lr"] = lr
