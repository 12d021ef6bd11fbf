"""The training history that `fit` returns, and its plot."""


class History:
    """Per-epoch logs: `history.history["loss"]`, `history["val_accuracy"]`, ...;
    `history.epoch` lists the epochs run and `history.epochs_of[name]` the epochs each
    quantity was logged in (validation every `validation_freq` epochs, callbacks that
    log from some epoch on). `history.opt_state` is the optimizer state at the end (pass
    it to `fit(..., opt_state=...)` to continue); `history.update_mode` says how the
    optimizer update ran ("fused" into the compiled step, or "eager optax update")."""

    def __init__(self):
        self.history = {}
        self.epochs_of = {}
        self.epoch = []
        self.opt_state = None
        self.update_mode = None

    def append(self, epoch, logs):
        if epoch not in self.epoch:
            self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))
            self.epochs_of.setdefault(name, []).append(epoch)

    def __getitem__(self, name):
        return self.history[name]

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def to_tree(self):
        """The logs as a checkpoint-able tree (lists of numbers)."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in
                                                       self.history.items()},
                "epochs_of": {k: list(v) for k, v in self.epochs_of.items()}}

    @classmethod
    def from_tree(cls, tree):
        history = cls()
        history.epoch = [int(e) for e in tree["epoch"]]
        history.history = {k: [float(x) for x in v] for k, v in tree["history"].items()}
        history.epochs_of = {k: [int(e) for e in v] for k, v in tree["epochs_of"].items()}
        return history

    def plot(self, path=None, names=None):
        """One panel per quantity, side by side, each with its training and validation
        curve against the epochs it was logged in (so uneven logs plot correctly).
        Saves a PNG and returns `path`, or returns the matplotlib Figure when `path` is
        None. Needs matplotlib (`pip install functorch-lite[plot]`)."""
        try:
            import matplotlib
            if path is not None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib: pip install "
                              "'functorch-lite[plot]'") from e
        bases = list(names or dict.fromkeys(n[4:] if n.startswith("val_") else n
                                            for n in self.history))
        if not bases:
            raise ValueError("History.plot: nothing was logged")
        fig, axes = plt.subplots(1, len(bases), figsize=(4.5 * len(bases), 3.5),
                                 squeeze=False)
        for ax, name in zip(axes[0], bases):
            for key, label in ((name, "train"), ("val_" + name, "validation")):
                if key in self.history:
                    epochs = [e + 1 for e in self.epochs_of[key]]
                    ax.plot(epochs, self.history[key], marker="o", label=label)
            ax.set_title(name)
            ax.set_xlabel("epoch")
            ax.legend()
        fig.tight_layout()
        if path is None:
            return fig
        fig.savefig(path)
        plt.close(fig)
        return path
