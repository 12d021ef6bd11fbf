"""Losses say what they expect (from_logits, Keras' meaning for Keras' names) and match
optax / Keras' formulas with their gradients; metrics accumulate over whole epochs and
equal scikit-learn's values whatever the batch sizes and padding; a model head that
contradicts its loss gets a warning at the user's line."""
import warnings

import numpy as np
import pytest

import jax
import jax.numpy as jnp
import optax
from sklearn import metrics as skm

import functorch_lite as fl
import nn
from harness import assert_close

RNG = np.random.RandomState(0)
N, C = 50, 4
LOGITS = RNG.randn(N, C).astype(np.float32)
LABELS = RNG.randint(0, C, N).astype(np.int32)
ONE_HOT = np.eye(C, dtype=np.float32)[LABELS]
PROBS = np.asarray(jax.nn.softmax(LOGITS), np.float32)
BIN_LOGITS = RNG.randn(N, 1).astype(np.float32)
BIN_PROBS = np.asarray(jax.nn.sigmoid(BIN_LOGITS), np.float32)
BIN_LABELS = (RNG.rand(N) > 0.5).astype(np.float32)
WEIGHTS = RNG.rand(N).astype(np.float32)
EPS = 1e-7


def keras_categorical(p, t):  # Keras' formula for probabilities
    p = p / p.sum(-1, keepdims=True)
    return -(t * jnp.log(jnp.clip(p, EPS, 1 - EPS))).sum(-1)


def keras_binary(p, t):
    p = jnp.clip(p, EPS, 1 - EPS)
    return (-(t * jnp.log(p) + (1 - t) * jnp.log(1 - p))).mean(-1)


LOSS_CASES = [
    ("cce_logits_int", nn.losses.CategoricalCrossentropy(from_logits=True), LOGITS, LABELS,
     lambda x: optax.softmax_cross_entropy_with_integer_labels(x, LABELS)),
    ("cce_logits_smoothing", nn.losses.CategoricalCrossentropy(True, 0.1), LOGITS, ONE_HOT,
     lambda x: optax.softmax_cross_entropy(x, optax.smooth_labels(ONE_HOT, 0.1))),
    ("cce_probs", nn.losses.CategoricalCrossentropy(), PROBS, ONE_HOT,
     lambda p: keras_categorical(p, ONE_HOT)),
    ("scce_probs", nn.losses.SparseCategoricalCrossentropy(), PROBS, LABELS,
     lambda p: keras_categorical(p, ONE_HOT)),
    ("bce_logits", nn.losses.BinaryCrossentropy(from_logits=True), BIN_LOGITS, BIN_LABELS,
     lambda x: optax.sigmoid_binary_cross_entropy(x[:, 0], BIN_LABELS)),
    ("bce_probs", nn.losses.BinaryCrossentropy(), BIN_PROBS, BIN_LABELS,
     lambda p: keras_binary(p, BIN_LABELS[:, None])),
    ("bce_probs_smoothing", nn.losses.BinaryCrossentropy(label_smoothing=0.2), BIN_PROBS,
     BIN_LABELS, lambda p: keras_binary(p, BIN_LABELS[:, None] * 0.8 + 0.1)),
    ("kld_probs", nn.losses.KLDivergence(), PROBS, PROBS[::-1],
     lambda p: (PROBS[::-1] * (jnp.log(PROBS[::-1]) - jnp.log(jnp.clip(p, EPS, 1)))).sum(-1)),
    ("kld_logits", nn.losses.KLDivergence(from_logits=True), LOGITS, PROBS[::-1],
     lambda x: optax.kl_divergence(jax.nn.log_softmax(x), PROBS[::-1])),
    ("mse", nn.losses.MeanSquaredError(), LOGITS, PROBS,
     lambda x: ((x - PROBS) ** 2).mean(-1)),
    ("mae", nn.losses.MeanAbsoluteError(), LOGITS, PROBS, lambda x: jnp.abs(x - PROBS).mean(-1)),
    ("huber", nn.losses.Huber(0.7), LOGITS, PROBS,
     lambda x: optax.huber_loss(x, PROBS, delta=0.7).mean(-1)),
]


