"""benchmarks/gpu_check.sh runs here too, in its degraded CPU mode with --quick (a
small test selection, tiny benchmark workloads), and writes every result file; the
benchmark models compute the same steps in functorch_lite and JAX."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import jax

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import table_models as tm  # noqa: E402


def test_gpu_check_script_runs_and_writes_its_results(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"),
                           str(tmp_path), "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("junit.xml", "pytest.txt", "versions.txt", "nvidia-smi.txt",
                 "programs.json", "benchmarks.json", "summary.txt"):
        assert (tmp_path / name).exists(), name
    table = json.loads((tmp_path / "benchmarks.json").read_text())
    names = [row["workload"] for row in table["rows"]]
    assert any(n.startswith("MLP") for n in names) and \
        any("bfloat16" in n for n in names), names
    assert all(row["ratio_vs_jax"] > 0 for row in table["rows"])
    assert "status: 0" in (tmp_path / "summary.txt").read_text()


def test_benchmark_steps_compute_what_jax_computes():
    rng = np.random.RandomState(1)
    cases = [(lambda m: tm.mlp(m, (12, 8, 5)), tm.mlp_data((12, 8, 5), 4, rng)),
             (tm.lenet, tm.lenet_data(2, rng)),
             (lambda m: tm.transformer(m, 2, np.dtype(np.float32), None),
              tm.transformer_data(16, 8, 1, 6, 2, rng))]
    for make, (params, batch) in cases:
        ours = make(tm.OURS)(jax.tree_util.tree_map(np.copy, params), *batch)
        theirs = make(tm.JAX)(jax.tree_util.tree_map(np.copy, params), *batch)
        for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-5)
