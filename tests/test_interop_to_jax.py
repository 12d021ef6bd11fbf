"""interop.to_jax: our functions inside JAX's transformations give our numbers; our
functions given JAX tracers without it raise an error naming it; JAX's keys and
initializers cross over into nn layers.

JAX is the oracle: `jax.jit(jax.grad(to_jax(f)))` against `fl.jit(fl.grad(f))` on the
same inputs, and JAX's initializers called directly against the params a layer made.
"""
import gc
import importlib

import jax
import numpy as np
import pytest
from flax import linen as flax_nn

import functorch_lite as fl
import functorch_lite.numpy as fnp
import nn
from functorch_lite import lax
from functorch_lite._core import Primitive
from functorch_lite._errors import JaxTracerError
from functorch_lite._to_jax import translates
from functorch_lite.interop import to_jax
from harness import Rec, make_args

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3)).astype(np.float32)
W = {"a": RNG.normal(size=(3, 4)).astype(np.float32),
     "b": RNG.normal(size=(4, 2)).astype(np.float32)}
XS = RNG.normal(size=(6, 3)).astype(np.float32)


def close(ours, theirs, rtol=1e-5, atol=1e-6):
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(
        np.asarray(a), np.asarray(b), rtol=rtol, atol=atol), ours, theirs)


def mlp_loss(w, x):
    h = fnp.tanh(x @ w["a"] + 1.0)
    return fnp.mean((h @ w["b"]) ** 2) + fnp.sum(fnp.maximum(h, 0)) + h[0, 1:3].sum()


def rnn_loss(h0, xs):
    def cell(h, x):
        h = fnp.tanh(h * 0.5 + x)
        return h, h.sum()
    h, ys = lax.scan(cell, h0, xs)
    return (h ** 2).sum() + ys.sum()


def cond_loss(x, y):
    z = lax.cond(x.sum() > 0, lambda v: fnp.sin(v) * 2.0, lambda v: v ** 3, x * y)
    return lax.fori_loop(0, 3, lambda i, c: c * 0.5 + fnp.cos(c), z).sum()


@fl.custom_vjp
def clipped_sin(x):
    return fnp.sin(x)


clipped_sin.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)),
                   lambda cos_x, ct: (fnp.clip(ct * cos_x, -0.5, 0.5),))


@fl.custom_jvp
def soft_exp(x):
    return fnp.exp(x)


soft_exp.defjvp(lambda p, t: (fnp.exp(p[0]), t[0] * 0.25))


def custom_loss(x, y):
    return (clipped_sin(x * 3.0) * soft_exp(y)).sum()


A_SPD = (X[:3].T @ X[:3] + 3 * np.eye(3)).astype(np.float32)


def linear_solve_loss(a, b):
    x = lax.custom_linear_solve(lambda v: a @ v, b, lambda mv, v: fnp.linalg.solve(a, v),
                                symmetric=True)
    return (x ** 2).sum()


MODEL = nn.Sequential(hidden=nn.Dense(8), act=nn.ReLU(), out=nn.Dense(2))
MODEL_PARAMS, MODEL_STATE = MODEL.init(fl.random.PRNGKey(0), nn.Spec((5, 3)))


def model_loss(params, x):
    out, _ = MODEL.apply(params, MODEL_STATE, x)
    return fnp.mean(out ** 2)


@pytest.mark.parametrize("fun,args", [
    (mlp_loss, (W, X)),
    (model_loss, (MODEL_PARAMS, X)),
    (rnn_loss, (X[0], XS)),
    (cond_loss, (X[0], X[1])),
    (cond_loss, (-X[0] ** 2, X[1] ** 2)),  # the other branch
    (custom_loss, (X[0], X[1])),
    (linear_solve_loss, (A_SPD, X[0])),
], ids=["mlp", "nn_model", "scan_rnn", "cond", "cond_other_branch", "custom_vjp_jvp",
        "custom_linear_solve"])
def test_jax_jit_grad_matches_ours(fun, args):
    argnums = tuple(range(len(args)))
    theirs = jax.jit(jax.value_and_grad(to_jax(fun), argnums))(*args)
    ours = fl.jit(fl.value_and_grad(fun, argnums))(*args)
    close(theirs, ours)


