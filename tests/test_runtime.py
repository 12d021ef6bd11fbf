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


def test_values_on_other_devices_raise_a_clear_error_not_a_jaxlib_one():
    """On 4 simulated CPU devices: a sharded array or one on another device reaching a
    computation (eager, jit, grad) gets a NotImplementedError that says where the value
    is and how to move it, never jaxlib's INVALID_ARGUMENT."""
    import os
    import subprocess
    import sys
    program = (
        "import jax, numpy as np, functorch_lite as fl, functorch_lite.numpy as jnp\n"
        "mesh = jax.make_mesh((4,), ('x',))\n"
        "spec = jax.sharding.PartitionSpec('x')\n"
        "sharded = jax.device_put(np.arange(8.), jax.sharding.NamedSharding(mesh, spec))\n"
        "elsewhere = jax.device_put(np.ones(3), jax.devices()[2])\n"
        "calls = [lambda: fl.jit(lambda a: a * 2)(sharded), lambda: jnp.sin(sharded),\n"
        "         lambda: fl.grad(lambda a: (a ** 2).sum())(sharded),\n"
        "         lambda: jnp.sin(elsewhere)]\n"
        "for call in calls:\n"
        "    try:\n"
        "        call()\n"
        "    except NotImplementedError as e:\n"
        "        print(str(e))\n")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent),
           "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    where = ["sharded over 4 devices (NamedSharding("] * 3 + ["on device cpu:2, but"]
    for line, place in zip(lines, where):
        assert line.startswith(f"Argument 0 of this computation is {place}")
        assert "runs every computation on the default device cpu:0" in line
        assert line.endswith("Move the value with jax.device_put(x, jax.devices()[0]) "
                             "first.")
