"""Typed PRNG key arrays (random.key, dtype key<fry>): they are JAX's own key arrays, so
they print as JAX's and cross freely between JAX and functorch_lite; they flow through
jit (as arguments, results and constants), vmap (in and out axes), scan (carry, xs and
ys), fori_loop / while_loop / cond, split and fold_in, tree utilities, grad of functions
that take keys, checkpointing and nn checkpoints; and they are not numbers."""
import os

import numpy as np
import pytest
import jax

import functorch_lite as fl
import functorch_lite.numpy as fnp
import functorch_lite.random as R
import nn


def same_keys(ours, ref):
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(jax.random.key_data(ours), jax.random.key_data(ref))


def test_key_is_jax_typed_key_array():
    k = R.key(42)
    assert isinstance(k, jax.Array) and k.shape == () and str(k.dtype) == "key<fry>"
    assert repr(k) == repr(jax.random.key(42))
    same_keys(k, jax.random.key(42))
    assert R.key_dtype() == jax.random.key_dtype() == k.dtype
    assert R.key_impl(k) == jax.random.key_impl(k) == "threefry2x32"
    np.testing.assert_array_equal(R.key_data(k), R.PRNGKey(42))
    same_keys(R.wrap_key_data(R.key_data(R.split(k, 3))), jax.random.split(k, 3))
    assert R.clone(k) is k
    assert fl.dtypes.issubdtype(k.dtype, fl.dtypes.prng_key)


def test_keys_cross_between_jax_and_functorch_lite():
    np.testing.assert_array_equal(R.normal(jax.random.key(1), (3,)),
                                  jax.random.normal(R.key(1), (3,)))
    same_keys(R.split(jax.random.key(2), 4), jax.random.split(R.key(2), 4))
    same_keys(R.fold_in(R.key(3), 9), jax.random.fold_in(jax.random.key(3), 9))
    raw = R.split(R.PRNGKey(3))  # raw keys stay raw
    assert raw.dtype == np.uint32 and raw.shape == (2, 2)


def test_jit_takes_returns_and_captures_typed_keys():
    captured = R.key(11)

    def f(k):
        k1, k2 = R.split(k)
        return R.uniform(k1, (2,)) + R.uniform(captured, (2,)), k2, R.split(k2, 3)[1:]

    def f_jax(k):
        k1, k2 = jax.random.split(k)
        return (jax.random.uniform(k1, (2,)) + jax.random.uniform(captured, (2,)), k2,
                jax.random.split(k2, 3)[1:])
    ours, ref = fl.jit(f)(R.key(5)), jax.jit(f_jax)(jax.random.key(5))
    np.testing.assert_array_equal(ours[0], ref[0])
    same_keys(ours[1], ref[1])
    same_keys(ours[2], ref[2])
    same_keys(fl.jit(f)(R.key(5))[1], ref[1])  # the cached executable
    text = str(fl.make_jaxpr(f)(R.key(5)))
    assert "key<fry>[]" in text and "random_unwrap" in text and "random_wrap" in text


def test_vmap_over_typed_keys_in_and_out():
    keys, keys_j = R.split(R.key(0), 4), jax.random.split(jax.random.key(0), 4)
    np.testing.assert_array_equal(fl.vmap(lambda k: R.normal(k, (2,)))(keys),
                                  jax.vmap(lambda k: jax.random.normal(k, (2,)))(keys_j))
    same_keys(fl.vmap(R.split)(keys), jax.vmap(jax.random.split)(keys_j))
    same_keys(fl.vmap(R.split, out_axes=1)(keys), jax.vmap(jax.random.split, out_axes=1)(keys_j))
    same_keys(fl.vmap(lambda k, i: R.fold_in(k, i), in_axes=(None, 0))(keys[0], np.arange(3)),
              jax.vmap(lambda k, i: jax.random.fold_in(k, i), in_axes=(None, 0))(
                  keys_j[0], np.arange(3)))
    # an unbatched key result is broadcast along the batch
    same_keys(fl.vmap(lambda x: keys[1], axis_size=2)(np.zeros(2)),
              jax.vmap(lambda x: keys_j[1])(np.zeros(2)))


def test_scan_carries_consumes_and_stacks_typed_keys():
    def step(r):
        def body(k, x):
            k, sub = r.split(k)
            return k, (r.normal(sub) + x, sub)
        return body
    xs = np.arange(5, dtype=np.float32)
    (k, (ys, subs)) = fl.lax.scan(step(R), R.key(1), xs)
    (kj, (ys_j, subs_j)) = jax.lax.scan(step(jax.random), jax.random.key(1), xs)
    same_keys(k, kj)
    same_keys(subs, subs_j)
    np.testing.assert_array_equal(ys, ys_j)
    keys = R.split(R.key(2), 3)
    total, _ = fl.lax.scan(lambda c, k: (c + R.uniform(k), None), 0.0, keys)
    ref, _ = jax.lax.scan(lambda c, k: (c + jax.random.uniform(k), None), 0.0,
                          jax.random.split(jax.random.key(2), 3))
    np.testing.assert_array_equal(total, ref)


