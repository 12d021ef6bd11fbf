"""Arguments are never accepted and ignored: each one works as in JAX or raises.

Derivatives of integer, boolean and complex values follow JAX exactly (an error, or
JAX's zeros of the right dtype); jit/vmap/checkpoint argument specs are validated; the
numpy/linalg/random keyword arguments we found ignored now work (checked against JAX)
or raise."""
import warnings

import numpy as np
import pytest
import jax
import jax.numpy as jnp_ref

import functorch_lite as fl
import functorch_lite.numpy as fnp

X = np.array([1.0, 2.0, 3.0], np.float32)
Z = np.array([1 + 2j, 3 - 1j], np.complex64)
I = np.array([1, 2], np.int32)


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001
        return "raise", e


# (name, function of (api, numpy module)) run with JAX and with us
DERIVATIVES = {
    "grad of int output": lambda a, n: a.grad(lambda x: n.sum(x).astype(n.int32))(X),
    "grad of bool output": lambda a, n: a.grad(lambda x: n.sum(x) > 0)(X),
    "grad of complex output": lambda a, n: a.grad(lambda z: n.sum(z ** 2))(Z),
    "grad holomorphic": lambda a, n: a.grad(lambda z: n.sum(z ** 2), holomorphic=True)(Z),
    "grad holomorphic real input": lambda a, n: a.grad(lambda x: n.sum(x),
                                                       holomorphic=True)(X),
    "grad holomorphic real output": lambda a, n: a.grad(lambda z: n.sum(n.abs(z)),
                                                        holomorphic=True)(Z),
    "grad complex input real output": lambda a, n: a.grad(
        lambda z: n.sum(n.abs(z) ** 2))(Z),
    "grad allow_int": lambda a, n: a.grad(lambda x, i: n.sum(x * i), argnums=(0, 1),
                                          allow_int=True)(X[:2], I)[0],
    "value_and_grad int output": lambda a, n: a.value_and_grad(
        lambda x: n.sum(x).astype(n.int32))(X),
    "jacrev of int output": lambda a, n: a.jacrev(lambda x: x.astype(n.int32))(X),
    "jacrev of bool output": lambda a, n: a.jacrev(lambda x: x > 0)(X),
    "jacrev of mixed outputs": lambda a, n: a.jacrev(lambda x: (x, x.astype(n.int32)))(X),
    "jacrev of int input": lambda a, n: a.jacrev(lambda x, i: x * i, argnums=(0, 1))(
        X[:2], I),
    "jacrev allow_int": lambda a, n: a.jacrev(lambda x, i: x * i, argnums=(0, 1),
                                              allow_int=True)(X[:2], I),
    "jacrev holomorphic": lambda a, n: a.jacrev(lambda z: z ** 2, holomorphic=True)(Z),
    "jacrev complex output": lambda a, n: a.jacrev(lambda z: z ** 2)(Z),
    "jacrev complex input": lambda a, n: a.jacrev(lambda z: n.abs(z) ** 2)(Z),
    "jacfwd of int output": lambda a, n: a.jacfwd(lambda x: (x * 2).astype(n.int32))(X),
    "jacfwd of int8 output": lambda a, n: a.jacfwd(lambda x: (x * 2).astype(n.int8))(X),
    "jacfwd of mixed outputs": lambda a, n: a.jacfwd(
        lambda x: {"a": x, "b": x.astype(n.int32)})(X),
    "jacfwd of int input": lambda a, n: a.jacfwd(lambda i: i * 2)(I),
    "jacfwd of complex input": lambda a, n: a.jacfwd(lambda z: z ** 2)(Z),
    "jacfwd holomorphic": lambda a, n: a.jacfwd(lambda z: z ** 2, holomorphic=True)(Z),
    "jacfwd real to complex": lambda a, n: a.jacfwd(lambda x: x * (1 + 1j))(X),
    "jacfwd holomorphic real output": lambda a, n: a.jacfwd(lambda z: n.abs(z),
                                                            holomorphic=True)(Z),
    "hessian holomorphic": lambda a, n: a.hessian(lambda z: n.sum(z ** 3),
                                                  holomorphic=True)(Z),
    "hessian of int output": lambda a, n: a.hessian(lambda x: n.sum(x).astype(n.int32))(X),
    "jacrev argnums out of range": lambda a, n: a.jacrev(lambda x, y: x * y, argnums=5)(X, X),
    "jacfwd negative argnums out of range": lambda a, n: a.jacfwd(
        lambda x, y: x * y, argnums=-3)(X, X),
    "grad argnums out of range": lambda a, n: a.grad(lambda x, y: n.sum(x * y),
                                                     argnums=2)(X, X),
    "jvp primals not a tuple": lambda a, n: a.jvp(lambda x: x, X, X),
    "jvp tangent dtype": lambda a, n: a.jvp(lambda x: x, (X,), (I.astype(n.int32)[:1] *
                                                              n.ones(3, n.int32),)),
    "jvp int primal float tangent": lambda a, n: a.jvp(lambda i: i, (I,), (X[:2],)),
    "jvp tangent shape": lambda a, n: a.jvp(lambda x: x, (X,), (X[:2],)),
    "vjp cotangent shape": lambda a, n: a.vjp(lambda x: x, X)[1](X[:2]),
    "vjp cotangent dtype": lambda a, n: a.vjp(lambda x: x, X)[1](n.ones(3, n.int32)),
    "vjp int output": lambda a, n: a.vjp(lambda x: x.astype(n.int32), X)[1](
        n.ones(3, n.int32)),
}