CONV_MODEL = nn.Sequential(conv=nn.Conv(4, 3), bn=nn.BatchNorm(), act=nn.ReLU(),
                           pool=nn.MaxPool(2), flat=nn.Flatten(), drop=nn.Dropout(0.3),
                           out=nn.Dense(2))
IMAGES = RNG.normal(size=(2, 6, 6, 3)).astype(np.float32)


def test_conv_batchnorm_dropout_model_under_jax_jit_grad():
    """Training (batch statistics, new state, dropout from a typed JAX key) and
    inference (the state closed over: JAX arithmetic on it inside jax.jit's trace)."""
    params, state = CONV_MODEL.init(fl.random.PRNGKey(0), nn.Spec(IMAGES.shape))

    def train_loss(p, s, x, key):
        out, new_state = CONV_MODEL.apply(p, s, x, rng=key, training=True)
        return fnp.mean(out ** 2), new_state
    key = jax.random.key(3)
    theirs = jax.jit(jax.value_and_grad(to_jax(train_loss), has_aux=True))(
        params, state, IMAGES, key)
    close(theirs, fl.jit(fl.value_and_grad(train_loss, has_aux=True))(
        params, state, IMAGES, key))

    def predict(p, x):
        return CONV_MODEL.apply(p, state, x)[0]
    close(jax.jit(to_jax(predict))(params, IMAGES), fl.jit(predict)(params, IMAGES))


def test_custom_rules_are_ours_not_the_functions_derivative():
    g = jax.grad(to_jax(custom_loss), argnums=(0, 1))(X[0], X[1])
    cos3x = np.cos(3 * X[0])
    np.testing.assert_allclose(g[0], np.clip(np.exp(X[1]) * cos3x, -0.5, 0.5) * 3,
                               rtol=1e-5)
    np.testing.assert_allclose(g[1], np.sin(3 * X[0]) * 0.25, rtol=1e-5)


def test_custom_rules_closing_over_traced_values_raise():
    def loss(x, y):
        @fl.custom_vjp
        def scaled_sin(v):
            return fnp.sin(v) * y
        scaled_sin.defvjp(lambda v: (fnp.sin(v) * y, fnp.cos(v) * y),
                          lambda r, ct: (ct * r,))
        return scaled_sin(x).sum()
    np.testing.assert_allclose(to_jax(loss)(X[0], X[1]), fl.jit(loss)(X[0], X[1]),
                               rtol=1e-6)
    with pytest.raises(NotImplementedError, match="pass the value to scaled_sin"):
        jax.grad(to_jax(loss))(X[0], X[1])


def test_vmap_jvp_and_per_example_grads():
    f = to_jax(lambda x: fnp.sum(fnp.sin(x) * x[::-1]))
    ours = lambda x: fnp.sum(fnp.sin(x) * x[::-1])  # noqa: E731
    close(jax.vmap(f)(XS), fl.vmap(ours)(XS))
    close(jax.vmap(jax.grad(f))(XS), fl.vmap(fl.grad(ours))(XS))
    close(jax.jvp(f, (X[0],), (X[1],)), fl.jvp(ours, (X[0],), (X[1],)))
    per_example = jax.vmap(jax.grad(to_jax(mlp_loss)), in_axes=(None, 0))(W, X[:, None])
    close(per_example, fl.vmap(fl.grad(mlp_loss), in_axes=(None, 0))(W, X[:, None]))


def test_jax_scan_over_our_step_and_checkpoint():
    step = to_jax(lambda h, x: (fnp.tanh(h * 0.5 + x), fnp.sum(h)))

    def ours_step(h, x):
        return fnp.tanh(h * 0.5 + x), fnp.sum(h)
    close(jax.lax.scan(step, X[0], XS), lax.scan(ours_step, X[0], XS))
    remat = jax.grad(jax.checkpoint(to_jax(rnn_loss)))(X[0], XS)
    close(remat, fl.grad(rnn_loss)(X[0], XS))
    ours_remat = jax.grad(to_jax(fl.checkpoint(rnn_loss)))(X[0], XS)
    close(ours_remat, fl.grad(rnn_loss)(X[0], XS))


