"""Optimizers as (init_fun, update_fun, get_params) triples over pytrees of parameters,
as jax.example_libraries.optimizers: `opt_state = init_fun(params)`,
`opt_state = update_fun(step, grads, opt_state)`, `params = get_params(opt_state)`.

Each optimizer is written for one array; the `optimizer` decorator maps it over the
leaves of a pytree. Arithmetic is written with functorch_lite functions, so eager
updates run our primitives too."""
import collections
import functools
from typing import NamedTuple

import numpy as np

from .. import numpy as jnp
from ..tree_util import register_pytree_node, tree_flatten, tree_map, tree_unflatten

OptimizerState = collections.namedtuple("OptimizerState",
                                        ["packed_state", "tree_def", "subtree_defs"])
register_pytree_node(
    OptimizerState,
    lambda xs: ((xs.packed_state,), (xs.tree_def, xs.subtree_defs)),
    lambda data, xs: OptimizerState(xs[0], data[0], data[1]))


class Optimizer(NamedTuple):
    init_fn: object
    update_fn: object
    params_fn: object


def _flatten_each(trees):
    pairs = [tree_flatten(t) for t in trees]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def optimizer(opt_maker):
    """Turn a maker of per-array (init, update, get_params) into a maker of pytree
    optimizers (an `Optimizer` triple whose state is an `OptimizerState`)."""
    @functools.wraps(opt_maker)
    def tree_opt_maker(*args, **kwargs):
        init, update, get_params = opt_maker(*args, **kwargs)

        @functools.wraps(init)
        def tree_init(x0_tree):
            x0_flat, tree = tree_flatten(x0_tree)
            states_flat, subtrees = _flatten_each([init(x0) for x0 in x0_flat])
            return OptimizerState(states_flat, tree, subtrees)

        @functools.wraps(update)
        def tree_update(i, grad_tree, opt_state):
            states_flat, tree, subtrees = opt_state
            grad_flat, tree2 = tree_flatten(grad_tree)
            if tree2 != tree:
                raise TypeError(f"optimizer update function was passed a gradient tree that "
                                f"did not match the parameter tree structure with which it "
                                f"was initialized: parameter tree {tree} and grad tree "
                                f"{tree2}.")
            states = map(tree_unflatten, subtrees, states_flat)
            new_states = [update(i, g, s) for g, s in zip(grad_flat, states)]
            new_states_flat, subtrees2 = _flatten_each(new_states)
            for subtree, subtree2 in zip(subtrees, subtrees2):
                if subtree2 != subtree:
                    raise TypeError(f"optimizer update function produced an output "
                                    f"structure that did not match its input structure: "
                                    f"input {subtree} and output {subtree2}.")
            return OptimizerState(new_states_flat, tree, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state):
            states_flat, tree, subtrees = opt_state
            states = map(tree_unflatten, subtrees, states_flat)
            return tree_unflatten(tree, [get_params(s) for s in states])
        return Optimizer(tree_init, tree_update, tree_get_params)
    return tree_opt_maker


def _step(x, step_size, direction):
    """x - step_size * direction."""
    return jnp.subtract(x, jnp.multiply(step_size, direction))


def _decay(decay, old, new):
    """decay * old + (1 - decay) * new."""
    return jnp.add(jnp.multiply(1 - decay, new), jnp.multiply(decay, old))


def _first(state):
    return state[0]


@optimizer
def sgd(step_size):
    """Stochastic gradient descent: x <- x - step_size(i) g."""
    step_size = make_schedule(step_size)
    return (lambda x0: x0, lambda i, g, x: _step(x, step_size(i), g), lambda x: x)


@optimizer
def momentum(step_size, mass):
    """Heavy-ball momentum: v <- mass v + g; x <- x - step_size(i) v."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = jnp.add(jnp.multiply(mass, velocity), g)
        return _step(x, step_size(i), velocity), velocity
    return lambda x0: (x0, jnp.zeros_like(x0)), update, _first


@optimizer
def nesterov(step_size, mass):
    """Nesterov's accelerated gradient."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = jnp.add(jnp.multiply(mass, velocity), g)
        return _step(x, step_size(i), jnp.add(jnp.multiply(mass, velocity), g)), velocity
    return lambda x0: (x0, jnp.zeros_like(x0)), update, _first


