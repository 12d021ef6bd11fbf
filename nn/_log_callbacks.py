"""Logging callbacks: `CSVLogger` (one row per epoch) and `TensorBoard` (scalars,
parameter histograms and the model's program, through tensorboardX)."""
import csv
import os

import numpy as np

from ._callbacks import Callback
from ._paths import tree_paths


class CSVLogger(Callback):
    """Append one row per epoch ("epoch" then every log) to a CSV file; with
    `append=False` (default) the file is rewritten at the start of training. A log
    missing from some epochs (validation every few epochs) leaves its cell empty; a
    log that appears later adds its column (the file is rewritten with the new
    header)."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append

    def on_train_begin(self, logs=None):
        self.rows, self.columns = [], []
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                reader = csv.DictReader(f, delimiter=self.separator)
                self.columns = [c for c in reader.fieldnames or () if c != "epoch"]
                self.rows = list(reader)

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: f"{v:.10g}" for k, v in logs.items()}}
        new = [k for k in logs if k not in self.columns]
        self.columns += new
        self.rows.append(row)
        if new or len(self.rows) == 1:
            self._write_all()
        else:
            with open(self.filename, "a", newline="") as f:
                self._writer(f).writerow(row)

    def _writer(self, f):
        return csv.DictWriter(f, ["epoch"] + self.columns, delimiter=self.separator,
                              restval="")

    def _write_all(self):
        with open(self.filename, "w", newline="") as f:
            writer = self._writer(f)
            writer.writeheader()
            writer.writerows(self.rows)


class TensorBoard(Callback):
    """Write the epoch logs as scalars ("epoch_loss", "epoch_val_accuracy", ...; with
    `update_freq=N` also every N training steps as "batch_loss", ...), histograms of the
    parameters every `histogram_freq` epochs, and with `write_graph` the model's
    program (functorch_lite's IR of one training-mode forward pass) as text. Event files
    go to `log_dir/train`; view them with `tensorboard --logdir log_dir`. Needs the
    `tensorboardX` package (pip install tensorboardX)."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=False,
                 update_freq="epoch"):
        try:
            from tensorboardX import SummaryWriter
        except ImportError as e:
            raise ImportError("nn.TensorBoard writes event files with the tensorboardX "
                              "package: pip install tensorboardX") from e
        self._writer_class = SummaryWriter
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.write_graph, self.update_freq = write_graph, update_freq
        self.writer = None

    def on_train_begin(self, logs=None):
        self.writer = self._writer_class(os.path.join(self.log_dir, "train"))
        if self.write_graph:
            self.writer.add_text("graph", "```\n" + self._program() + "\n```", 0)

    def _program(self):
        import functorch_lite as fl
        from ._adapters import unpack
        from ._steps import model_inputs
        trainer = self.trainer
        x = unpack(trainer.feeder.peek(), "fit", "data")[0]
        forward = lambda p, s, *xs: trainer.model.apply(p, s, *xs, training=False)[0]
        return str(fl.make_jaxpr(forward)(trainer.params, trainer.state, *model_inputs(x)))

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.update_freq, int) and self.trainer.step % self.update_freq == 0:
            for name, value in logs.items():
                self.writer.add_scalar(f"batch_{name}", value, self.trainer.step)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in logs.items():
            self.writer.add_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            for path, value in tree_paths(self.trainer.params):
                self.writer.add_histogram(path, np.asarray(value, np.float32), epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
