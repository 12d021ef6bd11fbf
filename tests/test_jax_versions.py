"""The version table (functorch_lite/_jax_versions.py) against the installed JAX: each
flag must say what this JAX does, and our function must then do the same. CI runs the
suite on the oldest and the newest JAX pyproject.toml admits, so both sides of every
flag are exercised."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _jax_versions as V
from harness import assert_close

F32 = np.float32


def test_version_is_in_the_supported_range():
    assert (0, 10, 2) <= V.JAX_VERSION < (0, 13), jax.__version__


def test_sequence_results_follow_jax():
    a, b = np.ones(2, F32), np.ones((3, 1), F32)
    assert V.BROADCAST_ARRAYS_TUPLE == isinstance(jnp.broadcast_arrays(a, b), tuple)
    assert V.BROADCAST_ARRAYS_TUPLE == isinstance(jnp.meshgrid(a, a[:1]), tuple)
    assert V.ATLEAST_TUPLE == isinstance(jnp.atleast_2d(a, b), tuple)
    for name, args in [("broadcast_arrays", (a, b)), ("meshgrid", (a, a[:1])),
                       ("atleast_1d", (a, b)), ("atleast_3d", (a, b))]:
        ours, theirs = getattr(fnp, name)(*args), getattr(jnp, name)(*args)
        assert type(ours) is type(theirs), name
        assert_close(ours, theirs, 0, 0, name)


def test_convert_of_a_numpy_array_follows_jax():
    x = np.array([300, -1, np.nan, 3e9], F32)
    with np.errstate(invalid="ignore"):
        host = x.astype(np.uint8)
    want = jax.lax.convert_element_type(x, np.uint8)
    assert V.CONVERT_NUMPY_ON_HOST == bool((np.asarray(want) == host).all())
    np.testing.assert_array_equal(fl.lax.convert_element_type(x, np.uint8), want)
    np.testing.assert_array_equal(  # a NumPy constant inside jit converts the same way
        fl.jit(lambda: fl.lax.convert_element_type(x, np.uint8))(),
        jax.jit(lambda: jax.lax.convert_element_type(x, np.uint8))())
    saturating = fl.lax.convert_element_type(fnp.asarray(x), np.uint8)  # a device array:
    np.testing.assert_array_equal(saturating, jax.lax.convert_element_type(  # XLA's
        jnp.asarray(x), np.uint8))


def test_log2_follows_jax():
    assert V.LOG2_PRIMITIVE == jnp.log2(8).weak_type
    assert fnp.log2(8).weak_type == jnp.log2(8).weak_type
    x = np.array([0.3, 1.0, 7.0, 1e-30, 3e38], F32)
    np.testing.assert_array_equal(fnp.log2(x), jnp.log2(x))  # the same formula: bitwise
    z = (x + 1j * x[::-1]).astype(np.complex64)
    np.testing.assert_allclose(fnp.log2(z), jnp.log2(z), 1e-6, 1e-6)
    assert_close(fl.grad(fnp.log2)(3.0), jax.grad(jnp.log2)(3.0), 1e-6, 1e-6, "grad")


def test_hypot_follows_jax():
    ints = np.arange(3, dtype=np.int32)
    assert fnp.hypot(ints, 2.0).weak_type == jnp.hypot(ints, 2.0).weak_type
    x = np.array([0.0, 3.0, 1e-30, 3e30, np.inf, -2.0, 1e20], F32)
    y = np.array([0.0, 4.0, 1e-30, 4e30, 1.0, np.nan, 1e-20], F32)
    np.testing.assert_array_equal(fnp.hypot(x, y), jnp.hypot(x, y))
    g = lambda h: jax.vmap(jax.grad(h, argnums=(0, 1))) if h is jnp.hypot else \
        fl.vmap(fl.grad(h, argnums=(0, 1)))
    assert_close(g(fnp.hypot)(x[1:4], y[1:4]), g(jnp.hypot)(x[1:4], y[1:4]), 1e-6, 1e-6,
                 "grad")


SINC_POINTS = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-30, 0.3, 0.49, 0.51, 1.5,
                        -2.5, 3.0, 100.3, 1e30, 3e38], F32)


def test_sinc_follows_jax():
    expected = {"direct": np.nan, "series": 0.0, "range_reduction": 0.0}[V.SINC]
    np.testing.assert_equal(float(jnp.sinc(np.float32(np.inf))), expected)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(fnp.sinc(SINC_POINTS), jnp.sinc(SINC_POINTS))
        for dtype in (np.float16, np.float64, np.complex64):
            x = SINC_POINTS[3:12].astype(dtype)
            ours, theirs = fnp.sinc(x), jnp.sinc(x)
            assert ours.dtype == theirs.dtype
            np.testing.assert_allclose(ours, theirs, 1e-6, 1e-6, err_msg=str(dtype))
    finite = SINC_POINTS[3:13]
    assert_close(fl.vmap(fl.grad(fnp.sinc))(finite), jax.vmap(jax.grad(jnp.sinc))(finite),
                 1e-5, 1e-5, "grad")
    second = lambda g, f: g(g(f))
    assert_close(second(fl.grad, fnp.sinc)(0.0), second(jax.grad, jnp.sinc)(0.0), 1e-5,
                 1e-5, "second derivative at 0")


def test_cross_of_2_vectors_follows_jax():
    a, b = np.ones((4, 2), F32), np.arange(8, dtype=F32).reshape(4, 2)
    if V.CROSS_3_VECTORS_ONLY:
        for f in (jnp.cross, fnp.cross):
            with pytest.raises(ValueError, match="Dimension must be 3"):
                f(a, b)
    else:
        assert_close(fnp.cross(a, b), jnp.cross(a, b), 0, 0, "2-vectors")


def test_normal_initializers_follow_jax():
    key = jax.random.PRNGKey(3)
    lo = np.nextafter(np.float32(-1), np.float32(0))
    erfinv_form = (np.float32(np.sqrt(2)) * np.float32(0.3)) * jax.scipy.special.erfinv(
        jax.random.uniform(key, (256,), np.float32, lo, 1.0))
    theirs = jax.nn.initializers.normal(0.3)(key, (256,), np.float32)
    assert np.array_equal(theirs, erfinv_form) == V.SCALED_NORMAL_INITIALIZERS
    import nn
    ours = nn.initializers.normal(0.3)(fl.random.PRNGKey(3), (256,), np.float32)
    np.testing.assert_array_equal(ours, theirs)


def test_multinomial_shape_follows_jax():
    p = np.array([.2, .3, .5], np.float32)
    shape = jax.random.multinomial(jax.random.PRNGKey(0), 5.0, p, shape=(2, 3)).shape
    assert (shape == (2, 3, 3)) == V.MULTINOMIAL_BATCH_SHAPE
    assert fl.random.multinomial(fl.random.PRNGKey(0), 5.0, p, shape=(2, 3)).shape == shape
