"""Recurrent layers against Keras' RNN semantics written with JAX (a Python loop over
time steps: masked steps keep the carry and repeat the previous output or give zeros;
go_backwards outputs in processing order; return_state; stateful carries), for LSTM,
GRU and SimpleRNN cells, Bidirectional; values, gradients, vmap under jit."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import nn
from nn_checks import KEY, check_layer, perturbed, randn

RNG = np.random.RandomState(0)
SEQ = randn(RNG, 3, 5, 4)
# ragged lengths 5, 3 and 1, plus a hole, to exercise every masking path
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 0, 0]], bool)


def lstm_step(p):
    def step(carry, x):
        h, c = carry
        i, f, g, o = jnp.split(x @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"], 4, -1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h
    return step


def gru_step(p):
    def step(h, x):
        xr, xz, xn = jnp.split(x @ p["kernel"] + p["bias"], 3, -1)
        hr, hz, hn = jnp.split(h @ p["recurrent_kernel"] + p["recurrent_bias"], 3, -1)
        r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
        h = (1 - z) * jnp.tanh(xn + r * hn) + z * h
        return h, h
    return step


def simple_step(p):
    def step(h, x):
        h = jnp.tanh(x @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"])
        return h, h
    return step


def keras_rnn(step, xs, carry, mask=None, backwards=False, zero_output=False):
    """keras.backend.rnn: returns (final carry, outputs (B, T, F) in processing order)."""
    order = range(xs.shape[1])[::-1] if backwards else range(xs.shape[1])
    outputs = []
    for t in order:
        new_carry, y = step(carry, xs[:, t])
        if mask is not None:
            keep = mask[:, t][:, None]
            previous = jnp.zeros_like(y) if zero_output else jax.tree_util.tree_leaves(carry)[0]
            y = jnp.where(keep, y, previous)
            new_carry = jax.tree_util.tree_map(lambda n, o: jnp.where(keep, n, o),
                                               new_carry, carry)
        carry = new_carry
        outputs.append(y)
    return carry, jnp.stack(outputs, 1)


def zeros_carry(kind, batch, features):
    z = jnp.zeros((batch, features))
    return (z, z) if kind == "lstm" else z


STEPS = {"lstm": lstm_step, "gru": gru_step, "simple": simple_step}

CASES = {
    # name: (layer, cell kind, reference options, how the reference output is formed)
    "lstm_masked_sequences": (nn.RNN(nn.LSTMCell(3)), "lstm", {}, "sequences"),
    "gru_go_backwards_zero_output_state": (
        nn.GRU(3, return_sequences=True, go_backwards=True, zero_output_for_mask=True,
               return_state=True), "gru", {"backwards": True, "zero_output": True},
        "sequences+state"),
    "lstm_keras_last_output_state": (nn.LSTM(3, return_state=True), "lstm", {},
                                     "last+state"),
    "simple_reverse_keep_order": (nn.RNN(nn.SimpleRNNCell(3), reverse=True), "simple",
                                  {"backwards": True}, "sequences_in_input_order"),
    "lstm_return_carry": (nn.RNN(nn.LSTMCell(3), return_carry=True, return_sequences=False),
                          "lstm", {}, "carry+last"),
    "gru_time_major": (nn.RNN(nn.GRUCell(3), time_major=True), "gru", {}, "time_major"),
}


@pytest.mark.parametrize("name", CASES)
def test_rnn_options_with_mask_match_keras_semantics(name):
    layer, kind, options, form = CASES[name]
    params = perturbed(layer.init(KEY, SEQ, mask=MASK)[0], RNG)

    def ref(p, x, mask):
        if form == "time_major":  # (time, batch, ...) in and out
            return ref_batch_major(p, x.swapaxes(0, 1), mask.T).swapaxes(0, 1)
        return ref_batch_major(p, x, mask)

    def ref_batch_major(p, x, mask):
        carry, ys = keras_rnn(STEPS[kind](p["cell"]), x, zeros_carry(kind, x.shape[0], 3),
                              mask, **options)
        state = tuple(jax.tree_util.tree_leaves(carry))
        return {"sequences": ys, "sequences+state": (ys, *state),
                "last+state": (ys[:, -1], *state), "carry+last": (carry, ys[:, -1]),
                "sequences_in_input_order": ys[:, ::-1], "time_major": ys}[form]
    x, mask = (SEQ.swapaxes(0, 1), MASK.T) if form == "time_major" else (SEQ, MASK)
    if form == "time_major":
        params = perturbed(layer.init(KEY, x, mask=mask)[0], RNG)
    check_layer(lambda p, x, mask: layer(p, x, mask=mask), ref, params, (x, mask),
                tol=1e-5)


def test_bidirectional_with_mask_and_return_state():
    layer = nn.Bidirectional(nn.LSTM(3, return_sequences=True, return_state=True))
    params = perturbed(layer.init(KEY, SEQ, mask=MASK)[0], RNG)

    def ref(p, x, mask):
        c_f, y_f = keras_rnn(lstm_step(p["forward"]["cell"]), x, zeros_carry("lstm", 3, 3),
                             mask)
        c_b, y_b = keras_rnn(lstm_step(p["backward"]["cell"]), x, zeros_carry("lstm", 3, 3),
                             mask, backwards=True)
        return (jnp.concatenate([y_f, y_b[:, ::-1]], -1), *c_f, *c_b)
    check_layer(lambda p, x, mask: layer(p, x, mask=mask), ref, params, (SEQ, MASK),
                tol=1e-5)


def test_stateful_rnn_continues_across_calls():
    """Two calls on halves of a sequence equal one call on the whole; the carry lives in
    `state` under the cell's carry names, starts at zero, and is reset from init."""
    layer = nn.LSTM(3, return_sequences=True, stateful=True)
    x = randn(RNG, 2, 6, 4)
    params, state = layer.init(KEY, x[:, :3])
    assert set(state) == {"h", "c"} and not np.any(state["h"])
    step = fl.jit(lambda p, s, x: layer.apply(p, s, x))
    first, state = step(params, state, x[:, :3])
    second, state = step(params, state, x[:, 3:])
    whole = nn.LSTM(3, return_sequences=True)(params, x)
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(state["h"], whole[:, -1], rtol=1e-5, atol=1e-6)
    again, _ = layer.apply(params, layer.init(KEY, x[:, :3])[1], x[:, :3])
    np.testing.assert_allclose(again, first, rtol=1e-6)


def test_lstm_forget_gate_bias_starts_at_one_as_keras():
    params, _ = nn.LSTM(4).init(KEY, SEQ)
    np.testing.assert_array_equal(params["cell"]["bias"],
                                  np.repeat([0.0, 1.0, 0.0, 0.0], 4).astype(np.float32))
    params, _ = nn.LSTM(4, unit_forget_bias=False).init(KEY, SEQ)
    np.testing.assert_array_equal(params["cell"]["bias"], np.zeros(16, np.float32))


def test_rnn_errors_name_the_fix():
    with pytest.raises(ValueError, match="mask must be shaped like"):
        nn.LSTM(3).init(KEY, SEQ, mask=MASK[:, :4])
    with pytest.raises(ValueError, match="are alternatives"):
        nn.RNN(nn.GRUCell(3), reverse=True, go_backwards=True).init(KEY, SEQ)
    with pytest.raises(ValueError, match="are alternatives"):
        nn.RNN(nn.GRUCell(3), return_carry=True, return_state=True).init(KEY, SEQ)
