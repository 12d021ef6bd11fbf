"""interop.from_jax: Flax and Equinox models, JAX control flow, custom rules and the
opaque fallback under our jit, grad, vmap, jvp and second order, against JAX itself on
the same inputs; and the table of which JAX primitives mapped to ours."""
import numpy as np
import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import optax
import pytest
import equinox as eqx
import flax.linen as nn

import functorch_lite as fl
from functorch_lite.interop import from_jax


def assert_trees_close(ours, theirs, rtol=1e-5, atol=1e-6):
    assert jax.tree.structure(ours) == jax.tree.structure(theirs)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


class ConvNet(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3))(x)
        x = nn.BatchNorm(use_running_average=not train)(x)
        x = nn.Dropout(0.5, deterministic=not train)(nn.relu(x))
        return nn.Dense(3)(x.reshape(x.shape[0], -1))


@pytest.fixture(scope="module")
def flax_model():
    model = ConvNet()
    x = np.asarray(jax.random.normal(jax.random.PRNGKey(3), (2, 5, 5, 1)))
    variables = model.init({"params": jax.random.PRNGKey(0)}, x, False)
    labels = np.array([0, 2])

    def loss(params, batch_stats, x, key):
        logits, updated = model.apply({"params": params, "batch_stats": batch_stats}, x,
                                      True, rngs={"dropout": key}, mutable=["batch_stats"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), \
            updated

    def example_loss(params, x, label):
        logits = model.apply({"params": params, **{"batch_stats": variables["batch_stats"]}},
                             x[None], False)
        return optax.softmax_cross_entropy_with_integer_labels(logits, label[None]).mean()
    return variables, x, labels, loss, example_loss


def test_flax_loss_and_batch_stats_under_jit_grad_match_jax(flax_model):
    variables, x, _, loss, _ = flax_model
    args = (variables["params"], variables["batch_stats"], x, jax.random.PRNGKey(1))
    ours = from_jax(loss)
    (value, stats), grads = fl.jit(fl.value_and_grad(ours, has_aux=True))(*args)
    (jvalue, jstats), jgrads = jax.jit(jax.value_and_grad(loss, has_aux=True))(*args)
    np.testing.assert_allclose(value, jvalue, rtol=1e-6)
    assert_trees_close(grads, jgrads)
    assert_trees_close(stats, jstats)
    assert ours.unsupported == set()


def test_flax_per_example_gradients_under_vmap_match_jax(flax_model):
    variables, x, labels, _, example_loss = flax_model
    ours = fl.vmap(fl.grad(from_jax(example_loss)), in_axes=(None, 0, 0))
    theirs = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))
    assert_trees_close(ours(variables["params"], x, labels),
                       theirs(variables["params"], x, labels))


def test_equinox_module_filtered_grad_matches_jax():
    model = eqx.nn.MLP(3, 2, 8, 2, key=jax.random.PRNGKey(0))
    xs = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)

    def loss(model, x):
        return jnp.sum(jax.vmap(model)(x) ** 2)
    ours_loss = from_jax(loss)   # the module's activation functions are static leaves
    params, static = eqx.partition(model, eqx.is_array)
    grads = fl.jit(fl.grad(lambda p, x: ours_loss(eqx.combine(p, static), x)))(params, xs)
    assert_trees_close(grads, eqx.filter_jit(eqx.filter_grad(loss))(model, xs))
    np.testing.assert_allclose(ours_loss(model, xs), loss(model, xs), rtol=1e-6)


def test_flax_nnx_model_through_split_and_merge_matches_jax():
    from flax import nnx

    class Model(nnx.Module):
        def __init__(self, rngs):
            self.hidden, self.out = nnx.Linear(3, 8, rngs=rngs), nnx.Linear(8, 1, rngs=rngs)

        def __call__(self, x):
            return self.out(jax.nn.gelu(self.hidden(x)))
    graphdef, state = nnx.split(Model(nnx.Rngs(0)))
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)

    def loss(state, x):
        return jnp.mean(nnx.merge(graphdef, state)(x) ** 2)
    assert_trees_close(fl.jit(fl.grad(from_jax(loss)))(state, x), jax.grad(loss)(state, x))


