"""cond, switch, while_loop, fori_loop, scan and map against jax.lax: values (eager and
jit), JVP, VJP and vmap, nesting, reverse-mode while_loop(max_steps=) and the errors."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import Rec, check_values, check_jvp_vjp, check_vmap, assert_close, \
    numerical_jvp, make_args, to_np, _partial

F32 = np.float32
I32 = np.int32


def case(name, build, shapes, grad_argnums=(), **kw):
    """A record whose two functions come from one builder over (lax, numpy) modules."""
    return Rec(name, build(fl.lax, fnp), build(jax.lax, jnp), shapes,
               grad_argnums=grad_argnums, **kw)


# --- builders ---------------------------------------------------------------------

def cond_bool(L, np_):
    def f(p, x, y):
        return L.cond(p > 0, lambda a, b: np_.sin(a) * b, lambda a, b: a * 3.0 + b, x, y)
    return f


def cond_int_pred(L, np_):
    def f(i, x):
        return L.cond(i, lambda a: np_.exp(a), lambda a: -a, x)
    return f


def cond_closure_pytree(L, np_):
    def f(p, x, w):
        def yes(d):
            return {"a": d["u"] * w, "b": (np_.tanh(d["v"]), d["u"] + 1.0)}

        def no(d):
            return {"a": d["v"] - w, "b": (d["u"] * 2.0, np_.sin(w) * d["v"])}
        return L.cond(p < 0.3, yes, no, {"u": x, "v": x * x})
    return f


def switch3(L, np_):
    def f(i, x, y):
        return L.switch(i, [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: np_.sin(a)],
                        x, y)
    return f


def fori_static(L, np_):
    def f(x, w):
        return L.fori_loop(0, 5, lambda i, c: np_.tanh(c * w + i), x)
    return f


def scan_basic(L, np_):
    def f(c0, xs, w):
        def body(c, x):
            c = np_.sin(c) * x + c * w
            return c, c * x
        return L.scan(body, c0, xs)
    return f


def scan_reverse_unroll(L, np_):
    def f(c0, xs):
        return L.scan(lambda c, x: (c * np_.cos(x) + 1.0, (c * x, np_.sin(c))), c0, xs,
                      reverse=True, unroll=2)
    return f


def scan_pytree_carry(L, np_):
    def f(h, xs, w):
        def body(carry, x):
            h, count = carry["h"], carry["n"]
            h = np_.tanh(h * w + x)
            return {"h": h, "n": count + 1}, h.sum()
        return L.scan(body, {"h": h, "n": 0}, xs)
    return f


def scan_no_xs(L, np_):
    def f(x):
        return L.scan(lambda c, _: (c * 0.9 + 0.1, c * c), x, None, length=4)
    return f


def lax_map(L, np_):
    def f(xs):
        return L.map(lambda x: np_.sin(x) * x, xs)
    return f


def lax_map_batched(L, np_):
    def f(xs):
        return L.map(lambda x: (np_.exp(x[0]) * x[1], x.sum()), xs, batch_size=2)
    return f


def nested(L, np_):
    """A scan inside a cond inside a fori_loop (itself a scan)."""
    def f(x, w):
        def inner(c, xi):
            return np_.tanh(c * w + xi), c * xi

        def with_scan(v):
            c, ys = L.scan(inner, v, np_.arange(3.0) * 0.1)
            return c + np_.sum(ys)

        def body(i, v):
            return L.cond(i < 2, with_scan, lambda v: v * w, v)
        return L.fori_loop(0, 4, body, x)
    return f


RECORDS = [
    case("cond_bool", cond_bool, [((), F32), ((3,), F32), ((3,), F32)], (1, 2)),
    case("cond_int_pred", cond_int_pred, [((), I32), ((2,), F32)], (1,)),
    case("cond_closure_pytree", cond_closure_pytree,
         [((), F32), ((3,), F32), ((), F32)], (1, 2)),
    case("switch3", switch3, [((), I32), ((2,), F32), ((2,), F32)], (1, 2)),
    case("fori_static", fori_static, [((3,), F32), ((), F32)], (0, 1)),
    case("scan_basic", scan_basic, [((2,), F32), ((4, 2), F32), ((), F32)], (0, 1, 2)),
    case("scan_reverse_unroll", scan_reverse_unroll, [((2,), F32), ((5, 2), F32)], (0, 1)),
    case("scan_pytree_carry", scan_pytree_carry, [((3,), F32), ((4, 3), F32), ((3,), F32)],
         (0, 1, 2)),
    case("scan_no_xs", scan_no_xs, [((2,), F32)], (0,)),
    case("map", lax_map, [((4, 2), F32)], (0,)),
    case("map_batch_size", lax_map_batched, [((5, 2), F32)], (0,)),
    case("nested_scan_cond_fori", nested, [((), F32), ((), F32)], (0, 1)),
]


@pytest.mark.parametrize("rec", RECORDS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", RECORDS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", RECORDS, ids=str)
def test_vmap(rec):
    check_vmap(rec)


@pytest.mark.parametrize("rec", RECORDS, ids=str)
def test_vjp_of_jit_and_checkpoint(rec):
    """Reverse mode through a jitted or checkpointed function that runs control flow:
    the call's partial evaluation splits the nested cond/scan into known and unknown
    parts (it used to fail with an internal error)."""
    args = make_args(rec)
    argnums = list(rec.grad_argnums)
    f_ours = _partial(rec.ours, args, argnums)
    f_ref = _partial(rec.ref, args, argnums)
    primals = [args[i] for i in argnums]
    out_r, pullback_r = jax.vjp(f_ref, *primals)
    rng = np.random.RandomState(1)
    ct = jax.tree_util.tree_map(
        lambda o: np.asarray(rng.randn(*np.shape(o))).astype(np.asarray(o).dtype), to_np(out_r))
    want = pullback_r(ct)
    for wrap in (fl.jit, fl.checkpoint):
        out, pullback = fl.vjp(wrap(f_ours), *primals)
        assert_close(out, out_r, rec.rtol, rec.atol, f"{rec.name} {wrap.__name__} primal")
        assert_close(pullback(ct), want, rec.grad_rtol, rec.grad_rtol,
                     f"{rec.name} vjp of {wrap.__name__}")


# --- while_loop: forward mode and batching (JAX has no reverse mode) ------------------

def while_pair(L, np_):
    def f(x, limit):
        def cond(c):
            return c[1] < limit

        def body(c):
            v, s = c
            return v * 1.5 + np_.sin(v), s + np_.abs(v) + 0.5
        return L.while_loop(cond, body, (x, x * 0.0))
    return f


def fori_traced(L, np_):
    def f(x, n):
        return L.fori_loop(0, n, lambda i, c: c * 1.1 + i, x)
    return f


WHILE_RECORDS = [
    case("while_pair", while_pair, [((), F32), ((), F32)], (0,), domain="positive"),
    case("fori_traced", fori_traced, [((2,), F32), 4], (0,)),
]


@pytest.mark.parametrize("rec", WHILE_RECORDS, ids=str)
def test_while_values_and_vmap(rec):
    check_values(rec)
    check_vmap(rec)


@pytest.mark.parametrize("rec", WHILE_RECORDS, ids=str)
def test_while_jvp(rec):
    from harness import make_args
    args = make_args(rec)
    t = np.ones_like(args[0])
    out, tout = fl.jvp(lambda x: rec.ours(x, *args[1:]), (args[0],), (t,))
    out_r, tout_r = jax.jvp(lambda x: rec.ref(x, *args[1:]), (args[0],), (t,))
    assert_close(out, out_r, 1e-5, 1e-5, "primal")
    assert_close(tout, tout_r, 1e-4, 1e-4, "tangent")
    # batched predicate together with jvp: every lane runs until its own exit
    xs = np.stack([args[0] * s for s in (0.5, 1.0, 2.0)])
    got = fl.vmap(lambda x: fl.jvp(lambda y: rec.ours(y, *args[1:]), (x,), (t,)))(xs)
    want = jax.vmap(lambda x: jax.jvp(lambda y: rec.ref(y, *args[1:]), (x,), (t,)))(xs)
    assert_close(got, want, 1e-4, 1e-4, "vmap of jvp")


def test_while_reverse_mode_error_names_max_steps():
    with pytest.raises(ValueError, match="max_steps"):
        fl.grad(lambda x: fl.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x))(1.0)


@pytest.mark.parametrize("wrap", [fl.jit, fl.checkpoint, lambda f: fl.jit(fl.checkpoint(f))],
                         ids=["jit", "checkpoint", "jit_checkpoint"])
def test_reverse_mode_error_under_jit_and_checkpoint(wrap):
    """grad(jit(f)) with a traced trip count: JAX's reverse-mode error, naming the
    `max_steps=` fix (it used to be an internal error: a primal output depending on
    tangents, because the whole while equation was treated as unknown)."""
    def power(x, n):
        return fl.lax.fori_loop(0, n, lambda i, c: c * x, 1.0)

    def until(x):
        return fl.lax.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0)
    with pytest.raises(ValueError) as ours:
        fl.grad(wrap(power))(2.0, 3)
    with pytest.raises(ValueError) as theirs:
        jax.grad(jax.jit(lambda x, n: jax.lax.fori_loop(0, n, lambda i, c: c * x, 1.0)))(2.0, 3)
    assert "Reverse-mode differentiation does not work for lax.while_loop" in str(theirs.value)
    assert "Reverse-mode differentiation does not work for lax.while_loop" in str(ours.value)
    assert "max_steps=" in str(ours.value)
    with pytest.raises(ValueError, match="max_steps="):
        fl.grad(wrap(until))(2.0)
    # forward mode through the same loop works, as in JAX (an int primal takes a float0 tangent)
    _, t = fl.jvp(wrap(power), (2.0, 3), (1.0, np.zeros((), jax.dtypes.float0)))
    assert float(t) == 12.0


# --- while_loop(max_steps=N): reverse mode beyond JAX ---------------------------------

def _bounded(x, w):
    body = lambda c: (c[0] + 1, fnp.sin(c[1]) * w + c[1] * 1.3)  # noqa: E731
    return fl.lax.while_loop(lambda c: c[1] < 10.0, body, (0, x), max_steps=30)


def _unrolled(x, w):
    # the same loop in Python (concrete values): exits when c >= 10
    c = x
    for _ in range(30):
        if not c < 10.0:
            break
        c = np.sin(c) * w + c * 1.3
    return c


def test_while_max_steps_matches_while_and_unrolled():
    x, w = F32(0.7), F32(0.4)
    steps, got = _bounded(x, w)
    steps_r, want = jax.lax.while_loop(lambda c: c[1] < 10.0,
                                       lambda c: (c[0] + 1, jnp.sin(c[1]) * w + c[1] * 1.3),
                                       (0, x))
    assert int(steps) == int(steps_r)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(got, _unrolled(np.float64(x), np.float64(w)), rtol=1e-5)


def test_while_max_steps_grad_vs_finite_differences_and_unrolled():
    x, w = F32(0.7), F32(0.4)
    f = lambda x, w: _bounded(x, w)[1]  # noqa: E731
    gx, gw = fl.grad(f, argnums=(0, 1))(x, w)
    # the same number of steps, unrolled, differentiated by JAX
    n = int(_bounded(x, w)[0])

    def unrolled_jax(x, w):
        for _ in range(n):
            x = jnp.sin(x) * w + x * 1.3
        return x
    gx_r, gw_r = jax.grad(unrolled_jax, argnums=(0, 1))(x, w)
    np.testing.assert_allclose([gx, gw], [gx_r, gw_r], rtol=1e-4)
    fd = numerical_jvp(lambda x, w: _unrolled(x, w), [x, w], [1.0, 0.0], eps=1e-4)
    np.testing.assert_allclose(gx, fd, rtol=1e-3)
    fd_w = numerical_jvp(lambda x, w: _unrolled(x, w), [x, w], [0.0, 1.0], eps=1e-4)
    np.testing.assert_allclose(gw, fd_w, rtol=1e-3)
    # and under jit and vmap
    g_jit = fl.jit(fl.grad(f, argnums=(0, 1)))(x, w)
    np.testing.assert_allclose(g_jit, [gx, gw], rtol=1e-5)
    gs = fl.vmap(fl.grad(f), in_axes=(0, None))(np.array([x, 2.0, 11.0], F32), w)
    np.testing.assert_allclose(gs[0], gx, rtol=1e-5)
    assert gs[2] == 1.0  # already past the bound: the identity


# --- errors ---------------------------------------------------------------------------

def test_scan_carry_type_mismatch_names_path_and_types():
    def body(c, x):
        return (c[0], {"a": c[1]["a"].astype(np.int32)}), x
    with pytest.raises(TypeError) as e:
        fl.lax.scan(body, (1.0, {"a": np.ones(2, F32)}), np.ones(3, F32))
    msg = str(e.value)
    assert "c[1]['a']" in msg and "f32[2]" in msg and "i32[2]" in msg
    assert "carry input and carry output must have equal types" in msg


def test_while_carry_shape_mismatch():
    with pytest.raises(TypeError, match=r"c\[1\] has type f32\[2\].*f32\[3\]"):
        fl.lax.while_loop(lambda c: c[0] < 3,
                          lambda c: (c[0] + 1, fnp.concatenate([c[1], c[1][:1]])),
                          (1, np.ones(2, F32)))


def test_carry_tree_mismatch_and_weak_promotion():
    with pytest.raises(TypeError, match="same pytree structure"):
        fl.lax.fori_loop(0, 3, lambda i, c: (c, c), 1.0)
    # a weakly typed (Python scalar) init takes the body's dtype, as in JAX
    out = fl.lax.fori_loop(0, 3, lambda i, c: c + 1.5, 0)
    assert out.dtype == np.float32 and float(out) == 4.5
    c, _ = fl.lax.scan(lambda c, x: (c + x, c), 0, np.ones(3, F32))
    assert c.dtype == np.float32 and float(c) == 3.0


def test_cond_branch_type_mismatch():
    with pytest.raises(TypeError, match="branches must have equal output types"):
        fl.lax.cond(True, lambda x: x, lambda x: x.astype(np.int32), 1.0)


def test_scan_length_errors():
    with pytest.raises(ValueError, match="different leading axis sizes"):
        fl.lax.scan(lambda c, x: (c, x), 0.0, (np.ones(3, F32), np.ones(4, F32)))
    with pytest.raises(ValueError, match="length"):
        fl.lax.scan(lambda c, x: (c, x), 0.0, None)


# --- structure of the programs ------------------------------------------------------

def test_lowering_uses_case_and_while():
    text = fl.jit(nested(fl.lax, fnp)).lower(F32(0.5), F32(0.8)).as_text()
    assert '"stablehlo.case"' in text and '"stablehlo.while"' in text
    prog = fl.make_jaxpr(nested(fl.lax, fnp))(F32(0.5), F32(0.8))
    assert "scan" in str(prog) and "cond" in str(prog)


def test_grad_of_scan_stores_residuals_and_hoists_invariants():
    def f(w, xs):
        return fnp.sum(fl.lax.scan(lambda h, x: (fnp.tanh(fnp.matmul(h, w) + x), h),
                                   np.zeros(3, F32), xs)[1])
    w = np.eye(3, dtype=F32) * 0.5
    xs = np.ones((4, 3), F32)
    prog = str(fl.make_jaxpr(fl.grad(f))(w, xs))
    assert prog.count("scan[") == 2  # forward with residuals, transposed backward
    np.testing.assert_allclose(
        fl.grad(f)(w, xs),
        jax.grad(lambda w, xs: jnp.sum(jax.lax.scan(
            lambda h, x: (jnp.tanh(h @ w + x), h), jnp.zeros(3), xs)[1]))(w, xs),
        rtol=1e-5, atol=1e-6)


# --- associative_scan -------------------------------------------------------------

def assoc_linear_recurrence(L, np_):
    """h_t = a_t * h_{t-1} + b_t as an associative scan over (a, b) pairs."""
    def f(a, b):
        combine = lambda x, y: (x[0] * y[0], x[1] * y[0] + y[1])  # noqa: E731
        return L.associative_scan(combine, (a, b), axis=1)[1]
    return f


def assoc_reverse_sum(L, np_):
    return lambda x: L.associative_scan(np_.add, x, reverse=True)


ASSOC_RECORDS = [
    case("assoc_linear_recurrence", assoc_linear_recurrence, [((2, 7), F32), ((2, 7), F32)],
         (0, 1)),
    case("assoc_reverse_sum", assoc_reverse_sum, [((6, 2), F32)], (0,)),
]


@pytest.mark.parametrize("rec", ASSOC_RECORDS, ids=str)
def test_associative_scan(rec):
    check_values(rec)
    check_jvp_vjp(rec)
    check_vmap(rec)


def test_grad_under_vmap_with_batched_predicate():
    ps = np.array([1.0, -1.0, 2.0], F32)
    xs = np.array([0.5, 2.0, 3.0], F32)
    for build in (cond_bool, switch3):
        f, f_ref = build(fl.lax, fnp), build(jax.lax, jnp)
        idx = ps if build is cond_bool else np.array([0, 1, 2], I32)
        got = fl.vmap(fl.grad(lambda p, x: f(p, x, x).sum(), argnums=1))(idx, xs)
        want = jax.vmap(jax.grad(lambda p, x: f_ref(p, x, x).sum(), argnums=1))(idx, xs)
        assert_close(got, want, 1e-5, 1e-5, build.__name__)


def test_eager_calls_reuse_the_traced_body():
    def body(c, x):
        return c * x + 1.0, c
    xs = np.ones(3, F32)
    first = fl.make_jaxpr(lambda xs: fl.lax.scan(body, 0.0, xs))(xs)
    second = fl.make_jaxpr(lambda xs: fl.lax.scan(body, 0.0, xs))(xs)
    scans = [next(e for e in p.equations if e.primitive.name == "scan") for p in (first, second)]
    assert scans[0].params["program"] is scans[1].params["program"]
