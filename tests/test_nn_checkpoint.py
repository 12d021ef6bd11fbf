"""nn.save / nn.load: safetensors files that round-trip every dtype and every kind of
key, that other tools read, that never load the wrong thing (each corruption is a
CheckpointError naming the file), written atomically with normal modes; .npz
checkpoints of the first format still load; the orbax recipes of docs/training.md."""
import collections
import json
import os
import pathlib
import signal
import struct
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import jax
import optax

import functorch_lite as fl
import nn

KEY = fl.random.PRNGKey(0)
ROOT = pathlib.Path(__file__).resolve().parent.parent
LEGACY = ROOT / "tests" / "data" / "legacy_v1_checkpoint.npz"
Pair = collections.namedtuple("Pair", "first second")

DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
          np.int64, np.uint64, np.float16, ml_dtypes.bfloat16, np.float32, np.float64,
          np.complex64, np.complex128, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2,
          ml_dtypes.int4]


def _array(dtype, shape=(2, 3)):
    values = np.arange(int(np.prod(shape))).reshape(shape) % 5 - 2
    if np.dtype(dtype).kind == "u":
        values = np.abs(values)
    if np.dtype(dtype).kind == "c":
        values = values + 0.5j
    return np.asarray(values).astype(dtype)


def _every_key_tree():
    return {
        "a/b": np.full(2, 1.0, np.float32),          # a key with '/' ...
        "a": {"b": np.full(2, 2.0, np.float32),      # ... next to the nested a -> b
              "c.d": np.full(1, 3.0, np.float32), "%2F": np.full(1, 4.0, np.float32)},
        "ints": {0: np.int32(5), 7: np.int32(6)},
        "tuples": {("x", 1): np.ones(1, np.float16)},
        "seq": [np.zeros(2, ml_dtypes.bfloat16), (np.ones(1, np.int8), None), []],
        "named": Pair(np.arange(3, dtype=np.uint8), {"deep": np.bool_(True)}),
        "values": {"epoch": 3, "lr": 0.5, "name": "run/1", "done": False, "nothing": None,
                   "z": 1 + 2j, "nan": float("nan")},
        "empty": {},
        "opt": optax.adam(1e-3).init({"w": np.zeros(2, np.float32)}),
    }


def _assert_same(got, want):
    got_leaves, got_def = jax.tree_util.tree_flatten(got, is_leaf=lambda x: x is None)
    want_leaves, want_def = jax.tree_util.tree_flatten(want, is_leaf=lambda x: x is None)
    assert got_def == want_def
    for g, w in zip(got_leaves, want_leaves):
        if isinstance(w, (np.ndarray, np.generic, jax.Array)):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
        elif isinstance(w, float) and w != w:
            assert isinstance(g, float) and g != g
        else:
            assert type(g) is type(w) and g == w


def _numbers(a):
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_round_trips(tmp_path, dtype):
    from safetensors import safe_open
    tree = {"x": _array(dtype), "scalar": _array(dtype, ()), "empty": _array(dtype, (0, 4))}
    path = tmp_path / "m.safetensors"
    nn.save(path, tree)
    with safe_open(str(path), "numpy") as f:
        manifest = json.loads(f.metadata()["manifest"])["tensors"]
    assert {name: e["dtype"] for name, e in manifest.items()} == \
        {name: np.dtype(dtype).name for name in tree}
    restored = nn.load(path, like=tree)
    for name, want in tree.items():
        expected = jax.device_put(want)  # JAX's device array (x64 off: 32-bit types)
        assert restored[name].dtype == expected.dtype
        assert restored[name].shape == want.shape
        np.testing.assert_array_equal(_numbers(restored[name]), _numbers(expected))


