"""nn.save / nn.load: round trips and every failure mode; summary and parameter
counts; path masks for freezing with optax."""
import os

import numpy as np
import pytest

import jax
import optax

import functorch_lite as fl
import nn

KEY = fl.random.PRNGKey(0)


def _tree():
    return {"conv": {"kernel": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
                     "bias": np.ones(4, np.float32)},
            "steps": np.int32(7),
            "blocks": [{"w": np.full((2,), 3, np.float16)}, {"w": np.zeros((1,), np.float16)}],
            "emb": np.asarray(np.linspace(0, 1, 6), dtype=jax.numpy.bfloat16)}


def _assert_same(a, b):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_round_trip_with_and_without_like(tmp_path):
    path = tmp_path / "ckpt.npz"
    tree = _tree()
    nn.save(path, tree)
    _assert_same(nn.load(path, like=tree), tree)
    _assert_same(nn.load(path), tree)  # nested dicts and lists rebuilt from the paths
    assert isinstance(nn.load(path)["conv"]["kernel"], fl.Array)
    assert [p for p in os.listdir(tmp_path)] == ["ckpt.npz"]  # no temporary file left


def test_round_trip_of_model_params_state_and_optax_state(tmp_path):
    model = nn.Sequential(conv=nn.Conv(2, 3), bn=nn.BatchNorm(), flat=nn.Flatten(),
                          out=nn.Dense(3))
    params, state = model.init(KEY, nn.Spec((1, 4, 4, 1)))
    opt_state = optax.adam(1e-3).init(params)
    tree = {"params": params, "state": state, "opt": opt_state}
    nn.save(tmp_path / "m.npz", tree)
    _assert_same(nn.load(tmp_path / "m.npz", like=tree), tree)
    # `like` may hold Specs instead of arrays
    specs = jax.tree_util.tree_map(lambda a: nn.Spec(a.shape, a.dtype), params)
    _assert_same(nn.load(tmp_path / "m.npz", like={"params": specs, "state": state,
                                                   "opt": opt_state}), tree)


def test_no_pickle_in_the_file(tmp_path):
    path = tmp_path / "c.npz"
    nn.save(path, _tree())
    with np.load(path, allow_pickle=False) as archive:  # would raise on object arrays
        assert "__manifest__" in archive.files
        for name in archive.files:
            assert archive[name].dtype != object


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        nn.load(tmp_path / "nope.npz")


def test_truncated_file(tmp_path):
    path = tmp_path / "t.npz"
    nn.save(path, _tree())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(nn.CheckpointError, match="t.npz.*cannot be read"):
        nn.load(path, like=_tree())


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.ones(3))
    with pytest.raises(nn.CheckpointError, match="other.npz"):
        nn.load(path)


def test_shape_mismatch_names_path_expected_and_found(tmp_path):
    path = tmp_path / "s.npz"
    tree = _tree()
    nn.save(path, tree)
    like = _tree()
    like["conv"]["bias"] = np.ones(5, np.float32)
    with pytest.raises(nn.CheckpointError,
                       match=r"s\.npz.*'conv/bias' has shape \(4,\), expected \(5,\)"):
        nn.load(path, like=like)


def test_dtype_mismatch(tmp_path):
    path = tmp_path / "d.npz"
    nn.save(path, _tree())
    like = _tree()
    like["conv"]["kernel"] = like["conv"]["kernel"].astype(np.float16)
    with pytest.raises(nn.CheckpointError,
                       match="'conv/kernel' has dtype float32, expected float16"):
        nn.load(path, like=like)


def test_missing_and_unexpected_entries(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(path, {"a": np.ones(2, np.float32)})
    with pytest.raises(nn.CheckpointError, match="'b' is missing"):
        nn.load(path, like={"a": np.ones(2, np.float32), "b": np.ones(1, np.float32)})
    with pytest.raises(nn.CheckpointError, match="unexpected entries \\['a'\\]"):
        nn.load(path, like={})
    assert nn.load(path, like={}, strict=False) == {}


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "keep.npz"
    nn.save(path, {"a": np.ones(2, np.float32)})

    def failing_savez(file, **arrays):
        file.write(b"PK partial")
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        nn.save(path, {"a": np.zeros(2, np.float32)})
    monkeypatch.undo()
    np.testing.assert_array_equal(nn.load(path)["a"], np.ones(2))
    assert os.listdir(tmp_path) == ["keep.npz"]  # the temporary file is gone


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
