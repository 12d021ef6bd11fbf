"""The compiled programs of `fit`, `evaluate` and `predict`.

The train step is one jitted program: `functorch_lite.value_and_grad` of the loss,
the metric updates, then the optax update. optax's update functions compute with
`jax.numpy`, which our tracers cannot enter, so the step calls them through
`functorch_lite.interop.call_jax` (JAX stages the update and its StableHLO becomes part
of our executable). Should that fail for some optimizer, the update runs after the
jitted gradient step, eagerly on the concrete gradients (`history.update_mode` says
which path ran). Optimizers that take extra arguments
(`optax.GradientTransformationExtraArgs`, e.g. `optax.contrib.reduce_on_plateau`) get
the batch loss as `value=`.

Programs are cached per (model, objective, optimizer): repeated `fit`/`evaluate` calls
with the same configuration reuse the compiled executables.
"""
import functools

import optax
from jax import tree_util

import functorch_lite as fl

# exceptions that mean "this optimizer's update cannot be traced by functorch_lite"
NOT_TRACEABLE = (TypeError, ValueError, AttributeError, NotImplementedError,
                 fl.ConcretizationTypeError)


def model_inputs(x):
    """The positional inputs of the model for a batch `x` (a tuple or list spreads)."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def add_updates(params, updates):
    """optax.apply_updates with our ops: p + u in p's dtype."""
    def add(p, u):
        if u is None:
            return p
        s = p + u
        return s if s.dtype == p.dtype else fl.lax.convert_element_type(s, p.dtype)
    return tree_util.tree_map(add, params, updates, is_leaf=lambda x: x is None)


def optimizer_update(optimizer):
    """`(grads, opt_state, params, loss) -> (updates, opt_state)` for `optimizer`."""
    if isinstance(optimizer, optax.GradientTransformationExtraArgs):
        return lambda g, s, p, loss: optimizer.update(g, s, p, value=loss)
    return lambda g, s, p, loss: optimizer.update(g, s, p)


@functools.lru_cache(maxsize=32)
def training_steps(model, objective, optimizer):
    """{"grad": jitted (grads, ...), "fused": jitted full step, "update": the eager
    optax update, "apply": jitted add_updates} for one configuration."""
    update = optimizer_update(optimizer)

    def gradients(params, state, metric_states, x, y, weights, mask, count, rng, step):
        def loss_of(p):
            key = None if rng is None else fl.random.fold_in(rng, step)
            out, new_state = model.apply(p, state, *model_inputs(x), rng=key,
                                         training=True)
            total, parts = objective.losses(out, y, weights, count)
            return total, (new_state, out, parts)
        (total, (new_state, out, parts)), grads = fl.value_and_grad(
            loss_of, has_aux=True)(params)
        metric_states = objective.update(metric_states, out, y, weights, mask, count,
                                         total, parts)
        return grads, new_state, metric_states, objective.step_report(total, out, y), total

    def fused(params, state, opt_state, metric_states, x, y, weights, mask, count, rng,
              step):
        grads, new_state, metric_states, report, total = gradients(
            params, state, metric_states, x, y, weights, mask, count, rng, step)
        updates, opt_state = fl.interop.call_jax(update, grads, opt_state, params, total)
        return add_updates(params, updates), new_state, opt_state, metric_states, report

    return {"grad": fl.jit(gradients), "fused": fl.jit(fused), "update": update,
            "apply": fl.jit(add_updates)}


@functools.lru_cache(maxsize=32)
def evaluation_step(model, objective):
    def evaluate(params, state, metric_states, x, y, weights, mask, count):
        out, _ = model.apply(params, state, *model_inputs(x), training=False)
        total, parts = objective.losses(out, y, weights, count)
        return objective.update(metric_states, out, y, weights, mask, count, total, parts)
    return fl.jit(evaluate)


@functools.lru_cache(maxsize=32)
def prediction_step(model):
    def predict(params, state, x):
        return model.apply(params, state, *model_inputs(x), training=False)[0]
    return fl.jit(predict)
