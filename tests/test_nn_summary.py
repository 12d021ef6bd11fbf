"""nn.summary's costs: per-layer FLOPs and bytes equal XLA's analysis of the same layer
compiled by JAX, the model row is the whole model, the analytic FLOPs of a Dense and a
Conv agree, compiles are shared between identical calls; the rich and plain renderings;
jit(...).lower(...).compile().cost_analysis()/memory_analysis() as JAX's."""
import io

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import nn

KEY = fl.random.PRNGKey(0)


def test_compiled_cost_and_memory_analysis_match_jax():
    x, w = np.ones((8, 16), np.float32), np.ones((16, 4), np.float32)
    ours = fl.jit(lambda x, w: fl.numpy.tanh(x @ w)).lower(x, w).compile()
    theirs = jax.jit(lambda x, w: jnp.tanh(x @ w)).lower(x, w).compile()
    assert ours.cost_analysis()["flops"] == theirs.cost_analysis()["flops"] >= 2 * 8 * 16 * 4
    for field in ("argument_size_in_bytes", "output_size_in_bytes"):
        assert getattr(ours.memory_analysis(), field) == \
            getattr(theirs.memory_analysis(), field)


@pytest.fixture(scope="module")
def cnn_summary():
    model = nn.Sequential(conv=nn.Conv(8, 3), act=nn.ReLU(), pool=nn.MaxPool(2),
                          flat=nn.Flatten(), fc1=nn.Dense(16), fc2=nn.Dense(16),
                          out=nn.Dense(16))
    x = nn.Spec((4, 8, 8, 3))
    params, state = model.init(KEY, x)
    return model, params, nn.summary(model, params, x, print_fn=None)


def test_summary_costs_are_xla_analyses_of_each_layer(cnn_summary):
    model, params, table = cnn_summary
    rows = {r.path: r for r in table.rows}
    # Dense (4, 128) @ (128, 16): 2 * 4 * 128 * 16 multiply-adds plus the bias
    assert rows["fc1"].flops == 2 * 4 * 128 * 16 + 4 * 16
    # Conv 3x3, 3 -> 8 channels on 4x8x8 (SAME): XLA counts the taps inside the image
    # (per axis 2 + 6 * 3 + 2 = 22 of 8 * 3), two FLOPs per tap and channel pair, + bias
    assert rows["conv"].flops == 4 * 22 * 22 * 3 * 8 * 2 + 4 * 8 * 8 * 8
    assert rows["out"].output_bytes == 4 * 16 * 4 and rows["flat"].output_bytes == 4 * 128 * 4

    def jax_conv(k, b, x):
        y = jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + b
    jax_costs = jax.jit(jax_conv).lower(params["conv"]["kernel"], params["conv"]["bias"],
                                        jnp.zeros((4, 8, 8, 3))).compile().cost_analysis()
    assert rows["conv"].flops == jax_costs["flops"]
    # the model row is the whole model compiled once; leaves' outputs sum to activations
    assert table.total_flops == rows["(model)"].flops >= sum(
        r.flops for r in table.rows if r.leaf) * 0.9
    assert table.activation_bytes == sum(r.output_bytes for r in table.rows if r.leaf)


def test_summary_renders_plain_and_rich(cnn_summary):
    _, _, table = cnn_summary
    text = str(table)
    assert "FLOPs" in text.splitlines()[0] and "Forward FLOPs (XLA, whole model)" in text
    assert "fc1" in text and "16.45K" in text  # 2*4*128*16 + 64 = 16448
    import rich.console
    console = rich.console.Console(file=io.StringIO(), width=200)
    console.print(table)
    rendered = console.file.getvalue()
    assert "Model summary" in rendered and "fc1" in rendered and "16.45K" in rendered


def test_summary_shares_compiles_and_skips_costs(monkeypatch):
    """Identical calls (same layer, parameter and input shapes) are compiled once;
    costs=False compiles nothing."""
    from nn import _summary
    calls = []
    original = _summary._call_costs
    monkeypatch.setattr(_summary, "_call_costs",
                        lambda *a: calls.append(a[0]) or original(*a))
    block = nn.Sequential(fc=nn.Dense(8), act=nn.ReLU())
    model = nn.Sequential(a=block, b=block)
    params, _ = model.init(KEY, nn.Spec((2, 8)))
    table = nn.summary(model, params, nn.Spec((2, 8)), print_fn=None)
    assert [r.path for r in table.rows] == ["(model)", "a", "a/fc", "a/act", "b", "b/fc",
                                            "b/act"]
    assert len(calls) == 4  # model, block, Dense, ReLU: b's rows reuse a's programs
    assert table.rows[5].flops == table.rows[2].flops == 2 * 2 * 8 * 8 + 16
    calls.clear()
    lines = []
    table = nn.summary(model, params, nn.Spec((2, 8)), print_fn=lines.append, costs=False)
    assert calls == [] and table.total_flops is None and "FLOPs" not in lines[0]