@optimizer
def adagrad(step_size, momentum=0.9):
    """Adagrad (Duchi et al. 2011) with momentum on the scaled gradient."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, g_sq, m = state
        g_sq = jnp.add(g_sq, jnp.square(g))
        g_sq_inv_sqrt = jnp.where(g_sq > 0, jnp.divide(1., jnp.sqrt(g_sq)), 0.0)
        m = _decay(momentum, m, jnp.multiply(g, g_sq_inv_sqrt))
        return _step(x, step_size(i), m), g_sq, m
    return lambda x0: (x0, jnp.zeros_like(x0), jnp.zeros_like(x0)), update, _first


@optimizer
def rmsprop(step_size, gamma=0.9, eps=1e-8):
    """RMSProp: the gradient scaled by a running RMS of past gradients."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq_grad = state
        avg_sq_grad = jnp.add(jnp.multiply(avg_sq_grad, gamma),
                              jnp.multiply(jnp.square(g), 1. - gamma))
        scaled = jnp.divide(jnp.multiply(step_size(i), g),
                            jnp.sqrt(jnp.add(avg_sq_grad, eps)))
        return jnp.subtract(x, scaled), avg_sq_grad
    return lambda x0: (x0, jnp.zeros_like(x0)), update, _first


@optimizer
def rmsprop_momentum(step_size, gamma=0.9, eps=1e-8, momentum=0.9):
    """RMSProp with momentum."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq_grad, mom = state
        avg_sq_grad = jnp.add(jnp.multiply(avg_sq_grad, gamma),
                              jnp.multiply(jnp.square(g), 1. - gamma))
        mom = jnp.add(jnp.multiply(momentum, mom), jnp.divide(
            jnp.multiply(step_size(i), g), jnp.sqrt(jnp.add(avg_sq_grad, eps))))
        return jnp.subtract(x, mom), avg_sq_grad, mom
    return lambda x0: (x0, jnp.zeros_like(x0), jnp.zeros_like(x0)), update, _first


def _bias_correction(decay, dtype, i):
    """1 - decay^(i + 1)."""
    return jnp.subtract(1, jnp.power(jnp.asarray(decay, dtype), jnp.add(i, 1)))


@optimizer
def adam(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2014)."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, m, v = state
        m = _decay(b1, m, g)                   # first moment estimate
        v = _decay(b2, v, jnp.square(g))       # second moment estimate
        mhat = jnp.divide(m, _bias_correction(b1, m.dtype, i))
        vhat = jnp.divide(v, _bias_correction(b2, m.dtype, i))
        step = jnp.divide(jnp.multiply(step_size(i), mhat), jnp.add(jnp.sqrt(vhat), eps))
        return jnp.subtract(x, step), m, v
    return lambda x0: (x0, jnp.zeros_like(x0), jnp.zeros_like(x0)), update, _first


@optimizer
def adamax(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax, Adam's infinity-norm variant."""
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, m, u = state
        m = _decay(b1, m, g)
        u = jnp.maximum(jnp.multiply(b2, u), jnp.abs(g))   # weighted infinity norm
        rate = jnp.divide(step_size(i), _bias_correction(b1, m.dtype, i))
        return jnp.subtract(x, jnp.divide(jnp.multiply(rate, m), jnp.add(u, eps))), m, u
    return lambda x0: (x0, jnp.zeros_like(x0), jnp.zeros_like(x0)), update, _first


@optimizer
def sm3(step_size, momentum=0.9):
    """SM3 (Anil et al. 2019): memory-efficient adaptive steps with one accumulator per
    axis."""
    step_size = make_schedule(step_size)

    def without(seq, j):
        return tuple(v for k, v in enumerate(seq) if k != j)

    def init(x0):
        x_shape = x0.shape
        x0 = jnp.atleast_1d(x0)
        return x0, jnp.zeros_like(x0), [jnp.zeros(n, dtype=x0.dtype) for n in x0.shape], \
            x_shape

    def update(i, g, state):
        x, m, vs, x_shape = state
        vs = [jnp.expand_dims(v, without(range(g.ndim), j)) for j, v in enumerate(vs)]
        accum = jnp.add(functools.reduce(jnp.minimum, vs), jnp.square(g))
        accum_inv_sqrt = jnp.where(accum > 0, jnp.divide(1., jnp.sqrt(accum)), 0)
        m = _decay(momentum, m, jnp.multiply(g, accum_inv_sqrt))
        x = _step(x, step_size(i), m)
        vs = [jnp.max(accum, axis=without(range(x.ndim), j)) for j in range(x.ndim)]
        return x, m, vs, x_shape
    return init, update, lambda state: jnp.reshape(state[0], state[3])


