"""Collectives over named vmap axes against jax.vmap(..., axis_name=...), and
vmap's chunk_size against plain vmap."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close

F32 = np.float32
XS = np.arange(3, dtype=F32) - 0.5
X2 = np.arange(12, dtype=F32).reshape(3, 2, 2)
X3 = np.arange(9, dtype=F32).reshape(3, 3)

# (name, builder over (lax, numpy), input): each runs under vmap(axis_name="i")
CASES = [
    ("psum", lambda L, np_: lambda x: L.psum(x, "i"), XS),
    ("psum_pytree", lambda L, np_: lambda x: L.psum({"a": x, "b": (x * 2,)}, "i"), XS),
    ("pmean_centered", lambda L, np_: lambda x: x - L.pmean(x, "i"), X2),
    ("pmax", lambda L, np_: lambda x: L.pmax(x, "i"), X2),
    ("pmin", lambda L, np_: lambda x: L.pmin(x, "i"), X2),
    ("psum_unbatched", lambda L, np_: lambda x: L.psum(np.float32(1), "i") + x, XS),
    ("axis_index", lambda L, np_: lambda x: L.axis_index("i") * 2 + x.astype(np.int32), XS),
    ("all_gather", lambda L, np_: lambda x: L.all_gather(x, "i"), X2),
    ("all_gather_axis1", lambda L, np_: lambda x: L.all_gather(x, "i", axis=1), X2),
    ("all_gather_tiled", lambda L, np_: lambda x: L.all_gather(x, "i", axis=1, tiled=True),
     X2),
    ("psum_scatter", lambda L, np_: lambda x: L.psum_scatter(x, "i"), X3),
    ("softmax_over_batch", lambda L, np_: lambda x: np_.exp(x) / L.psum(np_.exp(x), "i"),
     X2),
]


@pytest.mark.parametrize("name,build,x", CASES, ids=[c[0] for c in CASES])
def test_collective_under_vmap(name, build, x):
    want = jax.vmap(build(jax.lax, jnp), axis_name="i")(x)
    got = fl.vmap(build(fl.lax, fnp), axis_name="i")(x)
    assert_close(got, want, 1e-6, 1e-6, name)
    got_jit = fl.jit(fl.vmap(build(fl.lax, fnp), axis_name="i"))(x)
    assert_close(got_jit, want, 1e-6, 1e-6, name + " jit")


def test_nested_named_axes():
    for names in (("i", "j"), "i", "j"):
        f = lambda L: lambda x: L.psum(x, names)  # noqa: E731
        want = jax.vmap(jax.vmap(f(jax.lax), axis_name="j"), axis_name="i")(X3)
        got = fl.vmap(fl.vmap(f(fl.lax), axis_name="j"), axis_name="i")(X3)
        assert_close(got, want, 1e-6, 1e-6, str(names))


def test_collectives_inside_jit_inside_vmap():
    f = lambda L: lambda x: x / L.psum(x, "i") - L.pmean(x, "i")  # noqa: E731
    want = jax.vmap(f(jax.lax), axis_name="i")(X2)
    assert_close(fl.vmap(fl.jit(f(fl.lax)), axis_name="i")(X2), want, 1e-6, 1e-6, "")


def test_gradients_through_collectives():
    f = lambda L: lambda x: L.psum(x, "i") ** 2 / 2  # noqa: E731
    assert_close(fl.vmap(fl.grad(f(fl.lax)), axis_name="i")(XS),
                 jax.vmap(jax.grad(f(jax.lax)), axis_name="i")(XS), 1e-6, 1e-6, "vmap grad")
    total = lambda L, np_: lambda xs: np_.sum(jax.vmap(f(L), axis_name="i")(xs)) \
        if L is jax.lax else np_.sum(fl.vmap(f(L), axis_name="i")(xs))  # noqa: E731
    assert_close(fl.grad(total(fl.lax, fnp))(XS), jax.grad(total(jax.lax, jnp))(XS),
                 1e-6, 1e-6, "grad vmap")
    g = lambda L: lambda x: L.all_gather(x, "i").sum()  # noqa: E731
    assert_close(fl.vmap(fl.grad(g(fl.lax)), axis_name="i")(XS),
                 jax.vmap(jax.grad(g(jax.lax)), axis_name="i")(XS), 1e-6, 1e-6, "gather")
    h = lambda L: lambda x: L.pmean(x * x, "i")  # noqa: E731
    assert_close(fl.vmap(lambda x: fl.jvp(h(fl.lax), (x,), (fnp.ones_like(x),)),
                         axis_name="i")(X2),
                 jax.vmap(lambda x: jax.jvp(h(jax.lax), (x,), (jnp.ones_like(x),)),
                          axis_name="i")(X2), 1e-6, 1e-6, "jvp")


def test_unbound_axis_name():
    with pytest.raises(NameError, match="unbound axis name: 'k'"):
        fl.vmap(lambda x: fl.lax.psum(x, "k"), axis_name="i")(XS)


# --- vmap chunk_size ------------------------------------------------------------------

W = np.random.RandomState(1).randn(3, 2).astype(F32)
X = np.random.RandomState(0).randn(7, 3).astype(F32)


def layer(np_):
    return lambda x, w: np_.tanh(np_.matmul(x, w))


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 10])
def test_chunked_vmap_matches_vmap(chunk):
    want = jax.vmap(layer(jnp), in_axes=(0, None))(X, W)
    got = fl.vmap(layer(fnp), in_axes=(0, None), chunk_size=chunk)(X, W)
    assert_close(got, want, 1e-6, 1e-6, f"chunk {chunk}")
    got_t = fl.vmap(layer(fnp), in_axes=(1, None), out_axes=1, chunk_size=chunk)(X.T, W)
    assert_close(got_t, want.T, 1e-6, 1e-6, "axes")


def test_chunked_vmap_is_one_scan_and_differentiable():
    f = fl.vmap(layer(fnp), in_axes=(0, None), chunk_size=3)
    prog = str(fl.make_jaxpr(f)(X, W))
    assert prog.count("scan[") == 1 and "concatenate" in prog  # 2 full chunks + rest
    g = fl.grad(lambda w: f(X, w).sum())(W)
    g_ref = jax.grad(lambda w: jax.vmap(layer(jnp), in_axes=(0, None))(X, w).sum())(W)
    assert_close(g, g_ref, 1e-5, 1e-5, "grad")


def test_chunked_jacobians():
    f, f_ref = (lambda x: fnp.sin(x) * fnp.sum(x ** 2)), \
        (lambda x: jnp.sin(x) * jnp.sum(x ** 2))
    x = X[0]
    assert_close(fl.jacrev(f, chunk_size=2)(x), jax.jacrev(f_ref)(x), 1e-5, 1e-5, "jacrev")
    assert_close(fl.jacfwd(f, chunk_size=2)(x), jax.jacfwd(f_ref)(x), 1e-5, 1e-5, "jacfwd")
    assert_close(fl.hessian(lambda x: fnp.sum(fnp.sin(x) ** 2), chunk_size=2)(x),
                 jax.hessian(lambda x: jnp.sum(jnp.sin(x) ** 2))(x), 1e-5, 1e-5, "hess")
