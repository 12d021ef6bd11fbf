"""A picture of a traced program: `ir_graph(f)(*args)` draws the Program `f` traces to
with Graphviz (the `graphviz` package builds the DOT text; its `dot` program lays it
out). Equations are nodes (primitive, short parameters, output types), edges carry the
type of the value they pass, and every equation that holds sub-programs (scan, cond,
while, jit, custom_vjp, checkpoint, ...) is a cluster with one nested cluster per
sub-program; in the HTML a click on a cluster folds it. `backward=True` draws
`grad(f)` with the forward computation and the backward pass coloured apart."""
import html
import itertools
import os
import shutil

import numpy as np

from . import _core
from ._api import vjp
from ._jit import make_jaxpr
from ._ir import Literal, Program
from ._traceback_util import api_boundary, check_callable
from .numpy import ones_like

_FORWARD, _BACKWARD = "#dbe9f6", "#fde0c5"
_INSTALL = ('pip install "functorch-lite[graph]" (the graphviz package) and the '
            "Graphviz programs (apt-get install graphviz, brew install graphviz, "
            "conda install graphviz)")


def ir_graph(fun, *, backward=False, argnums=0, static_argnums=()):
    """`ir_graph(f)(*args)`: a `ProgramGraph` of the program `f` traces to for these
    arguments (shown as an interactive SVG in notebooks; `.save("f.html")`). With
    `backward=True`, the program of `grad(f, argnums)` (f returns a scalar), its
    forward equations blue and its backward-pass equations orange."""
    check_callable(fun, "ir_graph")
    if backward and (not isinstance(argnums, int) or isinstance(argnums, bool)):
        raise TypeError(f"ir_graph(backward=True) differentiates one argument: argnums "
                        f"must be an int, got {argnums!r}")

    @api_boundary
    def draw(*args, **kwargs):
        if not backward:
            return ProgramGraph(make_jaxpr(fun, static_argnums)(*args, **kwargs),
                                getattr(fun, "__name__", "fun"))
        forward_vars = set()
        program = make_jaxpr(_split_grad(fun, argnums, forward_vars), static_argnums)(
            *args, **kwargs)
        return ProgramGraph(program, f"grad({getattr(fun, '__name__', 'fun')})",
                            forward_vars)
    return draw


def _split_grad(fun, argnums, forward_vars):
    """`grad(fun, argnums)` that records, in `forward_vars`, the outputs of the
    equations staged before the backward pass starts (the forward computation)."""

    def grad_fun(*args, **kwargs):
        i = argnums % len(args) if -len(args) <= argnums < len(args) else None
        if i is None:
            raise ValueError(f"ir_graph(backward=True, argnums={argnums}): the function "
                             f"was called with {len(args)} positional arguments")

        def of_arg(x):
            return fun(*args[:i], x, *args[i + 1:], **kwargs)
        out, pullback = vjp(of_arg, args[i])
        if getattr(out, "shape", None) != ():
            got = getattr(out, "shape", type(out).__name__)
            raise TypeError(f"ir_graph(backward=True) draws grad(f), which needs a scalar "
                            f"output; {getattr(fun, '__name__', 'f')} returned {got}")
        trace = _core.current_trace()
        forward_vars.update(v for e in getattr(trace, "equations", ()) for v in e.outputs)
        (cotangent,) = pullback(ones_like(out))
        return cotangent
    return grad_fun