def test_loops_and_cond_with_typed_keys():
    keys = R.split(R.key(4), 3)
    by_index = fl.lax.fori_loop(0, 3, lambda i, c: c + R.uniform(keys[i]), 0.0)
    np.testing.assert_allclose(by_index, sum(float(R.uniform(k)) for k in keys), rtol=1e-6)
    final = fl.lax.while_loop(lambda c: c[1] < 3, lambda c: (R.split(c[0])[0], c[1] + 1),
                              (R.key(4), 0))[0]
    ref = jax.lax.while_loop(lambda c: c[1] < 3,
                             lambda c: (jax.random.split(c[0])[0], c[1] + 1),
                             (jax.random.key(4), 0))[0]
    same_keys(final, ref)
    pick = lambda p, a, b: fl.lax.cond(p, lambda: a, lambda: b)
    same_keys(pick(True, keys[0], keys[1]), keys[0])
    # vmap with a batched predicate turns cond into a select on keys
    chosen = fl.vmap(pick)(np.array([True, False, True]), keys, R.split(R.key(5), 3))
    ref = jax.vmap(lambda p, a, b: jax.lax.cond(p, lambda: a, lambda: b))(
        np.array([True, False, True]), keys, jax.random.split(jax.random.key(5), 3))
    same_keys(chosen, ref)


def test_keys_are_pytree_leaves_and_stack():
    keys = R.split(R.key(6), 2)
    tree = {"rng": keys[0], "w": np.ones(2, np.float32)}
    leaves = jax.tree_util.tree_leaves(tree)
    assert len(leaves) == 2 and leaves[0].dtype == keys.dtype
    mapped = fl.tree_util.tree_map(lambda x: x, tree)
    same_keys(mapped["rng"], keys[0])
    same_keys(fnp.stack([keys[1], keys[0]]), jax.numpy.stack([keys[1], keys[0]]))
    same_keys(fl.jit(lambda ks: ks[::-1])(keys), keys[::-1])


def test_grad_and_checkpoint_of_functions_taking_keys():
    def loss(w, k):
        return (w * R.normal(k, (3,))).sum()
    w = np.ones(3, np.float32)
    np.testing.assert_array_equal(fl.grad(loss)(w, R.key(0)), R.normal(R.key(0), (3,)))
    np.testing.assert_array_equal(fl.grad(fl.checkpoint(loss))(w, R.key(0)),
                                  R.normal(R.key(0), (3,)))
    np.testing.assert_array_equal(fl.jit(fl.grad(loss))(w, R.key(0)),
                                  R.normal(R.key(0), (3,)))
    grads = fl.vmap(fl.grad(loss), in_axes=(None, 0))(w, R.split(R.key(0), 2))
    np.testing.assert_array_equal(grads[1], R.normal(R.split(R.key(0), 2)[1], (3,)))


def test_nn_checkpoint_round_trip_and_init_with_typed_keys(tmp_path):
    path = os.fspath(tmp_path / "state.safetensors")
    state = {"params": np.ones(2, np.float32), "rng": R.split(R.key(8), 3)}
    nn.save(path, state)
    same_keys(nn.load(path)["rng"], state["rng"])
    same_keys(nn.load(path, like=state)["rng"], state["rng"])
    model = nn.Dense(3)
    typed, _ = model.init(R.key(0), np.ones((1, 2), np.float32))
    raw, _ = model.init(R.PRNGKey(0), np.ones((1, 2), np.float32))
    jax.tree_util.tree_map(np.testing.assert_array_equal, typed, raw)


def test_keys_are_not_numbers():
    k = R.key(0)
    with pytest.raises(TypeError, match="(?s)add does not accept PRNG key arrays.*test_random_keys.py.*Fix"):
        fl.jit(lambda k: fl.lax.add(k, k))(k)
    with pytest.raises(TypeError, match="not numbers"):
        fl.jit(lambda k: k + 1)(k)
    with pytest.raises(TypeError, match="not numbers"):
        fnp.sin(k)
    with pytest.raises(TypeError, match="not numbers"):
        fnp.stack([k, np.float32(1.0)])
    with pytest.raises(TypeError, match="convert_element_type does not accept PRNG key"):
        fl.jit(lambda k: k.astype(np.float32))(k)


def test_key_argument_errors():
    with pytest.raises(ValueError, match="single key.*vmap"):
        R.normal(R.split(R.key(0), 2))
    with pytest.raises(TypeError, match="uint32"):
        R.wrap_key_data(np.zeros(3, np.uint32))
    with pytest.raises(TypeError, match="PRNG key"):
        R.uniform(np.zeros(3, np.float32))
    with pytest.raises(NotImplementedError, match="threefry2x32"):
        R.key(0, impl="rbg")
    assert R.key(0, impl="threefry2x32").dtype == R.key_dtype("threefry2x32")
