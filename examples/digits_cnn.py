"""A small CNN on scikit-learn's bundled 8x8 handwritten digits (real data shipped with
scikit-learn, no download), trained with `nn.fit` and optax.

    python examples/digits_cnn.py [--epochs N] [--plot curves.png]

Shows the whole `nn` workflow: a `Sequential` with named layers, shape inference at
`init`, `nn.summary`, BatchNorm state, Dropout keys, a jitted train step with a
progress bar, validation, early stopping, best-epoch checkpoints (safetensors files),
and the test accuracy (>= 97% expected; the script exits 1 below that).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import optax

import functorch_lite as fl
import nn


def load_digits_split(seed=0, test_fraction=0.2):
    """(x_train, y_train), (x_test, y_test): images (n, 8, 8, 1) in [0, 1], int labels."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def make_model():
    # a few hundred steps: momentum 0.9 (PyTorch's) lets the running statistics catch
    # up with the batches; the default 0.99 (Keras', Flax's) suits longer runs
    return nn.Sequential(
        conv1=nn.Conv(32, 3), bn1=nn.BatchNorm(momentum=0.9), act1=nn.ReLU(),
        conv2=nn.Conv(64, 3), bn2=nn.BatchNorm(momentum=0.9), act2=nn.ReLU(),
        pool=nn.MaxPool(2),                       # 8x8 -> 4x4
        flatten=nn.Flatten(), dropout=nn.Dropout(0.3),
        hidden=nn.Dense(128), act3=nn.ReLU(),
        logits=nn.Dense(10))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("FUNCTORCH_LITE_QUICK") == "1"
    parser.add_argument("--epochs", type=int, default=6 if quick else 10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--plot", default=None, help="save loss/accuracy curves (PNG)")
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load_digits_split()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8")
    model = make_model()
    key = fl.random.PRNGKey(0)
    params, state = model.init(key, x_train[:1])
    nn.summary(model, params, x_train[:args.batch_size], state=state)

    checkpoint_dir = tempfile.mkdtemp(prefix="digits_cnn_")
    best_path = os.path.join(checkpoint_dir, "best.safetensors")
    callbacks = [nn.EarlyStopping(monitor="val_accuracy", patience=3),
                 nn.ModelCheckpoint(best_path, monitor="val_accuracy",
                                    save_best_only=True)]
    start = time.perf_counter()
    params, state, history = nn.fit(
        model, params, state, optax.adam(1e-3), (x_train, y_train),
        loss="cross_entropy", metrics=["accuracy"], epochs=args.epochs,
        batch_size=args.batch_size, validation_data=(x_test, y_test),
        callbacks=callbacks, rng=key)
    seconds = time.perf_counter() - start
    epochs_run = len(history.epoch)
    print(f"trained {epochs_run} epochs in {seconds:.1f} s "
          f"({seconds / epochs_run:.2f} s per epoch, the first includes compilation)")

    # the checkpoint also holds the optimizer state and epoch; strict=False reads a part
    restored = nn.load(best_path, like={"params": params, "state": state}, strict=False)
    result = nn.evaluate(model, restored["params"], restored["state"], (x_test, y_test),
                         loss="cross_entropy", metrics=["accuracy"])
    print(f"test accuracy {result['accuracy']:.4f}  test loss {result['loss']:.4f} "
          f"(best checkpoint {best_path})")
    if args.plot:
        print("curves saved to", history.plot(args.plot))
    if result["accuracy"] < 0.97:
        print("FAILED: test accuracy below 0.97", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