@pytest.mark.parametrize("name,loss,x,t,ref", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_objects_match_optax_and_keras_formulas(name, loss, x, t, ref):
    values = fl.jit(lambda v: (loss.per_example(v, t), loss(v, t, WEIGHTS),
                               fl.grad(lambda u: loss(u, t))(v)))
    per_example, weighted, grad = values(x)
    assert_close(per_example, ref(jnp.asarray(x)), 1e-5, 1e-6, name)
    assert_close(weighted, (ref(jnp.asarray(x)) * WEIGHTS).mean(), 1e-5, 1e-6, name)
    assert_close(grad, jax.grad(lambda v: ref(v).mean())(jnp.asarray(x)), 1e-4, 1e-6, name)


def test_loss_names_have_keras_meanings():
    assert nn.losses.get_loss("categorical_crossentropy").from_logits is False
    assert nn.losses.get_loss("sparse_categorical_crossentropy").from_logits is False
    assert nn.losses.get_loss("binary_crossentropy").from_logits is False
    assert nn.losses.get_loss("cross_entropy").from_logits is True  # optax/PyTorch name
    assert nn.losses.get_loss("sigmoid_binary_cross_entropy").from_logits is True
    with pytest.raises(ValueError, match="ambiguous.*binary_crossentropy.*sigmoid_binary"):
        nn.losses.get_loss("binary_cross_entropy")
    with pytest.raises(ValueError, match="unknown loss 'cross_entropi'"):
        nn.losses.get_loss("cross_entropi")
    with pytest.raises(TypeError, match="needs integer class labels"):
        nn.losses.SparseCategoricalCrossentropy()(PROBS, ONE_HOT)


# --- metrics over whole epochs against scikit-learn ----------------------------------

def identity(x):
    return x


IDENTITY = nn.Sequential(out=nn.Lambda(identity))


def _evaluate(predictions, labels, metrics, **kwargs):
    """The metrics of `predictions` computed by nn.evaluate in batches of 16 (the last
    of 2 padded)."""
    return nn.evaluate(IDENTITY, {}, {}, (predictions, labels), metrics=metrics,
                       batch_size=16, **kwargs)


def test_classification_metrics_equal_sklearn_over_the_epoch():
    metrics = ["accuracy", nn.metrics.TopKAccuracy(2),
               nn.metrics.F1Score("macro", name="f1_macro"),
               nn.metrics.F1Score("micro", name="f1_micro"),
               nn.metrics.F1Score("weighted", name="f1_weighted"),
               nn.metrics.Perplexity(from_logits=True)]
    weighted = [nn.metrics.Accuracy(), nn.metrics.F1Score("macro", name="f1_macro")]
    logs = _evaluate(LOGITS, LABELS, metrics, weighted_metrics=weighted,
                     sample_weight=WEIGHTS)
    predicted = LOGITS.argmax(1)
    want = {"accuracy": skm.accuracy_score(LABELS, predicted),
            "top2_accuracy": skm.top_k_accuracy_score(LABELS, LOGITS, k=2),
            "f1_macro": skm.f1_score(LABELS, predicted, average="macro"),
            "f1_micro": skm.f1_score(LABELS, predicted, average="micro"),
            "f1_weighted": skm.f1_score(LABELS, predicted, average="weighted"),
            "perplexity": np.exp(skm.log_loss(LABELS, PROBS)),
            "weighted_accuracy": skm.accuracy_score(LABELS, predicted,
                                                    sample_weight=WEIGHTS),
            "weighted_f1_macro": skm.f1_score(LABELS, predicted, average="macro",
                                              sample_weight=WEIGHTS)}
    assert set(logs) == set(want)
    for name, value in want.items():
        assert logs[name] == pytest.approx(value, rel=1e-5), name


def test_binary_metrics_equal_sklearn_over_the_epoch():
    # scores strictly between AUC's thresholds: the threshold AUC is then exact
    scores = ((np.floor(BIN_PROBS * 199) + 0.5) / 199).astype(np.float32)
    metrics = ["precision", "recall", "auc", "binary_accuracy",
               nn.metrics.F1Score(name="f1")]
    logs = _evaluate(scores, BIN_LABELS, metrics, weighted_metrics=["precision", "auc"],
                     sample_weight=WEIGHTS)
    hard = scores[:, 0] > 0.5
    want = {"precision": skm.precision_score(BIN_LABELS, hard),
            "recall": skm.recall_score(BIN_LABELS, hard),
            "auc": skm.roc_auc_score(BIN_LABELS, scores[:, 0]),
            "binary_accuracy": skm.accuracy_score(BIN_LABELS, hard),
            "f1": skm.f1_score(BIN_LABELS, hard),
            "weighted_precision": skm.precision_score(BIN_LABELS, hard,
                                                      sample_weight=WEIGHTS),
            "weighted_auc": skm.roc_auc_score(BIN_LABELS, scores[:, 0],
                                              sample_weight=WEIGHTS)}
    for name, value in want.items():
        assert logs[name] == pytest.approx(value, rel=1e-5), name
    # arbitrary scores: within the threshold spacing of the exact AUC
    auc = _evaluate(BIN_PROBS, BIN_LABELS, ["auc"])["auc"]
    assert auc == pytest.approx(skm.roc_auc_score(BIN_LABELS, BIN_PROBS[:, 0]), abs=1 / 199)


def test_regression_metrics_and_per_batch_averaging_would_differ():
    target = RNG.randn(N, 3).astype(np.float32)
    pred = target + RNG.randn(N, 3).astype(np.float32)
    logs = _evaluate(pred, target, ["mae", "mse"])
    assert logs["mae"] == pytest.approx(skm.mean_absolute_error(target, pred), rel=1e-5)
    assert logs["mse"] == pytest.approx(skm.mean_squared_error(target, pred), rel=1e-5)
    # the mean of per-batch F1 scores is not the epoch's F1: accumulation matters
    predicted = LOGITS.argmax(1)
    per_batch = np.mean([skm.f1_score(LABELS[i:i + 16], predicted[i:i + 16],
                                      average="macro") for i in range(0, N, 16)])
    epoch = skm.f1_score(LABELS, predicted, average="macro")
    assert abs(per_batch - epoch) > 1e-3


def test_metric_names_follow_the_loss_and_misuse_is_explained():
    logit_loss = nn.losses.BinaryCrossentropy(from_logits=True)
    assert nn.metrics.get_metric("auc", logit_loss).from_logits is True
    assert nn.metrics.get_metric("precision").from_logits is False
    binary = nn.metrics.get_metric("accuracy", logit_loss, nn.Spec((8, 1)))
    assert isinstance(binary, nn.metrics.BinaryAccuracy) and binary.from_logits
    categorical = nn.metrics.get_metric("accuracy", None, nn.Spec((8, 5)))
    assert type(categorical) is nn.metrics.Accuracy and categorical.log_name == "accuracy"
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        nn.metrics.get_metric("acuracy")
    with pytest.raises(ValueError, match="average must be"):
        nn.metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="binary metric but the predictions have 4 "
                                         "classes: pass class_id="):
        _evaluate(LOGITS, LABELS, ["precision"])
    one_class = _evaluate(PROBS, LABELS, [nn.metrics.Recall(class_id=2)])["recall"]
    assert one_class == pytest.approx(skm.recall_score(LABELS == 2, PROBS[:, 2] > 0.5))


