"""nn layers against references written with jax.numpy / jax.lax: values, gradients
(w.r.t. parameters and inputs), and shape inference from Specs."""
import dataclasses
from typing import Any, Callable

import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.lax as jlax

import functorch_lite as fl
import functorch_lite.numpy as fnp
import nn
from harness import assert_close

KEY = fl.random.PRNGKey(0)
RNG = np.random.RandomState(0)


def randn(*shape):
    return RNG.randn(*shape).astype(np.float32)


@dataclasses.dataclass
class Case:
    name: str
    layer: Any
    x: Any
    ref: Callable            # ref(params as numpy, x) written with jax
    grad_x: bool = True
    tol: float = 1e-5

    def __str__(self):
        return self.name


def conv_ref(x, k, b, strides, pads, dilation=None, groups=1):
    n = x.ndim - 2
    s = {1: "W", 2: "HW", 3: "DHW"}[n]
    y = jlax.conv_general_dilated(x, k, strides, pads, rhs_dilation=dilation,
                                  dimension_numbers=("N" + s + "C", s + "IO", "N" + s + "C"),
                                  feature_group_count=groups)
    return y + b


def norm_ref(x, axes, eps):
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean((x - mean) ** 2, axis=axes, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps)


def mha_ref(p, x, num_heads, mask=None):
    def proj(name, v):
        return v @ p[name]["kernel"] + p[name]["bias"]
    b, l, d = x.shape
    hd = d // num_heads
    q, k, v = (proj(n, x).reshape(b, l, num_heads, hd) for n in ("query", "key", "value"))
    logits = jnp.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(hd)
    if mask is not None:
        logits = jnp.where(mask, logits, np.finfo(np.float32).min)
    w = jax.nn.softmax(logits, axis=-1)
    out = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(b, l, d)
    return proj("out", out)


def lstm_ref(p, xs, reverse=False):
    h = c = jnp.zeros((xs.shape[0], p["recurrent_kernel"].shape[0]))
    steps = range(xs.shape[1])[::-1] if reverse else range(xs.shape[1])
    ys = {}
    for t in steps:
        z = xs[:, t] @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"]
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        ys[t] = h
    return jnp.stack([ys[t] for t in range(xs.shape[1])], axis=1)


def gru_ref(p, xs):
    h = jnp.zeros((xs.shape[0], p["recurrent_kernel"].shape[0]))
    ys = []
    for t in range(xs.shape[1]):
        xr, xz, xn = jnp.split(xs[:, t] @ p["kernel"] + p["bias"], 3, axis=-1)
        hr, hz, hn = jnp.split(h @ p["recurrent_kernel"] + p["recurrent_bias"], 3, axis=-1)
        r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
        h = (1 - z) * jnp.tanh(xn + r * hn) + z * h
        ys.append(h)
    return jnp.stack(ys, axis=1)