# --- learning-rate schedules ----------------------------------------------------------

def constant(step_size):
    """The schedule i -> step_size."""
    return lambda i: step_size


def exponential_decay(step_size, decay_steps, decay_rate):
    """i -> step_size * decay_rate ** (i / decay_steps)."""
    return lambda i: jnp.multiply(step_size, jnp.power(decay_rate,
                                                       jnp.divide(i, decay_steps)))


def inverse_time_decay(step_size, decay_steps, decay_rate, staircase=False):
    """i -> step_size / (1 + decay_rate * i / decay_steps) (floor of i / decay_steps
    with `staircase`)."""
    if staircase:
        return lambda i: jnp.divide(step_size, jnp.add(1, jnp.multiply(
            decay_rate, jnp.floor(jnp.divide(i, decay_steps)))))
    return lambda i: jnp.divide(step_size, jnp.add(1, jnp.divide(
        jnp.multiply(decay_rate, i), decay_steps)))


def polynomial_decay(step_size, decay_steps, final_step_size, power=1.0):
    """From step_size to final_step_size over decay_steps along (1 - i/decay_steps)^power,
    then constant."""
    def schedule(step_num):
        step_num = jnp.minimum(step_num, decay_steps)
        step_mult = jnp.power(jnp.subtract(1, jnp.divide(step_num, decay_steps)), power)
        return jnp.add(jnp.multiply(step_mult, step_size - final_step_size),
                       final_step_size)
    return schedule


def piecewise_constant(boundaries, values):
    """values[0] until boundaries[0], values[1] until boundaries[1], ..."""
    boundaries, values = np.asarray(boundaries), np.asarray(values)
    if not boundaries.ndim == values.ndim == 1:
        raise ValueError("boundaries and values must be sequences")
    if not boundaries.shape[0] == values.shape[0] - 1:
        raise ValueError("boundaries length must be one shorter than values length")
    boundaries, values = jnp.asarray(boundaries), jnp.asarray(values)
    return lambda i: jnp.take(values, jnp.sum(jnp.greater(i, boundaries)))


def make_schedule(scalar_or_schedule):
    """A schedule from a schedule or a number (a constant schedule)."""
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if jnp.ndim(scalar_or_schedule) == 0:
        return constant(scalar_or_schedule)
    raise TypeError(type(scalar_or_schedule))


# --- utilities ------------------------------------------------------------------------

def l2_norm(tree):
    """The l2 norm of all the leaves of a pytree together."""
    leaves, _ = tree_flatten(tree)
    return jnp.sqrt(functools.reduce(jnp.add, [jnp.vdot(x, x) for x in leaves], 0.))


def clip_grads(grad_tree, max_norm):
    """Scale a gradient pytree down so that its l2 norm is at most `max_norm`."""
    norm = l2_norm(grad_tree)
    return tree_map(lambda g: jnp.where(norm < max_norm, g,
                                        jnp.multiply(g, jnp.divide(max_norm, norm))),
                    grad_tree)


class JoinPoint:
    """Marks the per-parameter optimizer state inside `unpack_optimizer_state`'s tree."""

    def __init__(self, subtree):
        self.subtree = subtree

    def __iter__(self):
        yield self.subtree


def unpack_optimizer_state(opt_state):
    """An `OptimizerState` as a plain pytree (parameter tree with JoinPoint leaves), for
    saving."""
    states_flat, tree_def, subtree_defs = opt_state
    subtrees = map(tree_unflatten, subtree_defs, states_flat)
    return tree_unflatten(tree_def, [JoinPoint(s) for s in subtrees])


def pack_optimizer_state(marked_pytree):
    """The inverse of `unpack_optimizer_state`."""
    sentinels, tree_def = tree_flatten(marked_pytree)
    if not all(isinstance(s, JoinPoint) for s in sentinels):
        raise TypeError("pack_optimizer_state expects the tree made by "
                        "unpack_optimizer_state (JoinPoint leaves)")
    states_flat, subtree_defs = _flatten_each([s.subtree for s in sentinels])
    return OptimizerState(states_flat, tree_def, subtree_defs)
