"""examples/mnist_cnn.py on small IDX files written here, and its error paths (the other
nn examples run in tests/test_examples.py)."""
import gzip
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mnist = _load_example("mnist_cnn")


def write_idx(path, array, gz=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.asarray(array.shape, ">u4").tobytes()
    opener = gzip.open if gz else open
    with opener(str(path), "wb") as f:
        f.write(header + array.tobytes())


def _tiny_mnist(directory, n_train=96, n_test=32, gz=False):
    """Digits as bright squares at a class-dependent position: learnable in an epoch."""
    rng = np.random.default_rng(0)
    def images(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 30, (n, 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):
            r, col = 2 + (c // 5) * 12, 2 + (c % 5) * 5
            x[i, r:r + 10, col:col + 4] = 255
        return x, labels
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x, y = images(n)
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", x, gz)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", y, gz)


def test_read_idx_round_trip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-idx3-ubyte", array)
    write_idx(tmp_path / "b-idx3-ubyte.gz", array, gz=True)
    np.testing.assert_array_equal(mnist.read_idx(str(tmp_path / "a-idx3-ubyte")), array)
    np.testing.assert_array_equal(mnist.read_idx(str(tmp_path / "b-idx3-ubyte.gz")), array)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(ValueError, match="2 data bytes, expected 5"):
        mnist.read_idx(str(tmp_path / "bad"))
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.read_idx(str(tmp_path / "junk"))


def test_mnist_example_trains_on_small_idx_files(tmp_path, capsys):
    _tiny_mnist(tmp_path, gz=True)
    assert mnist.main([str(tmp_path), "--epochs", "2", "--batch-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "MNIST: 96 training and 32 test images of 28x28" in out
    assert "Epoch 2/2" in out and "test accuracy" in out


def test_mnist_example_without_files_exits_2(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_cnn.py"),
                           str(tmp_path / "absent")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert "MNIST IDX files not found" in proc.stderr
    assert "train-images-idx3-ubyte" in proc.stderr
