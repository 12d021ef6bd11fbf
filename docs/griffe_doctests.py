"""A griffe extension (mkdocs.yml, mkdocstrings' `extensions`): our docstrings end with
doctest examples (`>>> ...` lines and their output, run by tests/test_doctests.py)
without an "Examples:" heading; Markdown would read them as nested quotes. This fences
each run of doctest lines as a `pycon` code block."""
import griffe


def fence_doctests(text):
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if not lines[i].lstrip().startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        end = i
        while end < len(lines) and lines[end].strip():  # a doctest ends at a blank line
            end += 1
        out += [indent + "```pycon", *lines[i:end], indent + "```"]
        i = end
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
