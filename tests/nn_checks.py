"""One check for an nn layer against a reference written with JAX (or Flax, or a
formula): a single compiled program of ours gives the output, the gradients of
<output, cotangent> with respect to the parameters and the inputs, and the output
vmapped over a stack of two inputs; JAX gives the same three from the reference."""
import numpy as np
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close

KEY = fl.random.PRNGKey(0)


def randn(rng, *shape):
    return np.asarray(rng.randn(*shape), np.float32)


def perturbed(tree, rng, scale=0.3):
    """Parameters plus noise, so that zero biases and unit scales are exercised."""
    return jax.tree_util.tree_map(
        lambda a: (np.asarray(a) + scale * rng.randn(*np.shape(a))).astype(np.asarray(a).dtype)
        if np.issubdtype(np.asarray(a).dtype, np.floating) else np.asarray(a), tree)


def check_layer(ours, ref, params, inputs, *, tol=1e-5, grad_tol=1e-4, grad_inputs=True,
                vmap=True, seed=1):
    """`ours(params, *inputs)` (our functions, any pytree output) against
    `ref(params, *inputs)` (JAX): values, gradients w.r.t. params and the float inputs
    (through a random cotangent), and vmap over a leading axis of two stacked inputs
    (the second a scaled copy of the first)."""
    rng = np.random.RandomState(seed)
    inputs = tuple(inputs)
    float_inputs = tuple(i for i, x in enumerate(inputs)
                         if np.issubdtype(np.asarray(x).dtype, np.floating))
    want_shapes = jax.eval_shape(lambda p, *xs: ref(p, *xs), params, *inputs)
    cotangent = jax.tree_util.tree_map(lambda y: randn(rng, *y.shape), want_shapes)
    stacked = tuple(np.stack([x, x * 0.5]) if i in float_inputs else np.stack([x, x])
                    for i, x in enumerate(inputs))

    def with_inputs(fn, tree_sum):
        def loss(p, diff):
            full = list(inputs)
            for i, x in zip(float_inputs if grad_inputs else (), diff):
                full[i] = x
            out = fn(p, *full)
            return tree_sum(out), out
        return loss

    def fsum(out):
        return sum(fnp.sum(o * c) for o, c in zip(jax.tree_util.tree_leaves(out),
                                                    jax.tree_util.tree_leaves(cotangent)))

    def jsum(out):
        return sum(jnp.sum(o * c) for o, c in zip(jax.tree_util.tree_leaves(out),
                                                    jax.tree_util.tree_leaves(cotangent)))

    diff = tuple(inputs[i] for i in float_inputs) if grad_inputs else ()

    def program(grad_fn, vmap_fn, fn, tree_sum):
        def run(p, diff, stacked):
            (_, out), grads = grad_fn(with_inputs(fn, tree_sum), argnums=(0, 1),
                                      has_aux=True)(p, diff)
            batched = vmap_fn(lambda *xs: fn(p, *xs))(*stacked) if vmap else None
            return out, grads, batched
        return run

    # one compiled program each: ours under our jit, the reference under jax.jit
    out, grads, batched = fl.jit(program(fl.value_and_grad, fl.vmap, ours, fsum))(
        params, diff, stacked)
    want, want_grads, want_batched = jax.jit(program(jax.value_and_grad, jax.vmap, ref,
                                                     jsum))(params, diff, stacked)
    assert_close(out, want, tol, tol, "forward")
    assert_close(grads, want_grads, grad_tol, grad_tol, "gradient")
    if vmap:
        assert_close(batched, want_batched, tol, tol, "vmap")
