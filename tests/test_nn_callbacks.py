"""Callbacks: Keras' hooks in Keras' order, EarlyStopping, ModelCheckpoint, the
learning-rate callbacks through optax.inject_hyperparams (and optax.contrib's
reduce_on_plateau inside fit), CSVLogger, TensorBoard, BackupAndRestore (a resumed run
equals an uninterrupted one bit for bit), LambdaCallback, History.plot."""
import csv
import struct
import sys

import numpy as np
import pytest

import jax
import optax
from optax import contrib

import functorch_lite as fl
import nn
from harness import assert_close

KEY = fl.random.PRNGKey(0)
RNG = np.random.RandomState(0)
X = RNG.randn(40, 3).astype(np.float32)
Y = (X[:, 0] - X[:, 2] > 0).astype(np.int32)
MLP = nn.Sequential(hidden=nn.Dense(8), act=nn.ReLU(), drop=nn.Dropout(0.2),
                    out=nn.Dense(2))
PARAMS, STATE = MLP.init(KEY, X[:1])
ADAM = optax.adam(0.05)
INJECTED = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)


def _fit(optimizer=ADAM, **kwargs):
    kwargs = {"epochs": 2, "batch_size": 16, "verbose": 0, **kwargs}
    return nn.fit(MLP, PARAMS, STATE, optimizer, (X, Y), **kwargs)


class Recorder(nn.Callback):
    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda *args: self.calls.append(
                (name, *args[:1]) if args and isinstance(args[0], int) else (name,))
        return super().__getattribute__(name)


def test_hooks_run_in_keras_order():
    recorder = Recorder()
    _fit(epochs=1, batch_size=20, validation_data=(X[:30], Y[:30]),
         validation_batch_size=16, callbacks=[recorder])
    assert recorder.calls == [
        ("on_train_begin",), ("on_epoch_begin", 0),
        ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
        ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
        ("on_test_batch_begin", 1), ("on_test_batch_end", 1), ("on_test_end",),
        ("on_epoch_end", 0), ("on_train_end",)]
    recorder.calls.clear()
    nn.evaluate(MLP, PARAMS, STATE, (X, Y), metrics=["accuracy"], callbacks=[recorder])
    assert [c[0] for c in recorder.calls] == ["on_test_begin", "on_test_batch_begin",
                                              "on_test_batch_end", "on_test_end"]
    recorder.calls.clear()
    nn.predict(MLP, PARAMS, STATE, X, batch_size=32, callbacks=[recorder])
    assert [c[0] for c in recorder.calls] == [
        "on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
        "on_predict_batch_begin", "on_predict_batch_end", "on_predict_end"]


def test_lambda_callback_sees_running_batch_logs_and_the_trainer():
    seen = []
    callback = nn.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append((batch, logs["loss"],
                                                            logs["accuracy"])))
    _, _, history = _fit(epochs=1, metrics=["accuracy"], callbacks=[callback])
    assert [b for b, _, _ in seen] == [0, 1, 2]
    assert seen[-1][1] == pytest.approx(history["loss"][0])  # running mean of the epoch
    assert seen[-1][2] == pytest.approx(history["accuracy"][0])
    with pytest.raises(TypeError, match="unknown hooks \\['on_batch_end'\\]"):
        nn.LambdaCallback(on_batch_end=print)


def _scripted(values, name="score"):
    """A callback that logs `values[epoch]` as `name` (runs before the others)."""
    return nn.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(
        name, values[epoch]))


def _snapshots():
    saved = {}
    callback = nn.LambdaCallback(on_epoch_end=lambda epoch, logs: saved.__setitem__(
        epoch, callback.trainer.params))
    return saved, callback


def test_early_stopping_restores_the_best_weights():
    saved, snapshot = _snapshots()
    stop = nn.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    params, _, history = _fit(epochs=10, callbacks=[_scripted([3, 1, 2, 2, 0, 0]),
                                                    snapshot, stop])
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3
    assert stop.best_epoch == 1
    assert_close(params, saved[1], 0, 0, "best weights")
    kept, _, _ = _fit(epochs=10, callbacks=[_scripted([3, 1, 2, 2]),
                                            nn.EarlyStopping(monitor="score", patience=2)])
    assert not np.array_equal(kept["out"]["kernel"], saved[1]["out"]["kernel"])
    with pytest.warns(UserWarning, match="monitors 'val_los', which the logs lack"):
        _fit(epochs=1, callbacks=[nn.EarlyStopping(monitor="val_los")])


