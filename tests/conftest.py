import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need an NVIDIA GPU: they run in benchmarks/gpu_check.sh and
    are skipped, saying so, everywhere else (the CPU suite never depends on one)."""
    import pytest
    from backend_expectations import ON_GPU
    if ON_GPU:
        return
    skip = pytest.mark.skip(reason="needs a GPU (run by benchmarks/gpu_check.sh)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def compiles(monkeypatch):
    """Counts XLA compilations (functorch_lite._runtime.compile calls)."""
    from functorch_lite import _runtime
    count = [0]
    real = _runtime.compile

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(_runtime, "compile", counting)
    return count
