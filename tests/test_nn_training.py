"""Losses and metrics against optax/NumPy, the mini-batch iterator, and fit /
evaluate / predict with callbacks and history."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
import optax

import functorch_lite as fl
import functorch_lite.numpy as fnp
import nn
from harness import assert_close

KEY = fl.random.PRNGKey(0)
RNG = np.random.RandomState(0)
LOGITS = RNG.randn(6, 5).astype(np.float32)
LABELS = RNG.randint(0, 5, 6).astype(np.int32)
ONE_HOT = np.eye(5, dtype=np.float32)[LABELS]
PRED, TARGET = RNG.randn(4, 3).astype(np.float32) * 2, RNG.randn(4, 3).astype(np.float32)
BINARY = (RNG.rand(4, 3) > 0.5).astype(np.float32)
LOG_P = np.asarray(jax.nn.log_softmax(RNG.randn(4, 3)), np.float32)
PROBS = np.array(jax.nn.softmax(RNG.randn(4, 3)), np.float32)
PROBS[0, 1] = 0  # 0 log 0 = 0

LOSS_CASES = [
    ("ce_int", lambda x: nn.softmax_cross_entropy(x, LABELS), LOGITS,
     lambda x: optax.softmax_cross_entropy_with_integer_labels(x, LABELS).mean()),
    ("ce_one_hot", lambda x: nn.softmax_cross_entropy(x, ONE_HOT), LOGITS,
     lambda x: optax.softmax_cross_entropy(x, ONE_HOT).mean()),
    ("ce_smoothing", lambda x: nn.softmax_cross_entropy(x, LABELS, label_smoothing=0.1),
     LOGITS, lambda x: optax.softmax_cross_entropy(x, optax.smooth_labels(ONE_HOT, 0.1))
     .mean()),
    ("ce_sum", lambda x: nn.softmax_cross_entropy(x, LABELS, reduction="sum"), LOGITS,
     lambda x: optax.softmax_cross_entropy_with_integer_labels(x, LABELS).sum()),
    ("bce_logits", lambda x: nn.binary_cross_entropy_with_logits(x, BINARY), PRED,
     lambda x: optax.sigmoid_binary_cross_entropy(x, BINARY).mean()),
    ("mse", lambda x: nn.mean_squared_error(x, TARGET), PRED,
     lambda x: optax.squared_error(x, TARGET).mean()),
    ("huber", lambda x: nn.huber_loss(x, TARGET, delta=0.7), PRED,
     lambda x: optax.huber_loss(x, TARGET, delta=0.7).mean()),
    ("kl", lambda x: nn.kl_divergence(x, PROBS), LOG_P,
     lambda x: optax.kl_divergence(x, PROBS).mean()),
]


@pytest.mark.parametrize("name,ours,x,ref", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_values_and_gradients(name, ours, x, ref):
    assert_close(ours(x), ref(jnp.asarray(x)), 1e-5, 1e-6, name)
    assert_close(fl.grad(ours)(x), jax.grad(ref)(jnp.asarray(x)), 1e-4, 1e-6, name)


def test_loss_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="integer labels of shape"):
        nn.softmax_cross_entropy(LOGITS, LABELS[:3])


def test_metrics():
    predicted = LOGITS.argmax(-1)
    assert float(nn.accuracy(LOGITS, LABELS)) == pytest.approx((predicted == LABELS).mean())
    assert float(nn.accuracy(LOGITS, ONE_HOT)) == pytest.approx((predicted == LABELS).mean())
    rank = (LOGITS > LOGITS[np.arange(6), LABELS][:, None]).sum(-1)
    for k in (1, 2, 3):
        assert float(nn.top_k_accuracy(LOGITS, LABELS, k)) == pytest.approx((rank < k).mean())
    assert float(nn.binary_accuracy(PRED, BINARY)) == pytest.approx(
        ((PRED > 0) == (BINARY > 0.5)).mean())


def test_batches_shuffle_by_key():
    x, y = np.arange(10), np.arange(10) * 2
    plain = list(nn.batches((x, y), 4))
    assert [len(b[0]) for b in plain] == [4, 4, 2]
    assert len(nn.batches((x, y), 4, drop_remainder=True)) == 2
    a = [b[0].tolist() for b in nn.batches((x, y), 4, key=fl.random.PRNGKey(1))]
    b = [b[0].tolist() for b in nn.batches((x, y), 4, key=fl.random.PRNGKey(1))]
    c = [b[0].tolist() for b in nn.batches((x, y), 4, key=fl.random.PRNGKey(2))]
    assert a == b and a != c
    assert sorted(sum(a, [])) == list(range(10))
    for xb, yb in nn.batches((x, y), 3, key=KEY):
        np.testing.assert_array_equal(yb, xb * 2)  # rows stay paired
    with pytest.raises(ValueError, match="different lengths"):
        nn.batches((x, y[:3]), 2)


def _blobs(n=256, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 2).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int32)
    return x, y


MLP = nn.Sequential(hidden=nn.Dense(16), act=nn.ReLU(), drop=nn.Dropout(0.1),
                    out=nn.Dense(2))


def test_fit_reaches_loss_bound_and_reports(capsys):
    x, y = _blobs()
    params, state = MLP.init(KEY, x[:1])
    params, state, history = nn.fit(MLP, params, state, optax.adam(0.05), (x, y),
                                    epochs=6, batch_size=32, metrics=["accuracy"],
                                    validation_data=_blobs(128, seed=1))
    assert history.history["loss"][-1] < 0.15
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history["val_accuracy"][-1] > 0.95
    assert history.epoch == list(range(6))
    out = capsys.readouterr().out
    assert "Epoch 6/6" in out and "val_loss" in out and "samples/s" in out
    result = nn.evaluate(MLP, params, state, _blobs(128, seed=1), loss="cross_entropy",
                         metrics=["accuracy"])
    assert result["accuracy"] == pytest.approx(history["val_accuracy"][-1], abs=1e-6)
    assert result["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    logits = nn.predict(MLP, params, state, x, batch_size=100)
    assert logits.shape == (256, 2)
    np.testing.assert_allclose(logits, MLP(params, x), rtol=1e-5, atol=1e-5)


def test_fit_matches_a_hand_written_loop():
    """Same batches, same optax optimizer: the same parameters as a manual loop."""
    x, y = _blobs(64)
    model = nn.Sequential(hidden=nn.Dense(4), act=nn.tanh, out=nn.Dense(2))
    params0, state = model.init(KEY, x[:1])
    optimizer = optax.adam(0.01)
    params, _, history = nn.fit(model, params0, state, optimizer, (x, y), epochs=2,
                                batch_size=16, shuffle=False, verbose=0)
    assert history.update_mode in ("fused", "eager optax update")

    loss = lambda p, xb, yb: nn.softmax_cross_entropy(model(p, xb), yb)
    want, opt_state = params0, optimizer.init(params0)
    for _ in range(2):
        for xb, yb in nn.batches((x, y), 16):
            grads = fl.grad(loss)(want, xb, yb)
            updates, opt_state = optimizer.update(grads, opt_state, want)
            want = optax.apply_updates(want, updates)
    assert_close(params, want, 1e-4, 1e-5, "fit vs manual loop")


def test_fit_with_batch_norm_updates_state_and_regression_loss():
    rng = np.random.RandomState(3)
    x = rng.randn(128, 3).astype(np.float32) * 3 + 2
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = nn.Sequential(bn=nn.BatchNorm(momentum=0.9), out=nn.Dense(1))  # 60 steps
    params, state = model.init(KEY, x[:1])
    params, state, history = nn.fit(model, params, state, optax.adam(0.1), (x, y),
                                    loss="mse", epochs=15, batch_size=32, verbose=0)
    assert history["loss"][-1] < 0.05 * history["loss"][0]
    np.testing.assert_allclose(state["bn"]["mean"], x.mean(0), rtol=0.2, atol=0.2)


def test_callbacks_early_stopping_checkpoint_and_lr(tmp_path):
    x, y = _blobs(64)
    params, state = MLP.init(KEY, x[:1])
    stop = nn.EarlyStopping(monitor="val_loss", patience=1)
    ckpt = nn.ModelCheckpoint(tmp_path / "ep{epoch}.safetensors")
    lr = nn.LearningRateLogger()
    frozen = optax.inject_hyperparams(optax.sgd)(learning_rate=0.0)  # nothing changes
    params1, state1, history = nn.fit(MLP, params, state, frozen, (x, y), epochs=5,
                                      validation_data=(x, y), callbacks=[stop, ckpt, lr],
                                      verbose=0)
    assert history.epoch == [0, 1] and stop.stopped_epoch == 1
    assert history["lr"] == [0.0, 0.0]
    assert [p.split("/")[-1] for p in ckpt.saved] == ["ep1.safetensors", "ep2.safetensors"]
    restored = nn.load(ckpt.saved[-1], like={"params": params1, "state": state1,
                                             "opt_state": history.opt_state,
                                             "epoch": 0, "step": 0})
    assert_close(restored["params"], params1, 0, 0, "checkpoint")
    assert restored["epoch"] == 2 and restored["step"] == 4

    schedule = optax.linear_schedule(1.0, 0.0, 4)
    _, _, history = nn.fit(MLP, params, state, optax.sgd(schedule), (x, y), epochs=2,
                           batch_size=32, callbacks=[nn.LearningRateLogger(schedule)],
                           verbose=0)
    assert history["lr"] == pytest.approx([0.5, 0.0])


def test_history_plot(tmp_path):
    history = nn.History()
    for epoch, (loss, val) in enumerate([(1.0, 1.2), (0.5, 0.7), (0.2, 0.4)]):
        history.append(epoch, {"loss": loss, "val_loss": val, "accuracy": 0.5 + epoch / 10})
    path = history.plot(tmp_path / "curves.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
