"""The documentation stays true: every docstring example of functorch_lite and nn runs as a
doctest, and every ```python block of the pages in PAGES runs, in order, in one namespace
per page, printing exactly the ```text block that follows it (when there is one).

To see what the pages' blocks print now (e.g. after an intended change of output):
`python tests/test_doctests.py`.
"""
import contextlib
import doctest
import importlib
import io
import pathlib
import pkgutil

import pytest

import functorch_lite
from backend_expectations import same_printed_output

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
# pages whose code blocks must run as written, with how many blocks each has at least
PAGES = {"guide.md": 10, "sharp_bits.md": 10, "training.md": 3, "random.md": 3,
         "scipy.md": 3, "scipy_linalg.md": 8, "example_libraries.md": 4, "experimental.md": 5}
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


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

def code_blocks(text):
    """[(line number, code, expected output or None)] for each ```python block; the
    expected output is the ```text block that directly follows it (blank lines aside)."""
    lines = text.splitlines()
    blocks, i = [], 0

    def fenced(start):  # the lines of the fence opened at `start`, and the line after
        end = start + 1
        while lines[end].strip() != "```":
            end += 1
        return "\n".join(lines[start + 1:end]), end + 1

    while i < len(lines):
        if lines[i].strip() == "```python":
            code, i = fenced(i)
            lineno = i - code.count("\n") - 2
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            expected = None
            if j < len(lines) and lines[j].strip() == "```text":
                expected, i = fenced(j)
            blocks.append((lineno, code, expected))
        else:
            i += 1
    return blocks


def _normalise(output):
    return "\n".join(line.rstrip() for line in output.strip("\n").splitlines())


def run_page(page):
    """Run a page's blocks in one namespace; yield (lineno, expected, printed) per
    block."""
    path = DOCS / page
    namespace = {"__name__": page}
    for lineno, code, expected in code_blocks(path.read_text()):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            source = "\n" * lineno + code  # tracebacks give the page's line numbers
            exec(compile(source, f"docs/{page}", "exec"), namespace)
        yield lineno, expected, printed.getvalue()


@pytest.mark.parametrize("page", PAGES)
def test_page_blocks_are_found(page):
    blocks = code_blocks((DOCS / page).read_text())
    assert len(blocks) >= PAGES[page]
    assert sum(expected is not None for _, _, expected in blocks) >= PAGES[page]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written(page):
    with _default_config():
        for lineno, expected, printed in run_page(page):
            if expected is not None:
                assert same_printed_output(_normalise(printed), _normalise(expected)), (
                    f"docs/{page} block at line {lineno} printed:\n{printed}\n"
                    f"but the page shows:\n{expected}")


def test_printed_numbers_compare_at_the_backend_precision(monkeypatch):
    import backend_expectations
    assert same_printed_output("Array([1.25, 2.], dtype=float32)",
                               "Array([1.25, 2.], dtype=float32)")
    monkeypatch.setattr(backend_expectations, "PRINTED_RTOL", 2e-3)
    assert same_printed_output("[1.0001 2.]", "[1. 2.]")
    assert not same_printed_output("[1.1 2.]", "[1. 2.]")
    assert not same_printed_output("float16 1.0", "float32 1.0")


if __name__ == "__main__":
    for page in PAGES:
        with _default_config():
            for lineno, expected, printed in run_page(page):
                status = ("" if expected is None else
                          "ok" if _normalise(printed) == _normalise(expected) else "DIFFERS")
                print(f"--- docs/{page}:{lineno} {status}\n{printed}", end="")
