"""`python -m benchmarks`: the table, JSON and chart code on fake timings, and the
benchmark variants it times (LeNet with reshape+max pooling or other convolution
forms, the ResNet block) compute JAX's default step."""
import importlib
import json
import pathlib
import sys

import numpy as np
import jax
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
bench = importlib.import_module("benchmarks.__main__")
import table_models as tm  # noqa: E402  (benchmarks/ is on the path now)


def fake_rows():
    times = [{bench.OURS: 2e-3, bench.JAX: 4e-3, bench.JAX_RESHAPE: 1e-3},
             {bench.OURS: 3e-6, bench.JAX: 2e-6}]
    return [bench.table_row(name, t) for name, t in zip(("LeNet step", "dispatch"), times)]


def test_rows_hold_times_in_ms_and_ours_over_each_library():
    lenet, dispatch = fake_rows()
    assert lenet["ms"] == {bench.OURS: 2.0, bench.JAX: 4.0, bench.JAX_RESHAPE: 1.0}
    assert lenet["ratio"] == {bench.JAX: 0.5, bench.JAX_RESHAPE: 2.0}
    np.testing.assert_allclose(dispatch["ratio"][bench.JAX], 1.5)
    text = bench.format_row(lenet)
    assert "ours/jax  0.50x" in text and "ours/jax (reshape+max pool)  2.00x" in text
    assert bench.TORCH not in bench.format_row(dispatch)
    json.loads(json.dumps(fake_rows()))


def test_markdown_table_has_a_row_per_workload_and_blank_missing_cells():
    lines = bench.markdown_table(fake_rows()).splitlines()
    assert lines[0] == ("| workload | ours (ms) | jax (ms) | ours / jax | "
                        "jax (reshape+max pool) (ms) | ours / jax (reshape+max pool) |")
    assert lines[2] == "| LeNet step | 2 | 4 | 0.50x | 1 | 2.00x |"
    assert lines[3] == "| dispatch | 0.003 | 0.002 | 1.50x |  |  |"


def test_median_times_run_each_callable_and_take_medians():
    counts = {"a": 0, "b": 0}

    def call(key):
        return lambda: counts.__setitem__(key, counts[key] + 1)
    times = bench.bench_table.median_times([call("a"), call("b")], rounds=3, budget_s=1e-4)
    assert len(times) == 2 and all(t > 0 for t in times)
    assert counts["a"] >= 5 and counts["b"] >= 5  # 2 warm-up calls and 3 rounds


def test_chart_is_drawn(tmp_path):
    for suffix in ("png", "svg"):
        path = tmp_path / f"chart.{suffix}"
        bench.draw_chart(fake_rows(), str(path), "device: fake; medians of 3 rounds")
        assert path.stat().st_size > 1000


@pytest.mark.parametrize("ours,ref,data", [
    (lambda m: tm.lenet(m, pool_as_reshape=True), tm.lenet, lambda r: tm.lenet_data(3, r)),
    (lambda m: tm.lenet(m, conv_form="NCHW"), tm.lenet, lambda r: tm.lenet_data(3, r)),
    (lambda m: tm.lenet(m, conv_form="slices"), tm.lenet, lambda r: tm.lenet_data(3, r)),
    (tm.resnet_block, tm.resnet_block, lambda r: tm.resnet_block_data(3, 6, 4, r)),
], ids=["lenet_reshape_max", "lenet_nchw", "lenet_im2col", "resnet_block"])
def test_benchmark_variants_compute_jax_default_step(ours, ref, data):
    """Each variant's SGD step (ours, and JAX's for the LeNet forms) against JAX's
    default LeNet / ResNet-block step: same loss and updated parameters."""
    params, batch = data(np.random.RandomState(2))
    want = ref(tm.JAX)(params, *batch)
    for m in (tm.OURS, tm.JAX):
        got = ours(m)(jax.tree_util.tree_map(np.copy, params), *batch)
        for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