def test_model_checkpoint_saves_the_best_epochs_with_the_optimizer_state(tmp_path):
    states = {}
    record = nn.LambdaCallback(on_epoch_end=lambda epoch, logs: states.__setitem__(
        epoch, record.trainer.opt_state))
    checkpoint = nn.ModelCheckpoint(tmp_path / "best-{epoch}-{score:.0f}.safetensors",
                                    monitor="score", save_best_only=True)
    _, _, history = _fit(epochs=4, callbacks=[_scripted([5, 3, 4, 1]), record,
                                              checkpoint])
    assert [p.split("/")[-1] for p in checkpoint.saved] == [
        "best-1-5.safetensors", "best-2-3.safetensors", "best-4-1.safetensors"]
    like = {"params": PARAMS, "state": STATE, "opt_state": ADAM.init(PARAMS), "epoch": 0,
            "step": 0}
    restored = nn.load(checkpoint.saved[1], like=like)
    assert restored["epoch"] == 2 and restored["step"] == 6
    assert_close(restored["opt_state"], states[1], 0, 0, "optimizer state")


def test_learning_rate_scheduler_and_logger_through_inject_hyperparams():
    saved, snapshot = _snapshots()
    scheduler = nn.LearningRateScheduler(lambda epoch, lr: 0.0 if epoch >= 1 else lr)
    params, _, history = _fit(INJECTED, epochs=3, callbacks=[scheduler, snapshot])
    assert history["lr"] == [pytest.approx(0.1), 0.0, 0.0]
    assert_close(params, saved[0], 0, 0, "learning rate 0 from epoch 2 on")
    _, _, history = _fit(INJECTED, epochs=2, callbacks=[
        nn.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))])
    assert history["lr"] == pytest.approx([0.1, 0.05])
    with pytest.raises(ValueError, match="inject_hyperparams"):
        _fit(ADAM, epochs=1, callbacks=[nn.LearningRateScheduler(lambda e: 0.1)])
    schedule = optax.linear_schedule(1.0, 0.0, 6)
    _, _, history = _fit(optax.sgd(schedule), callbacks=[nn.LearningRateLogger(schedule)])
    assert history["lr"] == pytest.approx([0.5, 0.0])


def test_reduce_lr_on_plateau():
    reduce = nn.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, cooldown=1)
    _, _, history = _fit(INJECTED, epochs=7, callbacks=[_scripted([1.0] * 7), reduce])
    # Keras' rule: no improvement after the first epoch, so halve once `patience`
    # epochs wait; the cooldown epoch is counted off at the start of the next epoch end
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert nn.get_learning_rate(history.opt_state) == pytest.approx(0.0125)
    with pytest.raises(ValueError, match="inject_hyperparams"):
        _fit(ADAM, epochs=1, callbacks=[nn.ReduceLROnPlateau()])


def test_optax_contrib_reduce_on_plateau_runs_inside_fit():
    """reduce_on_plateau needs the loss as `value=`: fit passes it, fused in the step."""
    optimizer = optax.chain(optax.sgd(0.1), contrib.reduce_on_plateau(
        patience=1, factor=0.5, accumulation_size=1, min_scale=0.01))
    params, _, history = _fit(optimizer, epochs=2, shuffle=False)
    assert history.update_mode == "fused"
    model_loss = lambda p, xb, yb, key: nn.softmax_cross_entropy(
        MLP.apply(p, STATE, xb, rng=key, training=True)[0], yb)
    value_and_grad = fl.jit(fl.value_and_grad(model_loss))
    update = jax.jit(lambda g, s, p, v: optimizer.update(g, s, p, value=v))  # optax's own
    want, opt_state, step = PARAMS, optimizer.init(PARAMS), 0
    layers = nn.fold_name(fl.random.PRNGKey(0), "layers")
    for _ in range(2):
        for xb, yb in nn.batches((X, Y), 16):
            loss, grads = value_and_grad(want, xb, yb, fl.random.fold_in(layers, step))
            updates, opt_state = update(grads, opt_state, want, loss)
            want, step = optax.apply_updates(want, updates), step + 1
    assert_close(params, want, 1e-5, 1e-6, "reduce_on_plateau")
    assert_close(history.opt_state[1].scale, opt_state[1].scale, 1e-6, 0, "scale")
    frozen = optax.chain(optax.sgd(0.0), contrib.reduce_on_plateau(
        patience=1, factor=0.5, accumulation_size=1))
    _, _, history = _fit(frozen, epochs=1)  # a flat loss: the plateau halves the scale
    assert float(history.opt_state[1].scale) < 1.0