def test_every_kind_of_key_round_trips(tmp_path):
    tree = _every_key_tree()
    path = tmp_path / "keys.safetensors"
    nn.save(path, tree)
    _assert_same(nn.load(path, like=tree), tree)
    plain = nn.load(path)  # without `like`: plain containers (NamedTuples as dicts)
    assert float(plain["a/b"][0]) == 1.0 and float(plain["a"]["b"][0]) == 2.0
    assert float(plain["a"]["%2F"][0]) == 4.0
    assert plain["ints"][7] == 6 and plain["tuples"][("x", 1)].dtype == np.float16
    assert plain["seq"][0].dtype == ml_dtypes.bfloat16 and plain["seq"][1][1] is None
    assert isinstance(plain["seq"][1], tuple) and plain["seq"][2] == []
    assert plain["named"]["second"]["deep"].dtype == np.bool_
    assert plain["values"]["epoch"] == 3 and plain["values"]["z"] == 1 + 2j
    assert plain["empty"] == {}


def test_a_slash_key_and_nested_keys_never_load_each_other(tmp_path):
    flat, nested = tmp_path / "flat.safetensors", tmp_path / "nested.safetensors"
    nn.save(flat, {"a/b": np.ones(2, np.float32)})
    nn.save(nested, {"a": {"b": np.zeros(2, np.float32)}})
    with pytest.raises(nn.CheckpointError, match="'a/b' is missing"):
        nn.load(flat, like={"a": {"b": np.zeros(2, np.float32)}})
    with pytest.raises(nn.CheckpointError, match="'a%2Fb' is missing"):
        nn.load(nested, like={"a/b": np.zeros(2, np.float32)})


def test_non_array_leaves_are_refused_never_pickled(tmp_path):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(TypeError, match=r"leaf at 'cfg/tags' of type set.*no.*pickle|"
                                        r"leaf at 'cfg/tags' of type set.*pickled"):
        nn.save(path, {"cfg": {"tags": {"a", "b"}}})
    with pytest.raises(TypeError, match="type object"):
        nn.save(path, {"x": object()})
    with pytest.raises(TypeError, match="key .* of type frozenset"):
        nn.save(path, {frozenset({1}): np.ones(1)})
    assert not path.exists()


def test_other_tools_read_the_file(tmp_path):
    from safetensors.numpy import load_file
    path = tmp_path / "m.safetensors"
    tree = {"dense": {"kernel": np.ones((2, 3), np.float32)},
            "emb": np.ones(4, ml_dtypes.bfloat16)}
    nn.save(path, tree)
    plain = load_file(str(path))
    assert sorted(plain) == ["dense/kernel", "emb"]
    assert plain["emb"].dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(plain["dense/kernel"], tree["dense"]["kernel"])
    try:
        from safetensors.torch import load_file as torch_load
    except ImportError:  # torch is optional: the format check above does not need it
        return
    assert str(torch_load(str(path))["emb"].dtype) == "torch.bfloat16"


def test_a_safetensors_file_from_another_tool_loads_by_name(tmp_path):
    from safetensors.numpy import save_file
    path = tmp_path / "hf.safetensors"
    save_file({"layer.weight": np.ones((2, 2), np.float32)}, str(path))
    assert nn.load(path)["layer.weight"].shape == (2, 2)


def test_bfloat16_model_params_and_optax_state(tmp_path):
    model = nn.Sequential(conv=nn.Conv(2, 3), bn=nn.BatchNorm(), flat=nn.Flatten(),
                          out=nn.Dense(3))
    params, state = model.init(KEY, nn.Spec((1, 4, 4, 1)))
    params = jax.tree_util.tree_map(lambda a: a.astype(jax.numpy.bfloat16), params)
    tree = {"params": params, "state": state, "opt": optax.adam(1e-3).init(params)}
    nn.save(tmp_path / "m.safetensors", tree)
    restored = nn.load(tmp_path / "m.safetensors", like=tree)
    _assert_same(restored, tree)
    assert restored["params"]["out"]["kernel"].dtype == jax.numpy.bfloat16
    specs = jax.tree_util.tree_map(lambda a: nn.Spec(a.shape, a.dtype), params)
    _assert_same(nn.load(tmp_path / "m.safetensors",
                         like={"params": specs, "state": state, "opt": tree["opt"]}), tree)


