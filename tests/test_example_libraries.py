"""example_libraries.stax and .optimizers against jax.example_libraries: the same keys
give the same parameters, layers the same outputs, optimizers the same steps, and
training programs written for JAX (an MNIST-style classifier, DP-SGD with per-example
clipping) give the same losses after the import swap."""
import types

import numpy as np
import pytest
import jax
import jax.numpy as jnp
from jax.example_libraries import optimizers as jopt
from jax.example_libraries import stax as jstax

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite.example_libraries import optimizers as fopt
from functorch_lite.example_libraries import stax as fstax
from harness import assert_close

F32 = np.float32
JAX = types.SimpleNamespace(lib=jax, np=jnp, stax=jstax, opt=jopt, random=jax.random)
OURS = types.SimpleNamespace(lib=fl, np=fnp, stax=fstax, opt=fopt, random=fl.random)


def leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


# --- layers: same parameters from the same key, same outputs ---------------------------

LAYERS = {
    "Dense": lambda S: S.Dense(5),
    "Conv": lambda S: S.Conv(4, (3, 3), strides=(2, 1), padding="SAME"),
    "GeneralConv_NCHW": lambda S: S.GeneralConv(("NCHW", "OIHW", "NCHW"), 3, (2, 2)),
    "ConvTranspose": lambda S: S.ConvTranspose(3, (3, 3), strides=(2, 2), padding="SAME"),
    "Conv1DTranspose": lambda S: S.Conv1DTranspose(2, (3,), padding="VALID"),
    "BatchNorm": lambda S: S.BatchNorm(),
    "BatchNorm_axis": lambda S: S.BatchNorm(axis=(0,), center=False),
    "MaxPool": lambda S: S.MaxPool((2, 2), strides=(2, 2)),
    "SumPool_same": lambda S: S.SumPool((3, 3), padding="SAME"),
    "AvgPool": lambda S: S.AvgPool((2, 2), padding="SAME"),
    "AvgPool_spec": lambda S: S.AvgPool((2, 2), spec="NCHW"),
    "Flatten": lambda S: S.serial(S.Flatten, S.Dense(3)),
    "activations": lambda S: S.serial(S.Tanh, S.Relu, S.Exp, S.Softplus, S.Sigmoid, S.Elu,
                                      S.LeakyRelu, S.Selu, S.Gelu, S.LogSoftmax, S.Softmax,
                                      S.Identity),
    "FanOut_parallel_FanInSum": lambda S: S.serial(
        S.FanOut(2), S.parallel(S.Dense(4), S.serial(S.Dense(4), S.Relu)), S.FanInSum),
    "FanInConcat": lambda S: S.serial(S.FanOut(3), S.FanInConcat(axis=1)),
    "shape_dependent": lambda S: S.shape_dependent(lambda shape: S.Dense(shape[-1] * 2)),
}
SHAPES = {"Dense": (3, 6), "Conv1DTranspose": (2, 5, 3), "FanOut_parallel_FanInSum": (3, 6),
          "FanInConcat": (3, 6), "shape_dependent": (3, 6), "AvgPool_spec": (2, 3, 6, 5),
          "GeneralConv_NCHW": (2, 3, 6, 5)}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_init_and_apply_match_jax(name):
    shape = SHAPES.get(name, (2, 6, 5, 3))
    x = np.random.RandomState(0).randn(*shape).astype(F32)
    ours_init, ours_apply = LAYERS[name](fstax)
    ref_init, ref_apply = LAYERS[name](jstax)
    ours_shape, ours_params = ours_init(fl.random.PRNGKey(1), shape)
    ref_shape, ref_params = ref_init(jax.random.PRNGKey(1), shape)
    assert tuple(map(int, ours_shape)) == tuple(map(int, ref_shape))
    for got, want in zip(leaves(ours_params), leaves(ref_params)):
        np.testing.assert_array_equal(got, want)   # bit-identical initialization
    got = fl.jit(ours_apply)(ours_params, x)
    assert_close(got, ref_apply(ref_params, x), 1e-5, 1e-5, name)
    assert tuple(np.shape(got)) == tuple(map(int, ours_shape))


def test_dropout_needs_a_key_and_matches_jax():
    init, apply = fstax.Dropout(0.7)
    _, ref_apply = jstax.Dropout(0.7)
    x = np.ones((4, 5), F32)
    assert init(None, (4, 5)) == ((4, 5), ())
    with pytest.raises(ValueError, match="PRNG key"):
        apply((), x)
    assert_close(apply((), x, rng=fl.random.PRNGKey(3)),
                 ref_apply((), x, rng=jax.random.PRNGKey(3)), 0, 0, "dropout")
    test_mode = fstax.Dropout(0.7, mode="test")[1]
    np.testing.assert_array_equal(test_mode((), x, rng=fl.random.PRNGKey(0)), x)


def test_unbatched_input_shape_minus_one():
    init, _ = fstax.serial(fstax.Conv(4, (3, 3)), fstax.Relu, fstax.Flatten,
                           fstax.Dense(2))
    shape, _ = init(fl.random.PRNGKey(0), (-1, 8, 8, 1))
    assert shape == (-1, 2)