@pytest.mark.parametrize("case", list(DERIVATIVES))
def test_derivative_dtype_rules_match_jax(case):
    fn = DERIVATIVES[case]
    kind_j, theirs = _outcome(lambda: fn(jax, jnp_ref))
    kind_o, ours = _outcome(lambda: fn(fl, fnp))
    if kind_j == "raise":
        assert kind_o == "raise", f"JAX raises {theirs!r}; we returned {ours}"
        assert isinstance(ours, type(theirs)), (ours, theirs)
        assert "test_arguments.py" in str(ours) or "Fix" in str(ours) or \
            "argnums" in str(ours)
        return
    assert kind_o == "ok", f"JAX computes; we raised {ours!r}"
    lo, lt = jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)
    assert jax.tree_util.tree_structure(ours) == jax.tree_util.tree_structure(theirs)
    for o, t in zip(lo, lt):
        assert np.asarray(o).dtype == np.asarray(t).dtype, (o, t)
        if np.asarray(t).dtype != jax.dtypes.float0:
            np.testing.assert_allclose(np.asarray(o), np.asarray(t), rtol=1e-5)


def test_jacobians_of_boolean_values_are_a_clear_type_error():
    """JAX fails here with an internal TypeError ("a bytes-like object is required");
    ours is a TypeError that says what is wrong."""
    with pytest.raises(TypeError, match="boolean"):
        fl.jacfwd(lambda x: x > 0)(X)
    with pytest.raises(TypeError, match="boolean"):
        fl.jacrev(lambda b: fnp.where(b, 1.0, 2.0), allow_int=True)(np.array([True, False]))


def test_has_aux_needs_a_pair():
    for call in (lambda: fl.grad(lambda x: fnp.sum(x), has_aux=True)(X),
                 lambda: fl.vjp(lambda x: x, X, has_aux=True),
                 lambda: fl.jvp(lambda x: x, (X,), (X,), has_aux=True),
                 lambda: fl.jacrev(lambda x: (x, 1, 2), has_aux=True)(X),
                 lambda: fl.jacfwd(lambda x: x, has_aux=True)(X),
                 lambda: fl.linearize(lambda x: x, X, has_aux=True)):
        with pytest.raises(TypeError, match=r"has_aux=True\) expects .* pair"):
            call()


def test_reduce_axes_raises():
    with pytest.raises(NotImplementedError, match="reduce_axes"):
        fl.grad(lambda x: x, reduce_axes=("i",))
    with pytest.raises(NotImplementedError, match="reduce_axes"):
        fl.linear_transpose(lambda x: x, 1.0, reduce_axes=("i",))


# --- jit --------------------------------------------------------------------------

def f2(x, n=2):
    return x * n


@pytest.mark.parametrize("kwargs, call", [
    (dict(static_argnums=2), (X,)),
    (dict(static_argnums=-3), (X,)),
    (dict(static_argnames="m"), (X,)),
    (dict(donate_argnums=3), (X,)),
    (dict(donate_argnames="m"), (X,)),
    (dict(static_argnames="n", donate_argnames="n"), (X,)),
    (dict(static_argnums=0, donate_argnums=0), (X,)),
])
def test_jit_argument_specs_are_validated_like_jax(kwargs, call):
    with pytest.raises(ValueError) as ours:
        fl.jit(f2, **kwargs)(*call)
    with pytest.raises(ValueError):
        jax.jit(f2, **kwargs)(*call)
    assert "f2" in str(ours.value)


