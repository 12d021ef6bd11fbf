"""nn.fit / evaluate / predict on every data form, multi-input multi-output models, the
validation options, weights, initial_epoch, gradient accumulation, padded last batches
(one compiled step), and the progress output. Equivalent runs are compared exactly:
the same batches through the same compiled step give the same bits."""
import io
import itertools

import numpy as np
import pytest

import optax

import functorch_lite as fl
import nn
from harness import assert_close

KEY = fl.random.PRNGKey(0)
RNG = np.random.RandomState(0)
X = RNG.randn(64, 3).astype(np.float32)
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int32)
MLP = nn.Sequential(hidden=nn.Dense(8), act=nn.ReLU(), out=nn.Dense(2))
PARAMS, STATE = MLP.init(KEY, X[:1])
ADAM = optax.adam(0.05)
BATCHES = [(X[i:i + 16], Y[i:i + 16]) for i in range(0, 64, 16)]


def _fit(data, **kwargs):
    kwargs = {"epochs": 2, "shuffle": False, "verbose": 0, **kwargs}
    return nn.fit(MLP, PARAMS, STATE, ADAM, data, **kwargs)


def _same(a, b):
    assert_close(a, b, 0, 0, "params")


@pytest.fixture(scope="module")
def reference():
    """Two epochs over the arrays in order, batches of 16."""
    params, _, history = _fit((X, Y), batch_size=16)
    return params, history


class Tensor:
    """Stands in for a torch / tf tensor: converts through __array__."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype = array.shape, array.dtype

    def __array__(self, dtype=None, copy=None):
        return self.array


class Loader:
    """A DataLoader / tf.data-like re-iterable of tensor pairs."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter([(Tensor(x), Tensor(y)) for x, y in self.batches])

    def __len__(self):
        return len(self.batches)


def _endless():
    return itertools.cycle(BATCHES)


DATA_FORMS = {
    "nn.batches": lambda: nn.batches((X, Y), 16),
    "list": lambda: list(BATCHES),
    "function": lambda: (lambda: iter(BATCHES)),
    "generator_with_steps": lambda: (b for b in _endless()),
    "dataloader_like": lambda: Loader(BATCHES),
}


@pytest.mark.parametrize("form", sorted(DATA_FORMS))
def test_every_data_form_trains_the_same_steps(reference, form):
    steps = {"steps_per_epoch": 4} if form == "generator_with_steps" else {}
    params, _, history = _fit(DATA_FORMS[form](), **steps)
    _same(params, reference[0])
    assert history.history == reference[1].history


def test_a_torch_dataloader_trains_like_the_arrays(reference):
    torch = pytest.importorskip("torch", reason="torch is optional; the duck-typed "
                                                "loader above covers its protocol")
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
    params, _, _ = _fit(torch.utils.data.DataLoader(dataset, batch_size=16))
    _same(params, reference[0])


def test_a_one_shot_generator_is_refused_for_several_epochs_and_runs_out_loudly():
    with pytest.raises(ValueError, match="one-shot iterator.*iterated 2 times.*lambda"):
        _fit(b for b in BATCHES)
    params, _, history = _fit((b for b in BATCHES), epochs=1)
    assert history.epoch == [0]
    with pytest.raises(ValueError, match="ran out after 4 batches.*one-shot"):
        _fit((b for b in BATCHES), steps_per_epoch=3)


def test_steps_per_epoch_streams_across_passes():
    streamed, _, history = _fit(list(BATCHES), epochs=3, steps_per_epoch=3)
    order = [BATCHES[i % 4] for i in range(9)]  # 0 1 2 | 3 0 1 | 2 3 0
    flat, _, _ = _fit(order, epochs=1)
    _same(streamed, flat)
    assert history.epoch == [0, 1, 2]


def test_initial_epoch_continues_a_run_exactly():
    full, _, _ = _fit((X, Y), epochs=3, batch_size=16, shuffle=True)
    first, _, history = _fit((X, Y), epochs=1, batch_size=16, shuffle=True)
    rest, _, history2 = nn.fit(MLP, first, STATE, ADAM, (X, Y), epochs=3, initial_epoch=1,
                               batch_size=16, opt_state=history.opt_state, verbose=0)
    _same(rest, full)
    assert history2.epoch == [1, 2]