def test_our_derivatives_inside_jax():
    """to_jax of our grad/jvp programs: their AD-only primitives (the pooling
    derivatives select_and_gather_add / select_and_scatter_add) translate too."""
    def pooled(x):
        return fnp.sum(lax.reduce_window(x, -fnp.inf, lax.max, (2, 2), (1, 1), "VALID") ** 2)
    x = RNG.normal(size=(4, 5)).astype(np.float32)
    close(jax.jit(to_jax(fl.grad(pooled)))(x), fl.grad(pooled)(x))
    close(jax.jit(jax.grad(to_jax(pooled)))(x), fl.grad(pooled)(x))
    close(jax.jit(to_jax(fl.hessian(lambda v: pooled(v.reshape(4, 5)))))(x.ravel()),
          fl.hessian(lambda v: pooled(v.reshape(4, 5)))(x.ravel()))
    close(jax.grad(to_jax(lambda v: fl.grad(pooled)(v).sum()))(x),
          fl.grad(lambda v: fl.grad(pooled)(v).sum())(x))


def test_gamma_samples_and_their_derivative_are_ours():
    key = fl.random.PRNGKey(1)

    def f(a):
        return fl.random.gamma(key, a, (4,)).sum() + fl.random.loggamma(key, a, (4,)).sum()
    alphas = np.array([0.5, 2.0], np.float32)
    close(jax.jit(jax.vmap(to_jax(f)))(alphas), fl.vmap(f)(alphas))
    close(jax.vmap(jax.grad(to_jax(f)))(alphas), fl.vmap(fl.grad(f))(alphas), rtol=1e-4)


def test_host_callbacks_run_in_jax():
    from functorch_lite.experimental import io_callback
    printed = []

    def f(x):
        spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
        y = fl.pure_callback(lambda v: np.sin(np.asarray(v)), spec, x,
                             vmap_method="sequential")
        fl.debug.callback(lambda v: printed.append(float(np.sum(v))), y)
        return io_callback(lambda v: np.asarray(v) * 2, spec, y) + 1
    close(jax.jit(to_jax(f))(X[0]), np.sin(X[0]) * 2 + 1)
    assert printed == [pytest.approx(float(np.sin(X[0]).sum()), rel=1e-6)]
    close(jax.vmap(to_jax(f))(X[:2]), np.sin(X[:2]) * 2 + 1)
    assert len(printed) == 3


def test_second_order_and_export():
    f = to_jax(lambda x: fnp.sum(fnp.sin(x) ** 3))
    ours = lambda x: fnp.sum(fnp.sin(x) ** 3)  # noqa: E731
    close(jax.hessian(f)(X[0]), fl.hessian(ours)(X[0]))
    exported = jax.export.export(jax.jit(jax.grad(to_jax(mlp_loss))))(W, X)
    close(exported.call(W, X), fl.grad(mlp_loss)(W, X))


def test_many_primitives_translate_with_our_values():
    """Indexing, scatter, sort, cumulative ops, convolution, pooling, FFT and linear
    algebra through to_jax equal ours."""
    def many(x, m):
        idx = fnp.argsort(x[0])
        a = x[:, idx].at[1, 2].add(5.0).at[0].max(fnp.ones(3))
        b = fnp.cumsum(a, axis=1) + fnp.cumprod(a, axis=0) + fnp.sort(a, axis=0)
        c = lax.conv_general_dilated(m[None, None], m[None, None, :2, :2], (1, 1), "SAME")
        d = lax.reduce_window(m, -fnp.inf, lax.max, (2, 2), (1, 1), "VALID")
        e = fnp.abs(fnp.fft.rfft(x[0])).sum()
        spd = m @ m.T + 3 * fnp.eye(3)
        f = fnp.linalg.cholesky(spd).sum() + fnp.linalg.solve(spd, x[0]).sum()
        g = lax.top_k(x[1], 2)[0].sum() + fnp.where(x > 0, x, 0).sum()
        return b.sum() + c.sum() + d.sum() + e + f + g + fnp.linalg.eigh(spd)[0].sum()
    m = RNG.normal(size=(3, 3)).astype(np.float32)
    close(jax.jit(to_jax(many))(X[:3], m), fl.jit(many)(X[:3], m), rtol=1e-4, atol=1e-4)
    close(jax.grad(to_jax(many))(X[:3], m), fl.grad(many)(X[:3], m), rtol=1e-4, atol=1e-4)


def all_primitives():
    return sorted({p.name for p in gc.get_objects() if isinstance(p, Primitive)})


