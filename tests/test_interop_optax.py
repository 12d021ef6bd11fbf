"""interop.optax and optax losses through interop.from_jax: the standard training step
under our jit equals jax.jit of the same step; meta-gradients through a step and
vmapped steps equal JAX's; the step compiles to one executable of our primitives."""
import numpy as np
import jax
import optax
import pytest

import functorch_lite as fl

X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
Y = np.ones((4, 2), np.float32)
PARAMS = {"w": np.linspace(0.5, -0.5, 6, dtype=np.float32).reshape(3, 2),
          "b": np.zeros(2, np.float32)}
apply_updates = fl.interop.from_jax(optax.apply_updates)


def loss_fn(p, x, y):
    return ((x @ p["w"] + p["b"] - y) ** 2).mean()


def steps(tx, jit, value_and_grad, update, apply, pass_value=False):
    @jit
    def step(params, opt_state, x, y):
        loss, grads = value_and_grad(loss_fn)(params, x, y)
        extra = {"value": loss} if pass_value else {}  # reduce_on_plateau reads the loss
        updates, opt_state = update(grads, opt_state, params, **extra)
        return apply(params, updates), opt_state, loss
    return step


TRANSFORMATIONS = {
    "adam": lambda: optax.adam(1e-2),
    "adamw": lambda: optax.adamw(1e-2, weight_decay=0.1),
    "clip_adam_schedule": lambda: optax.chain(
        optax.clip_by_global_norm(0.5), optax.adam(optax.cosine_decay_schedule(1e-2, 10))),
    "multisteps": lambda: optax.MultiSteps(optax.adam(1e-2), every_k_schedule=2),
    "inject_hyperparams": lambda: optax.inject_hyperparams(optax.adam)(learning_rate=1e-2),
    "masked": lambda: optax.masked(optax.adam(1e-2), {"w": True, "b": False}),
    "reduce_on_plateau": lambda: optax.chain(
        optax.adam(1e-2), optax.contrib.reduce_on_plateau(patience=1, factor=0.5)),
}


@pytest.mark.parametrize("name", list(TRANSFORMATIONS))
def test_optax_step_under_our_jit_matches_jax_jit(name):
    tx = TRANSFORMATIONS[name]()
    opt = fl.interop.optax(tx)
    pass_value = name == "reduce_on_plateau"
    ours = steps(tx, fl.jit, fl.value_and_grad, opt.update, apply_updates, pass_value)
    theirs = steps(tx, jax.jit, jax.value_and_grad, tx.update, optax.apply_updates,
                   pass_value)
    p, s, jp, js = PARAMS, opt.init(PARAMS), PARAMS, tx.init(PARAMS)
    for _ in range(4):
        p, s, loss = ours(p, s, X, Y)
        jp, js, jloss = theirs(jp, js, X, Y)
        np.testing.assert_allclose(loss, jloss, rtol=1e-6)
    for a, b in zip(jax.tree.leaves((p, s)), jax.tree.leaves((jp, js))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert opt.update.unsupported == set()


def test_optax_step_compiles_to_one_executable_of_our_primitives(compiles):
    count = compiles
    tx = optax.adam(1e-2)
    opt = fl.interop.optax(tx)
    step = steps(tx, fl.jit, fl.value_and_grad, opt.update, apply_updates)
    state = (PARAMS, opt.init(PARAMS))
    for _ in range(3):
        *state, _ = step(*state, X, Y)
    assert count[0] == 1
    text = step.lower(PARAMS, opt.init(PARAMS), X, Y).as_text()
    assert "@jaxfn" not in text  # translated, no embedded JAX function


def test_meta_gradient_through_an_adam_step_matches_jax():
    """grad of the loss after one optimizer step with respect to the learning rate
    (an array in inject_hyperparams' state, the way optax meta-learns it)."""
    tx = optax.inject_hyperparams(optax.adam)(learning_rate=0.05)

    def after_step(lr, value_and_grad, tx_of, apply, params):
        state = tx_of(tx).init(params)
        state.hyperparams["learning_rate"] = lr
        grads = value_and_grad(loss_fn)(params, X, Y)[1]
        updates, _ = tx_of(tx).update(grads, state, params)
        return loss_fn(apply(params, updates), X, Y)
    ours = fl.jit(fl.grad(lambda lr: after_step(lr, fl.value_and_grad, fl.interop.optax,
                                                  apply_updates, PARAMS)))
    theirs = jax.jit(jax.grad(lambda lr: after_step(lr, jax.value_and_grad, lambda t: t,
                                                    optax.apply_updates, PARAMS)))
    np.testing.assert_allclose(ours(np.float32(0.05)), theirs(np.float32(0.05)), rtol=1e-5)
    params_grad = fl.grad(lambda p: after_step(np.float32(0.05), fl.value_and_grad, fl.interop.optax,
                                               apply_updates, p))(PARAMS)
    jax_params_grad = jax.grad(lambda p: after_step(np.float32(0.05), jax.value_and_grad, lambda t: t,
                                                    optax.apply_updates, p))(PARAMS)
    for a, b in zip(jax.tree.leaves(params_grad), jax.tree.leaves(jax_params_grad)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_vmapped_optax_step_over_an_ensemble_matches_jax():
    tx = optax.chain(optax.clip_by_global_norm(0.5), optax.adam(1e-2))
    opt = fl.interop.optax(tx)
    ensemble = jax.tree.map(lambda a: np.stack([a, 2 * a, -a]), PARAMS)
    ours = fl.vmap(steps(tx, fl.jit, fl.value_and_grad, opt.update, apply_updates),
                   in_axes=(0, 0, None, None))
    theirs = jax.vmap(steps(tx, jax.jit, jax.value_and_grad, tx.update,
                            optax.apply_updates), in_axes=(0, 0, None, None))
    out = ours(ensemble, fl.vmap(opt.init)(ensemble), X, Y)
    ref = theirs(ensemble, jax.vmap(tx.init)(ensemble), X, Y)
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss", [
    optax.softmax_cross_entropy, optax.sigmoid_binary_cross_entropy, optax.l2_loss,
    optax.huber_loss], ids=lambda f: f.__name__)
def test_optax_losses_under_our_grad_and_vmap_match_jax(loss):
    logits = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]], np.float32)
    targets = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0]], np.float32)
    ours = fl.interop.from_jax(lambda z, t: loss(z, t).sum())
    theirs = lambda z, t: loss(z, t).sum()  # noqa: E731
    np.testing.assert_allclose(fl.jit(fl.grad(ours))(logits, targets),
                               jax.grad(theirs)(logits, targets), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fl.vmap(fl.grad(ours))(logits, targets),
                               jax.vmap(jax.grad(theirs))(logits, targets), rtol=1e-6,
                               atol=1e-7)


def test_optimizer_closing_over_a_traced_learning_rate_names_the_fix():
    def meta(lr):
        opt = fl.interop.optax(optax.sgd(lr))
        return opt.update(PARAMS, opt.init(PARAMS), PARAMS)[0]["w"].sum()
    with pytest.raises(TypeError, match="closes over a traced value.*inject_hyperparams"):
        fl.grad(meta)(np.float32(0.1))
