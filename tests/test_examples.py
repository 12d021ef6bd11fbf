"""Every example script runs to completion (each checks its own result and exits
non-zero when the check fails)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# scripts that need arguments or data are tested by their own test modules
NEEDS_DATA = {"mnist_cnn.py"}
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py") if p.name not in NEEDS_DATA)


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_runs(script):
    env = dict(os.environ, PYTHONPATH=str(ROOT), FUNCTORCH_LITE_QUICK="1")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