def test_shuffling_depends_on_rng_only():
    a, _, _ = _fit((X, Y), batch_size=16, shuffle=True, rng=fl.random.PRNGKey(3))
    b, _, _ = _fit((X, Y), batch_size=16, shuffle=True, rng=fl.random.PRNGKey(3))
    c, _, _ = _fit((X, Y), batch_size=16, shuffle=True, rng=fl.random.PRNGKey(4))
    _same(a, b)
    assert not np.array_equal(a["out"]["kernel"], c["out"]["kernel"])


def test_gradient_accumulation_equals_the_larger_batch():
    sgd = optax.sgd(0.3)
    big, _, _ = nn.fit(MLP, PARAMS, STATE, sgd, (X, Y), batch_size=16, shuffle=False,
                       verbose=0)
    accumulated, _, history = nn.fit(MLP, PARAMS, STATE, sgd, (X, Y), batch_size=8,
                                     shuffle=False, gradient_accumulation_steps=2,
                                     verbose=0)
    assert_close(accumulated, big, 1e-5, 1e-6, "accumulated")
    assert history.update_mode == "fused"


# --- the padded last batch -----------------------------------------------------------

TRACES = []


def counted(x):
    TRACES.append(x.shape)
    return x


def test_a_partial_last_batch_reuses_the_compiled_step_and_is_exact():
    model = nn.Sequential(count=nn.Lambda(counted), hidden=nn.Dense(4), out=nn.Dense(2))
    x, y = X[:40], Y[:40]  # batches of 16, 16 and 8
    params, state = model.init(KEY, x[:1])
    TRACES.clear()
    sgd = optax.sgd(0.1)
    trained, _, _ = nn.fit(model, params, state, sgd, (x, y), batch_size=16,
                           shuffle=False, verbose=0)
    # the abstract pass that finds the output shapes, then one trace of the train step
    assert TRACES == [(16, 3), (16, 3)]
    grad = fl.jit(fl.grad(lambda p, xb, yb: nn.softmax_cross_entropy(model(p, xb), yb)))
    want, opt_state = params, sgd.init(params)
    for xb, yb in nn.batches((x, y), 16):
        updates, opt_state = sgd.update(grad(want, xb, yb), opt_state, want)
        want = optax.apply_updates(want, updates)
    assert_close(trained, want, 1e-5, 1e-6, "padded step")


def test_a_stateful_model_gets_the_exact_partial_batch():
    model = nn.Sequential(count=nn.Lambda(counted), bn=nn.BatchNorm(), out=nn.Dense(2))
    params, state = model.init(KEY, X[:1])
    TRACES.clear()
    nn.fit(model, params, state, optax.sgd(0.1), (X[:40], Y[:40]), batch_size=16,
           verbose=0)
    assert TRACES == [(16, 3), (16, 3), (8, 3)]  # BatchNorm must not see padded rows


def test_evaluation_is_compiled_once_and_predict_pads():
    model = nn.Sequential(count=nn.Lambda(counted), out=nn.Dense(2))
    params, state = model.init(KEY, X[:1])
    TRACES.clear()
    first = nn.evaluate(model, params, state, (X, Y), loss="cross_entropy",
                        metrics=["accuracy"], batch_size=24)
    again = nn.evaluate(model, params, state, (X, Y), loss="cross_entropy",
                        metrics=["accuracy"], batch_size=24)
    assert first == again
    assert TRACES == [(24, 3), (24, 3), (24, 3)]  # shapes twice, the program once
    logits = model(params, X)
    want = float(nn.softmax_cross_entropy(logits, Y))
    assert first["loss"] == pytest.approx(want, rel=1e-5)
    TRACES.clear()
    out = nn.predict(model, params, state, X, batch_size=24)  # 24, 24, 16 (padded)
    assert TRACES == [(24, 3)]
    np.testing.assert_allclose(out, logits, rtol=1e-6, atol=1e-6)