def test_npz_checkpoints_of_the_first_format_still_load():
    want = {"conv": {"kernel": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
                     "bias": np.ones(4, np.float32)},
            "steps": np.int32(7),
            "blocks": [{"w": np.full((2,), 3, np.float16)},
                       {"w": np.zeros((1,), np.float16)}],
            "emb": np.asarray(np.linspace(0, 1, 6), dtype=ml_dtypes.bfloat16)}
    _assert_same(nn.load(LEGACY, like=want), want)
    _assert_same(nn.load(LEGACY), want)


def test_save_refuses_an_npz_name(tmp_path):
    with pytest.raises(ValueError, match=r"m\.safetensors"):
        nn.save(tmp_path / "m.npz", {"a": np.ones(1)})


# --- corruption: every case a CheckpointError (ValueError) naming the file ------------

def _saved(tmp_path, name="c.safetensors"):
    path = tmp_path / name
    nn.save(path, {"w": np.arange(6, dtype=np.float32), "b": np.ones(2, np.float16)})
    return path


def _split(path):
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + size]), data[8 + size:]


def _join(path, header, body):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)


def _tamper_manifest(path, change):
    header, body = _split(path)
    manifest = json.loads(header["__metadata__"]["manifest"])
    change(manifest)
    header["__metadata__"]["manifest"] = json.dumps(manifest)
    _join(path, header, body)


def _set(mapping, *keys_and_value):
    *keys, last, value = keys_and_value
    for k in keys:
        mapping = mapping[k]
    mapping[last] = value


CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:-5]),
    "cut_in_header": lambda p: p.write_bytes(p.read_bytes()[:20]),
    "empty_file": lambda p: p.write_bytes(b""),
    "wrong_magic": lambda p: p.write_bytes(b"GARBAGE!" * 10),
    "bad_header_json": lambda p: p.write_bytes(p.read_bytes()[:8] + b"[" +
                                               p.read_bytes()[9:]),
    "bad_manifest_json": lambda p: _join(p, {**_split(p)[0], "__metadata__": {
        **_split(p)[0]["__metadata__"], "manifest": "{not json"}}, _split(p)[1]),
    "other_format": lambda p: _join(p, {**_split(p)[0], "__metadata__": {
        **_split(p)[0]["__metadata__"], "format": "something/9"}}, _split(p)[1]),
    "manifest_dtype": lambda p: _tamper_manifest(
        p, lambda m: _set(m, "tensors", "w", "dtype", "int32")),
    "manifest_shape": lambda p: _tamper_manifest(
        p, lambda m: _set(m, "tensors", "w", "shape", [2, 3])),
    "header_dtype": lambda p: _join(p, {**_split(p)[0], "w": {
        **_split(p)[0]["w"], "dtype": "I32"}}, _split(p)[1]),
    "missing_tensor": lambda p: _tamper_manifest(
        p, lambda m: _set(m, "tensors", "ghost", {"dtype": "float32", "shape": [1]})),
    "malformed_tree": lambda p: _tamper_manifest(p, lambda m: _set(m, "tree", {"dict": 5})),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_every_corruption_is_a_checkpoint_error_naming_the_file(tmp_path, corruption):
    path = _saved(tmp_path)
    CORRUPTIONS[corruption](path)
    like = {"w": np.zeros(6, np.float32), "b": np.zeros(2, np.float16)}
    for attempt in (lambda: nn.load(path), lambda: nn.load(path, like=like)):
        with pytest.raises(nn.CheckpointError, match="c.safetensors") as info:
            attempt()
        assert isinstance(info.value, ValueError)