# our primitives without a jax.lax translation, and why (to_jax raises
# NotImplementedError naming them)
UNTRANSLATED = {
    "cudnn_attention_fwd": "cuDNN kernel: JAX has no public primitive for it",
    "cudnn_attention_bwd": "as cudnn_attention_fwd",
    "custom_vmap_call": "custom_vmap's rule returns Python batching flags; translating "
                        "it into jax.custom_batching.custom_vmap is not written yet",
    "custom_lin": "our linearization of custom_vjp; appears only in our own jvp programs",
    "linalg_kernel": "internal LAPACK call inside our linalg lowerings",
    "rng_uniform": "deprecated XLA RngUniform; no jax.lax function",
    "scaled_dot": "block-scaled float8 products: no public jax.lax function",
    "scatter_apply": "arbitrary update function per element",
    "select_and_scatter": "no public jax.lax function",
}


RECORD_MODULES = ["test_lax_elementwise", "test_lax_indexing", "test_lax_linear",
                  "test_lax_reductions", "test_lax_special", "test_lax_structural",
                  "test_fft", "test_lax_additions", "test_linalg"]


def _records():
    seen, out = set(), []
    for name in RECORD_MODULES:
        for value in vars(importlib.import_module(name)).values():
            for rec in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(rec, Rec) and id(rec) not in seen:
                    seen.add(id(rec))
                    out.append(rec)
    return out


def test_op_records_through_to_jax_equal_jax():
    """The op records of the lax test modules, through to_jax, against JAX's function
    (`rec.ref`) at the record's tolerance. Tracing is cheap, running is not: the
    records run are a cover of every primitive the records use, plus every record
    whose program fails to translate (they must be the documented untranslated ones)."""
    uncovered, chosen, untranslated, used = set(), [], set(), set()
    for rec in _records():
        args = make_args(rec)
        f = to_jax(rec.ours)
        try:
            program = fl.make_jaxpr(rec.ours)(*args)
        except Exception:  # noqa: BLE001  (a record of an error case: not ours here)
            continue
        names = {e.primitive.name for e in program.equations}
        used |= names
        missing = {n for n in names if not translates(n)}
        if missing:
            untranslated |= missing
            with pytest.raises(NotImplementedError, match=sorted(missing)[0]):
                f(*args)
        elif names - uncovered:
            uncovered |= names
            chosen.append((rec, f, args))
    for rec, f, args in chosen:
        close(f(*args), rec.ref(*args), rtol=max(rec.rtol, 1e-5), atol=max(rec.atol, 1e-6))
    assert untranslated <= set(UNTRANSLATED)
    coverage = 1 - len(untranslated) / len(used)
    print(f"to_jax translates {len(used) - len(untranslated)} of the {len(used)} "
          f"primitives the op records use ({coverage:.1%}); checked on {len(chosen)} records")
    assert coverage > 0.95, untranslated


def test_translation_table_coverage():
    names = all_primitives()
    missing = {n for n in names if not translates(n)}
    assert missing == set(UNTRANSLATED), sorted(missing ^ set(UNTRANSLATED))
    coverage = 1 - len(missing) / len(names)
    print("\n".join(f"{n}: {'translates' if n not in missing else UNTRANSLATED[n]}"
                    for n in names))
    print(f"to_jax translates {len(names) - len(missing)} of our {len(names)} primitives "
          f"({coverage:.1%})")
    assert coverage > 0.9, coverage


def test_64_bit_values_need_jax_x64():
    from functorch_lite.experimental import enable_x64
    f = to_jax(lambda x: fnp.sum(x * 2.0))
    x64 = np.arange(3, dtype=np.float64)
    with enable_x64():
        with pytest.raises(TypeError, match="jax_enable_x64"):
            f(x64)
        with jax.enable_x64(True):
            out = jax.jit(f)(x64)
    assert out.dtype == np.float64 and float(out) == 6.0


def test_untranslated_primitive_raises_naming_it():
    f = to_jax(lambda x: lax.rng_uniform(0.0, 1.0, (2,)) + x)
    with pytest.raises(NotImplementedError, match="'rng_uniform' has no jax.lax"):
        f(np.float32(1.0))


@pytest.mark.parametrize("transform", [jax.jit, jax.grad, jax.vmap])
def test_our_function_under_a_jax_transformation_names_to_jax(transform):
    with pytest.raises(TypeError, match="interop.to_jax") as info:
        transform(lambda x: fnp.sum(fnp.sin(x)))(X[0])
    assert isinstance(info.value, JaxTracerError)
    with pytest.raises(TypeError, match="interop.to_jax"):
        transform(fl.jit(lambda x: fnp.sum(fnp.sin(x))))(X[0])


