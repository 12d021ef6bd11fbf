"""nn refuses bad input loudly: parameter trees with missing or misspelled keys name the
layer, the expected key and the keys found (with a suggestion); nn.fit rejects labels
out of range, non-finite losses, empty data and bad batch sizes; nn.predict on zero
examples returns an empty result of the right shape."""
import numpy as np
import pytest

import optax

import functorch_lite as fl
import nn
from harness import assert_close

KEY = fl.random.PRNGKey(0)
X = np.ones((2, 4), np.float32)
MODEL = nn.Sequential(dense1=nn.Dense(3), block=nn.Sequential(proj=nn.Dense(2)))
PARAMS, _ = MODEL.init(KEY, X)


def _renamed(tree, path, new):
    tree = {k: dict(v) if isinstance(v, dict) else v for k, v in tree.items()}
    node = tree
    for k in path[:-1]:
        node[k] = dict(node[k])
        node = node[k]
    node[new] = node.pop(path[-1])
    return tree


KEY_MISTAKES = [
    # (params, layer named, missing key, where, did-you-mean)
    (_renamed(PARAMS, ("dense1",), "dens1"), "layer 'dense1' (Dense)", "dense1", "<root>",
     "did you mean 'dens1'?"),
    (_renamed(PARAMS, ("block", "proj"), "prj"), "layer 'block/proj' (Dense)", "proj",
     "block", "did you mean 'prj'?"),
    (_renamed(PARAMS, ("dense1", "kernel"), "kernal"), "layer 'dense1' (Dense)", "kernel",
     "dense1", "did you mean 'kernal'?"),
    (PARAMS["block"], "layer 'dense1' (Dense)", "dense1", "<root>", None),
]


@pytest.mark.parametrize("params,layer,key,where,hint", KEY_MISTAKES,
                         ids=["top", "nested", "leaf", "wrong_subtree"])
def test_a_missing_or_misspelled_parameter_key_names_the_layer(params, layer, key, where,
                                                                hint):
    with pytest.raises(KeyError) as info:
        MODEL(params, X)
    message = str(info.value)
    assert isinstance(info.value, nn.ParamsKeyError)
    assert layer in message and f"lack the key '{key}' at '{where}'" in message
    assert "found keys [" in message and "init returned" in message
    assert (hint in message) if hint else "did you mean" not in message


def test_a_missing_state_entry_names_the_layer():
    model = nn.Sequential(bn=nn.BatchNorm())
    params, state = model.init(KEY, X)
    with pytest.raises(nn.ParamsKeyError, match=r"layer 'bn' \(BatchNorm\) needs the state "
                                                r"'bn/mean'.*lacks the key 'bn' at "
                                                r"'<root>'.*did you mean 'b'\?"):
        model.apply(params, {"b": state["bn"]}, X)


# --- nn.fit refuses bad data loudly --------------------------------------------------

RNG = np.random.RandomState(0)
DATA_X = RNG.randn(48, 4).astype(np.float32)
DATA_Y = RNG.randint(0, 2, 48).astype(np.int32)
CLASSIFIER = nn.Sequential(out=nn.Dense(2))
CLS_PARAMS, CLS_STATE = CLASSIFIER.init(KEY, DATA_X[:1])
SGD = optax.sgd(0.1)


def _fit(data, **kwargs):
    kwargs = {"batch_size": 16, "shuffle": False, "verbose": 0, **kwargs}
    return nn.fit(CLASSIFIER, CLS_PARAMS, CLS_STATE, SGD, data, **kwargs)


@pytest.mark.parametrize("bad", [-1, 2, 7])
def test_labels_outside_the_classes_raise_naming_epoch_and_batch(bad):
    y = DATA_Y.copy()
    y[20] = bad  # batch 2
    with pytest.raises(ValueError, match=rf"epoch 1, batch 2: output 'the output' has 1 "
                                         rf"integer labels outside \[0, 2\) \(found "
                                         rf"{min(bad, 0)} \.\. {max(bad, 1)}\)"):
        _fit((DATA_X, y))
    with pytest.raises(ValueError, match=r"validation_data: 1 integer labels lie outside"):
        _fit((DATA_X, DATA_Y), validation_data=(DATA_X, y))
    with pytest.raises(ValueError, match=r"data: 1 integer labels lie outside"):
        nn.evaluate(CLASSIFIER, CLS_PARAMS, CLS_STATE, (DATA_X, y), metrics=["accuracy"])


def _poisoned():
    x = DATA_X.copy()
    x[37] = np.inf  # epoch 1, batch 3
    return x


def test_a_non_finite_loss_raises_naming_epoch_and_batch():
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 1, batch 3 "
                                                 r"\(step 3\).*on_nan='stop'"):
        _fit((_poisoned(), DATA_Y), epochs=2)


def test_on_nan_stop_keeps_the_last_finite_parameters():
    before, _, _ = _fit((_poisoned()[:32], DATA_Y[:32]))  # the two good batches
    with pytest.warns(RuntimeWarning, match="epoch 1, batch 3.*training stopped") as w:
        params, _, history = _fit((_poisoned(), DATA_Y), epochs=3, on_nan="stop")
    assert w[0].filename == __file__
    assert_close(params, before, 0, 0, "params before the NaN step")
    assert history.epoch == [0] and np.isnan(history["loss"][0])
    with pytest.warns(RuntimeWarning, match="batch 3"):
        same, _, _ = _fit((_poisoned(), DATA_Y), epochs=3,
                          callbacks=[nn.TerminateOnNaN()])
    assert_close(same, before, 0, 0, "TerminateOnNaN")
    # with a per-batch callback each step is checked before the next one starts
    ends = []
    counter = nn.LambdaCallback(on_train_batch_end=lambda batch, logs: ends.append(batch))
    with pytest.warns(RuntimeWarning, match="batch 3"):
        checked, _, _ = _fit((_poisoned(), DATA_Y), epochs=3, on_nan="stop",
                             callbacks=[counter])
    assert_close(checked, before, 0, 0, "stop with batch callbacks")
    assert ends == [0, 1, 2]


def test_on_nan_continue_trains_on():
    _, _, history = _fit((_poisoned(), DATA_Y), epochs=2, on_nan="continue")
    assert history.epoch == [0, 1] and np.isnan(history["loss"][-1])
    with pytest.raises(ValueError, match="on_nan must be one of"):
        _fit((DATA_X, DATA_Y), on_nan="ignore")


def test_empty_data_raises():
    with pytest.raises(ValueError, match=r"data is empty \(0 examples\)"):
        _fit((DATA_X[:0], DATA_Y[:0]))
    with pytest.raises(ValueError, match="data yielded no batches"):
        _fit([])
    with pytest.raises(ValueError, match="data yielded no batches"):
        _fit(lambda: iter(()))
    with pytest.raises(ValueError, match=r"validation_data is empty"):
        _fit((DATA_X, DATA_Y), validation_data=(DATA_X[:0], DATA_Y[:0]))


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "32"])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got "
                                         f"{batch_size!r}"):
        _fit((DATA_X, DATA_Y), batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        nn.predict(CLASSIFIER, CLS_PARAMS, CLS_STATE, DATA_X, batch_size=batch_size)


def test_predict_on_zero_examples_is_empty_with_the_right_shape():
    out = nn.predict(CLASSIFIER, CLS_PARAMS, CLS_STATE, DATA_X[:0])
    assert out.shape == (0, 2) and out.dtype == np.float32