def smooth(x):
    return jnp.sum(jnp.tanh(x) ** 3 * jax.nn.softplus(x) + jnp.cumsum(x) * x)


def test_hessian_and_jvp_of_jvp_through_from_jax():
    x = np.array([0.3, -0.7, 1.1], np.float32)
    np.testing.assert_allclose(fl.hessian(from_jax(smooth))(x), jax.hessian(smooth)(x),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fl.jacfwd(fl.jacrev(from_jax(smooth)))(x),
                               jax.hessian(smooth)(x), rtol=1e-5, atol=1e-6)


def loops(x, with_while=True):
    y = jax.lax.fori_loop(0, 3, lambda i, c: c * jnp.sin(c), x)
    z, ys = jax.lax.scan(lambda c, xi: (c + xi * c * x, c * xi), y, x)  # x: a scan const
    w = jax.lax.cond(z.sum() > 0, lambda v: v * 2, lambda v: -v, z + ys)
    if not with_while:  # neither JAX nor we take reverse mode through a while loop
        return jnp.sum(w ** 2)
    n, v = jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 1.5), (0, w))
    return jnp.sum(v ** 2) + n


def test_jax_control_flow_becomes_ours_under_grad_jvp_vmap():
    x = np.array([0.3, -0.7, 1.1], np.float32)
    ours = from_jax(loops)
    np.testing.assert_allclose(fl.jit(ours)(x), jax.jit(loops)(x), rtol=1e-6)
    no_while = lambda v: loops(v, with_while=False)  # noqa: E731
    np.testing.assert_allclose(fl.jit(fl.grad(from_jax(no_while)))(x), jax.grad(no_while)(x),
                               rtol=1e-5)
    np.testing.assert_allclose(fl.jvp(ours, (x,), (x,))[1], jax.jvp(loops, (x,), (x,))[1],
                               rtol=1e-5)
    xs = np.stack([x, -x])
    np.testing.assert_allclose(fl.vmap(ours)(xs), jax.vmap(loops)(xs), rtol=1e-6)
    assert {"cond", "while", "scan"} <= ours.mapped and ours.unsupported == set()


@jax.custom_vjp
def clipped_sin(x):
    return jnp.sin(x)


clipped_sin.defvjp(lambda x: (jnp.sin(x), x),
                   lambda x, g: (jnp.clip(g * jnp.cos(x), -0.1, 0.1),))


@jax.custom_jvp
def doubled_sin(x):
    return jnp.sin(x)


doubled_sin.defjvp(lambda p, t: (jnp.sin(p[0]), 2 * t[0]))


def with_rules(x):
    return jnp.sum(3 * clipped_sin(x) + doubled_sin(x) + jax.nn.relu(x))


def test_jax_custom_rules_are_kept_under_our_transformations():
    """The JAX functions' own rules apply (not derivatives of their primal code)."""
    x = np.array([0.0, 0.5, -1.0], np.float32)
    ours = from_jax(with_rules)
    np.testing.assert_allclose(fl.jit(fl.grad(ours))(x), jax.grad(with_rules)(x), rtol=1e-6)
    xs = np.stack([x, x + 1])
    np.testing.assert_allclose(fl.vmap(fl.grad(ours))(xs), jax.vmap(jax.grad(with_rules))(xs),
                               rtol=1e-6)
    np.testing.assert_allclose(fl.jvp(from_jax(lambda v: doubled_sin(v)), (x,), (x,))[1],
                               2 * x, rtol=1e-6)
    assert {"custom_jvp_call", "custom_vjp_call"} <= ours.mapped


def fallbacks(x):  # approx_max_k: a JAX primitive without a functorch_lite function
    return jnp.sum(jax.lax.approx_max_k(jnp.sin(x) * x, 2)[0] ** 2) + jnp.sum(
        jss.betainc(2.0, 3.0, x) * x) + jnp.sum(x.at[1].subtract(x[0] ** 2) ** 2)