class ProgramGraph:
    """A drawing of a Program: `.source` is its DOT text, `.svg()` the laid-out SVG
    (needs Graphviz's `dot`), `.html()` a self-contained page (SVG with clusters that
    fold on click), `.save(path)` writes .html, .svg or .dot/.gv by the suffix.
    Notebooks show it through `_repr_html_`/`_repr_svg_`."""

    def __init__(self, program, name, forward_vars=None):
        self.program, self.name = program, name
        self.graph = _Builder(program, name, forward_vars).graph

    @property
    def source(self):
        return self.graph.source

    def svg(self):
        if shutil.which("dot") is None:
            raise RuntimeError(f"ir_graph needs Graphviz's `dot` program to lay out the "
                               f"picture and it is not on PATH: install it ({_INSTALL}). "
                               f"The DOT text is in `.source` meanwhile.")
        return self.graph.pipe(format="svg", encoding="utf-8")

    def html(self):
        """A self-contained HTML page; without `dot`, the DOT text and how to render it."""
        if shutil.which("dot") is None:
            return (f"<div><p>Graphviz's <code>dot</code> is not installed, so this is the "
                    f"DOT text of the picture ({html.escape(_INSTALL)}; or paste it into "
                    f"any Graphviz viewer):</p><pre>{html.escape(self.source)}</pre></div>")
        element = f"fl-ir-graph-{next(_ids)}"
        return (f'<div id="{element}">{_svg_body(self.svg())}</div>\n'
                f"<script>{_FOLD_SCRIPT % element}</script>")

    def save(self, path):
        path = str(path)
        writers = {".html": self._page, ".svg": self.svg, ".dot": lambda: self.source,
                   ".gv": lambda: self.source}
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in writers:
            raise ValueError(f"ProgramGraph.save({path!r}): the suffix says the format; "
                             f"use one of {sorted(writers)}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(writers[suffix]())

    def _page(self):
        return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
                f"{html.escape(self.name)}</title></head><body>{self.html()}</body></html>")

    def _repr_html_(self):
        return self.html()

    def _repr_svg_(self):
        return self.svg() if shutil.which("dot") else None

    def __repr__(self):
        return f"<ProgramGraph of {self.name}: {len(self.program.equations)} equations>"


_ids = itertools.count()

# Clicking a cluster (a sub-program) hides or shows everything drawn inside it: the
# builder gives each node, edge and cluster the class in_<id> of every enclosing cluster.
_FOLD_SCRIPT = """(function () {
  var root = document.getElementById("%s");
  root.querySelectorAll("g.cluster").forEach(function (cluster) {
    cluster.style.cursor = "pointer";
    cluster.addEventListener("click", function (event) {
      event.stopPropagation();
      var fold = cluster.getAttribute("data-folded") !== "1";
      cluster.setAttribute("data-folded", fold ? "1" : "0");
      root.querySelectorAll(".in_" + cluster.id).forEach(function (element) {
        element.style.display = fold ? "none" : "";
      });
    });
  });
})();"""


def _svg_body(svg):
    """The <svg> element alone (without the XML prologue and DOCTYPE)."""
    return svg[svg.find("<svg"):]


