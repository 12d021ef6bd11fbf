"""Progress of `fit`, `evaluate` and `predict`: a tqdm bar per epoch on a terminal
(steps, ETA, steps/s, then the running loss and metrics and samples/s, refreshed at
most twice a second so that reading the metrics does not slow training), and one line
per epoch elsewhere (logs, CI, notebooks captured to files).

verbose: 0 silent; 1 the bar on a terminal, else one line per epoch; 2 one line per
epoch.
"""
import sys
import time

from tqdm import tqdm

_REFRESH_S = 0.5


def format_logs(logs):
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items())


class Progress:
    def __init__(self, description, total_steps, verbose=1, file=None):
        self.file = sys.stdout if file is None else file
        self.description, self.verbose = description, verbose
        self.interactive = verbose == 1 and getattr(self.file, "isatty", lambda: False)()
        self.start = self.last = time.perf_counter()
        self.samples = 0
        self.bar = tqdm(total=total_steps, desc=description, unit="step", file=self.file,
                        leave=True, dynamic_ncols=True, mininterval=0.1,
                        disable=not self.interactive)

    def step(self, samples, logs):
        """One step done; `logs()` gives the running values (called only to redraw)."""
        self.samples += samples
        if not self.interactive:
            return
        self.bar.update(1)
        now = time.perf_counter()
        if now - self.last >= _REFRESH_S:
            self.last = now
            self.bar.set_postfix_str(self._postfix(logs(), now), refresh=False)

    def _postfix(self, logs, now):
        speed = self.samples / max(now - self.start, 1e-9)
        return f"{format_logs(logs)}  {speed:,.0f} samples/s"

    def finish(self, logs):
        """Close the epoch: the final values, time and speed."""
        now = time.perf_counter()
        if self.interactive:
            self.bar.set_postfix_str(self._postfix(logs, now), refresh=False)
            self.bar.close()
            return
        self.bar.close()
        if self.verbose:
            elapsed = max(now - self.start, 1e-9)
            self.file.write(f"{self.description}  {format_logs(logs)}  {elapsed:.2f}s  "
                            f"{self.samples / elapsed:,.0f} samples/s\n")
            self.file.flush()