def test_opaque_fallback_has_every_rule():
    x = np.array([0.2, 0.5, 0.7], np.float32)
    ours = from_jax(fallbacks)
    np.testing.assert_allclose(fl.jit(fl.grad(ours))(x), jax.jit(jax.grad(fallbacks))(x),
                               rtol=1e-5)
    np.testing.assert_allclose(fl.hessian(ours)(x), jax.hessian(fallbacks)(x), rtol=1e-4,
                               atol=1e-5)
    xs = np.stack([x, x / 2])
    np.testing.assert_allclose(fl.vmap(fl.grad(ours))(xs), jax.vmap(jax.grad(fallbacks))(xs),
                               rtol=1e-5)
    assert ours.unsupported == {"approx_top_k"}
    assert {"regularized_incomplete_beta", "scatter-sub"} <= ours.mapped


def test_from_jax_composes_with_scan_and_checkpoint():
    x = np.array([0.3, -0.7, 1.1], np.float32)
    f = from_jax(lambda c, v: (jnp.tanh(c * v), jnp.sin(c)))

    def ours(x):
        carry, ys = fl.lax.scan(fl.checkpoint(f), x, fl.numpy.stack([x, 2 * x]))
        return fl.numpy.sum(carry) + fl.numpy.sum(ys)

    def theirs(x):
        carry, ys = jax.lax.scan(lambda c, v: (jnp.tanh(c * v), jnp.sin(c)), x,
                                 jnp.stack([x, 2 * x]))
        return jnp.sum(carry) + jnp.sum(ys)
    np.testing.assert_allclose(fl.jit(fl.grad(ours))(x), jax.grad(theirs)(x), rtol=1e-5)


def test_from_jax_inside_our_custom_vjp_and_forward_over_reverse():
    x = np.array([0.3, -0.7, 1.1], np.float32)
    f = from_jax(smooth)

    @fl.custom_vjp
    def scaled(v):
        return f(v)
    scaled.defvjp(lambda v: (f(v), v), lambda v, g: (3.0 * g * fl.grad(f)(v),))
    np.testing.assert_allclose(fl.grad(scaled)(x), 3 * jax.grad(smooth)(x), rtol=1e-5)
    np.testing.assert_allclose(fl.jvp(fl.grad(f), (x,), (x,))[1],
                               jax.jvp(jax.grad(smooth), (x,), (x,))[1], rtol=1e-5)
    np.testing.assert_allclose(fl.vmap(fl.jit(f))(np.stack([x, -x])),
                               jax.vmap(smooth)(np.stack([x, -x])), rtol=1e-6)