# --- multi-input, multi-output models -------------------------------------------------

class TwoInTwoOut(nn.Layer):
    @property
    def image(self): return nn.Dense(8)
    @property
    def meta(self): return nn.Dense(8)
    @property
    def label(self): return nn.Dense(2)
    @property
    def value(self): return nn.Dense(1)

    def forward(self, scope, inputs):
        h = fl.nn.relu(scope.image(inputs["image"]) + scope.meta(inputs["meta"]))
        return {"label": scope.label(h), "value": scope.value(h)}


TWO = TwoInTwoOut()
INPUTS = {"image": X, "meta": X[:, :2] ** 2}
TARGETS = {"label": Y, "value": X[:, :1] * 2 - X[:, 1:2]}
TWO_PARAMS, TWO_STATE = TWO.init(KEY, {k: v[:1] for k, v in INPUTS.items()})
LOSSES = {"label": "cross_entropy", "value": "mse"}


def test_two_inputs_two_outputs_from_dicts_with_validation_split_and_class_weights():
    kwargs = dict(loss=LOSSES, loss_weights={"label": 1.0, "value": 0.5},
                  metrics={"label": ["accuracy"], "value": ["mae"]}, epochs=3,
                  batch_size=16, validation_split=0.25, verbose=0)
    params, state, history = nn.fit(TWO, TWO_PARAMS, TWO_STATE, ADAM, (INPUTS, TARGETS),
                                    class_weight={"label": {0: 1.0, 1: 3.0}}, **kwargs)
    assert set(history.history) == {
        "loss", "label_loss", "value_loss", "label_accuracy", "value_mae", "val_loss",
        "val_label_loss", "val_value_loss", "val_label_accuracy", "val_value_mae"}
    assert history["loss"][-1] < history["loss"][0]
    # the held-out quarter is the last 16 examples (Keras: before shuffling)
    held_out = ({k: v[48:] for k, v in INPUTS.items()}, {k: v[48:] for k, v in
                                                         TARGETS.items()})
    val = nn.evaluate(TWO, params, state, held_out, loss=LOSSES,
                      loss_weights={"label": 1.0, "value": 0.5},
                      metrics={"label": ["accuracy"], "value": ["mae"]})
    for name, value in val.items():
        assert history["val_" + name][-1] == pytest.approx(value, rel=1e-5), name
    # class weights are per-example weights of the label output
    weights = np.where(Y[:48] == 1, 3.0, 1.0).astype(np.float32)
    same, _, _ = nn.fit(TWO, TWO_PARAMS, TWO_STATE, ADAM, (
        {k: v[:48] for k, v in INPUTS.items()}, {k: v[:48] for k, v in TARGETS.items()}),
        sample_weight={"label": weights}, validation_data=held_out,
        **{k: v for k, v in kwargs.items() if k != "validation_split"})
    _same(same, params)
    unweighted, _, _ = nn.fit(TWO, TWO_PARAMS, TWO_STATE, ADAM, (INPUTS, TARGETS), **kwargs)
    assert not np.allclose(unweighted["label"]["kernel"], params["label"]["kernel"])


def test_tuple_inputs_are_positional_and_tuple_outputs_are_named_by_position():
    class Pair(nn.Layer):
        @property
        def a(self): return nn.Dense(2)
        @property
        def b(self): return nn.Dense(1)

        def forward(self, scope, left, right):
            h = scope.a(left) * right
            return h, scope.b(h)

    model = Pair()
    params, state = model.init(KEY, X[:1], X[:1, :1])
    _, _, history = nn.fit(model, params, state, ADAM, ((X, X[:, :1]), (Y, X[:, :1])),
                           loss=["cross_entropy", "mse"], metrics=[["accuracy"], []],
                           batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "output_0_loss", "output_1_loss",
                                    "output_0_accuracy"}
    out = nn.predict(model, params, state, (X, X[:, :1]))
    assert out[0].shape == (64, 2) and out[1].shape == (64, 1)


