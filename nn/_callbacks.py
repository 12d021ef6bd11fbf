"""Callbacks with Keras' hooks, the training history, and the simple standard callbacks
(`LambdaCallback`, `TerminateOnNaN`, `EarlyStopping`, `ModelCheckpoint`).

A callback sees the `Trainer` as `self.trainer` (`.params`, `.state`, `.opt_state`,
`.optimizer`, `.step`, `.epoch`, `.history`, a settable `.stop_training`; replacing
`.params` or `.opt_state` changes what training continues with). Hooks get `logs`:
epoch logs are a dict of floats that a callback may extend (e.g. "lr"); batch logs are
the running values of the epoch, computed (one device transfer) only when read.
"""
import collections.abc
import math
import os

from ._history import History
from ._warnings import warn

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need (Keras' names and arguments)."""
    trainer = None
    runs_last = False  # called after the others (BackupAndRestore)

    def set_trainer(self, trainer):
        self.trainer = trainer


for _hook in HOOKS:
    setattr(Callback, _hook, lambda self, *args, **kwargs: None)


class CallbackList:
    """Calls a hook on every callback, in order."""

    def __init__(self, callbacks, trainer=None):
        self.callbacks = sorted(callbacks or (), key=lambda cb: getattr(cb, "runs_last", 0))
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be nn.Callback instances, got "
                                f"{type(cb).__name__}")
            if trainer is not None:
                cb.set_trainer(trainer)

    def overrides(self, *hooks):
        """True when some callback may implement one of `hooks` (conservatively: also
        when its class customises attribute lookup)."""
        def implements(cb, hook):
            kind = type(cb)
            return hook in vars(cb) or getattr(kind, hook) is not getattr(Callback, hook) \
                or kind.__getattribute__ is not object.__getattribute__ \
                or hasattr(kind, "__getattr__")
        return any(implements(cb, hook) for cb in self.callbacks for hook in hooks)

    def __getattr__(self, hook):
        if hook not in HOOKS:
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


class LazyLogs(collections.abc.Mapping):
    """Batch logs computed on first read (reading them synchronises with the device)."""

    def __init__(self, compute):
        self._compute, self._values = compute, None

    def _logs(self):
        if self._values is None:
            self._values = self._compute()
        return self._values

    def __getitem__(self, name):
        return self._logs()[name]

    def __iter__(self):
        return iter(self._logs())

    def __len__(self):
        return len(self._logs())


class LambdaCallback(Callback):
    """A callback from functions, e.g. `LambdaCallback(on_epoch_end=lambda epoch,
    logs: print(epoch, logs["loss"]))`; any of Keras' hook names."""

    def __init__(self, **hooks):
        unknown = set(hooks) - set(HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hooks {sorted(unknown)}; "
                            f"known: {list(HOOKS)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop training when the loss becomes NaN or infinite (Keras' callback): the same
    as `fit(..., on_nan="stop")`; training ends with the parameters from before the
    non-finite step, and a warning names the epoch and batch."""

    def on_train_begin(self, logs=None):
        self.trainer.on_nan = "stop"


def _mode(mode, monitor):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall",
                                                   "f1")) else "min"
    return mode


class _Monitor:
    """Tracks the best value of `monitor` in the epoch logs."""

    def __init__(self, monitor, mode, min_delta=0.0, baseline=None):
        self.monitor, self.mode = monitor, _mode(mode, monitor)
        self.min_delta, self.baseline = abs(min_delta), baseline
        self.reset()

    def reset(self):
        self.best = self.baseline if self.baseline is not None else \
            (math.inf if self.mode == "min" else -math.inf)

    def value(self, logs, who):
        if self.monitor not in logs:
            warn(f"{who} monitors {self.monitor!r}, which the logs lack (have "
                 f"{sorted(logs)})")
            return None
        return logs[self.monitor]

    def improved(self, current):
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs (after
    `start_from_epoch`; `baseline`: a value to beat). With `restore_best_weights`, the
    parameters and state of the best epoch are restored at the end. `mode` "min",
    "max" or "auto" (max for accuracies, AUC, precision, recall, F1)."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        self.tracker = _Monitor(monitor, mode, min_delta, baseline)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.stopped_epoch, self.best_epoch, self.best_weights = None, None, None

    def on_train_begin(self, logs=None):
        self.tracker.reset()
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, None, None, None

    def on_epoch_end(self, epoch, logs=None):
        current = self.tracker.value(logs, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.tracker.improved(current):
            self.tracker.best, self.wait, self.best_epoch = current, 0, epoch
            if self.restore_best_weights:
                self.best_weights = (self.trainer.params, self.trainer.state)
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.params, self.trainer.state = self.best_weights


class ModelCheckpoint(Callback):
    """Save `{"params", "state", "opt_state", "epoch", "step"}` with `nn.save` (a
    safetensors file) at the end of epochs. `path` may use `{epoch}` and log names,
    e.g. "ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors". With `save_best_only`,
    only epochs that improve `monitor` are written; `save_opt_state=False` leaves the
    optimizer state out. Restore with `nn.load(path, like=...)` and pass
    `opt_state=` and `initial_epoch=` to `fit` to continue."""

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto",
                 save_opt_state=True):
        self.path, self.save_best_only = path, save_best_only
        self.tracker = _Monitor(monitor, mode)
        self.save_opt_state = save_opt_state
        self.saved = []

    def on_train_begin(self, logs=None):
        self.tracker.reset()

    def on_epoch_end(self, epoch, logs=None):
        from ._checkpoint import save
        if self.save_best_only:
            current = self.tracker.value(logs, "ModelCheckpoint")
            if current is None or not self.tracker.improved(current):
                return
            self.tracker.best = current
        path = str(self.path).format(epoch=epoch + 1, **logs)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        trainer = self.trainer
        tree = {"params": trainer.params, "state": trainer.state, "epoch": epoch + 1,
                "step": trainer.step}
        if self.save_opt_state:
            tree["opt_state"] = trainer.opt_state
        save(path, tree)
        self.saved.append(path)


__all__ = ["Callback", "CallbackList", "LazyLogs", "LambdaCallback", "TerminateOnNaN",
           "EarlyStopping", "ModelCheckpoint", "History"]