def test_jit_static_specs_that_jax_accepts():
    assert float(fl.jit(f2, static_argnums=1)(1.0, 3)) == 3.0
    assert float(fl.jit(f2, static_argnums=1)(1.0, n=3)) == 3.0  # static by keyword
    assert float(fl.jit(f2, static_argnames="n")(1.0, 3)) == 3.0
    assert float(fl.jit(lambda *a: a[0] * 2, static_argnums=3)(1.0)) == 2.0  # *args
    assert float(fl.jit(lambda x, **kw: x * 2, static_argnames="y")(1.0)) == 2.0
    g = fl.jit(lambda *a: a[0] * a[-1], static_argnums=-1)  # counts from the call's end
    assert float(g(2.0, 3)) == 6.0 and float(g(2.0, 1.0, 4)) == 8.0


@pytest.mark.parametrize("bad", [dict(static_argnums=1.0), dict(static_argnames=1),
                                 dict(donate_argnums="x"), dict(keep_unused="yes")])
def test_jit_argument_spec_types(bad):
    with pytest.raises(TypeError):
        fl.jit(f2, **bad)


def test_unusable_donation_warns_like_jax():
    with pytest.warns(UserWarning, match="donated buffers .* not usable: i32"):
        fl.jit(lambda x, n: x * n, donate_argnums=1)(fnp.ones(3), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fl.jit(lambda x: x * 2, donate_argnums=0)(fnp.ones(3))  # reusable: no warning


def test_jit_device_and_backend():
    with pytest.warns(DeprecationWarning):
        assert float(fl.jit(f2, device=jax.devices()[0])(1.0)) == 2.0
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="backend"):
        fl.jit(f2, backend="tpu")
    assert float(fl.jit(f2, keep_unused=True)(1.0)) == 2.0


def test_checkpoint_static_argnums_out_of_range():
    with pytest.raises(ValueError, match="static_argnums"):
        fl.checkpoint(lambda x: x * 2, static_argnums=3)(X)


# --- vmap -------------------------------------------------------------------------

@pytest.mark.parametrize("out_axes, fn", [(2, lambda x: x * 2), (-3, lambda x: x * 2),
                                          (1, lambda x: x.sum()), ((0, 5), lambda x: (x, x))])
def test_vmap_out_axes_beyond_rank(out_axes, fn):
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="out of bounds"):
        fl.vmap(fn, out_axes=out_axes)(x)
    with pytest.raises(ValueError):
        jax.vmap(fn, out_axes=out_axes)(x)


def test_vmap_out_axes_at_the_edge_match_jax():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for axes in (1, -1, -2):
        np.testing.assert_array_equal(fl.vmap(lambda v: v * 2, out_axes=axes)(x),
                                      jax.vmap(lambda v: v * 2, out_axes=axes)(x))
    np.testing.assert_array_equal(fl.vmap(lambda v: 1.0, out_axes=0)(x),
                                  jax.vmap(lambda v: 1.0, out_axes=0)(x))


@pytest.mark.parametrize("in_axes", [-3, (0, -3), 2, ({"a": -3},)])
def test_vmap_in_axes_beyond_rank(in_axes):
    x = np.ones((2, 3), np.float32)
    args = ({"a": x},) if isinstance(in_axes, tuple) and isinstance(in_axes[0], dict) else \
        (x, x) if isinstance(in_axes, tuple) else (x,)
    fn = (lambda d: d["a"]) if len(args) == 1 and isinstance(args[0], dict) else \
        (lambda *a: a[0])
    with pytest.raises(ValueError, match="rank should be at least"):
        fl.vmap(fn, in_axes=in_axes)(*args)


@pytest.mark.parametrize("bad", [dict(in_axes=(0.5,)), dict(in_axes="a"),
                                 dict(out_axes=1.0)])
def test_vmap_axis_spec_types(bad):
    with pytest.raises(TypeError, match="must be an int, None"):
        fl.vmap(lambda x: x, **bad)(np.ones(3))


# --- numpy, linalg and random keyword arguments ------------------------------------

A = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)


@pytest.mark.parametrize("name, args", [
    ("outer", (A, A)), ("trace", (A,)), ("stack", ([A, A],)), ("nanmean", (A,)),
    ("nanvar", (A,)), ("nanstd", (A,)), ("sum", (A,)), ("mean", (A,)), ("max", (A,)),
    ("argmax", (A,)), ("cumsum", (A,)), ("any", (A,)), ("std", (A,)),
])
def test_out_argument_raises_not_implemented(name, args):
    with pytest.raises(NotImplementedError, match="'out' argument"):
        getattr(fnp, name)(*args, out=np.zeros_like(A))
    with pytest.raises(NotImplementedError):
        getattr(jnp_ref, name)(*[jnp_ref.asarray(a) for a in args], out=np.zeros_like(A))


