"""functorch_lite.random: bit-exact agreement with jax.random (default threefry,
partitionable), reproducibility eagerly / under jit / vmap / scan, independence of
split streams, and moments plus a two-sample Kolmogorov-Smirnov statistic against
NumPy's generator for every distribution."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.random as R

N = 20000
KS_CRIT = 1.95 * np.sqrt(2.0 / N)  # two-sample KS critical value at alpha = 0.001
rng = np.random.default_rng(0)


def key(seed=0):
    return R.PRNGKey(seed), jax.random.PRNGKey(seed)


def equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def test_partitionable_threefry_is_jax_default():
    # our key derivation follows this configuration; fail loudly if JAX changes it
    assert jax.config.jax_threefry_partitionable


@pytest.mark.parametrize("seed", [0, 1, 42, -1, 2**31, 2**32 + 5])
def test_prng_key_matches_jax(seed):
    assert equal(R.PRNGKey(seed), jax.random.PRNGKey(seed))
    assert equal(R.key_data(R.key(seed)), jax.random.PRNGKey(seed))


def test_traced_seed_matches_jax():
    assert equal(fl.jit(R.PRNGKey)(np.int32(-5)), jax.jit(jax.random.PRNGKey)(np.int32(-5)))


# every entry: (name, our call, jax call) on the keys k (ours) and kj (jax)
EXACT = [
    ("split", lambda r, k: r.split(k)),
    ("split3", lambda r, k: r.split(k, 3)),
    ("split_shape", lambda r, k: r.split(k, (2, 3))),
    ("fold_in", lambda r, k: r.fold_in(k, 7)),
    ("bits32", lambda r, k: r.bits(k, (3, 2))),
    ("bits8", lambda r, k: r.bits(k, (5,), np.uint8)),
    ("bits16", lambda r, k: r.bits(k, (5,), np.uint16)),
    ("uniform", lambda r, k: r.uniform(k, (4, 3))),
    ("uniform_range", lambda r, k: r.uniform(k, (3,), minval=-2.0,
                                             maxval=np.array([1., 2., 3.], np.float32))),
    ("uniform_f16", lambda r, k: r.uniform(k, (4,), np.float16)),
    ("uniform_bf16", lambda r, k: r.uniform(k, (4,), jnp.bfloat16)),
    ("normal", lambda r, k: r.normal(k, (4, 3))),
    ("normal_c64", lambda r, k: r.normal(k, (3,), np.complex64)),
    ("truncated_normal", lambda r, k: r.truncated_normal(k, -1.0, 2.0, (6,))),
    ("bernoulli", lambda r, k: r.bernoulli(k, 0.3, (8,))),
    ("exponential", lambda r, k: r.exponential(k, (5,))),
    ("gumbel", lambda r, k: r.gumbel(k, (5,))),
    ("laplace", lambda r, k: r.laplace(k, (5,))),
    ("logistic", lambda r, k: r.logistic(k, (5,))),
    ("randint", lambda r, k: r.randint(k, (6,), 0, 10)),
    ("randint_int8_wide", lambda r, k: r.randint(k, (6,), -3, 300, np.int8)),
    ("randint_array_bounds", lambda r, k: r.randint(k, (2, 3), np.array([0, 5, -4]), 9)),
    ("categorical", lambda r, k: r.categorical(k, np.array([0.1, 2.0, -1.0], np.float32))),
    ("categorical_shape", lambda r, k: r.categorical(
        k, np.array([[0.1, 2.0, -1.0], [1.0, 0.0, 0.5]], np.float32), -1, (4, 2))),
    ("categorical_no_replace", lambda r, k: r.categorical(
        k, np.zeros(5, np.float32), shape=(3,), replace=False)),
    ("permutation_int", lambda r, k: r.permutation(k, 7)),
    ("permutation_rows", lambda r, k: r.permutation(k, np.arange(12).reshape(3, 4), 1)),
    ("permutation_indep", lambda r, k: r.permutation(k, np.arange(12).reshape(3, 4), 1, True)),
    ("choice", lambda r, k: r.choice(k, 5, (3,))),
    ("choice_array", lambda r, k: r.choice(k, np.arange(20.).reshape(10, 2), (3,))),
    ("choice_no_replace", lambda r, k: r.choice(k, np.arange(10.), (4,), False)),
    ("choice_p", lambda r, k: r.choice(k, 5, (6,), True,
                                       np.array([.1, .2, .3, .2, .2], np.float32))),
    ("choice_p_no_replace", lambda r, k: r.choice(k, 5, (3,), False,
                                                  np.array([.1, .2, .3, .2, .2], np.float32))),
    ("rademacher", lambda r, k: r.rademacher(k, (6,))),
]


@pytest.mark.parametrize("name,call", EXACT, ids=[e[0] for e in EXACT])
def test_bit_exact_with_jax(name, call):
    k, kj = key(3)
    assert equal(call(R, k), call(jax.random, kj))


@pytest.mark.parametrize("name,call", EXACT[:14], ids=[e[0] for e in EXACT[:14]])
def test_same_key_same_bits_eager_jit_vmap(name, call):
    """Our bits equal JAX's eagerly, under jit and under vmap; and where JAX's own jit
    or vmap gives its eager bits, ours do too. (A GPU may round a sampler's float math
    differently under jit: XLA folds the transcendentals of constant bounds, e.g.
    truncated_normal's erf(lower), on the host. JAX then differs from itself exactly as
    we do, and we follow it.)"""
    k, kj = key(5)
    eager, eager_j = call(R, k), call(jax.random, kj)
    jitted = fl.jit(lambda k: call(R, k))(k)
    jitted_j = jax.jit(lambda k: call(jax.random, k))(kj)
    assert equal(eager, eager_j) and equal(jitted, jitted_j)
    if equal(jitted_j, eager_j):
        assert equal(jitted, eager)
    keys, keys_j = R.split(k, 3), jax.random.split(kj, 3)
    batched = fl.vmap(lambda k: call(R, k))(keys)
    batched_j = jax.vmap(lambda k: call(jax.random, k))(keys_j)
    assert equal(batched, batched_j)
    if equal(batched_j[1], call(jax.random, keys_j[1])):
        assert equal(batched[1], call(R, keys[1]))


def test_fold_in_batched_data_and_keys_inside_scan():
    k, kj = key(1)
    assert equal(fl.vmap(lambda i: R.fold_in(k, i))(np.arange(4)),
                 jax.vmap(lambda i: jax.random.fold_in(kj, i))(np.arange(4)))

    def sampler(r, L):
        def step(key, _):
            key, sub = r.split(key)
            return key, r.normal(sub, (2,))
        return lambda k: L.scan(step, k, None, length=5)
    ours, ref = sampler(R, fl.lax)(k), sampler(jax.random, jax.lax)(kj)
    assert equal(ours[0], ref[0]) and equal(ours[1], ref[1])
    assert equal(fl.jit(sampler(R, fl.lax))(k)[1], ref[1])


def test_split_streams_are_independent():
    k1, k2 = R.split(R.PRNGKey(0))
    a, b = np.asarray(R.uniform(k1, (N,))), np.asarray(R.uniform(k2, (N,)))
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(N)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 4 / np.sqrt(N)  # no serial correlation
    # children of different keys and of fold_in differ from each other and the parent
    keys = np.asarray(R.split(R.PRNGKey(0), 64))
    assert len({tuple(x) for x in keys}) == 64
    assert not equal(R.fold_in(k1, 0), R.fold_in(k1, 1))


def test_key_errors():
    with pytest.raises(ValueError, match="single key"):
        R.split(R.split(R.PRNGKey(0), 2))
    with pytest.raises(TypeError, match="PRNG key"):
        R.uniform(np.zeros(3, np.float32))


# --- distributions against NumPy's generator ------------------------------------------

def ks_statistic(a, b):
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return np.max(np.abs(fa - fb))


def _truncnorm(lo, hi, n):
    out = rng.standard_normal(4 * n)
    return out[(out > lo) & (out < hi)][:n]


CONTINUOUS = [
    ("uniform", lambda k: R.uniform(k, (N,), minval=-1.0, maxval=3.0),
     lambda: rng.uniform(-1.0, 3.0, N)),
    ("normal", lambda k: R.normal(k, (N,)), lambda: rng.standard_normal(N)),
    ("truncated_normal", lambda k: R.truncated_normal(k, -0.5, 1.5, (N,)),
     lambda: _truncnorm(-0.5, 1.5, N)),
    ("exponential", lambda k: R.exponential(k, (N,)), lambda: rng.exponential(1.0, N)),
    ("gumbel", lambda k: R.gumbel(k, (N,)), lambda: rng.gumbel(0.0, 1.0, N)),
    ("laplace", lambda k: R.laplace(k, (N,)), lambda: rng.laplace(0.0, 1.0, N)),
    ("logistic", lambda k: R.logistic(k, (N,)), lambda: rng.logistic(0.0, 1.0, N)),
]


@pytest.mark.parametrize("name,ours,numpy_draw", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_moments_and_ks(name, ours, numpy_draw):
    ours = np.asarray(ours(R.PRNGKey(11)), np.float64)
    ref = numpy_draw()
    se = ref.std() / np.sqrt(N)
    assert abs(ours.mean() - ref.mean()) < 6 * se
    assert abs(ours.std() / ref.std() - 1) < 0.05
    assert ks_statistic(ours, ref) < KS_CRIT


def _frequencies(x, k):
    return np.bincount(np.ravel(x), minlength=k) / np.size(x)


def test_discrete_distributions_frequencies():
    k = R.PRNGKey(2)
    tol = 5 / np.sqrt(N)
    b = np.asarray(R.bernoulli(k, 0.3, (N,)))
    assert abs(b.mean() - rng.binomial(1, 0.3, N).mean()) < tol
    r = np.asarray(R.randint(k, (N,), 2, 9))
    assert r.min() == 2 and r.max() == 8
    np.testing.assert_allclose(_frequencies(r - 2, 7), _frequencies(rng.integers(2, 9, N) - 2, 7),
                               atol=tol)
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4], np.float32))
    c = np.asarray(R.categorical(k, logits, shape=(N,)))
    np.testing.assert_allclose(_frequencies(c, 4), _frequencies(
        rng.choice(4, N, p=[0.1, 0.2, 0.3, 0.4]), 4), atol=tol)
    p = np.array([0.5, 0.1, 0.4], np.float32)
    ch = np.asarray(R.choice(k, 3, (N,), p=p))
    np.testing.assert_allclose(_frequencies(ch, 3), _frequencies(rng.choice(3, N, p=p), 3),
                               atol=tol)
    assert ks_statistic(ch, rng.choice(3, N, p=p)) < KS_CRIT


def test_permutations_are_uniform():
    keys = R.split(R.PRNGKey(4), 3000)
    perms = np.asarray(fl.vmap(lambda k: R.permutation(k, 4))(keys))
    assert (np.sort(perms, axis=1) == np.arange(4)).all()
    # where element 0 lands: uniform over the 4 positions
    freq = _frequencies(np.argmax(perms == 0, axis=1), 4)
    np.testing.assert_allclose(freq, 0.25, atol=5 / np.sqrt(3000))
    no_repl = np.asarray(fl.vmap(lambda k: R.choice(k, 6, (3,), replace=False))(keys))
    assert all(len(set(row)) == 3 for row in no_repl)


def test_multivariate_normal_moments():
    mean = np.array([1.0, -2.0], np.float32)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]], np.float32)
    x = np.asarray(R.multivariate_normal(R.PRNGKey(0), mean, cov, (N,)), np.float64)
    np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)
    ref = rng.multivariate_normal(mean, cov, N)
    assert ks_statistic(x[:, 0], ref[:, 0]) < KS_CRIT
    k, kj = key(2)
    assert equal(R.multivariate_normal(k, mean, cov, (5,)),
                 jax.random.multivariate_normal(kj, mean, cov, (5,)))
