"""What we take from JAX's and jaxlib's private modules is listed in
functorch_lite/_runtime.py (INTERNALS); if a JAX release moves one, this test names it
and the installed versions, instead of a user meeting an AttributeError deep inside a
computation."""
import ast
import pathlib

from functorch_lite import _runtime

PACKAGE = pathlib.Path(_runtime.__file__).parent


def test_every_internal_we_use_exists_in_this_jax():
    missing = _runtime.missing_internals()
    assert not missing, (f"{_runtime.versions()} lacks JAX internals functorch_lite "
                         f"uses: {missing}; update functorch_lite/_runtime.py")


def test_private_jax_modules_are_imported_only_by_runtime():
    """jax._src and jaxlib's modules (other than the public jax.extend) are reached
    through _runtime alone, so a JAX upgrade touches one file."""
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.parent.joinpath("nn").rglob("*.py")]:
        if path.name == "_runtime.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n.startswith(("jax._src", "jaxlib")) for n in names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, offenders


def test_platform_names_follow_jax_lowering_platforms():
    assert _runtime.platform() in ("cpu", "cuda", "rocm", "tpu")