SQUARE = (np.eye(3) * 3 + np.arange(9).reshape(3, 3) / 9).astype(np.float32)
EVERYDAY = {  # jax.numpy / jax.nn / jax.lax functions, each through from_jax
    "argmax": lambda a: jax.nn.one_hot(jnp.argmax(a, 1), 4) * a,
    "sort": lambda a: jnp.sort(a, axis=1), "argsort": lambda a: jnp.argsort(a, 1) * a,
    "top_k": lambda a: jax.lax.top_k(a, 2)[0], "cumprod": lambda a: jnp.cumprod(a, 1),
    "cummax": lambda a: jax.lax.cummax(a, 1), "logsumexp": lambda a: jax.nn.logsumexp(a, 1),
    "special": lambda a: jss.erf(a) + jax.lax.lgamma(a) + jax.lax.digamma(a) + jss.i0e(a),
    "pad_roll": lambda a: jnp.roll(jnp.pad(a, 1), 1),
    "take_along": lambda a: jnp.take_along_axis(a, jnp.argsort(a, 1), 1),
    "update_slice": lambda a: jax.lax.dynamic_update_slice(a, a[:1] * 2, (1, 0)),
    "cholesky_eigh": lambda a: jnp.linalg.cholesky(SQUARE @ SQUARE.T * a[0, 0]).sum()
    + jnp.linalg.eigh(SQUARE + SQUARE.T * a[0, 1])[0],
    "svd_solve": lambda a: jnp.linalg.svd(a, compute_uv=False).sum()
    + jnp.linalg.solve(SQUARE * a[0, 0], a) + jnp.linalg.inv(SQUARE + a[:, :3]).sum(), "fft": lambda a: jnp.abs(jnp.fft.rfft(a)),
    "pools": lambda a: nn.max_pool(a[None, :, :, None], (2, 2)).sum()
    + nn.avg_pool(a[None, :, :, None], (2, 2)).sum(),
    "median_var": lambda a: jnp.median(a, 0) + jnp.var(a, 0),
    "segment_scatter": lambda a: jax.ops.segment_sum(a, jnp.array([0, 0, 1]), 2).sum()
    + a.at[0].max(a[1]) + a.at[0].multiply(a[1]),
    "random": lambda a: jax.random.normal(jax.random.PRNGKey(0), a.shape) * a
    + jax.random.uniform(jax.random.key(1), a.shape) * a,
}


@pytest.fixture(scope="module")
def everyday():
    def f(a):
        return sum(jnp.sum(fn(a)) for fn in EVERYDAY.values())
    return f, from_jax(f), np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4) / 7


def test_everyday_jax_functions_match_under_jit_and_grad(everyday):
    f, ours, x = everyday
    np.testing.assert_allclose(fl.jit(ours)(x), jax.jit(f)(x), rtol=1e-5)
    np.testing.assert_allclose(fl.jit(fl.grad(ours))(x), jax.jit(jax.grad(f))(x), rtol=1e-4,
                               atol=1e-5)
    assert ours.unsupported == set(), ours.unsupported


def test_eager_call_runs_jax_itself():
    x = np.array([0.3, -0.7, 1.1], np.float32)
    out = from_jax(smooth)(x)
    assert isinstance(out, jax.Array)
    np.testing.assert_array_equal(out, smooth(x))


def test_translation_table_of_every_jax_primitive_in_these_tests(flax_model):
    """Which JAX primitives the functions above contain, and whether each became our
    primitive or took the opaque fallback (traced, not compiled)."""
    variables, x, labels, loss, example_loss = flax_model
    v = np.array([0.3, -0.7, 1.1], np.float32)
    tx = optax.chain(optax.clip_by_global_norm(1.0),
                     optax.adam(optax.cosine_decay_schedule(1e-3, 10)))
    cases = [
        (loss, (variables["params"], variables["batch_stats"], x, jax.random.PRNGKey(1))),
        (example_loss, (variables["params"], x[0], labels[0])),
        (tx.update, (variables["params"], tx.init(variables["params"]),
                     variables["params"])),
        (optax.MultiSteps(optax.adamw(1e-3), 2).update,
         (v, optax.MultiSteps(optax.adamw(1e-3), 2).init(v), v)),
        (smooth, (v,)), (loops, (v,)), (with_rules, (v,)), (fallbacks, (v,)),
        (lambda a: [fn(a) for fn in EVERYDAY.values()],
         (np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4) / 7,))]
    mapped, fell_back = set(), set()
    for fn, args in cases:
        wrapped = from_jax(fn)
        fl.make_jaxpr(lambda *a: wrapped(*a))(*args)
        mapped |= wrapped.mapped
        fell_back |= wrapped.unsupported
    table = {name: "mapped" for name in mapped} | {n: "fallback" for n in fell_back}
    print("\n".join(f"{k:32} {v}" for k, v in sorted(table.items())))
    assert fell_back == {"approx_top_k"}, table
    assert {"conv_general_dilated", "dot_general", "gather", "random_bits", "custom_jvp_call",
            "custom_vjp_call", "custom_linear_solve", "cond", "while", "scan", "jit"} <= mapped, \
        table
