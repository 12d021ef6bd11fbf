"""A Keras-style progress bar on stdout: steps, loss and metrics, samples per second.
On a terminal it redraws one line (at most 10 times a second); elsewhere (logs, CI)
it prints only the line that closes each epoch."""
import sys
import time


def format_logs(logs):
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items())


class ProgressBar:
    def __init__(self, epoch, epochs, total_steps, verbose=1, file=None, width=24):
        self.file = sys.stdout if file is None else file
        self.prefix = f"Epoch {epoch + 1}/{epochs}"
        self.total = total_steps
        self.verbose = verbose
        self.width = width
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.interactive = verbose == 1 and getattr(self.file, "isatty", lambda: False)()

    def wants_update(self):
        """True when a redraw is due (callers then pass fresh values to `update`)."""
        return self.interactive and time.perf_counter() - self.last_draw > 0.1

    def update(self, step, samples, logs):
        self.last_draw = time.perf_counter()
        elapsed = max(self.last_draw - self.start, 1e-9)
        if self.total:
            done = int(self.width * step / self.total)
            bar = "=" * max(done - 1, 0) + (">" if done < self.width else "=")
            bar = f"{step}/{self.total} [{bar.ljust(self.width, '.')}]"
        else:
            bar = f"{step}"
        line = f"{self.prefix}  {bar}  {format_logs(logs)}  {samples / elapsed:,.0f} samples/s"
        self.file.write("\r" + line + " " * 4)
        self.file.flush()

    def finish(self, samples, logs):
        """Close the epoch's line: final values, epoch time and speed."""
        if not self.verbose:
            return
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        line = (f"{self.prefix}  {self.total}/{self.total}  {format_logs(logs)}  "
                f"{elapsed:.2f}s  {samples / elapsed:,.0f} samples/s")
        self.file.write(("\r" if self.interactive else "") + line + "\n")
        self.file.flush()