class _Builder:
    def __init__(self, program, name, forward_vars):
        import graphviz  # an optional dependency: functorch-lite[graph]
        self.forward_vars = forward_vars
        self.ids = itertools.count()
        self.graph = graphviz.Digraph(name=name, graph_attr=dict(
            rankdir="TB", fontname="Helvetica", fontsize="11", label=self._title(name),
            labelloc="t"), node_attr=dict(fontname="Helvetica", fontsize="10",
                                          shape="box", style="rounded,filled",
                                          fillcolor="white"),
            edge_attr=dict(fontname="Helvetica", fontsize="9"))
        sources = self._program(self.graph, program, (), "input", None)
        for i, out in enumerate(program.outs):
            node = self._node(self.graph, f"output {i}\n{out.aval.str_short()}", (),
                              shape="ellipse", fillcolor="#eeeeee")
            self._edge(self.graph, sources, out, node, ())

    def _title(self, name):
        if self.forward_vars is None:
            return name
        return f"{name}: forward (blue) and backward pass (orange)"

    def _node(self, graph, label, enclosing, **attrs):
        node = f"n{next(self.ids)}"
        graph.node(node, label, _attributes=_classes(enclosing), **attrs)
        return node

    def _edge(self, graph, sources, atom, target, enclosing, **attrs):
        if isinstance(atom, Literal):
            return
        source = sources.get(atom)
        if source is not None:
            graph.edge(source, target, label=atom.aval.str_short(),
                       _attributes=_classes(enclosing), **attrs)

    def _program(self, graph, program, enclosing, input_label, colour):
        """Draw `program`'s inputs and equations into `graph`; returns var -> node.
        `colour`: that of the equation holding the program (None at the top)."""
        sources = {}
        for i, var in enumerate(program.in_vars):
            sources[var] = self._node(graph, f"{input_label} {i}\n{var.aval.str_short()}",
                                      enclosing, shape="ellipse", fillcolor="#eeeeee")
        for eqn in program.equations:
            subprograms = [kp for k, v in eqn.params.items() for kp in _programs(k, v)]
            if subprograms:
                node = self._call(graph, eqn, subprograms, enclosing,
                                  colour or self._colour(eqn))
            else:
                node = self._node(graph, _label(eqn), enclosing, tooltip=_tooltip(eqn),
                                  fillcolor=colour or self._colour(eqn))
            for atom in eqn.inputs:
                self._edge(graph, sources, atom, node, enclosing)
            sources.update((v, node) for v in eqn.outputs)
        return sources

    def _call(self, graph, eqn, subprograms, enclosing, colour):
        """An equation with sub-programs: a cluster holding the equation's node and one
        nested cluster per sub-program (drawn in the equation's colour)."""
        cluster = f"c{next(self.ids)}"
        inner = (*enclosing, cluster)
        with graph.subgraph(name=f"cluster_{cluster}") as sub:
            name = eqn.params.get("name")
            sub.attr(id=cluster, label=eqn.primitive.name + (f" {name}" if name else ""),
                     tooltip="click to fold or unfold",
                     style="rounded,filled", fillcolor="#f7f7f7", color="#888888",
                     **_classes(enclosing))
            node = self._node(sub, _label(eqn), inner, tooltip=_tooltip(eqn),
                              fillcolor=colour, shape="component")
            for key, program in subprograms:
                body = f"c{next(self.ids)}"
                with sub.subgraph(name=f"cluster_{body}") as nested:
                    nested.attr(id=body, label=key, tooltip="click to fold or unfold",
                                style="rounded,dashed", color="#888888",
                                fillcolor="white", **_classes(inner))
                    sources = self._program(nested, program, (*inner, body), "arg",
                                            None if colour == "white" else colour)
                    for out in program.outs:
                        self._edge(nested, sources, out, node, (*inner, body),
                                   style="dashed")
        return node

    def _colour(self, eqn):
        """Forward or backward (for `backward=True`), else white."""
        if self.forward_vars is None:
            return "white"
        forward = any(v in self.forward_vars for v in eqn.outputs)
        return _FORWARD if forward else _BACKWARD


def _programs(key, value):
    """The sub-programs a parameter holds, each with its name for the picture."""
    if isinstance(value, Program):
        return [(key, value)]
    if isinstance(value, (tuple, list)) and value and all(
            isinstance(p, Program) for p in value):
        return [(f"{key}[{i}]", p) for i, p in enumerate(value)]
    return []


def _classes(enclosing):
    return {"class": " ".join(f"in_{c}" for c in enclosing)} if enclosing else {}


def _label(eqn):
    outs = " ".join(v.aval.str_short() for v in eqn.outputs)
    literals = [_short(a.val) for a in eqn.inputs if isinstance(a, Literal)]
    params = [f"{k}={_short(v)}" for k, v in eqn.params.items() if _is_short(v)][:3]
    lines = [eqn.primitive.name + (f" ({', '.join(literals)})" if literals else "")]
    if params:
        lines.append(" ".join(params))
    return "\n".join([*lines, outs])


def _is_short(value):
    return (isinstance(value, (bool, int, float, str, np.dtype)) or (
        isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value))) \
        and len(_short(value)) <= 24


def _short(value):
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.item() if np.ndim(value) == 0 else value
    if isinstance(value, np.dtype):
        return value.name
    return repr(value)


def _tooltip(eqn):
    params = ", ".join(f"{k}={v!r:.80}" for k, v in eqn.params.items()
                       if not _programs(k, v))
    return f"{eqn.primitive.name}({params})"