# --- optimizers: same steps ------------------------------------------------------------

def schedules(O):
    return {
        "exponential_decay": O.exponential_decay(0.1, 3, 0.5),
        "inverse_time_decay": O.inverse_time_decay(0.1, 2, 0.5, staircase=True),
        "polynomial_decay": O.polynomial_decay(0.1, 4, 0.01, power=2.0),
        "piecewise_constant": O.piecewise_constant([2, 4], [0.1, 0.05, 0.01]),
    }


OPTIMIZERS = {
    "sgd": lambda O: O.sgd(0.1), "momentum": lambda O: O.momentum(0.1, 0.9),
    "nesterov": lambda O: O.nesterov(0.1, 0.9), "adagrad": lambda O: O.adagrad(0.1),
    "rmsprop": lambda O: O.rmsprop(0.05), "rmsprop_momentum": lambda O: O.rmsprop_momentum(
        0.05), "adam": lambda O: O.adam(0.05), "adamax": lambda O: O.adamax(0.05),
    "sm3": lambda O: O.sm3(0.1),
    **{f"sgd_{name}": (lambda O, name=name: O.sgd(schedules(O)[name]))
       for name in ("exponential_decay", "inverse_time_decay", "polynomial_decay",
                    "piecewise_constant")},
}


def _quadratic_steps(M, make, steps=6, jit=True):
    target = {"w": np.arange(6, dtype=F32).reshape(2, 3), "b": np.float32(-1.0)}
    opt_init, opt_update, get_params = make(M.opt)
    loss = lambda p: M.np.sum((p["w"] - target["w"]) ** 4) + (p["b"] - target["b"]) ** 2

    def step(i, state):
        return opt_update(i, M.lib.grad(loss)(get_params(state)), state)
    step = M.lib.jit(step) if jit else step
    state = opt_init({"w": np.ones((2, 3), F32), "b": np.float32(0.5)})
    trajectory = []
    for i in range(steps):
        state = step(i, state)
        trajectory.append(get_params(state))
    return trajectory


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_jax(name):
    # sm3 keeps the parameter's shape in its state, so (in JAX too) get_params cannot
    # run under jit: its steps run eagerly
    ours = _quadratic_steps(OURS, OPTIMIZERS[name], jit=name != "sm3")
    ref = _quadratic_steps(JAX, OPTIMIZERS[name], jit=name != "sm3")
    for k, (got, want) in enumerate(zip(ours, ref)):
        assert_close(got, want, 1e-6, 1e-6, f"{name} step {k}")


def test_schedule_values_match_jax():
    for name, schedule in schedules(fopt).items():
        for i in (0, 1, 3, 7):
            np.testing.assert_allclose(schedule(i), schedules(jopt)[name](i), rtol=1e-6,
                                       err_msg=f"{name}({i})")


def test_state_packing_clip_grads_and_l2_norm():
    params = {"a": np.ones((2, 2), F32), "b": [np.arange(3, dtype=F32)]}
    opt_init, opt_update, get_params = fopt.adam(0.1)
    state = opt_update(0, params, opt_init(params))
    unpacked = fopt.unpack_optimizer_state(state)
    assert isinstance(unpacked["a"], fopt.JoinPoint)
    repacked = fopt.pack_optimizer_state(unpacked)
    assert_close(get_params(repacked), get_params(state), 0, 0, "repacked")
    assert_close(fopt.l2_norm(params), jopt.l2_norm(params), 1e-6, 1e-6, "l2_norm")
    assert_close(fopt.clip_grads(params, 1.5), jopt.clip_grads(params, 1.5), 1e-6, 1e-6,
                 "clip_grads")
    with pytest.raises(TypeError, match="gradient tree"):
        opt_update(1, {"a": params["a"]}, state)


# --- whole training programs, written once for either library --------------------------

def mlp_adam_curve(M, steps=25):
    """A small stax MLP trained with optimizers.adam (the loss at every step)."""
    S = M.stax
    init, predict = S.serial(S.Dense(32), S.Relu, S.Dense(16), S.Tanh, S.Dense(4),
                             S.LogSoftmax)
    rng = np.random.RandomState(0)
    x = rng.randn(64, 8).astype(F32)
    y = np.eye(4, dtype=F32)[rng.randint(0, 4, 64)]
    _, params = init(M.random.PRNGKey(0), (-1, 8))
    opt_init, opt_update, get_params = M.opt.adam(1e-2)
    loss = lambda p: -M.np.mean(M.np.sum(predict(p, x) * y, axis=1))

    @M.lib.jit
    def step(i, state):
        value, grads = M.lib.value_and_grad(loss)(get_params(state))
        return value, opt_update(i, grads, state)
    state, curve = opt_init(params), []
    for i in range(steps):
        value, state = step(i, state)
        curve.append(float(value))
    return np.array(curve), get_params(state)


