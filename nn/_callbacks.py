"""Training history and callbacks for `fit`.

A callback sees the `Trainer` (with `.params`, `.state`, `.opt_state`, `.step`,
`.history` and a settable `.stop_training`) at the start and end of training and of
each epoch; `on_epoch_end` may add entries to `logs`.
"""
import math
import os
import warnings

import numpy as np
from jax import tree_util


class History:
    """Per-epoch logs: `history.history["loss"]`, `history["val_accuracy"]`, ...;
    `history.epoch` lists the epochs run; `history.opt_state` is the optimizer state
    at the end (pass it to `fit(..., opt_state=...)` to resume)."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.opt_state = None

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))

    def __getitem__(self, name):
        return self.history[name]

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def plot(self, path, names=None):
        """Save a PNG with one panel per quantity (training and validation curves).
        Needs matplotlib (`pip install functorch-lite[plot]`)."""
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib: pip install "
                              "'functorch-lite[plot]'") from e
        bases = names or [n for n in self.history if not n.startswith("val_")]
        fig, axes = plt.subplots(1, len(bases), figsize=(4.5 * len(bases), 3.5),
                                 squeeze=False)
        epochs = [e + 1 for e in self.epoch]
        for ax, name in zip(axes[0], bases):
            for key, label in ((name, "train"), ("val_" + name, "validation")):
                if key in self.history:
                    ax.plot(epochs, self.history[key], marker="o", label=label)
            ax.set_title(name)
            ax.set_xlabel("epoch")
            ax.legend()
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return path


class Callback:
    """Base class: override the hooks you need."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, epoch, trainer):
        pass

    def on_epoch_end(self, epoch, logs, trainer):
        pass

    def on_train_end(self, trainer):
        pass


def _improved(mode, monitor, current, best, min_delta):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode == "min":
        return current < best - min_delta
    return current > best + min_delta


def _initial_best(mode, monitor):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    return math.inf if mode == "min" else -math.inf


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs;
    with `restore_best`, the parameters of the best epoch are restored at the end.
    `mode` "min", "max" or "auto" (max for accuracies)."""

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode="auto",
                 restore_best=True):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode, self.restore_best = mode, restore_best
        self.stopped_epoch = None

    def on_train_begin(self, trainer):
        self.best = _initial_best(self.mode, self.monitor)
        self.wait = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs, trainer):
        if self.monitor not in logs:
            warnings.warn(f"EarlyStopping monitors {self.monitor!r}, which the logs lack "
                          f"(have {sorted(logs)})", stacklevel=2)
            return
        current = logs[self.monitor]
        if _improved(self.mode, self.monitor, current, self.best, self.min_delta):
            self.best, self.wait = current, 0
            if self.restore_best:
                self.best_weights = (trainer.params, trainer.state)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best and self.best_weights is not None:
            trainer.params, trainer.state = self.best_weights


class ModelCheckpoint(Callback):
    """Save `{"params", "state"}` (and `opt_state` with `save_opt_state`) with
    `nn.save` after each epoch. `path` may use `{epoch}` and log names, e.g.
    "ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors". With `save_best_only`, only epochs that
    improve `monitor` are written."""

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto",
                 save_opt_state=False):
        self.path, self.monitor, self.save_best_only = path, monitor, save_best_only
        self.mode, self.save_opt_state = mode, save_opt_state
        self.saved = []

    def on_train_begin(self, trainer):
        self.best = _initial_best(self.mode, self.monitor)

    def on_epoch_end(self, epoch, logs, trainer):
        from ._checkpoint import save
        if self.save_best_only:
            if self.monitor not in logs:
                warnings.warn(f"ModelCheckpoint monitors {self.monitor!r}, which the logs "
                              f"lack (have {sorted(logs)})", stacklevel=2)
                return
            if not _improved(self.mode, self.monitor, logs[self.monitor], self.best, 0.0):
                return
            self.best = logs[self.monitor]
        path = str(self.path).format(epoch=epoch + 1, **logs)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tree = {"params": trainer.params, "state": trainer.state}
        if self.save_opt_state:
            tree["opt_state"] = trainer.opt_state
        save(path, tree)
        self.saved.append(path)


class LearningRateLogger(Callback):
    """Add the learning rate to the logs as "lr": from `schedule(step)` when given,
    else from an `optax.inject_hyperparams` optimizer state."""

    def __init__(self, schedule=None):
        self.schedule = schedule

    def on_epoch_end(self, epoch, logs, trainer):
        if self.schedule is not None:
            lr = self.schedule(trainer.step) if callable(self.schedule) else self.schedule
        else:
            lr = _find_learning_rate(trainer.opt_state)
            if lr is None:
                warnings.warn("LearningRateLogger found no learning rate: pass "
                              "schedule= or use optax.inject_hyperparams", stacklevel=2)
                return
        logs["lr"] = float(np.asarray(lr))


def _find_learning_rate(opt_state):
    for node in tree_util.tree_leaves(opt_state, is_leaf=lambda x: hasattr(x, "hyperparams")):
        hyperparams = getattr(node, "hyperparams", None)
        if isinstance(hyperparams, dict) and "learning_rate" in hyperparams:
            return hyperparams["learning_rate"]
    return None
