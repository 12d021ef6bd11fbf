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


def test_importing_starts_no_backend_so_distributed_initialize_can_follow():
    """`jax.distributed.initialize` must come before the XLA backend starts; importing
    functorch_lite (and numpy, nn) must leave that possible, as importing JAX does."""
    import os
    import socket
    import subprocess
    import sys
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    program = (
        "import functorch_lite as fl, functorch_lite.numpy as jnp, nn, jax\n"
        f"jax.distributed.initialize('127.0.0.1:{port}', num_processes=1, process_id=0)\n"
        "print(float(jnp.ones(3).sum()), jax.process_count())\n"
        "jax.distributed.shutdown()\n")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["3.0", "1"]