def test_structure_mistakes_are_explained():
    with pytest.raises(ValueError, match=r"targets have entries \['label'\] but the "
                                         r"model's outputs are \['label', 'value'\]"):
        nn.fit(TWO, TWO_PARAMS, TWO_STATE, ADAM, (INPUTS, {"label": Y}), verbose=0)
    with pytest.raises(ValueError, match=r"loss has entries \['lable'\] that are not "
                                         r"outputs"):
        nn.fit(TWO, TWO_PARAMS, TWO_STATE, ADAM, (INPUTS, TARGETS),
               loss={"lable": "mse"}, verbose=0)
    with pytest.raises(ValueError, match="class_weight .* is ambiguous"):
        nn.fit(TWO, TWO_PARAMS, TWO_STATE, ADAM, (INPUTS, TARGETS), loss=LOSSES,
               class_weight={0: 1.0, 1: 2.0}, verbose=0)
    with pytest.raises(TypeError, match="yielded a dict.*batch\\['image'\\]"):
        _fit([{"image": X, "label": Y}])


# --- validation options, sample weights ---------------------------------------------

def test_validation_freq_and_uneven_history():
    _, _, history = _fit((X, Y), epochs=4, batch_size=32, validation_data=(X, Y),
                         validation_freq=2)
    assert history.epochs_of["val_loss"] == [1, 3] and len(history["val_loss"]) == 2
    _, _, history = _fit((X, Y), epochs=3, batch_size=32,
                         validation_data=lambda: iter(BATCHES), validation_freq=[1, 3],
                         validation_steps=2)
    assert history.epochs_of["val_loss"] == [0, 2]


def test_sample_weight_weights_the_loss_like_keras():
    weights = RNG.rand(64).astype(np.float32)
    logs = nn.evaluate(MLP, PARAMS, STATE, (X, Y), loss="cross_entropy",
                       sample_weight=weights, batch_size=24)
    per_example = nn.softmax_cross_entropy(MLP(PARAMS, X), Y, reduction="none")
    assert logs["loss"] == pytest.approx(float((weights * per_example).sum() / 64),
                                         rel=1e-5)
    with_tuple = nn.evaluate(MLP, PARAMS, STATE, (X, Y, weights), loss="cross_entropy",
                             batch_size=24)
    assert with_tuple == logs


def test_predict_outputs_callbacks_and_zero_examples():
    seen = []
    callback = nn.LambdaCallback(on_predict_batch_end=lambda i, logs: seen.append(
        logs["outputs"].shape))
    out = nn.predict(MLP, PARAMS, STATE, X[:50], batch_size=32, callbacks=[callback])
    assert out.shape == (50, 2) and seen == [(32, 2), (18, 2)]
    empty = nn.predict(MLP, PARAMS, STATE, X[:0])
    assert empty.shape == (0, 2) and empty.dtype == np.float32
    two = nn.predict(TWO, TWO_PARAMS, TWO_STATE, {k: v[:0] for k, v in INPUTS.items()})
    assert two["label"].shape == (0, 2) and two["value"].shape == (0, 1)
    from_iterable = nn.predict(MLP, PARAMS, STATE, lambda: iter([(X[:10],), (X[10:20],)]))
    np.testing.assert_allclose(from_iterable, MLP(PARAMS, X[:20]), rtol=1e-6, atol=1e-6)


# --- progress ------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_lines_when_not_a_terminal_and_a_bar_on_one(capsys, monkeypatch):
    _fit((X, Y), batch_size=16, verbose=1, metrics=["accuracy"])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2  loss ")
    assert "accuracy" in lines[1] and "samples/s" in lines[1] and "\r" not in out
    _fit((X, Y), batch_size=16, verbose=0)
    assert capsys.readouterr().out == ""
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr(nn._progress, "_REFRESH_S", 0.0)
    _fit((X, Y), batch_size=16, verbose=1, metrics=["accuracy"])
    bar = terminal.getvalue()
    assert "Epoch 1/2" in bar and "4/4" in bar and "step/s" in bar  # tqdm: steps, speed
    assert "<00:00" in bar and "samples/s" in bar and "accuracy" in bar  # ETA, metrics