def simple_rnn_ref(p, xs):
    h = jnp.zeros((xs.shape[0], p["recurrent_kernel"].shape[0]))
    for t in range(xs.shape[1]):
        h = jnp.tanh(xs[:, t] @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"])
    return h


IMG = randn(2, 6, 6, 4)
SEQ = randn(2, 5, 3)
CAUSAL = np.tril(np.ones((5, 5), bool))

CASES = [
    Case("dense", nn.Dense(5), randn(3, 4), lambda p, x: x @ p["kernel"] + p["bias"]),
    Case("dense_3d_no_bias", nn.Dense(5, use_bias=False), randn(2, 3, 4),
         lambda p, x: x @ p["kernel"]),
    Case("conv2d_same_stride", nn.Conv(3, (3, 3), strides=2), IMG,
         lambda p, x: conv_ref(x, p["kernel"], p["bias"], (2, 2), "SAME")),
    Case("conv2d_dilated_groups", nn.Conv(6, 3, padding=((1, 2), (0, 1)), dilation=2,
                                          groups=2), IMG,
         lambda p, x: conv_ref(x, p["kernel"], p["bias"], (1, 1), ((1, 2), (0, 1)),
                               (2, 2), 2)),
    Case("conv1d_causal", nn.Conv(2, 3, padding="CAUSAL"), SEQ,
         lambda p, x: conv_ref(x, p["kernel"], p["bias"], (1,), ((2, 0),))),
    Case("conv3d_valid", nn.Conv(2, (2, 2, 2), padding="VALID"), randn(1, 3, 4, 4, 2),
         lambda p, x: conv_ref(x, p["kernel"], p["bias"], (1, 1, 1), "VALID")),
    Case("conv_transpose2d", nn.ConvTranspose(3, (3, 3), strides=2), IMG,
         lambda p, x: jlax.conv_transpose(x, p["kernel"], (2, 2), "SAME",
                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
         + p["bias"]),
    Case("max_pool2d", nn.MaxPool(2), IMG,
         lambda p, x: jlax.reduce_window(x, -jnp.inf, jlax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                         "VALID")),
    Case("avg_pool2d_same_stride1", nn.AvgPool((3, 3), 1, "SAME"), IMG,
         lambda p, x: jlax.reduce_window(x, 0.0, jlax.add, (1, 3, 3, 1), (1, 1, 1, 1),
                                         "SAME") / 9),
    Case("avg_pool1d_exclude_pad", nn.AvgPool(3, 2, "SAME", count_include_pad=False), SEQ,
         lambda p, x: jlax.reduce_window(x, 0.0, jlax.add, (1, 3, 1), (1, 2, 1), "SAME")
         / jlax.reduce_window(jnp.ones_like(x), 0.0, jlax.add, (1, 3, 1), (1, 2, 1),
                              "SAME")),
    Case("global_avg_pool", nn.GlobalAvgPool(), IMG, lambda p, x: jnp.mean(x, axis=(1, 2))),
    Case("global_max_pool", nn.GlobalMaxPool(), IMG, lambda p, x: jnp.max(x, axis=(1, 2))),
    Case("flatten", nn.Flatten(), IMG, lambda p, x: x.reshape(2, -1)),
    Case("batch_norm_eval", nn.BatchNorm(), IMG,
         lambda p, x: (x - p["mean"]) / jnp.sqrt(p["var"] + 1e-5) * p["scale"] + p["bias"]),
    Case("layer_norm", nn.LayerNorm(), randn(3, 8),
         lambda p, x: norm_ref(x, -1, 1e-5) * p["scale"] + p["bias"]),
    Case("group_norm", nn.GroupNorm(2), IMG,
         lambda p, x: norm_ref(x.reshape(2, 6, 6, 2, 2), (1, 2, 4), 1e-5).reshape(x.shape)
         * p["scale"] + p["bias"]),
    Case("rms_norm", nn.RMSNorm(), randn(3, 8),
         lambda p, x: x / jnp.sqrt(jnp.mean(x * x, -1, keepdims=True) + 1e-6) * p["scale"]),
    Case("embedding", nn.Embedding(7, 4), RNG.randint(0, 7, (2, 3)).astype(np.int32),
         lambda p, x: p["embedding"][x], grad_x=False),
    Case("relu", nn.ReLU(), randn(3, 4), lambda p, x: jax.nn.relu(x)),
    Case("gelu", nn.GELU(), randn(3, 4), lambda p, x: jax.nn.gelu(x)),
    Case("softmax", nn.Softmax(), randn(3, 4), lambda p, x: jax.nn.softmax(x)),
    Case("lambda_tanh", nn.Lambda(fnp.tanh), randn(3, 4), lambda p, x: jnp.tanh(x)),
    Case("mha_self", nn.MultiHeadAttention(2), randn(2, 5, 8),
         lambda p, x: mha_ref(p, x, 2), tol=1e-4),
    Case("mha_causal", nn.MultiHeadAttention(2, causal=True), randn(2, 5, 8),
         lambda p, x: mha_ref(p, x, 2, CAUSAL), tol=1e-4),
    Case("lstm", nn.RNN(nn.LSTMCell(4)), SEQ, lambda p, x: lstm_ref(p["cell"], x),
         tol=1e-4),
    Case("gru", nn.RNN(nn.GRUCell(4)), SEQ, lambda p, x: gru_ref(p["cell"], x), tol=1e-4),
    Case("simple_rnn_last", nn.RNN(nn.SimpleRNNCell(4), return_sequences=False), SEQ,
         lambda p, x: simple_rnn_ref(p["cell"], x), tol=1e-4),
    Case("bidirectional_lstm", nn.Bidirectional(nn.RNN(nn.LSTMCell(3))), SEQ,
         lambda p, x: jnp.concatenate([lstm_ref(p["forward"]["cell"], x),
                                       lstm_ref(p["backward"]["cell"], x, True)], -1),
         tol=1e-4),
    Case("sequential", nn.Sequential(fc=nn.Dense(6), act=nn.ReLU(), out=nn.Dense(2)),
         randn(3, 4),
         lambda p, x: jax.nn.relu(x @ p["fc"]["kernel"] + p["fc"]["bias"])
         @ p["out"]["kernel"] + p["out"]["bias"]),
    Case("residual", nn.Residual(nn.Dense(4), nn.Tanh()), randn(3, 4),
         lambda p, x: x + jnp.tanh(x @ p["0"]["kernel"] + p["0"]["bias"])),
]


def _perturbed(tree):
    """Initial parameters plus noise, so that zero biases and unit scales are tested."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a) + 0.3 * randn(*np.shape(a)), tree)


def _merged(params, state):
    """The reference sees parameters and state in one dict (BatchNorm's mean, var)."""
    return {**params, **jax.tree_util.tree_map(np.abs, state)}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_layer_values_and_gradients(case):
    params, state = case.layer.init(KEY, case.x)
    params, state = _perturbed(params), _perturbed(state)
    state = jax.tree_util.tree_map(np.abs, state)  # variances must be positive
    ref_params = _merged(params, state)

    # one compiled program gives the output and the gradients of <output, cotangent>
    cotangent = randn(*case.layer.output_spec(params, state, case.x).shape)
    argnums = (0, 1) if case.grad_x else (0,)

    def loss(p, x):
        out = case.layer.apply(p, state, x)[0]
        return fnp.sum(out * cotangent), out
    (_, out), ours = fl.jit(fl.value_and_grad(loss, argnums=argnums, has_aux=True))(
        params, case.x)
    assert_close(out, case.ref(ref_params, case.x), case.tol, case.tol, f"{case} forward")

    def ref_loss(p, x):
        return jnp.sum(case.ref(_merged(p, state), x) * cotangent)
    want = jax.grad(ref_loss, argnums=argnums)(params, case.x)
    assert_close(ours, want, 1e-3, 1e-3, f"{case} gradient")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_shape_inference_from_specs(case):
    """init from a Spec gives the same parameter shapes as from an array, and the
    abstract output shape equals the real one."""
    spec = nn.Spec(case.x.shape, case.x.dtype)
    p_arr, s_arr = case.layer.init(KEY, case.x)
    p_spec, s_spec = case.layer.init(KEY, spec)
    shapes = lambda t: jax.tree_util.tree_map(lambda a: (a.shape, str(a.dtype)), t)
    assert shapes(p_arr) == shapes(p_spec) and shapes(s_arr) == shapes(s_spec)
    out_spec = case.layer.output_spec(p_spec, s_spec, spec)
    out = case.ref(_merged(_perturbed(p_arr), jax.tree_util.tree_map(np.abs, s_arr)), case.x)
    assert out_spec.shape == out.shape


def test_init_is_deterministic_and_order_independent():
    a = nn.Sequential(first=nn.Dense(3), second=nn.Dense(3))
    b = nn.Sequential(second=nn.Dense(3), first=nn.Dense(3))
    x = nn.Spec((1, 3))
    pa, _ = a.init(KEY, x)
    pb, _ = b.init(KEY, x)
    pa2, _ = a.init(KEY, x)
    np.testing.assert_array_equal(pa["first"]["kernel"], pa2["first"]["kernel"])
    # a layer's key depends on its name, not on its position
    np.testing.assert_array_equal(pa["first"]["kernel"], pb["first"]["kernel"])
    assert not np.allclose(pa["first"]["kernel"], pa["second"]["kernel"])
    pc, _ = a.init(fl.random.PRNGKey(1), x)
    assert not np.allclose(pa["first"]["kernel"], pc["first"]["kernel"])


def test_batch_norm_train_and_eval_semantics():
    layer = nn.BatchNorm(momentum=0.8)
    x = IMG * 2 + 1
    params, state = layer.init(KEY, x)
    assert set(state) == {"mean", "var"}
    y_eval, same = layer.apply(params, state, x, training=False)
    assert same is state  # evaluation leaves the running statistics alone
    np.testing.assert_allclose(y_eval, x / np.sqrt(1 + 1e-5), rtol=1e-5, atol=1e-5)

    y, new = layer.apply(params, state, x, training=True)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(new["mean"], 0.2 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new["var"], 0.8 + 0.2 * var, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(state["mean"], np.zeros(4, np.float32))  # not mutated

    with pytest.raises(ValueError, match="keeps state"):
        layer(params, x)  # the short form has no state to read


def test_stateful_layer_inside_sequential_under_jit():
    model = nn.Sequential(conv=nn.Conv(3, 3), bn=nn.BatchNorm(), act=nn.ReLU())
    params, state = model.init(KEY, IMG)
    assert set(state) == {"bn"} and "act" not in params
    step = fl.jit(lambda p, s, x: model.apply(p, s, x, training=True))
    _, new_state = step(params, state, IMG)
    assert not np.allclose(new_state["bn"]["mean"], 0)


def test_dropout_determinism_and_rate():
    layer = nn.Dropout(0.25)
    x = np.ones((200, 100), np.float32)
    assert layer({}, x) is x  # identity unless training
    a = layer({}, x, training=True, rng=fl.random.PRNGKey(3))
    b = layer({}, x, training=True, rng=fl.random.PRNGKey(3))
    c = layer({}, x, training=True, rng=fl.random.PRNGKey(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    a = np.asarray(a)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((a == 0).mean() - 0.25) < 0.02
    assert abs(a.mean() - 1.0) < 0.03
    with pytest.raises(ValueError, match="random key"):
        layer({}, x, training=True)


def test_dropout_keys_follow_layer_paths():
    model = nn.Sequential(d1=nn.Dropout(0.5), d2=nn.Dropout(0.5))
    x = np.ones((1, 64), np.float32)
    key = fl.random.PRNGKey(7)
    both = model({}, x, training=True, rng=key)
    first = nn.Sequential(d1=nn.Dropout(0.5))({}, x, training=True, rng=key)
    # d1's mask is the same whether or not d2 exists; d2 uses another key
    np.testing.assert_array_equal((np.asarray(both) == 0) | (np.asarray(first) == 0),
                                  np.asarray(both) == 0)


def test_custom_layer_with_attributes_and_own_parameter():
    class Block(nn.Layer):
        width: int = 4

        @property
        def inner(self):
            return nn.Dense(self.width)

        def forward(self, scope, x):
            gain = scope.param("gain", (), nn.initializers.ones)
            return gain * scope.inner(x) + x

    class Net(nn.Layer):
        blocks: tuple = (Block(), Block())

        def forward(self, scope, x):
            for block in scope.blocks:
                x = block(x)
            return x

    x = randn(2, 4)
    params, state = Net().init(KEY, x)
    assert state == {}
    assert set(params["blocks"]) == {"0", "1"}
    assert set(params["blocks"]["0"]) == {"gain", "inner"}
    y = Net()(params, x)
    p0, p1 = params["blocks"]["0"], params["blocks"]["1"]
    h = x @ p0["inner"]["kernel"] + p0["inner"]["bias"] + x
    want = h @ p1["inner"]["kernel"] + p1["inner"]["bias"] + h
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_wrong_parameter_shape_names_the_path():
    model = nn.Sequential(fc=nn.Dense(3))
    params, _ = model.init(KEY, nn.Spec((1, 4)))
    with pytest.raises(ValueError, match="fc/kernel"):
        model(params, np.ones((1, 5), np.float32))


def test_mha_with_explicit_mask_and_cross_attention():
    layer = nn.MultiHeadAttention(2, qkv_features=4, out_features=3)
    q, kv = randn(2, 3, 5), randn(2, 4, 6)
    mask = RNG.rand(2, 1, 3, 4) > 0.3
    mask[..., 0] = True
    params, _ = layer.init(KEY, q, kv, mask=mask)
    assert params["key"]["kernel"].shape == (6, 4) and params["out"]["kernel"].shape == (4, 3)
    y = layer(params, q, kv, mask=mask)
    p = jax.tree_util.tree_map(np.asarray, params)
    proj = lambda n, v: v @ p[n]["kernel"] + p[n]["bias"]
    qh = proj("query", q).reshape(2, 3, 2, 2)
    kh, vh = proj("key", kv).reshape(2, 4, 2, 2), proj("value", kv).reshape(2, 4, 2, 2)
    logits = jnp.where(mask, jnp.einsum("bqhd,bkhd->bhqk", qh, kh) / np.sqrt(2), -1e30)
    out = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(logits), vh).reshape(2, 3, 4)
    np.testing.assert_allclose(y, proj("out", out), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 5)])
def test_orthogonal_initializer(shape):
    w = np.asarray(nn.initializers.orthogonal(scale=2.0)(KEY, shape))
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-4)


def test_review_fixes_dtype_promotion_keras_targets_and_transpose_kernel():
    """Dense on bf16/int inputs, (N,1) predictions against (N,) targets, and
    ConvTranspose(transpose_kernel=True)."""
    import nn as nn_lib
    import functorch_lite as fl_lib
    key = fl_lib.random.PRNGKey(0)
    for x in (jnp.ones((2, 3), jnp.bfloat16), np.ones((2, 3), np.int32)):
        params, _ = nn_lib.Dense(4).init(key, x)
        assert nn_lib.Dense(4)(params, x).dtype == np.float32
    pred = np.array([[5.0], [-5.0]], np.float32)
    target = np.array([1.0, 0.0], np.float32)
    np.testing.assert_allclose(nn_lib._losses.binary_cross_entropy_with_logits(pred, target),
                               np.log1p(np.exp(-5.0)), rtol=1e-5)
    assert float(nn_lib._losses.mean_squared_error(pred, np.array([5.0, -5.0]))) == 0.0
    assert float(nn_lib._losses.binary_accuracy(pred, target)) == 1.0
    layer = nn_lib.ConvTranspose(4, 3, strides=2, transpose_kernel=True)
    x = np.ones((1, 5, 5, 3), np.float32)
    params, _ = layer.init(key, x)
    assert params["kernel"].shape == (3, 3, 4, 3) and layer(params, x).shape == (1, 10, 10, 4)


def test_initializers_from_equal_arguments_are_equal():
    """Layers built with equal initializer arguments compare equal, so they share one
    compiled initialization program (closures compared by identity did not)."""
    a, b = nn.initializers.normal(0.02), nn.initializers.normal(0.02)
    assert a == b and hash(a) == hash(b) and a != nn.initializers.normal(0.03)
    assert nn.Dense(4, kernel_init=a) == nn.Dense(4, kernel_init=b)
    w1 = a(fl.random.PRNGKey(0), (3, 4))
    w2 = jax.nn.initializers.normal(0.02)(jax.random.PRNGKey(0), (3, 4))
    np.testing.assert_allclose(w1, w2, rtol=1e-6)
