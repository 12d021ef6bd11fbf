"""The documentation stays true:

* every docstring example of functorch_lite and nn runs as a doctest;
* every ```python block of every page of the site (docs/**/*.md) and of README.md runs,
  in order, in one namespace per page, printing exactly the ```text block that follows
  it (when there is one). A block that cannot run has `<!-- not run: REASON -->` on the
  line above it (it must still compile). Every fence names its language, so no Python
  hides in an unmarked block;
* docs/api.md is what docs/gen_api.py generates from the code.

To see what the pages' blocks print now (e.g. after an intended change of output):
`python tests/test_doctests.py [PAGE ...]`.
"""
import contextlib
import doctest
import functools
import importlib
import importlib.util
import io
import pathlib
import pkgutil
import re
import subprocess
import sys

import numpy as np
import pytest

import functorch_lite
from backend_expectations import same_printed_output

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_NUMPY_PRINT = np.get_printoptions()


# --- docstrings -------------------------------------------------------------------

def _modules():
    """functorch_lite, nn and every module under them (private ones too: the public
    names are defined there, and DocTestFinder only collects objects defined in the
    module)."""
    import nn
    names = ["functorch_lite", "nn"] + [m.name for m in pkgutil.walk_packages(
        functorch_lite.__path__, "functorch_lite.")] + [
        m.name for m in pkgutil.walk_packages(nn.__path__, "nn.")]
    return [importlib.import_module(n) for n in sorted(names)]


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {}
    for module in _modules():
        for test in finder.find(module):
            if test.examples:
                found.setdefault(test.name, test)
    return [found[name] for name in sorted(found)]


DOCTESTS = _doctests()


def _set_flags(flags):
    for name, value in flags.items():
        if getattr(functorch_lite.config, name) != value:
            functorch_lite.config.update(name, value)


@contextlib.contextmanager
def _default_config():
    """Examples run under the default flags (x64 off) and may flip them; the flags the
    surrounding tests had are restored afterwards."""
    saved = dict(vars(functorch_lite.config))
    _set_flags(vars(type(functorch_lite.config)()))
    try:
        yield
    finally:
        _set_flags(saved)


def test_docstrings_have_examples():
    assert len(DOCTESTS) >= 20, [t.name for t in DOCTESTS]


class _Checker(doctest.OutputChecker):
    """doctest's comparison, with printed numbers as precise as this backend prints
    them (backend_expectations.PRINTED_RTOL)."""

    def check_output(self, want, got, optionflags):
        return super().check_output(want, got, optionflags) or same_printed_output(
            " ".join(got.split()), " ".join(want.split()))


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda t: t.name)
def test_docstring_examples(test):
    runner = doctest.DocTestRunner(checker=_Checker(), optionflags=OPTIONFLAGS)
    report = io.StringIO()
    with _default_config():
        result = runner.run(test, out=report.write, clear_globs=True)
    assert result.failed == 0, f"{test.name} ({test.filename}):\n{report.getvalue()}"


# --- the pages ----------------------------------------------------------------------

NOT_RUN = re.compile(r"<!--\s*not run:(.*?)-->")


class Block:
    """A fenced code block of a page: its language, code, first and last lines of code
    (1-based), the reason it is not run (None: it runs) and, for Python, the ```text
    block that shows its output (None if there is none)."""

    def __init__(self, language, code, first, last, not_run):
        self.language, self.code, self.not_run = language, code, not_run
        self.lineno, self.last = first, last
        self.expected = None


