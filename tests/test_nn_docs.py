"""The layer sections of docs/nn.md ("## Layers" up to "## Losses and metrics") run as
written, in one namespace, each block printing exactly the ```text block after it."""
import contextlib
import io

from test_doctests import DOCS, _normalise, code_blocks

FIRST, END = "## Layers\n", "## Losses and metrics"


def layer_section_blocks():
    text = (DOCS / "nn.md").read_text()
    start, end = text.index(FIRST), text.index(END)
    offset = text[:start].count("\n")
    return [(lineno + offset, code, expected)
            for lineno, code, expected in code_blocks(text[start:end])]


def run_blocks():
    namespace = {"__name__": "nn.md"}
    for lineno, code, expected in layer_section_blocks():
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile("\n" * lineno + code, "docs/nn.md", "exec"), namespace)
        yield lineno, expected, printed.getvalue()


def test_layer_sections_of_nn_md_run_as_written():
    import nn
    blocks = layer_section_blocks()
    assert len(blocks) >= 9 and sum(e is not None for _, _, e in blocks) >= 8
    try:
        for lineno, expected, printed in run_blocks():
            if expected is not None:
                assert _normalise(printed) == _normalise(expected), (
                    f"docs/nn.md block at line {lineno} printed:\n{printed}\n"
                    f"but the page shows:\n{expected}")
    finally:
        nn.set_dtype_policy("float32")


if __name__ == "__main__":
    for lineno, expected, printed in run_blocks():
        status = "" if expected is None else \
            "ok" if _normalise(printed) == _normalise(expected) else "DIFFERS"
        print(f"--- docs/nn.md:{lineno} {status}\n{printed}", end="")
