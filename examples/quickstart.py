"""Quickstart: a small CNN on scikit-learn's 8x8 digits in a few lines of `nn`.

    python examples/quickstart.py

Layers hold hyperparameters only; `init` infers every shape from one example; the
parameters are a plain dict ("conv1/kernel", ...) that `nn.fit` trains with optax.
Prints the test accuracy (>= 97% expected; exits 1 below that).
"""
import sys

import numpy as np
import optax
from sklearn.datasets import load_digits

import functorch_lite as fl
import nn

digits = load_digits()
x = (digits.images / 16.0).astype(np.float32)[..., None]          # (1797, 8, 8, 1)
y = digits.target.astype(np.int32)
order = np.random.default_rng(0).permutation(len(x))
train, test = order[360:], order[:360]

model = nn.Sequential(
    conv1=nn.Conv(32, 3), act1=nn.ReLU(),
    conv2=nn.Conv(64, 3), act2=nn.ReLU(), pool=nn.MaxPool(2),
    flatten=nn.Flatten(), hidden=nn.Dense(128), act3=nn.ReLU(), logits=nn.Dense(10))

params, state = model.init(fl.random.PRNGKey(0), x[:1])
params, state, history = nn.fit(model, params, state, optax.adam(1e-3),
                                (x[train], y[train]), epochs=8, batch_size=32,
                                metrics=["accuracy"])
test_metrics = nn.evaluate(model, params, state, (x[test], y[test]), metrics=["accuracy"])
print(f"test accuracy: {test_metrics['accuracy']:.4f}")
sys.exit(0 if test_metrics["accuracy"] >= 0.97 else 1)