def code_blocks(text):
    """Every fenced block of a Markdown text, in order. A ```text block separated from
    the ```python block before it by blank lines only is that block's output."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = lines[i].strip()
        if not opening.startswith("```"):
            i += 1
            continue
        fence = opening[:len(opening) - len(opening.lstrip("`"))]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        above = next((line for line in reversed(lines[:i]) if line.strip()), "")
        marker = NOT_RUN.search(above)
        block = Block(opening[len(fence):].strip(), "\n".join(lines[i + 1:end]), i + 2,
                      end, marker and marker.group(1).strip())
        previous = blocks[-1] if blocks else None
        if (previous and previous.language == "python" and block.language == "text"
                and not any(line.strip() for line in lines[previous.last + 1:i])):
            previous.expected = block.code
        blocks.append(block)
        i = end + 1
    return blocks


def _normalise(output):
    return "\n".join(line.rstrip() for line in output.strip("\n").splitlines())


@contextlib.contextmanager
def _page_state():
    """A page starts from the default flags, dtype policy and NumPy print options, and
    may change them."""
    import nn
    with _default_config(), nn.set_dtype_policy("float32"), np.printoptions(**_NUMPY_PRINT):
        yield


def run_page(page):
    """Run a page's Python blocks in one namespace; yield (block, printed) per block
    that runs."""
    namespace = {"__name__": page}
    for block in code_blocks((ROOT / page).read_text()):
        if block.language != "python":
            continue
        source = "\n" * (block.lineno - 1) + block.code  # tracebacks give the page's lines
        code = compile(source, page, "exec")
        if block.not_run:
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)
        yield block, printed.getvalue()


def test_code_blocks_are_parsed():
    text = ("Text.\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n\n"
            "<!-- not run: needs the internet -->\n```python\nimport urllib\n```\n"
            "prose\n```python\nx = 2\n```\nprose\n```text\nnot an output\n```\n"
            "````markdown\n```python\nnested\n```\n````\n")
    blocks = code_blocks(text)
    assert [(b.language, b.lineno, b.expected, b.not_run) for b in blocks] == [
        ("python", 4, "1", None), ("text", 8, None, None),
        ("python", 13, None, "needs the internet"), ("python", 17, None, None),
        ("text", 21, None, None), ("markdown", 24, None, None)]
    assert blocks[-1].code == "```python\nnested\n```"


def test_every_page_is_covered():
    """The site's pages are all found (a page added to docs/ is run without an edit
    here), and most of their Python blocks print what the page shows."""
    assert {"README.md", "docs/guide.md", "docs/index.md", "docs/api.md"} <= set(PAGES)
    python = [b for page in PAGES for b in code_blocks((ROOT / page).read_text())
              if b.language == "python"]
    assert len(python) >= 100 and sum(b.expected is not None for b in python) >= 90


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_name_their_language(page):
    unnamed = [b.lineno for b in code_blocks((ROOT / page).read_text()) if not b.language]
    assert not unnamed, (f"{page}: the fenced blocks at lines {unnamed} have no language:"
                         f" write ```python (it runs in the tests), ```text, ```bash, ...")


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files a page writes land here
    with _page_state():
        for block, printed in run_page(page):
            if block.expected is not None:
                assert same_printed_output(_normalise(printed), _normalise(block.expected)), (
                    f"{page} block at line {block.lineno} printed:\n{printed}\n"
                    f"but the page shows:\n{block.expected}")


def test_api_md_is_generated_from_the_code():
    """docs/api.md is what docs/gen_api.py writes (one list with the site's reference)."""
    generated = subprocess.run([sys.executable, str(DOCS / "gen_api.py")], check=True,
                               capture_output=True, text=True, cwd=ROOT).stdout
    committed = (DOCS / "api.md").read_text()
    if generated != committed:
        first = next(i for i, (a, b) in enumerate(zip(
            generated.splitlines() + [""], committed.splitlines() + [""])) if a != b)
        pytest.fail(f"docs/api.md is stale (from line {first + 1}: "
                    f"{generated.splitlines()[first:first + 1]}): run "
                    f"`python docs/gen_api.py > docs/api.md`")


def test_site_documents_every_public_function_and_class(tmp_path):
    """The site builds (strict) and its reference pages show every public function and
    class of ours: griffe silently drops objects it cannot place (a factory-made
    function with a wrong `__qualname__`), so the built pages are checked by name."""
    pytest.importorskip("mkdocs", reason="the site needs the docs extra")
    # No --quiet: mkdocs counts --strict's warnings only at the levels it logs.
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                            "--site-dir", str(tmp_path)], cwd=ROOT,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    sys.path.insert(0, str(DOCS))
    try:
        import gen_api
    finally:
        sys.path.remove(str(DOCS))
    missing = []
    for name, module in gen_api.public_modules():
        page = (tmp_path / "reference" / name / "index.html").read_text()
        shown = set(re.findall(r'id="([^"]+)" class="doc doc-heading"', page))
        missing += [f"{name}.{attr}" for attr in gen_api.public_names(name, module)
                    if callable(getattr(module, attr))
                    and not isinstance(getattr(module, attr), functools.partial)
                    and not gen_api.foreign(getattr(module, attr))
                    and f"{name}.{attr}" not in shown]
    assert not missing, f"not on the site's reference pages: {missing}"


def test_docstring_examples_are_code_blocks_on_the_site():
    """docs/griffe_tidy.py fences each run of doctest lines for mkdocstrings."""
    spec = importlib.util.spec_from_file_location("griffe_tidy",
                                                  DOCS / "griffe_tidy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = "Sum.\n\n>>> f(1)\n[[0, 1]]\n\nMore.\n  >>> g()\n  ... h()"
    assert module.fence_doctests(doc) == (
        "Sum.\n\n```pycon\n>>> f(1)\n[[0, 1]]\n```\n\nMore.\n"
        "  ```pycon\n  >>> g()\n  ... h()\n  ```")


def test_printed_numbers_compare_at_the_backend_precision(monkeypatch):
    import backend_expectations
    assert same_printed_output("Array([1.25, 2.], dtype=float32)",
                               "Array([1.25, 2.], dtype=float32)")
    monkeypatch.setattr(backend_expectations, "PRINTED_RTOL", 2e-3)
    assert same_printed_output("[1.0001 2.]", "[1. 2.]")
    assert not same_printed_output("[1.1 2.]", "[1. 2.]")
    assert not same_printed_output("float16 1.0", "float32 1.0")


if __name__ == "__main__":
    for page in sys.argv[1:] or PAGES:
        with _page_state():
            for block, printed in run_page(page):
                status = ("" if block.expected is None else "ok" if _normalise(printed)
                          == _normalise(block.expected) else "DIFFERS")
                print(f"--- {page}:{block.lineno} {status}\n{printed}", end="")
