"""`summary(model, params, x)`: a table of every layer call with its output shape, the
parameters it owns, and (from XLA) its FLOPs and memory, rendered by `rich` when it is
installed and as plain text otherwise.

Shapes come from abstract evaluation. Costs come from XLA: each distinct layer call
(layer, parameter and input shapes) is compiled on its own, on abstract inputs, and
`cost_analysis()` / `memory_analysis()` of the executable give its FLOPs, output bytes
and temporary bytes. The model row is the whole model compiled once, so its FLOPs
include everything the sub-layers do (and what fusion saves)."""
import dataclasses

from jax import tree_util

import functorch_lite as fl
from ._abstract import eval_shape, is_array, to_spec
from ._paths import count_bytes, count_params
from ._scope import Scope, run_forward, uses_forward


@dataclasses.dataclass
class SummaryRow:
    path: str
    layer: str
    output_shapes: list
    params: int              # parameters owned by this layer itself (not its sub-layers)
    bytes: int
    shared: bool             # a repeated call of a layer already listed (weights shared)
    flops: float = None      # XLA's estimate for this call (None: costs not computed)
    output_bytes: int = None  # bytes of the call's outputs (its activations)
    temp_bytes: int = None   # XLA's scratch memory for the call
    leaf: bool = True        # no sub-layer calls inside


_HEADER = ("path", "layer", "output shape", "params", "param bytes", "FLOPs",
           "output bytes", "temp bytes")


@dataclasses.dataclass
class Summary:
    rows: list
    total_params: int
    total_bytes: int
    state_params: int
    state_bytes: int
    total_flops: float = None        # the whole model (the first row)
    activation_bytes: int = None     # the outputs of every leaf layer call, summed

    def _cells(self, row):
        shapes = ", ".join(str(s) for s in row.output_shapes)
        params = "(shared)" if row.shared else f"{row.params:,}" if row.params else "-"
        size = "" if row.shared or not row.params else human_bytes(row.bytes)
        costs = ("", "", "") if row.flops is None else (
            human_count(row.flops), human_bytes(row.output_bytes), human_bytes(row.temp_bytes))
        return (row.path, row.layer, shapes, params, size, *costs)

    def _columns(self):
        return len(_HEADER) if self.total_flops is not None else 5

    def totals(self):
        """The lines under the table."""
        lines = [f"Total parameters: {self.total_params:,} ({human_bytes(self.total_bytes)})"]
        if self.state_params:
            lines.append(f"State (non-trainable): {self.state_params:,} "
                         f"({human_bytes(self.state_bytes)})")
        if self.total_flops is not None:
            lines.append(f"Forward FLOPs (XLA, whole model): {human_count(self.total_flops)}; "
                         f"activations (sum of layer outputs): "
                         f"{human_bytes(self.activation_bytes)}")
        return lines

    def __str__(self):
        n = self._columns()
        lines = [_HEADER[:n]] + [self._cells(row)[:n] for row in self.rows]
        widths = [max(len(str(line[i])) for line in lines) for i in range(n)]

        def fmt(line):
            return "  ".join(str(v).ljust(w) if i < 3 else str(v).rjust(w)
                             for i, (v, w) in enumerate(zip(line, widths)))
        rule = "-" * len(fmt(lines[0]))
        return "\n".join([fmt(lines[0]), rule, *(fmt(line) for line in lines[1:]), rule,
                          *self.totals()])

    def __rich__(self):
        from rich.table import Table
        n = self._columns()
        table = Table(title="Model summary", caption="\n".join(self.totals()),
                      caption_justify="left")
        for i, name in enumerate(_HEADER[:n]):
            table.add_column(name, justify="left" if i < 3 else "right", no_wrap=i == 0)
        for row in self.rows:
            table.add_row(*self._cells(row)[:n], style="dim" if row.shared else None)
        return table


def human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def human_count(n):
    for unit in ("", "K", "M", "G", "T"):
        if abs(n) < 1000 or unit == "T":
            return f"{n:.0f}" if unit == "" else f"{n:.2f}{unit}"
        n /= 1000


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
    """Collects layer calls in call order (parents before their sub-layers), with
    their inputs' Specs and outputs."""

    def __init__(self):
        self.calls, self._open = [], []

    def enter(self, path, layer, args=(), kwargs=None):
        if self._open:
            self.calls[self._open[-1]]["leaf"] = False
        self._open.append(len(self.calls))
        specs = tree_util.tree_map(to_spec, (tuple(args), dict(kwargs or {})))
        self.calls.append({"path": tuple(path), "layer": layer, "inputs": specs,
                           "out": None, "leaf": True})

    def exit(self, out):
        self.calls[self._open.pop()]["out"] = out


