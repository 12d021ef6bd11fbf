"""`BackupAndRestore`: resume an interrupted `fit` exactly where it stopped."""
import json
import os

from ._callbacks import Callback
from ._checkpoint import load, save
from ._history import History
from ._warnings import warn


class BackupAndRestore(Callback):
    """Back up the whole training state to `backup_dir` at the end of every epoch
    (`save_freq="epoch"`) or every `save_freq` steps: parameters, layer state, optimizer
    state, the running metrics of the epoch, the step count, the random keys, the data
    position (epoch and batch) and the history. When `fit` starts and a backup exists,
    training continues from it, so a run killed and started again with the same
    arguments ends with the same parameters, bit for bit, as an uninterrupted run. The
    backup is deleted when training ends normally (`delete_checkpoint=False` keeps it).

    Exact resumption needs data that repeats: arrays (their shuffling is derived from
    `rng` and the epoch), or an iterable / function that yields the same batches each
    pass; a one-shot iterator cannot be rewound (a warning says so). The internal
    counters of other callbacks (EarlyStopping's patience, ...) start afresh, as in
    Keras. It runs after the other callbacks, so that the epoch logs they add are
    backed up too."""
    runs_last = True

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive number of steps, "
                             f"got {save_freq!r}")
        self.backup_dir, self.save_freq = os.fspath(backup_dir), save_freq
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, "backup.safetensors")
        self.restored = False

    def _tree(self, epoch, batches_done, history=None):
        trainer = self.trainer
        history = trainer.history if history is None else history
        source = trainer.feeder.source
        return {"params": trainer.params, "state": trainer.state,
                "opt_state": trainer.opt_state, "metric_states": trainer.metric_states,
                "rng": trainer.rng, "shuffle_key": getattr(source, "shuffle_key", None),
                "step": trainer.step, "epoch": epoch, "batches_done": batches_done,
                "data_position": trainer.data_position,
                "history": json.dumps(history.to_tree())}

    def on_train_begin(self, logs=None):
        self.restored = False
        if not os.path.exists(self.path):
            return
        trainer = self.trainer
        backup = load(self.path, like=self._tree(0, 0))
        trainer.params, trainer.state = backup["params"], backup["state"]
        trainer.opt_state, trainer.metric_states = backup["opt_state"], \
            backup["metric_states"]
        trainer.rng, trainer.step = backup["rng"], backup["step"]
        trainer.epoch, trainer.batches_done = backup["epoch"], backup["batches_done"]
        trainer.history = History.from_tree(json.loads(backup["history"]))
        source = trainer.feeder.source
        if hasattr(source, "shuffle_key"):
            source.shuffle_key = backup["shuffle_key"]
        trainer.data_position = backup["data_position"]
        if source.one_shot:
            warn("BackupAndRestore: the data is a one-shot iterator, which cannot be "
                 "rewound; training resumes with its next batches")
        elif trainer.feeder.steps is not None:
            trainer.feeder.seek(backup["data_position"])
        self.restored = True

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch" and self.trainer.step % self.save_freq == 0:
            self._save(self.trainer.epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":  # the history with this epoch, as fit records it next
            history = History.from_tree(self.trainer.history.to_tree())
            history.append(epoch, logs)
            self._save(epoch + 1, 0, history)

    def _save(self, epoch, batches_done, history=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        save(self.path, self._tree(epoch, batches_done, history))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