def mnist_style_classifier(M, steps=8):
    """JAX's mnist_classifier program (stax MLP, optimizers.momentum, jitted update,
    minibatches from a NumPy stream, accuracy) on synthetic 28x28 data."""
    S, np_ = M.stax, M.np
    init_random_params, predict = S.serial(S.Dense(64), S.Relu, S.Dense(64), S.Relu,
                                           S.Dense(10), S.LogSoftmax)
    data = np.random.RandomState(1)
    images = data.rand(256, 28 * 28).astype(F32)
    labels = np.eye(10, dtype=F32)[data.randint(0, 10, 256)]
    loss = lambda params, batch: -np_.mean(predict(params, batch[0]) * batch[1])

    def accuracy(params, batch):
        return np_.mean(np_.argmax(predict(params, batch[0]), axis=1) ==
                        np_.argmax(batch[1], axis=1))
    opt_init, opt_update, get_params = M.opt.momentum(0.001, mass=0.9)

    @M.lib.jit
    def update(i, opt_state, batch):
        return opt_update(i, M.lib.grad(loss)(get_params(opt_state), batch), opt_state)
    _, params = init_random_params(M.random.PRNGKey(0), (-1, 28 * 28))
    opt_state = opt_init(params)
    order = np.random.RandomState(0).permutation(256)
    for i in range(steps):
        idx = order[(i % 4) * 64:(i % 4 + 1) * 64]
        opt_state = update(i, opt_state, (images[idx], labels[idx]))
    params = get_params(opt_state)
    return float(loss(params, (images, labels))), float(accuracy(params, (images, labels)))


def dp_sgd(M, steps=3):
    """JAX's differentially private SGD program: a stax conv net, per-example gradients
    by vmap, each clipped to an l2 norm, summed, noised and averaged; sgd."""
    S, np_, R = M.stax, M.np, M.random
    init_random_params, predict = S.serial(
        S.Conv(8, (4, 4), padding="SAME", strides=(2, 2)), S.Relu,
        S.MaxPool((2, 2), (1, 1)), S.Conv(8, (3, 3), padding="VALID", strides=(2, 2)),
        S.Relu, S.MaxPool((2, 2), (1, 1)), S.Flatten, S.Dense(16), S.Relu, S.Dense(10))

    def loss(params, batch):
        inputs, targets = batch
        return -np_.mean(np_.sum(S.logsoftmax(predict(params, inputs)) * targets, 1))

    def private_grad(params, batch, rng, l2_norm_clip=1.0, noise_multiplier=1.1):
        def clipped_grad(single_example_batch):
            grads = M.lib.grad(loss)(params, single_example_batch)
            flat, tree_def = jax.tree_util.tree_flatten(grads)
            total = np_.linalg.norm(np_.stack([np_.linalg.norm(g.ravel()) for g in flat]))
            divisor = M.lib.lax.stop_gradient(np_.maximum(total / l2_norm_clip, 1.))
            return jax.tree_util.tree_unflatten(tree_def, [g / divisor for g in flat])
        inputs, targets = batch
        per_example = M.lib.vmap(clipped_grad)((inputs[:, None], targets[:, None]))
        summed = jax.tree_util.tree_map(lambda g: np_.sum(g, 0), per_example)
        std = l2_norm_clip * noise_multiplier
        noised = jax.tree_util.tree_map(lambda g: g + std * R.normal(rng, g.shape), summed)
        return jax.tree_util.tree_map(lambda g: g / float(inputs.shape[0]), noised)

    opt_init, opt_update, get_params = M.opt.sgd(0.15)

    @M.lib.jit
    def private_update(rng, i, opt_state, batch):
        rng = R.fold_in(rng, i)
        return opt_update(i, private_grad(get_params(opt_state), batch, rng), opt_state)
    data = np.random.RandomState(2)
    images = data.rand(16, 12, 12, 1).astype(F32)
    labels = np.eye(10, dtype=F32)[data.randint(0, 10, 16)]
    key = R.PRNGKey(0)
    _, params = init_random_params(key, (-1, 12, 12, 1))
    opt_state = opt_init(params)
    losses = []
    for i in range(steps):
        opt_state = private_update(key, i, opt_state, (images, labels))
        losses.append(float(loss(get_params(opt_state), (images, labels))))
    return np.array(losses)


def test_stax_mlp_adam_training_curve_equals_jax_step_by_step():
    ours_curve, ours_params = mlp_adam_curve(OURS)
    ref_curve, ref_params = mlp_adam_curve(JAX)
    np.testing.assert_allclose(ours_curve, ref_curve, rtol=1e-6, atol=1e-7)
    assert ours_curve[-1] < ours_curve[0] * 0.7
    assert_close(ours_params, ref_params, 1e-5, 1e-6, "final parameters")


def test_mnist_classifier_program_runs_after_import_swap():
    np.testing.assert_allclose(mnist_style_classifier(OURS), mnist_style_classifier(JAX),
                               rtol=1e-5)


def test_dp_sgd_program_runs_after_import_swap():
    ours, ref = dp_sgd(OURS), dp_sgd(JAX)
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
