"""The API reference, generated from the code. One list of public modules and names
feeds both forms:

* docs/api.md, the one-page index (names and first docstring paragraphs), committed
  and checked by tests/test_doctests.py, which fails when it is stale:

      python docs/gen_api.py > docs/api.md          # regenerate
      python docs/gen_api.py --missing              # list names without a docstring

* the site's reference pages, one per public module, where mkdocstrings renders each
  name's full docstring: mkdocs.yml runs this file as a hook (`on_config` appends the
  pages to the "API reference" section of the nav, `on_files` writes them).

The public modules are the packages in ROOTS and every module reachable from them
through public names (`functorch_lite.lax.linalg`, `functorch_lite.scipy.special`
when it exists, ...). A module's public names are its `__all__` when it has one;
otherwise every name not starting with `_` that is not a module and, if it is a
function or class of ours, is defined in that module or one of its private submodules
(so helpers a module merely imports, e.g. `interop`'s `Primitive`, are not listed;
modules in REEXPORT_MODULES list all they import).
"""
import enum
import importlib
import inspect
import pathlib
import pkgutil
import sys
import types

ROOT_DIR = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT_DIR) not in sys.path:  # the build documents this checkout, not an install
    sys.path.insert(0, str(ROOT_DIR))

ROOTS = ("functorch_lite", "nn")
# Modules without `__all__` whose imports from private modules are all re-exports.
REEXPORT_MODULES = {"functorch_lite.dtypes"}
REFERENCE_SECTION = "API reference"  # the nav section the module pages are added to


def _is_public(dotted):
    return not any(part.startswith("_") for part in dotted.split("."))


def public_modules():
    """[(the name users import, module)]: each root, then its public modules by name."""
    found = {}

    def visit(name, module):
        if id(module) in {id(m) for m in found.values()}:
            return
        found[name] = module
        for attr in dir(module):
            sub = getattr(module, attr)
            if (isinstance(sub, types.ModuleType) and not attr.startswith("_")
                    and sub.__name__.startswith(module.__name__ + ".")):
                visit(f"{name}.{attr}", sub)

    for root in ROOTS:
        package = importlib.import_module(root)
        for info in pkgutil.walk_packages(package.__path__, root + "."):
            if _is_public(info.name):
                importlib.import_module(info.name)
        visit(root, package)
    return sorted(found.items(), key=lambda item: (ROOTS.index(item[0].split(".")[0]),
                                                   item[0] != item[0].split(".")[0], item[0]))


def mirrors(name):
    """The JAX module a functorch_lite module mirrors (None when JAX has none)."""
    if not name.startswith("functorch_lite"):
        return None
    counterpart = "jax" + name[len("functorch_lite"):]
    try:
        importlib.import_module(counterpart)
    except ImportError:
        return None
    return counterpart


def _is_ours(defined_in):
    return any(defined_in == r or defined_in.startswith(r + ".") for r in ROOTS)


def public_names(name, module):
    if hasattr(module, "__all__"):
        return sorted(module.__all__, key=str.lower)
    home = name.split(".")[0] if name in REEXPORT_MODULES else module.__name__
    names = []
    for attr in dir(module):
        obj = getattr(module, attr)
        if attr.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        defined_in = getattr(obj, "__module__", None) or ""
        if (_is_ours(defined_in) and defined_in != module.__name__
                and not (defined_in == home or defined_in.startswith(home + "._"))):
            continue  # an implementation helper the module imports
        names.append(attr)
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
    """The module a function or class comes from (None for plain values). Named
    callables of other kinds count too (NumPy's dispatchers, typing aliases)."""
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)) or (
            callable(obj) and hasattr(obj, "__name__")):
        return getattr(obj, "__module__", None)
    return None


def foreign(obj):
    """Whether `obj` is a function or class of another library that we re-export."""
    origin = origin_of(obj)
    return origin is not None and not _is_ours(origin)


def kind(obj):
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "function"
    return "value"


def signature(obj):
    if not callable(obj) or isinstance(obj, type) and (
            not _is_ours(obj.__module__ or "") or issubclass(obj, (BaseException, enum.Enum))):
        return ""  # (an Enum's signature differs between Python versions)
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    if foreign(obj):  # another library's return annotations change between its releases
        sig = sig.replace(return_annotation=inspect.Signature.empty)
    sig = str(sig)
    return sig if len(sig) <= 70 else "(...)"


