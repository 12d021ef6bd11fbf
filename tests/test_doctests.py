"""The documentation stays true: every docstring example of functorch_lite runs as a
doctest, and every ```python block of docs/guide.md runs, in order, in one namespace,
printing exactly the ```text block that follows it (when there is one).

To see what the guide's blocks print now (e.g. after an intended change of output):
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

GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "guide.md"
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


# --- docstrings -------------------------------------------------------------------

def _modules():
    """functorch_lite and every module under it (private ones too: the public names are
    defined there, and DocTestFinder only collects objects defined in the module)."""
    names = ["functorch_lite"] + [m.name for m in pkgutil.walk_packages(
        functorch_lite.__path__, "functorch_lite.")]
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


@contextlib.contextmanager
def _default_config():
    """Examples may flip flags (x64); later tests must see the defaults again."""
    saved = dict(vars(functorch_lite.config))
    try:
        yield
    finally:
        for name, value in saved.items():
            if getattr(functorch_lite.config, name) != value:
                functorch_lite.config.update(name, value)


def test_docstrings_have_examples():
    assert len(DOCTESTS) >= 20, [t.name for t in DOCTESTS]


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda t: t.name)
def test_docstring_examples(test):
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    report = io.StringIO()
    with _default_config():
        result = runner.run(test, out=report.write, clear_globs=True)
    assert result.failed == 0, f"{test.name} ({test.filename}):\n{report.getvalue()}"


# --- docs/guide.md ----------------------------------------------------------------

def guide_blocks(text):
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


def run_guide(blocks):
    """Run the blocks in one namespace; yield (lineno, expected, printed) per block."""
    namespace = {"__name__": "guide"}
    for lineno, code, expected in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{GUIDE}:{lineno}", "exec"), namespace)
        yield lineno, expected, printed.getvalue()


def test_guide_blocks_are_found():
    blocks = guide_blocks(GUIDE.read_text())
    assert len(blocks) >= 20
    assert sum(expected is not None for _, _, expected in blocks) >= 20


def test_guide_runs_as_written():
    with _default_config():
        for lineno, expected, printed in run_guide(guide_blocks(GUIDE.read_text())):
            if expected is not None:
                assert _normalise(printed) == _normalise(expected), (
                    f"docs/guide.md block at line {lineno} printed:\n{printed}\n"
                    f"but the guide shows:\n{expected}")


if __name__ == "__main__":
    with _default_config():
        for lineno, expected, printed in run_guide(guide_blocks(GUIDE.read_text())):
            status = ("" if expected is None else
                      "ok" if _normalise(printed) == _normalise(expected) else "DIFFERS")
            print(f"--- docs/guide.md:{lineno} {status}\n{printed}", end="")
