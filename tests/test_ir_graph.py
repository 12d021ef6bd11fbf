"""`ir_graph(f)(*args)`: the picture of the traced program has one node per equation
(primitive and output types), edges labelled with types, one cluster per equation with
sub-programs (scan, cond, while, jit, custom_vjp, checkpoint) and one nested cluster per
sub-program; the SVG (laid out by Graphviz's `dot`) and the HTML are parsed for them;
`backward=True` colours forward and backward equations of grad(f)."""
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("graphviz", reason="ir_graph needs the optional graphviz package "
                                       "(functorch-lite[graph])")
import functorch_lite as fl  # noqa: E402
import functorch_lite.numpy as jnp  # noqa: E402
from functorch_lite import lax  # noqa: E402

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"
X = np.arange(3.0, dtype=np.float32)


@fl.custom_vjp
def clipped_sin(x):
    return jnp.sin(x)


clipped_sin.defvjp(lambda x: (jnp.sin(x), x), lambda r, g: (g * jnp.cos(r),))


@fl.checkpoint
def remat_exp(x):
    return jnp.exp(x)


def everything(x):
    carry, ys = lax.scan(lambda c, x: (c + x, c * x), 0.0, x)
    y = lax.cond(carry > 0, lambda v: v + 1, lambda v: v - 1, x)
    count = lax.while_loop(lambda s: s < 10, lambda s: s + 1, 0)
    doubled = fl.jit(lambda v: v * 2)(ys)
    return (clipped_sin(y) + remat_exp(y) + doubled).sum() + count


@pytest.fixture(scope="module")
def graph():
    return fl.ir_graph(everything)(X)


def _count_equations(program):
    """Equations of `program` and of all its sub-programs."""
    total = 0
    for eqn in program.equations:
        total += 1
        for value in eqn.params.values():
            subs = value if isinstance(value, (tuple, list)) else [value]
            total += sum(_count_equations(p) for p in subs if isinstance(p, fl._ir.Program))
    return total


def _node_labels(source):
    """Labels of the DOT nodes that are equations (not inputs/outputs)."""
    labels = re.findall(r'^\s*n\d+ \[label="([^"]*)"', source, re.M)
    return [lab for lab in labels if not lab.startswith(("input ", "arg ", "output "))]


def test_dot_has_a_node_per_equation_and_a_cluster_per_subprogram(graph):
    program = fl.make_jaxpr(everything)(X)
    labels = _node_labels(graph.source)
    assert len(labels) == _count_equations(program)
    primitives = [lab.split("\n")[0].split(" ")[0] for lab in labels]
    for name in ("scan", "cond", "while", "jit", "custom_vjp_call", "checkpoint", "sin",
                 "exp", "reduce_sum"):
        assert name in primitives, name
    clusters = re.findall(r'subgraph cluster_\w+ \{\s*(.*)', graph.source)
    cluster_labels = [next(a or b for a, b in re.findall(r'\blabel=(?:"([^"]*)"|(\S+))', c))
                      for c in clusters]
    for label in ("scan", "cond", "while", "jit <lambda>", "custom_vjp_call clipped_sin",
                  "checkpoint remat_exp", "program", "branches[0]", "branches[1]",
                  "cond_program", "body_program"):
        assert label in cluster_labels, label
    assert 'label="f32[3]"' in graph.source  # edges carry types


@needs_dot
def test_svg_and_html_have_the_nodes_and_foldable_clusters(graph, tmp_path):
    root = ET.fromstring(graph.svg())
    groups = root.iter(f"{SVG}g")
    classes = [(g.get("class") or "").split() for g in groups]
    nodes = [c for c in classes if "node" in c]
    clusters = [c for c in classes if "cluster" in c]
    program = fl.make_jaxpr(everything)(X)
    # scan, cond, while, jit, custom_vjp, checkpoint; their 8 sub-programs, whose inputs
    # are drawn as nodes: scan's 2, each cond branch's 1, while's 1 + 1, and 1 each
    assert len(clusters) == 6 + 8
    assert len(nodes) == _count_equations(program) + 1 + 1 + 9  # + input, output
    assert any("in_c" in " ".join(c) for c in nodes)  # nodes know their clusters
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"scan", "cond", "sin", "f32[3]"} <= texts
    page = tmp_path / "everything.html"
    graph.save(page)
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    assert 'querySelectorAll("g.cluster")' in text
    graph.save(tmp_path / "everything.svg")
    ET.parse(tmp_path / "everything.svg")
    assert graph._repr_html_().count("<svg") == 1


def test_save_dot_and_rejects_unknown_suffixes(graph, tmp_path):
    graph.save(tmp_path / "everything.dot")
    assert (tmp_path / "everything.dot").read_text() == graph.source
    with pytest.raises(ValueError, match="suffix"):
        graph.save(tmp_path / "everything.png")


