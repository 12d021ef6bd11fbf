"""The classic Keras/PyTorch MNIST CNN, trained with `nn.fit` on MNIST read from the
standard IDX files.

    python examples/mnist_cnn.py DATA_DIR [--epochs N] [--limit N]

DATA_DIR holds train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally gzipped, as
distributed at http://yann.lecun.com/exdb/mnist/). Exits with status 2 and a message
when they are missing.
"""
import argparse
import gzip
import os
import sys

import numpy as np
import optax

import functorch_lite as fl
import nn

FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def read_idx(path):
    """An IDX file (magic: 0, 0, type code, number of dimensions; big-endian sizes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = data[4 + 4 * ndim:]
    if len(body) != expected:
        raise ValueError(f"{path}: {len(body)} data bytes, expected {expected} for shape "
                         f"{shape}")
    return np.frombuffer(body, dtype).reshape(shape)


def find_files(directory):
    """{name: path} of the four IDX files, or None and the list of missing names."""
    found, missing = {}, []
    for key, name in FILES.items():
        for candidate in (name, name + ".gz"):
            path = os.path.join(directory, candidate)
            if os.path.exists(path):
                found[key] = path
                break
        else:
            missing.append(name)
    return found, missing


def make_model():
    """The Keras "mnist_cnn" example: two 3x3 convolutions, pooling, dropout, dense."""
    return nn.Sequential(
        conv1=nn.Conv(32, 3, padding="VALID"), act1=nn.ReLU(),
        conv2=nn.Conv(64, 3, padding="VALID"), act2=nn.ReLU(),
        pool=nn.MaxPool(2), dropout1=nn.Dropout(0.25),
        flatten=nn.Flatten(), hidden=nn.Dense(128), act3=nn.ReLU(),
        dropout2=nn.Dropout(0.5), logits=nn.Dense(10))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", help="directory with the four MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N training images")
    args = parser.parse_args(argv)

    files, missing = find_files(args.data_dir)
    if missing:
        print(f"MNIST IDX files not found in {args.data_dir!r}: missing "
              f"{', '.join(missing)} (optionally .gz). Download them from "
              f"http://yann.lecun.com/exdb/mnist/ (or a mirror) into that directory.",
              file=sys.stderr)
        return 2
    arrays = {key: read_idx(path) for key, path in files.items()}
    x_train = (arrays["train_images"][..., None] / 255.0).astype(np.float32)
    y_train = arrays["train_labels"].astype(np.int32)
    x_test = (arrays["test_images"][..., None] / 255.0).astype(np.float32)
    y_test = arrays["test_labels"].astype(np.int32)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"MNIST: {len(x_train)} training and {len(x_test)} test images "
          f"of {x_train.shape[1]}x{x_train.shape[2]}")

    model = make_model()
    key = fl.random.PRNGKey(0)
    params, state = model.init(key, x_train[:1])
    print(f"{nn.count_params(params):,} parameters")
    params, state, history = nn.fit(model, params, state, optax.adam(1e-3),
                                    (x_train, y_train), epochs=args.epochs,
                                    batch_size=args.batch_size, metrics=["accuracy"],
                                    validation_data=(x_test, y_test), rng=key)
    result = nn.evaluate(model, params, state, (x_test, y_test), loss="cross_entropy",
                         metrics=["accuracy"])
    print(f"test accuracy {result['accuracy']:.4f}  test loss {result['loss']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