def test_csv_logger_writes_uneven_logs(tmp_path):
    path = tmp_path / "log.csv"
    _fit(epochs=3, validation_data=(X, Y), validation_freq=2,
         callbacks=[nn.CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["val_loss"] == "" and float(rows[1]["val_loss"]) > 0
    _fit(epochs=1, callbacks=[nn.CSVLogger(path, append=True)])
    assert [r["epoch"] for r in csv.DictReader(open(path))] == ["0", "1", "2", "0"]


def _events(directory):
    """(tag, kind) of every summary value in the tensorboardX event files."""
    from tensorboardX.proto import event_pb2
    found = []
    for path in directory.rglob("events.out.tfevents.*"):
        data = path.read_bytes()
        i = 0
        while i < len(data):
            (length,) = struct.unpack("<Q", data[i:i + 8])
            event = event_pb2.Event.FromString(data[i + 12:i + 12 + length])
            i += 12 + length + 4
            for value in event.summary.value:
                found.append((value.tag, value.WhichOneof("value")))
    return found


def test_tensorboard_scalars_histograms_and_graph(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX is a dev dependency")
    board = nn.TensorBoard(tmp_path, histogram_freq=1, write_graph=True, update_freq=2)
    _fit(epochs=2, validation_data=(X, Y), callbacks=[board])
    events = _events(tmp_path)
    assert ("epoch_loss", "simple_value") in events
    assert ("epoch_val_loss", "simple_value") in events
    assert ("batch_loss", "simple_value") in events
    assert ("hidden/kernel", "histo") in events and ("out/bias", "histo") in events
    assert any(tag.startswith("graph") for tag, _ in events)


def test_tensorboard_without_tensorboardx_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        nn.TensorBoard("logs")


# --- BackupAndRestore ----------------------------------------------------------------

class Interrupt(Exception):
    pass


def _interrupt_at(step):
    def check(batch, logs):
        if crash.trainer.step == step:
            raise Interrupt
    crash = nn.LambdaCallback(on_train_batch_end=check)
    return crash


@pytest.mark.parametrize("save_freq,crash_step", [(3, 8), ("epoch", 5)])
def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path, save_freq,
                                                                crash_step):
    # 40 examples in batches of 16: 3 steps per epoch (the last padded), dropout, shuffling
    kwargs = dict(epochs=4, metrics=["accuracy"], validation_data=(X[:24], Y[:24]))
    params, _, history = _fit(**kwargs)
    backup = nn.BackupAndRestore(tmp_path / "backup", save_freq=save_freq)
    with pytest.raises(Interrupt):
        _fit(callbacks=[backup, _interrupt_at(crash_step)], **kwargs)
    assert (tmp_path / "backup" / "backup.safetensors").exists()
    resumed_backup = nn.BackupAndRestore(tmp_path / "backup", save_freq=save_freq)
    resumed, _, resumed_history = _fit(callbacks=[resumed_backup], **kwargs)
    assert resumed_backup.restored
    assert_close(resumed, params, 0, 0, "resumed parameters")
    assert resumed_history.history == history.history
    assert resumed_history.epoch == history.epoch
    assert not (tmp_path / "backup" / "backup.safetensors").exists()  # done: removed


def test_a_resumed_stream_continues_at_its_data_position(tmp_path):
    batches = list(nn.batches((X, Y), 8))  # 5 per pass, 3 steps per epoch
    kwargs = dict(epochs=3, steps_per_epoch=3)
    stream = lambda: iter(batches)
    params, _, _ = nn.fit(MLP, PARAMS, STATE, ADAM, stream, verbose=0, **kwargs)
    backup = nn.BackupAndRestore(tmp_path, save_freq=2)
    with pytest.raises(Interrupt):
        nn.fit(MLP, PARAMS, STATE, ADAM, stream, verbose=0,
               callbacks=[backup, _interrupt_at(5)], **kwargs)
    resumed, _, _ = nn.fit(MLP, PARAMS, STATE, ADAM, stream, verbose=0,
                           callbacks=[nn.BackupAndRestore(tmp_path, save_freq=2)],
                           **kwargs)
    assert_close(resumed, params, 0, 0, "resumed stream")


# --- History.plot --------------------------------------------------------------------

def test_history_plot_handles_uneven_logs(tmp_path):
    pytest.importorskip("matplotlib", reason="plotting needs matplotlib (dev extra)")
    history = nn.History()
    for epoch in range(4):
        logs = {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + epoch / 10}
        if epoch % 2:
            logs["val_loss"] = 1.2 / (epoch + 1)
        if epoch >= 2:
            logs["lr"] = 0.01
        history.append(epoch, logs)
    assert history.epochs_of["val_loss"] == [1, 3] and history.epochs_of["lr"] == [2, 3]
    path = history.plot(tmp_path / "curves.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    figure = history.plot()
    panels = figure.axes
    assert [ax.get_title() for ax in panels] == ["loss", "accuracy", "lr"]
    train, validation = panels[0].get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert list(validation.get_xdata()) == [2, 4]
    assert validation.get_label() == "validation"