def _call_costs(layer, params, state, inputs, training):
    """(flops, output bytes, temp bytes) of one layer call, compiled on abstract
    inputs (array leaves of the inputs are traced, the rest are static)."""
    args, kwargs = inputs
    leaves, treedef = tree_util.tree_flatten((args, kwargs))
    traced = [i for i, leaf in enumerate(leaves) if is_array(leaf)]

    def run(p, s, *xs):
        full = list(leaves)
        for i, x in zip(traced, xs):
            full[i] = x
        a, kw = tree_util.tree_unflatten(treedef, full)
        if uses_forward(layer):
            scope = Scope(layer, "apply", params=p, state=s, training=training)
            return run_forward(layer, scope, a, kw)
        return layer.apply(p, s, *a, training=training, **kw)[0]

    specs = tree_util.tree_map(to_spec, (params, state))
    compiled = fl.jit(run).lower(*specs, *(leaves[i] for i in traced)).compile()
    costs, memory = compiled.cost_analysis(), compiled.memory_analysis()
    return (float(costs.get("flops", 0.0)), int(memory.output_size_in_bytes),
            int(memory.temp_size_in_bytes))


def _spec_key(tree):
    leaves, treedef = tree_util.tree_flatten(tree_util.tree_map(to_spec, tree))
    return treedef, tuple(leaves)


def summary(model, params, *inputs, state=None, print_fn=print, costs=True,
            training=False, **kwargs):
    """Tabulate `model` called on `inputs`: one row per layer call (path, layer type,
    output shape, parameters it owns and their bytes, and with `costs` XLA's FLOPs,
    output bytes and temporary bytes of the call), then the totals. Shared layers
    appear once per call, counted once. Prints the table with `print_fn` (a `rich`
    table when `print_fn` is `print` and rich is installed; None: silent) and returns a
    `Summary` (`str()` is the plain-text table).
    """
    recorder = _Recorder()
    state = {} if state is None else state

    def run(p, s, *xs):
        scope = Scope(model, "apply", params=p, state=s, observer=recorder,
                      training=training)
        recorder.enter((), model, xs, kwargs)
        out = run_forward(model, scope, xs, kwargs)
        recorder.exit(out)
        return out

    eval_shape(run, params, state, *inputs)
    rows, seen, cache = [], set(), {}
    for call in recorder.calls:
        path, layer, out = call["path"], call["layer"], call["out"]
        own = _own_params(_subtree(params, path))
        shapes = [tuple(leaf.shape) for leaf in tree_util.tree_leaves(out)]
        row = SummaryRow("/".join(path) or "(model)", type(layer).__name__, shapes,
                         count_params(own), count_bytes(own), path in seen,
                         leaf=call["leaf"])
        if costs:
            sub_params, sub_state = _subtree(params, path), _subtree(state, path)
            key = (layer, _spec_key((sub_params, sub_state, call["inputs"])))
            try:
                hash(key)
            except TypeError:
                key = object()
            if key not in cache:
                cache[key] = _call_costs(layer, sub_params, sub_state, call["inputs"],
                                         training)
            row.flops, row.output_bytes, row.temp_bytes = cache[key]
        rows.append(row)
        seen.add(path)
    result = Summary(rows, count_params(params), count_bytes(params), count_params(state),
                     count_bytes(state))
    if costs:
        result.total_flops = rows[0].flops
        result.activation_bytes = sum(r.output_bytes for r in rows if r.leaf)
    if print_fn is not None:
        _print(result, print_fn)
    return result


def _print(result, print_fn):
    """A rich table on a terminal or in a notebook; plain text otherwise (logs)."""
    if print_fn is print:
        try:
            import rich.console
        except ImportError:
            pass
        else:
            console = rich.console.Console()
            if console.is_terminal or console.is_jupyter:
                console.print(result)
                return
    print_fn(str(result))
