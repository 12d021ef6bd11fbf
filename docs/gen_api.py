"""Generate docs/api.md: the public names of functorch_lite's modules with the first
line of each docstring.

    python docs/gen_api.py > docs/api.md          # regenerate
    python docs/gen_api.py --missing              # list names without a docstring

A module's public names are its `__all__` when it has one; otherwise every name not
starting with `_` that is not a module and, if it is a function or class of
functorch_lite, is defined in that module or one of its private submodules (so helpers
a module merely imports, e.g. `interop`'s `Primitive`, are not listed; modules in
REEXPORT_MODULES list all they import).
"""
import inspect
import sys
import types

import functorch_lite as fl
import functorch_lite.scipy  # noqa: F401  (a subpackage: not imported by functorch_lite)

MODULES = [  # (heading, module, what it mirrors)
    ("functorch_lite", fl, "jax"),
    ("functorch_lite.numpy", fl.numpy, "jax.numpy"),
    ("functorch_lite.numpy.linalg", fl.numpy.linalg, "jax.numpy.linalg"),
    ("functorch_lite.numpy.fft", fl.numpy.fft, "jax.numpy.fft"),
    ("functorch_lite.lax", fl.lax, "jax.lax"),
    ("functorch_lite.lax.linalg", fl.lax.linalg, "jax.lax.linalg"),
    ("functorch_lite.random", fl.random, "jax.random"),
    ("functorch_lite.scipy.special", fl.scipy.special, "jax.scipy.special"),
    ("functorch_lite.scipy.stats", fl.scipy.stats, "jax.scipy.stats"),
    ("functorch_lite.nn", fl.nn, "jax.nn"),
    ("functorch_lite.tree_util", fl.tree_util, "jax.tree_util"),
    ("functorch_lite.interop", fl.interop, None),
    ("functorch_lite.test_util", fl.test_util, "jax.test_util"),
    ("functorch_lite.dtypes", fl.dtypes, "jax.dtypes"),
    ("functorch_lite.errors", fl.errors, "jax.errors"),
    ("functorch_lite.scipy.linalg", fl.scipy.linalg, "jax.scipy.linalg"),
    ("functorch_lite.scipy.optimize", fl.scipy.optimize, "jax.scipy.optimize"),
    ("functorch_lite.scipy.signal", fl.scipy.signal, "jax.scipy.signal"),
    ("functorch_lite.scipy.ndimage", fl.scipy.ndimage, "jax.scipy.ndimage"),
    ("functorch_lite.scipy.integrate", fl.scipy.integrate, "jax.scipy.integrate"),
    ("functorch_lite.scipy.interpolate", fl.scipy.interpolate, "jax.scipy.interpolate"),
    ("functorch_lite.example_libraries.stax", fl.example_libraries.stax,
     "jax.example_libraries.stax"),
    ("functorch_lite.example_libraries.optimizers", fl.example_libraries.optimizers,
     "jax.example_libraries.optimizers"),
    ("functorch_lite.experimental", fl.experimental, "jax.experimental"),
    ("functorch_lite.experimental.ode", fl.experimental.ode, "jax.experimental.ode"),
    ("functorch_lite.experimental.jet", fl.experimental.jet, "jax.experimental.jet"),
    ("functorch_lite.experimental.sparse", fl.experimental.sparse,
     "jax.experimental.sparse"),
]


# Modules without `__all__` whose imports from private modules are all re-exports.
REEXPORT_MODULES = {"functorch_lite.dtypes"}


def public_names(module):
    if hasattr(module, "__all__"):
        return sorted(module.__all__, key=str.lower)
    home = "functorch_lite" if module.__name__ in REEXPORT_MODULES else module.__name__
    names = []
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        defined_in = getattr(obj, "__module__", None) or ""
        if (defined_in.startswith("functorch_lite") and defined_in != module.__name__
                and not (defined_in == home or defined_in.startswith(home + "._"))):
            continue  # an implementation helper the module imports
        names.append(name)
    return sorted(names, key=str.lower)


def own_docstring(obj):
    """The docstring written for `obj` itself (not inherited from a class), or None."""
    doc = getattr(obj, "__doc__", None)
    if not isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        if doc == getattr(type(obj), "__doc__", None):
            return None  # an instance: only a docstring set on it counts
    return inspect.cleandoc(doc) if doc else None


def summary(obj):
    doc = own_docstring(obj)
    if not doc:
        return None
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first if len(first) <= 160 else first[:157] + "..."


def origin_of(obj):
    """The module a function or class comes from (None for plain values)."""
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        return getattr(obj, "__module__", None)
    return None


def kind(obj):
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "function"
    return "value"


def signature(obj):
    if not callable(obj) or isinstance(obj, type) and not (obj.__module__ or "").startswith(
            "functorch_lite") or isinstance(obj, type) and issubclass(obj, BaseException):
        return ""
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""
    return sig if len(sig) <= 70 else "(...)"


def render():
    lines = ["# functorch_lite API reference", "",
             "Generated by `python docs/gen_api.py > docs/api.md` from the modules' public "
             "names and the first paragraph of each docstring. See `docs/guide.md` for a "
             "tutorial and `docs/sharp_bits.md` for differences from JAX. The layer "
             "library `nn/` (top-level package) is documented in `docs/nn.md`.", ""]
    lines.append("Modules: " + ", ".join(
        f"[`{h}`](#{h.replace('.', '')})" for h, _, _ in MODULES) + ", [`functorch_lite.config`](#functorch_liteconfig).")
    lines.append("")
    missing = []
    for heading, module, mirrors in MODULES:
        lines.append(f"## {heading}")
        lines.append("")
        doc = inspect.getdoc(module)
        if doc:
            lines.append(doc.strip().split("\n\n")[0].replace("\n", " "))
            lines.append("")
        if mirrors:
            lines.append(f"Mirrors `{mirrors}`.")
            lines.append("")
        lines.append("| name | summary |")
        lines.append("| --- | --- |")
        for name in public_names(module):
            obj = getattr(module, name)
            text = summary(obj)
            if text is None and kind(obj) != "value":
                missing.append(f"{heading}.{name}")
            shown = f"`{name}{signature(obj)}`"
            text = (text or "").replace("|", "\\|")
            origin = origin_of(obj)
            if origin and not origin.startswith("functorch_lite"):
                text = f"(from `{origin}`) {text}".rstrip()
            lines.append(f"| {shown} | {text} |")
        lines.append("")
    lines += ["## functorch_lite.config", "",
              inspect.getdoc(type(fl.config)).replace("\n", " "), "",
              "| flag | default |", "| --- | --- |"]
    for flag, value in sorted(vars(fl.config).items()):
        lines.append(f"| `{flag}` | `{value!r}` |")
    lines += ["", "Methods: `config.update(name, value)`, `config.read(name)`, "
              "property `config.x64_enabled`.", ""]
    return "\n".join(lines), missing


if __name__ == "__main__":
    text, missing = render()
    if "--missing" in sys.argv:
        print("\n".join(missing))
    else:
        print(text)
