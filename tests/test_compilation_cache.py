"""The persistent compilation cache: a second process loads what the first compiled
(same results, no compile), corrupt entries are recompiled, the directory stays within
its size, and programs with Python callbacks are never written."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _compilation_cache as cc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = textwrap.dedent("""
    import json, numpy as np
    import functorch_lite as fl, functorch_lite.numpy as jnp
    fl.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    def f(x):
        for _ in range(4):
            x = jnp.tanh(x @ x.T) + jnp.sin(x)
        return x.sum()
    out = fl.jit(fl.grad(f))(np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8))
    print(json.dumps({"out": np.asarray(out).tolist(), "stats": fl._compilation_cache.stats}))
""")


def _run(directory):
    env = {**os.environ, "FUNCTORCH_LITE_COMPILATION_CACHE_DIR": str(directory),
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_instead_of_compiling(tmp_path):
    first = _run(tmp_path)
    assert first["stats"]["hits"] == 0 and first["stats"]["writes"] >= 1
    entries = [p for p in os.listdir(tmp_path) if not p.startswith(".")]
    assert entries and all(os.stat(tmp_path / p).st_mode & 0o077 == 0 for p in entries)
    second = _run(tmp_path)
    assert second["stats"]["hits"] >= 1 and second["stats"]["misses"] == 0
    assert second["stats"]["writes"] == 0
    np.testing.assert_array_equal(second["out"], first["out"])


@pytest.fixture
def cache_dir(tmp_path):
    saved = (fl.config.jax_compilation_cache_dir,
             fl.config.jax_persistent_cache_min_compile_time_secs,
             fl.config.jax_compilation_cache_max_size)
    fl.config.update("jax_compilation_cache_dir", str(tmp_path))
    fl.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    try:
        yield tmp_path
    finally:
        for name, value in zip(("jax_compilation_cache_dir",
                                "jax_persistent_cache_min_compile_time_secs",
                                "jax_compilation_cache_max_size"), saved):
            fl.config.update(name, value)


def _lowered(scale):
    """A module text and its result avals (a new program for each scale)."""
    traced = fl.jit(lambda x: fnp.cos(x) * scale).trace(np.ones(3, np.float32))
    return traced.lower().as_text(), traced.program.out_avals


def test_a_corrupt_entry_is_compiled_again_and_rewritten(cache_dir):
    from functorch_lite import _runtime
    text, avals = _lowered(3.0)
    _runtime.compile(text, avals)
    (entry,) = [p for p in os.listdir(cache_dir) if not p.startswith(".")]
    (cache_dir / entry).write_bytes(b"not an executable")
    errors = cc.stats["errors"]
    executable = _runtime.compile(text, avals)
    assert cc.stats["errors"] == errors + 1
    out = executable([_runtime.to_device(np.ones(3, np.float32), np.float32)])
    np.testing.assert_allclose(np.asarray(out[0]), np.cos(1.0) * 3, rtol=1e-6)
    assert (cache_dir / entry).read_bytes() != b"not an executable"  # rewritten


def test_the_directory_keeps_to_its_size_least_recently_used_first(cache_dir):
    from functorch_lite import _runtime
    texts = [_lowered(s) for s in (1.0, 2.0, 4.0)]
    _runtime.compile(*texts[0])
    (first,) = os.listdir(cache_dir)
    size = os.path.getsize(cache_dir / first)
    fl.config.update("jax_compilation_cache_max_size", int(size * 2.5))
    for text in texts[1:]:
        _runtime.compile(*text)
    left = sorted(p for p in os.listdir(cache_dir) if not p.startswith("."))
    assert len(left) == 2 and first not in left


def test_off_and_callbacks_write_nothing(cache_dir):
    from functorch_lite import _runtime
    assert not cc.cacheable('stablehlo.custom_call @xla_ffi_python_cpu_callback')
    fl.config.update("jax_compilation_cache_dir", "")
    _runtime.compile(*_lowered(5.0))
    assert os.listdir(cache_dir) == []
