"""eval_shape, the `tree` namespace, lax.select and the numpy difference/membership/
counting functions, against JAX."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close

X = np.array([[1, 4, 9, 16, 15], [2, 2, 5, 1, 0]], np.float32)


@pytest.mark.parametrize("kwargs", [{}, {"n": 2}, {"axis": 0}, {"prepend": 0.0},
                                    {"append": np.ones((2, 1), np.float32), "n": 3}])
def test_diff_matches_jax_eager_jit_and_grad(kwargs):
    assert_close(fnp.diff(X, **kwargs), jnp.diff(X, **kwargs), 0, 0)
    assert_close(fl.jit(lambda v: fnp.diff(v, **kwargs))(X), jnp.diff(X, **kwargs), 0, 0)
    g = fl.grad(lambda v: fnp.sum(fnp.diff(v, **kwargs) ** 2))(X)
    assert_close(g, jax.grad(lambda v: jnp.sum(jnp.diff(v, **kwargs) ** 2))(X), 1e-6, 1e-6)


def test_diff_of_empty_and_short_axes():
    for x, kwargs in [(X[:, :0], {}), (X[:, :1], {"n": 2}), (X[:0], {"axis": 0})]:
        assert_close(fl.jit(lambda v: fnp.diff(v, **kwargs))(x), jnp.diff(x, **kwargs), 0, 0)


def test_ediff1d_isin_bincount_array_equal():
    assert_close(fnp.ediff1d(X, to_begin=-1.0, to_end=np.array([7.0, 8.0])),
                 jnp.ediff1d(X, to_begin=-1.0, to_end=jnp.array([7.0, 8.0])), 0, 0)
    e, t = np.array([[1, 2], [3, 9]]), np.array([2, 3, 7])
    assert_close(fnp.isin(e, t), jnp.isin(e, t), 0, 0)
    assert_close(fnp.isin(e, t, invert=True), jnp.isin(e, t, invert=True), 0, 0)
    ids = np.array([0, 1, 1, 4], np.int32)
    assert_close(fnp.bincount(ids), jnp.bincount(ids), 0, 0)
    assert_close(fnp.bincount(ids, minlength=7), jnp.bincount(ids, minlength=7), 0, 0)
    w = np.array([0.5, 1.0, 2.0, 3.0], np.float32)
    assert_close(fl.jit(lambda i: fnp.bincount(i, w, length=6))(ids),
                 jnp.bincount(ids, w, length=6), 0, 0)
    with pytest.raises(fl.ConcretizationTypeError, match="length"):
        fl.jit(fnp.bincount)(ids)
    assert bool(fnp.array_equal(X, X)) and not bool(fnp.array_equal(X, X[:1]))
    nan = np.array([np.nan, 1.0], np.float32)
    assert bool(fnp.array_equal(nan, nan, equal_nan=True)) and not bool(fnp.array_equal(nan, nan))
    assert bool(fnp.array_equiv(X[:1], np.broadcast_to(X[:1], (3, 5))))


def test_eval_shape_tree_and_select():
    spec = jax.ShapeDtypeStruct((3, 4), np.float32)
    f = lambda p, x: {"y": fnp.tanh(x @ p), "n": x.sum()}
    g = lambda p, x: {"y": jnp.tanh(x @ p), "n": x.sum()}
    p = jax.ShapeDtypeStruct((4, 2), np.float32)
    assert fl.eval_shape(f, p, spec) == jax.eval_shape(g, p, spec)
    tree = {"a": 1.0, "b": (2.0, 3.0)}
    assert fl.tree.map(lambda v: v * 2, tree) == jax.tree.map(lambda v: v * 2, tree)
    assert fl.tree.leaves(tree) == [1.0, 2.0, 3.0]
    pred = np.array([True, False])
    a, b = np.ones(2, np.float32), np.zeros(2, np.float32)
    assert_close(fl.lax.select(pred, a, b), jax.lax.select(pred, a, b), 0, 0)
    assert_close(fl.vmap(fl.lax.select)(pred, a, b), jax.vmap(jax.lax.select)(pred, a, b), 0, 0)


def test_cov_corrcoef_and_interp_match_jax():
    rng = np.random.RandomState(0)
    m = rng.randn(3, 10).astype(np.float32)
    fw = np.array([1, 2, 1, 1, 3, 1, 1, 2, 1, 1])
    aw = rng.rand(10).astype(np.float32)
    for kwargs in ({}, {"rowvar": False, "bias": True}, {"fweights": fw, "aweights": aw},
                   {"ddof": 0}):
        assert_close(fnp.cov(m, **kwargs), jnp.cov(m, **kwargs), 1e-5, 1e-6, str(kwargs))
    assert_close(fnp.cov(m[0]), jnp.cov(m[0]), 1e-5, 1e-6)
    assert_close(fnp.corrcoef(m), jnp.corrcoef(m), 1e-5, 1e-6)
    # one row with rowvar=False is a column of observations of len(row) variables (jnp:
    # NumPy keeps it one variable); no observation gives NaN
    for x, kwargs in [(m[:1], {"rowvar": False}), (m[:, :0], {}), (m[:1, :0], {})]:
        assert_close(fnp.cov(x, **kwargs), jnp.cov(x, **kwargs), 1e-5, 1e-6, str(x.shape))
    xp = np.array([0.0, 1.0, 2.5, 4.0], np.float32)
    fp = np.array([1.0, 3.0, 2.0, 0.0], np.float32)
    x = np.array([-1, 0, 0.5, 1, 2, 3.9, 5], np.float32)
    for kwargs in ({}, {"left": -9.0, "right": 9.0}, {"period": 4.0}):
        assert_close(fnp.interp(x, xp, fp, **kwargs), jnp.interp(x, xp, fp, **kwargs),
                     1e-6, 1e-6, str(kwargs))
    assert_close(fl.jit(fnp.interp)(x, xp, fp), jnp.interp(x, xp, fp), 1e-6, 1e-6)
    assert_close(fl.grad(lambda v: fnp.sum(fnp.interp(v, xp, fp)))(x),
                 jax.grad(lambda v: jnp.sum(jnp.interp(v, xp, fp)))(x), 1e-6, 1e-6)