def _module_summary(module):
    doc = inspect.getdoc(module)
    return doc.strip().split("\n\n")[0].replace("\n", " ") if doc else None


def render():
    """docs/api.md's text, and the names that have no docstring."""
    modules = public_modules()
    lines = ["# API index", "",
             "Every public name of `functorch_lite`, its public modules and the layer "
             "library `nn`, with the first paragraph of its docstring. Generated by "
             "`python docs/gen_api.py > docs/api.md`; the documentation site's module "
             "pages (built by `mkdocs build` from the same list) show each docstring in "
             "full. See [guide.md](guide.md) for a tutorial, [nn.md](nn.md) for the "
             "layers and [sharp_bits.md](sharp_bits.md) for differences from JAX.", ""]
    lines.append("Modules: " + ", ".join(
        f"[`{name}`](#{name.replace('.', '')})" for name, _ in modules)
        + ", [`functorch_lite.config`](#functorch_liteconfig).")
    lines.append("")
    missing = []
    for name, module in modules:
        lines += [f"## {name}", ""]
        if _module_summary(module):
            lines += [_module_summary(module), ""]
        if mirrors(name):
            lines += [f"Mirrors `{mirrors(name)}`.", ""]
        lines += ["| name | summary |", "| --- | --- |"]
        for attr in public_names(name, module):
            obj = getattr(module, attr)
            if name == "functorch_lite.typing":  # JAX's aliases: their form varies by release
                lines.append(f"| `{attr}` | JAX's `jax.typing.{attr}` |")
                continue
            text = summary(obj)
            if text is None and kind(obj) != "value":
                missing.append(f"{name}.{attr}")
            text = (text or "").replace("|", "\\|")
            if foreign(obj):
                text = f"(from `{origin_of(obj)}`) {text}".rstrip()
            lines.append(f"| `{attr}{signature(obj)}` | {text} |")
        lines.append("")
    import functorch_lite as fl
    lines += ["## functorch_lite.config", "",
              inspect.getdoc(type(fl.config)).replace("\n", " "), "",
              "| flag | default |", "| --- | --- |"]
    for flag, value in sorted(vars(fl.config).items()):
        lines.append(f"| `{flag}` | `{value!r}` |")
    lines += ["", "Methods: `config.update(name, value)`, `config.read(name)`, "
              "property `config.x64_enabled`.", ""]
    return "\n".join(lines), missing


# --- the site's reference pages (mkdocs hooks) ---------------------------------------

def reference_path(name):
    return f"reference/{name}.md"


def reference_page(name, module):
    """One module's page: mkdocstrings renders our names; names re-exported from other
    libraries (JAX's pytree functions, NumPy's type classes) are listed with their
    origin, since their documentation is theirs."""
    names = public_names(name, module)
    ours = [n for n in names if not foreign(getattr(module, n))]
    theirs = [n for n in names if foreign(getattr(module, n))]
    lines = [f"# `{name}`", ""]
    if mirrors(name):
        lines += [f"Mirrors `{mirrors(name)}`.", ""]
    lines += [f"::: {name}", "    options:", "      members:"]
    lines += [f"        - {n}" for n in ours] or ["        []"]
    if theirs:
        lines += ["", "## Re-exported from other libraries", "",
                  "| name | is |", "| --- | --- |"]
        lines += [f"| `{n}` | `{origin_of(getattr(module, n))}."
                  f"{getattr(module, n).__qualname__}` |" for n in theirs]
    return "\n".join(lines) + "\n"


def on_config(config):
    """Add one nav entry per public module to the "API reference" section."""
    pages = [{name: reference_path(name)} for name, _ in public_modules()]
    for entry in config.nav:
        if isinstance(entry, dict) and REFERENCE_SECTION in entry:
            entry[REFERENCE_SECTION] = list(entry[REFERENCE_SECTION]) + pages
            return config
    config.nav.append({REFERENCE_SECTION: pages})
    return config


def on_files(files, config):
    from mkdocs.structure.files import File
    for name, module in public_modules():
        files.append(File.generated(config, reference_path(name),
                                    content=reference_page(name, module)))
    return files


if __name__ == "__main__":
    text, missing = render()
    if "--missing" in sys.argv:
        print("\n".join(missing))
    else:
        print(text)