def test_without_dot_html_shows_the_source_and_says_how(graph, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    page = graph._repr_html_()
    assert "not installed" in page and "digraph" in page
    assert graph._repr_svg_() is None
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        graph.svg()


def test_backward_colours_forward_and_backward_parts():
    def loss(w, x):
        return jnp.tanh(x @ w).sum()
    w, x = np.ones((3, 2), np.float32), np.ones((4, 3), np.float32)
    graph = fl.ir_graph(loss, backward=True)(w, x)
    program = fl.make_jaxpr(fl.grad(loss))(w, x)
    assert len(_node_labels(graph.source)) == _count_equations(program)
    nodes = re.findall(r'label="([^"]*)" fillcolor="(#[0-9a-f]+)"', graph.source)
    forward = [lab.split("\n")[0] for lab, colour in nodes if colour == "#dbe9f6"]
    backward = [lab.split("\n")[0] for lab, colour in nodes if colour == "#fde0c5"]
    assert "tanh" in forward and "tanh" not in backward
    assert forward.count("dot_general") == 1 and backward.count("dot_general") == 1
    assert "forward (blue) and backward pass (orange)" in graph.source
    assert graph.program.out_avals[0].shape == (3, 2)  # the gradient w.r.t. w


def test_backward_colours_subprograms_as_their_equation():
    def loss(x):
        carry, _ = lax.scan(lambda c, v: (jnp.sin(c * v), None), 1.0, x)
        return carry
    graph = fl.ir_graph(loss, backward=True)(X)
    clusters = re.findall(r'subgraph cluster_\w+ \{\s*(.*)', graph.source)
    assert sum("label=scan" in c for c in clusters) == 2  # forward scan, transposed scan
    nodes = re.findall(r'label="([^"]*)" fillcolor="(#[0-9a-f]+)"', graph.source)
    sins = [colour for label, colour in nodes if label.startswith("sin\n")]
    coss = [colour for label, colour in nodes if label.startswith("cos\n")]
    assert sins == ["#dbe9f6"]  # in the forward scan's body
    assert coss and set(coss) == {"#dbe9f6"}  # sin's derivative is a forward residual
    scans = [colour for label, colour in nodes if label.startswith("scan")]
    assert sorted(scans) == ["#dbe9f6", "#fde0c5"]
    with pytest.raises(TypeError, match="argnums must be an int"):
        fl.ir_graph(loss, backward=True, argnums=(0,))
    with pytest.raises(TypeError, match="needs a scalar output; <lambda> returned"):
        fl.ir_graph(lambda x: x * 2, backward=True)(X)
    last = fl.ir_graph(lambda a, b: (a * b.sum()).sum(), backward=True, argnums=-1)(
        X, X[:2])
    assert last.program.out_avals[0].shape == (2,)  # the gradient w.r.t. b


def test_draws_transformed_functions_and_static_arguments():
    def loss(x, power):
        return (x ** power).sum()
    per_example = fl.vmap(fl.grad(loss), in_axes=(0, None))
    xs = np.ones((5, 3), np.float32)
    program = fl.make_jaxpr(per_example, static_argnums=1)(xs, 3)
    graph = fl.ir_graph(per_example, static_argnums=1)(xs, 3)
    assert len(_node_labels(graph.source)) == _count_equations(program) > 0
    assert 'label="input 0\nf32[5,3]"' in graph.source
    assert 'label="output 0\nf32[5,3]"' in graph.source


_FAKE_DOM = """
const [script, elements, clicked] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const nodes = elements.map(([id, classes]) => ({
  id, classes, style: {}, attributes: {}, listeners: {},
  getAttribute(name) { return name in this.attributes ? this.attributes[name] : null; },
  setAttribute(name, value) { this.attributes[name] = value; },
  addEventListener(type, listener) { this.listeners[type] = listener; }}));
const root = {querySelectorAll(selector) {
  if (selector === "g.cluster") return nodes.filter(n => n.classes.includes("cluster"));
  return nodes.filter(n => n.classes.includes(selector.slice(1)));  // ".in_<id>"
}};
global.document = {getElementById: () => root};
eval(script);
const hidden = [];
for (const id of clicked) {
  nodes.find(n => n.id === id).listeners.click({stopPropagation() {}});
  hidden.push(nodes.filter(n => n.style.display === "none").map(n => n.id));
}
console.log(JSON.stringify(hidden));
"""


@needs_dot
@pytest.mark.skipif(shutil.which("node") is None,
                    reason="runs the HTML's fold script in Node.js, which is not installed")
def test_html_fold_script_hides_and_shows_a_clusters_contents(graph):
    """The page's script, run on the SVG's elements in a minimal DOM: a click on a
    cluster hides everything inside it (nested clusters too), a second shows it again."""
    import json
    import subprocess
    page = graph.html()
    script = page[page.index("<script>") + 8:page.index("</script>")]
    root = ET.fromstring(page[page.index("<svg"):page.index("</svg>") + 6])
    elements = [(g.get("id"), (g.get("class") or "").split()) for g in root.iter(f"{SVG}g")
                if g.get("id")]
    labels = {g.get("id"): next(g.iter(f"{SVG}text")).text
              for g in root.iter(f"{SVG}g") if "cluster" in (g.get("class") or "")}
    scan = next(e for e in elements if labels.get(e[0]) == "scan")
    inside = sorted(e[0] for e in elements if f"in_{scan[0]}" in e[1])
    done = subprocess.run(["node", "-e", _FAKE_DOM], capture_output=True, text=True,
                          input=json.dumps([script, elements, [scan[0], scan[0]]]),
                          timeout=60, check=True)
    folded, unfolded = json.loads(done.stdout)
    assert len(inside) >= 6  # the scan node, its body cluster, inputs, equations, edges
    assert sorted(folded) == inside and unfolded == []
