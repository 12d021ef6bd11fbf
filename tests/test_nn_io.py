"""nn.summary and parameter counts; path masks for freezing with optax (checkpoints:
tests/test_nn_checkpoint.py)."""
import numpy as np

import optax

import functorch_lite as fl
import nn

KEY = fl.random.PRNGKey(0)


def test_summary_totals_and_shared_layers():
    class Twice(nn.Layer):
        @property
        def fc(self):
            return nn.Dense(4)

        def forward(self, scope, x):
            return scope.fc(scope.fc(x))  # the same weights twice

    model = nn.Sequential(conv=nn.Conv(3, 3), bn=nn.BatchNorm(), flat=nn.Flatten(),
                          proj=nn.Dense(4), twice=Twice())
    x = nn.Spec((2, 5, 5, 1))
    params, state = model.init(KEY, x)
    lines = []
    table = nn.summary(model, params, x, state=state, print_fn=lines.append)
    expected = (3 * 3 * 1 * 3 + 3) + (3 + 3) + (75 * 4 + 4) + (4 * 4 + 4)
    assert table.total_params == expected == nn.count_params(params)
    assert table.total_bytes == 4 * expected
    assert table.state_params == 6
    rows = {r.path: r for r in table.rows if not r.shared}
    assert rows["conv"].output_shapes == [(2, 5, 5, 3)] and rows["conv"].params == 30
    assert rows["flat"].output_shapes == [(2, 75)]
    assert [r.path for r in table.rows if r.shared] == ["twice/fc"]
    assert sum(r.params for r in table.rows if not r.shared) == expected
    assert f"Total parameters: {expected:,}" in lines[0]


def test_count_params_and_paths():
    tree = {"a": {"w": np.ones((2, 3))}, "b": [np.ones(4)]}
    assert nn.count_params(tree) == 10
    assert [p for p, _ in nn.tree_paths(tree)] == ["a/w", "b/0"]


def test_freezing_by_path_with_optax():
    model = nn.Sequential(body=nn.Dense(3), head=nn.Dense(2))
    x = np.ones((4, 3), np.float32)
    params, _ = model.init(KEY, x)
    mask = nn.path_mask(params, lambda p: p.startswith("head/"))
    assert mask == {"body": {"bias": False, "kernel": False},
                    "head": {"bias": True, "kernel": True}}
    opt = nn.freeze(optax.sgd(0.5), params, lambda p: p.startswith("body/"))
    opt_state = opt.init(params)
    grads = fl.grad(lambda p: fl.numpy.sum(model(p, x) ** 2))(params)
    updates, _ = opt.update(grads, opt_state, params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_array_equal(new["body"]["kernel"], params["body"]["kernel"])
    assert not np.allclose(new["head"]["kernel"], params["head"]["kernel"])