def test_legacy_npz_corruptions(tmp_path):
    data = LEGACY.read_bytes()
    (tmp_path / "t.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(nn.CheckpointError, match="t.npz.*cannot be read"):
        nn.load(tmp_path / "t.npz")
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    with pytest.raises(nn.CheckpointError, match="other.npz"):
        nn.load(tmp_path / "other.npz")
    # a manifest claiming float16 for float32 data must not reinterpret the bits
    with np.load(LEGACY) as archive:
        arrays = {k: archive[k] for k in archive.files}
    manifest = json.loads(arrays["__manifest__"].tobytes())
    index = [e["path"] for e in manifest["leaves"]].index("conv/bias")
    manifest["leaves"][index]["dtype"] = "int32"
    arrays["__manifest__"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    np.savez(tmp_path / "tampered.npz", **arrays)
    with pytest.raises(nn.CheckpointError, match="tampered.npz.*'conv/bias' holds float32"):
        nn.load(tmp_path / "tampered.npz")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        nn.load(tmp_path / "nope.safetensors")


def test_mismatches_name_path_expected_and_found(tmp_path):
    path = _saved(tmp_path, "s.safetensors")
    like = {"w": np.zeros(5, np.float32), "b": np.zeros(2, np.float32)}
    with pytest.raises(nn.CheckpointError, match=r"s\.safetensors.*'b' has dtype float16, "
                                                 r"expected float32; 'w' has shape \(6,\),"
                                                 r" expected \(5,\)"):
        nn.load(path, like=like)
    with pytest.raises(nn.CheckpointError, match="'c' is missing"):
        nn.load(path, like={"w": np.zeros(6, np.float32), "b": np.zeros(2, np.float16),
                            "c": np.zeros(1)})
    with pytest.raises(nn.CheckpointError, match=r"unexpected entries \['b'\]"):
        nn.load(path, like={"w": np.zeros(6, np.float32)})
    assert set(nn.load(path, like={"w": np.zeros(6, np.float32)}, strict=False)) == {"w"}


# --- writing: atomic, umask, no orphans ----------------------------------------------

def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "keep.safetensors"
    nn.save(path, {"a": np.ones(2, np.float32)})

    def failing_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        nn.save(path, {"a": np.zeros(2, np.float32)})
    monkeypatch.undo()
    np.testing.assert_array_equal(nn.load(path)["a"], np.ones(2))
    assert os.listdir(tmp_path) == ["keep.safetensors"]  # the temporary file is gone


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_respect_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        nn.save(tmp_path / "m.safetensors", {"a": np.ones(1)})
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.safetensors").st_mode & 0o777 == 0o666 & ~umask


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    path = tmp_path / "m.safetensors"
    script = (f"import os, signal, numpy as np, nn\n"
              f"os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)\n"
              f"nn.save({str(path)!r}, {{'a': np.ones(3)}})\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == -signal.SIGKILL
    orphans = os.listdir(tmp_path)
    assert len(orphans) == 1 and orphans[0].startswith(".m.safetensors.") \
        and orphans[0].endswith(".nn-tmp")
    (tmp_path / "other.txt").write_text("not ours")
    nn.save(path, {"a": np.zeros(3)})
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors", "other.txt"]


# --- orbax recipes (docs/training.md) ------------------------------------------------

def test_orbax_recipes_save_and_restore_our_trees(tmp_path):
    ocp = pytest.importorskip("orbax.checkpoint", reason="orbax-checkpoint is a dev "
                                                         "dependency; the recipe needs it")
    model = nn.Sequential(hidden=nn.Dense(4), out=nn.Dense(2))
    params, _ = model.init(KEY, nn.Spec((1, 3)))
    tree = {"params": params, "opt_state": optax.adam(1e-3).init(params)}
    # a synchronous save and a restore onto given shardings
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(tmp_path / "sync", tree)
    checkpointer.wait_until_finished()
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    abstract = jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding), tree)
    _assert_same(checkpointer.restore(tmp_path / "sync", abstract), tree)
    # asynchronous saves with a CheckpointManager, keeping the last two steps
    options = ocp.CheckpointManagerOptions(max_to_keep=2, enable_async_checkpointing=True)
    with ocp.CheckpointManager(tmp_path / "managed", options=options) as manager:
        for step in range(3):
            manager.save(step, args=ocp.args.StandardSave(tree))
        manager.wait_until_finished()
        assert manager.all_steps() == [1, 2]
        restored = manager.restore(2, args=ocp.args.StandardRestore(abstract))
    _assert_same(restored, tree)