def test_a_jax_tracer_meeting_a_warm_jit_cache_still_names_to_jax():
    """A JAX tracer's aval keys our jit's eager fast path like a concrete array's (JAX
    0.12): the cached executable must not receive it."""
    f = fl.jit(lambda x: fnp.sum(fnp.sin(x)))
    x = fnp.asarray(X[0])
    f(x)  # warms the fast path for this signature (device arrays only)
    with pytest.raises(JaxTracerError, match="interop.to_jax"):
        jax.jit(f)(x)


# --- item 5: keys and initializers cross over -----------------------------------------

KEY = fl.random.PRNGKey(7)


def test_jax_keys_are_accepted_where_ours_are():
    raw, typed = jax.random.PRNGKey(3), jax.random.key(3)
    np.testing.assert_array_equal(fl.random.normal(raw, (4,)), jax.random.normal(raw, (4,)))
    np.testing.assert_array_equal(fl.random.normal(typed, (4,)),
                                  jax.random.normal(typed, (4,)))
    np.testing.assert_array_equal(fl.random.uniform(fl.random.split(raw)[1], (3,)),
                                  jax.random.uniform(jax.random.split(raw)[1], (3,)))
    ours = fl.random.split(fl.random.key(3))[0]  # ours, into JAX's samplers
    np.testing.assert_array_equal(jax.random.normal(ours, (2,)),
                                  jax.random.normal(jax.random.split(typed)[0], (2,)))


def _child_key(key, *path):
    for name in path:
        key = nn.fold_name(key, name)
    return jax.numpy.asarray(key)


LAYERS = [  # (make(kernel_init, bias_init), input spec, {param path: which init})
    (lambda k, b: nn.Dense(4, kernel_init=k, bias_init=b), nn.Spec((2, 3)),
     {("kernel",): "k", ("bias",): "b"}),
    (lambda k, b: nn.Conv(3, 2, kernel_init=k, bias_init=b), nn.Spec((1, 5, 5, 2)),
     {("kernel",): "k", ("bias",): "b"}),
    (lambda k, b: nn.LSTM(4, kernel_init=k, recurrent_init=k, bias_init=b),
     nn.Spec((2, 3, 5)), {("cell", "kernel"): "k", ("cell", "recurrent_kernel"): "k",
                          ("cell", "bias"): "b_forget_one"}),
    (lambda k, b: nn.GRU(4, kernel_init=k, recurrent_init=k, bias_init=b),
     nn.Spec((2, 3, 5)), {("cell", "kernel"): "k", ("cell", "recurrent_kernel"): "k",
                          ("cell", "bias"): "b", ("cell", "recurrent_bias"): "b"}),
    (lambda k, b: nn.Embedding(10, 4, embedding_init=k), nn.Spec((2, 3), "int32"),
     {("embedding",): "k"}),
    (lambda k, b: nn.LayerNorm(scale_init=k, bias_init=b), nn.Spec((2, 5)),
     {("scale",): "k", ("bias",): "b"}),
]


@pytest.mark.parametrize("source", ["jax", "flax"])
@pytest.mark.parametrize("make,spec,inits", LAYERS,
                         ids=["Dense", "Conv", "LSTM", "GRU", "Embedding", "LayerNorm"])
def test_layers_take_jax_and_flax_initializers(source, make, spec, inits):
    lib = jax.nn.initializers if source == "jax" else flax_nn.initializers
    chosen = {"k": lib.lecun_normal() if make is not LAYERS[5][0] else lib.normal(0.3),
              "b": lib.uniform(0.2)}
    params, _ = make(chosen["k"], chosen["b"]).init(KEY, spec)
    for path, which in inits.items():
        value = params
        for name in path:
            value = value[name]
        expected = chosen[which[0]](_child_key(KEY, *path), value.shape, value.dtype)
        if which == "b_forget_one":  # LSTM's unit_forget_bias: the forget gate at 1
            n = value.shape[0] // 4
            expected = expected.at[n:2 * n].set(1)
        np.testing.assert_array_equal(value, expected, err_msg=f"{source} {path}")