def test_einsum_out_raises():
    with pytest.raises(NotImplementedError, match="'out' argument"):
        fnp.einsum("ij,ij->", A, A, out=np.zeros(()))


@pytest.mark.parametrize("fn", [
    lambda n, a: n.reshape(a, (3, 2), order="F"),
    lambda n, a: n.ravel(a, order="F"),
    lambda n, a: n.asarray(a).reshape(3, 2, order="F"),
    lambda n, a: n.asarray(a).flatten(order="F"),
    lambda n, a: n.reshape(n.arange(24.0).reshape(2, 3, 4), (4, 6), order="F"),
])
def test_column_major_order_matches_jax(fn):
    np.testing.assert_array_equal(fn(fnp, A), fn(jnp_ref, A))


def test_order_values_we_cannot_honour_raise():
    with pytest.raises(NotImplementedError):
        fnp.reshape(A, (3, 2), order="A")
    with pytest.raises(NotImplementedError):
        fnp.copy(A, order="F")
    with pytest.raises(ValueError, match="copy=True"):
        fnp.meshgrid(np.arange(2.0), copy=False)


def test_device_arguments():
    dev = jax.devices()[0]
    assert fnp.astype(A, np.int32, device=dev).dtype == np.int32
    assert fnp.asarray(A).astype(np.int32, device=dev).dtype == np.int32
    assert float(fl.device_put(1.0, dev)) == 1.0
    assert float(fl.device_put(1.0, jax.sharding.SingleDeviceSharding(dev))) == 1.0

    class OtherDevice:
        device_set = {"somewhere else"}
    for call in (lambda: fl.device_put(1.0, OtherDevice()),
                 lambda: fnp.astype(A, np.int32, device=OtherDevice())):
        with pytest.raises(NotImplementedError, match="default device"):
            call()


SYM = np.array([[2.0, -1.0, 0.5], [-1.0, -3.0, 1.0], [0.5, 1.0, 1.0]], np.float32)
HERM = np.array([[2, 1 - 1j], [1 + 1j, -1]], np.complex64)


@pytest.mark.parametrize("x", [SYM, HERM, np.stack([SYM, SYM * 2])], ids=["real", "complex",
                                                                          "batched"])
def test_hermitian_svd_pinv_rank_match_jax(x):
    for compute_uv in (True, False):
        ours = fnp.linalg.svd(x, compute_uv=compute_uv, hermitian=True)
        theirs = jnp_ref.linalg.svd(x, compute_uv=compute_uv, hermitian=True)
        for o, t in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
            np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fnp.linalg.pinv(x, hermitian=True),
                               jnp_ref.linalg.pinv(x, hermitian=True), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(fnp.linalg.matrix_rank(x, hermitian=True),
                                  jnp_ref.linalg.matrix_rank(x, hermitian=True))


def test_complex_pinv_matches_numpy():
    rng = np.random.default_rng(0)
    c = (rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))).astype(np.complex64)
    np.testing.assert_allclose(fnp.linalg.pinv(c), np.linalg.pinv(c), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fnp.linalg.pinv(c), jnp_ref.linalg.pinv(c), rtol=1e-4,
                               atol=1e-5)


def test_pinv_default_cutoff_is_jax_s():
    # singular values 1 and 5e-7: JAX's default rtol (10 * 3 * eps ~ 3.6e-6) drops the
    # small one; max(m, n) * eps alone (3.6e-7) would not
    m = np.diag(np.array([1.0, 5e-7, 0.0], np.float32))
    np.testing.assert_allclose(fnp.linalg.pinv(m), jnp_ref.linalg.pinv(m))


def test_random_arguments_we_cannot_honour_raise():
    key = fl.random.PRNGKey(0)
    with pytest.raises(NotImplementedError, match="mode"):
        fl.random.categorical(key, fnp.zeros(3), mode="high")
    with pytest.raises(NotImplementedError, match="threefry"):
        fl.random.wrap_key_data(np.zeros(2, np.uint32), impl="rbg")
    np.testing.assert_array_equal(fl.random.key_data(
        fl.random.wrap_key_data(np.array([0, 7], np.uint32), impl="threefry2x32")), [0, 7])