# --- the head checks -----------------------------------------------------------------

X = RNG.randn(64, 3).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int32)
SOFTMAX_HEAD = nn.Sequential(dense=nn.Dense(2), probs=nn.Softmax())
LOGIT_HEAD = nn.Sequential(dense=nn.Dense(2))
OPTIMIZER = optax.sgd(0.1)


@pytest.mark.parametrize("model,loss,expects", [
    (SOFTMAX_HEAD, "cross_entropy", "expects logits, but the model's outputs are "
                                    "probabilities"),
    (LOGIT_HEAD, "sparse_categorical_crossentropy", "expects probabilities, but the "
                                                    "model's outputs are values outside"),
    (SOFTMAX_HEAD, "sparse_categorical_crossentropy", None),
    (LOGIT_HEAD, nn.losses.SparseCategoricalCrossentropy(from_logits=True), None),
])
def test_a_head_that_contradicts_the_loss_warns_at_the_users_line(model, loss, expects):
    params, state = model.init(fl.random.PRNGKey(0), X[:1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.fit(model, params, state, OPTIMIZER, (X, Y), loss=loss, batch_size=64,
               verbose=0)
    messages = [w for w in caught if "expects" in str(w.message)]
    if expects is None:
        assert not messages
        return
    assert len(messages) == 1 and expects in str(messages[0].message)
    assert messages[0].filename == __file__
