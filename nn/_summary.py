"""`summary(model, params, x)`: a table of every layer call with its output shape and
the parameters it owns, found by abstract evaluation (no FLOPs)."""
import dataclasses

from jax import tree_util

from ._abstract import eval_shape
from ._scope import Scope
from ._paths import count_bytes, count_params


@dataclasses.dataclass
class SummaryRow:
    path: str
    layer: str
    output_shapes: list
    params: int        # parameters owned by this layer itself (not its sub-layers)
    bytes: int
    shared: bool       # a repeated call of a layer already listed (weights shared)


@dataclasses.dataclass
class Summary:
    rows: list
    total_params: int
    total_bytes: int
    state_params: int
    state_bytes: int

    def __str__(self):
        header = ("path", "layer", "output shape", "params", "bytes")
        lines = [header]
        for row in self.rows:
            shapes = ", ".join(str(s) for s in row.output_shapes)
            params = "(shared)" if row.shared else f"{row.params:,}" if row.params else "-"
            size = "" if row.shared or not row.params else _human_bytes(row.bytes)
            lines.append((row.path, row.layer, shapes, params, size))
        widths = [max(len(str(line[i])) for line in lines) for i in range(5)]
        fmt = lambda line: "  ".join(str(v).ljust(w) if i < 3 else str(v).rjust(w)
                                     for i, (v, w) in enumerate(zip(line, widths)))
        rule = "-" * len(fmt(header))
        out = [fmt(header), rule, *(fmt(line) for line in lines[1:]), rule,
               f"Total parameters: {self.total_params:,} ({_human_bytes(self.total_bytes)})"]
        if self.state_params:
            out.append(f"State (non-trainable): {self.state_params:,} "
                       f"({_human_bytes(self.state_bytes)})")
        return "\n".join(out)


def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _own_params(tree):
    """The leaves at this level that are not sub-layer dicts."""
    if not isinstance(tree, dict):
        return tree
    return {k: v for k, v in tree.items() if not isinstance(v, dict)}


def _subtree(tree, path):
    for name in path:
        if not isinstance(tree, dict) or name not in tree:
            return {}
        tree = tree[name]
    return tree


class _Recorder:
    """Collects layer calls in call order (parents before their sub-layers)."""

    def __init__(self):
        self.calls, self._open = [], []

    def enter(self, path, layer):
        self._open.append(len(self.calls))
        self.calls.append([tuple(path), layer, None])

    def exit(self, out):
        self.calls[self._open.pop()][2] = out


def summary(model, params, *inputs, state=None, print_fn=print, **kwargs):
    """Tabulate `model` called on `inputs`: one row per layer call (path, layer type,
    output shape, parameters it owns, bytes), then the totals of the parameter and
    state trees. Shared layers appear once per call, counted once. Prints the table
    with `print_fn` (None: silent) and returns a `Summary`.
    """
    recorder = _Recorder()

    def run(p, s, *xs):
        scope = Scope(model, "apply", params=p, state=s, observer=recorder)
        recorder.enter((), model)
        out = model.forward(scope, *xs, **kwargs)
        recorder.exit(out)
        return out

    eval_shape(run, params, {} if state is None else state, *inputs)
    rows, seen = [], set()
    for path, layer, out in recorder.calls:
        own = _own_params(_subtree(params, path))
        shapes = [tuple(leaf.shape) for leaf in tree_util.tree_leaves(out)]
        rows.append(SummaryRow("/".join(path) or "(model)", type(layer).__name__, shapes,
                               count_params(own), count_bytes(own), path in seen))
        seen.add(path)
    state_tree = {} if state is None else state
    result = Summary(rows, count_params(params), count_bytes(params),
                     count_params(state_tree), count_bytes(state_tree))
    if print_fn is not None:
        print_fn(str(result))
    return result
