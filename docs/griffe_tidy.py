"""griffe extensions for the API reference (mkdocs.yml, mkdocstrings' `extensions`):
how our docstrings and layer classes read on the site.

* DoctestFences: our docstrings end with doctest examples (`>>> ...` lines and their
  output, run by tests/test_doctests.py) without an "Examples:" heading; Markdown would
  read them as nested quotes, so each run of doctest lines becomes a `pycon` block.
* DataclassFields: a layer's hyperparameters are dataclass fields, already in the
  class signature, so they are not listed again as class attributes.
* ValueDocstrings: an attribute found by inspection (`jnp.pi`, a class constant) has
  no docstring of its own; griffe would show its value's type documentation
  (`Convert a string or number to a floating point number ...`) instead.
"""
import dataclasses
import inspect

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


class DataclassFields(griffe.Extension):
    def on_class_members(self, *, node, cls, **kwargs):
        runtime = getattr(node, "obj", None)  # inspected classes only
        if runtime is not None and dataclasses.is_dataclass(runtime):
            for field in dataclasses.fields(runtime):
                if field.name in cls.members:
                    cls.del_member(field.name)


class ValueDocstrings(griffe.Extension):
    def on_attribute_instance(self, *, node, attr, **kwargs):
        type_doc = getattr(type(getattr(node, "obj", None)), "__doc__", None)
        if attr.docstring is not None and isinstance(type_doc, str) and \
                attr.docstring.value == inspect.cleandoc(type_doc):
            attr.docstring = None
