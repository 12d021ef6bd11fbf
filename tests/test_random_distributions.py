"""Every jax.random distribution beyond the basic ones: bit-identical to jax.random for
the same key (typed or raw), shape and dtype, eagerly, under jit and under vmap over
keys; a one-sample Kolmogorov-Smirnov statistic and the moments against SciPy's
distributions (frequencies for the discrete ones); reparameterised gradients of gamma,
beta and dirichlet against jax.grad and against finite differences of the inverse CDF
at the sample's quantile (SciPy)."""
import functools

import numpy as np
import pytest
import jax
import jax.numpy as jnp
import scipy.special as sp
import scipy.stats as st

import functorch_lite as fl
import functorch_lite.random as R

N = 20000
# multinomial's `shape`: with the categories' axis up to JAX 0.11, without it from 0.12
MULTINOMIAL_SHAPE = (N // 4,) if fl._jax_versions.MULTINOMIAL_BATCH_SHAPE else (N // 4, 3)
KS_CRIT = 1.95 / np.sqrt(N)  # one-sample KS critical value at alpha = 0.001
A = np.array([0.3, 1.0, 2.5, 7.0], np.float32)


def equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


# name, call(r, key) with r = functorch_lite.random or jax.random, the SciPy
# distribution its N samples follow (None: compared by frequencies or not at all)
DISTRIBUTIONS = [
    ("cauchy", lambda r, k: r.cauchy(k, (N,)), st.cauchy()),
    ("pareto", lambda r, k: r.pareto(k, 3.0, (N,)), st.pareto(3.0)),
    ("lognormal", lambda r, k: r.lognormal(k, 0.5, (N,)), st.lognorm(0.5)),
    ("rayleigh", lambda r, k: r.rayleigh(k, 1.5, (N,)), st.rayleigh(scale=1.5)),
    ("wald", lambda r, k: r.wald(k, 0.7, (N,)), st.invgauss(0.7)),
    ("weibull_min", lambda r, k: r.weibull_min(k, 2.0, 1.5, (N,)),
     st.weibull_min(1.5, scale=2.0)),
    ("triangular", lambda r, k: r.triangular(k, -1.0, 0.5, 2.0, (N,)),
     st.triang(0.5, loc=-1.0, scale=3.0)),
    ("maxwell", lambda r, k: r.maxwell(k, (N,)), st.maxwell()),
    ("double_sided_maxwell", lambda r, k: r.double_sided_maxwell(k, 0.5, 2.0, (N,)), None),
    ("gamma", lambda r, k: r.gamma(k, 0.7, (N,)), st.gamma(0.7)),
    ("gamma_large_a", lambda r, k: r.gamma(k, 12.0, (N,)), st.gamma(12.0)),
    ("loggamma", lambda r, k: r.loggamma(k, 0.2, (N,)), st.loggamma(0.2)),
    ("beta", lambda r, k: r.beta(k, 0.5, 2.0, (N,)), st.beta(0.5, 2.0)),
    ("chisquare", lambda r, k: r.chisquare(k, 3.0, (N,)), st.chi2(3.0)),
    ("f", lambda r, k: r.f(k, 4.0, 7.0, (N,)), st.f(4.0, 7.0)),
    ("t", lambda r, k: r.t(k, 5.0, (N,)), st.t(5.0)),
    ("generalized_normal", lambda r, k: r.generalized_normal(k, 1.5, (N,)), st.gennorm(1.5)),
    ("gumbel_high", lambda r, k: r.gumbel(k, (N,), mode="high"), st.gumbel_r()),
    ("gumbel_highest", lambda r, k: r.gumbel(k, (N,), mode="highest"), st.gumbel_r()),
    ("dirichlet", lambda r, k: r.dirichlet(k, A, (N // 4,)), None),
    ("ball", lambda r, k: r.ball(k, 3, 2, (N // 4,)), None),
    ("orthogonal", lambda r, k: r.orthogonal(k, 3, (4,)), None),
    ("orthogonal_wide", lambda r, k: r.orthogonal(k, 2, (2,), m=4), None),
    ("poisson", lambda r, k: r.poisson(k, 3.5, (N,)), st.poisson(3.5)),
    ("poisson_large", lambda r, k: r.poisson(k, 40.0, (N,)), st.poisson(40.0)),
    ("binomial", lambda r, k: r.binomial(k, 12.0, 0.3, (N,)), st.binom(12, 0.3)),
    ("binomial_large", lambda r, k: r.binomial(k, 200.0, 0.7, (N,)), st.binom(200, 0.7)),
    ("geometric", lambda r, k: r.geometric(k, 0.3, (N,)), st.geom(0.3)),
    ("multinomial", lambda r, k: r.multinomial(k, 10.0, np.array([.2, .3, .5], np.float32),
                                               shape=MULTINOMIAL_SHAPE), None),
    ("bernoulli_high", lambda r, k: r.bernoulli(k, 0.3, (N,), mode="high"), st.bernoulli(0.3)),
]
NAMES = [d[0] for d in DISTRIBUTIONS]


@functools.lru_cache(maxsize=None)
def draws(name):
    """(ours, JAX's) samples of one distribution for seed 7; every other distribution
    is drawn with typed keys (random.key), the others with raw keys (PRNGKey)."""
    _, call, _ = DISTRIBUTIONS[NAMES.index(name)]
    typed = NAMES.index(name) % 2 == 0
    ours_key = R.key(7) if typed else R.PRNGKey(7)
    jax_key = jax.random.key(7) if typed else jax.random.PRNGKey(7)
    return np.asarray(call(R, ours_key)), np.asarray(call(jax.random, jax_key))


@pytest.mark.parametrize("name", NAMES)
def test_bit_identical_to_jax(name):
    ours, ref = draws(name)
    assert equal(ours, ref)


@pytest.mark.parametrize("name", [d[0] for d in DISTRIBUTIONS
                                  if d[2] is not None and hasattr(d[2].dist, "pdf")])
def test_continuous_ks_and_moments_against_scipy(name):
    ours, _ = draws(name)
    dist = DISTRIBUTIONS[NAMES.index(name)][2]
    x = ours.astype(np.float64)
    assert st.kstest(x, dist.cdf).statistic < KS_CRIT
    if np.isfinite(dist.var()):
        se = np.sqrt(dist.var() / N)
        assert abs(x.mean() - dist.mean()) < 6 * se
        assert abs(x.var() / dist.var() - 1) < 0.1


@pytest.mark.parametrize("name", [d[0] for d in DISTRIBUTIONS
                                  if d[2] is not None and hasattr(d[2].dist, "pmf")])
def test_discrete_frequencies_against_scipy(name):
    ours, _ = draws(name)
    dist = DISTRIBUTIONS[NAMES.index(name)][2]
    values = ours.astype(np.int64)
    support = np.arange(values.min(), values.max() + 1)
    freq = np.array([(values == v).mean() for v in support])
    np.testing.assert_allclose(freq, dist.pmf(support), atol=5 * np.sqrt(0.25 / N))
    assert abs(values.mean() - dist.mean()) < 6 * np.sqrt(dist.var() / N)


def test_multivariate_samplers_have_their_laws():
    dirichlet, _ = draws("dirichlet")
    np.testing.assert_allclose(dirichlet.sum(-1), 1, rtol=1e-5)
    np.testing.assert_allclose(dirichlet.mean(0), A / A.sum(), atol=0.01)
    marginal = st.beta(A[3], A.sum() - A[3])
    assert st.kstest(dirichlet[:, 3], marginal.cdf).statistic < 1.95 / np.sqrt(N // 4)
    ball, _ = draws("ball")
    radius = np.linalg.norm(ball, axis=-1)  # uniform in the 3-ball: P(r < s) = s^3
    assert radius.max() <= 1 and st.kstest(radius, lambda s: s ** 3).statistic < 0.03
    q, _ = draws("orthogonal")
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(3), q.shape),
                               atol=1e-5)
    wide, _ = draws("orthogonal_wide")
    assert wide.shape == (2, 2, 4)
    np.testing.assert_allclose(wide @ np.swapaxes(wide, -1, -2),
                               np.broadcast_to(np.eye(2), (2, 2, 2)), atol=1e-5)
    counts, _ = draws("multinomial")
    assert (counts.sum(-1) == 10).all()
    np.testing.assert_allclose(counts.mean(0), [2, 3, 5], atol=0.1)
    dsm, _ = draws("double_sided_maxwell")  # loc 0.5 +- scale 2 * Maxwell, either sign
    assert abs(np.mean(dsm > 0.5) - 0.5) < 0.02
    assert st.kstest(np.abs(dsm - 0.5) / 2, st.maxwell().cdf).statistic < KS_CRIT


# --- jit and vmap: parameters are arguments (JAX's jit folds closed-over constants) ----

PARAM_SAMPLERS = [
    ("gamma", lambda r, k, a: r.gamma(k, a)),
    ("loggamma_shape", lambda r, k, a: r.loggamma(k, a, (2, 4))),
    ("beta", lambda r, k, a: r.beta(k, a, a[::-1])),
    ("poisson", lambda r, k, a: r.poisson(k, a * 6)),
    ("binomial", lambda r, k, a: r.binomial(k, a * 40, a / 8)),
    ("wald", lambda r, k, a: r.wald(k, a)),
    ("triangular", lambda r, k, a: r.triangular(k, -a, 0 * a, a)),
    ("cauchy_f16", lambda r, k, a: r.cauchy(k, (4,), jnp.float16)),
    ("lognormal_bf16", lambda r, k, a: r.lognormal(k, 0.5, (4,), jnp.bfloat16)),
    ("gamma_f16", lambda r, k, a: r.gamma(k, a.astype(np.float16), dtype=jnp.float16)),
]


@pytest.mark.parametrize("name,call", PARAM_SAMPLERS, ids=[p[0] for p in PARAM_SAMPLERS])
def test_jit_and_vmap_bit_identical(name, call):
    ours = fl.jit(lambda k, a: call(R, k, a))(R.key(2), A)
    assert equal(ours, jax.jit(lambda k, a: call(jax.random, k, a))(jax.random.key(2), A))
    keys, keys_j = R.split(R.key(5), 3), jax.random.split(jax.random.key(5), 3)
    batched = fl.vmap(lambda k: call(R, k, A))(keys)
    assert equal(batched, jax.vmap(lambda k: call(jax.random, k, A))(keys_j))


def test_vmap_over_keys_and_parameters_of_gamma():
    keys = R.split(R.PRNGKey(1), 3)
    alphas = np.stack([A, A + 1, A * 2])
    ours = fl.vmap(R.gamma)(keys, alphas)
    ref = jax.vmap(jax.random.gamma)(jax.random.split(jax.random.PRNGKey(1), 3), alphas)
    assert equal(ours, ref)
    assert equal(ours[1], R.gamma(keys[1], alphas[1]))  # batching changes no draw


# --- reparameterised gradients ----------------------------------------------------------

def _inverse_cdf_derivative(a, x):
    """d/da of the gamma quantile function at the quantile of x: finite differences
    (SciPy, float64) of gammaincinv(a, gammainc(a0, x))."""
    a, x = a.astype(np.float64), x.astype(np.float64)
    u, eps = sp.gammainc(a, x), 1e-5
    return (sp.gammaincinv(a + eps, u) - sp.gammaincinv(a - eps, u)) / (2 * eps)


def test_gamma_gradient_against_jax_and_finite_differences():
    key = R.key(3)
    grad = fl.grad(lambda a: R.gamma(key, a).sum())(A)
    ref = jax.grad(lambda a: jax.random.gamma(jax.random.key(3), a).sum())(A)
    np.testing.assert_allclose(grad, ref, rtol=1e-5)
    np.testing.assert_allclose(grad, _inverse_cdf_derivative(A, R.gamma(key, A)), rtol=2e-3)
    # loggamma: d log(x) / da = (dx/da) / x
    log_grad = fl.jacfwd(lambda a: R.loggamma(key, a))(A)
    x = np.exp(np.asarray(R.loggamma(key, A), np.float64))
    np.testing.assert_allclose(np.diag(log_grad), _inverse_cdf_derivative(A, x) / x, rtol=2e-3)


def test_beta_and_dirichlet_gradients_against_jax_and_finite_differences():
    key, key_j = R.key(9), jax.random.key(9)
    b = np.float32(2.0)
    grad = fl.grad(lambda a: R.beta(key, a, b).sum())(A)
    np.testing.assert_allclose(grad, jax.grad(
        lambda a: jax.random.beta(key_j, a, b).sum())(A), rtol=1e-5)
    # beta = Ga / (Ga + Gb) with Ga, Gb the loggamma draws of split(key)
    key_a, key_b = R.split(key)
    ga = np.exp(np.asarray(R.loggamma(key_a, A), np.float64))
    gb = np.exp(np.asarray(R.loggamma(key_b, np.full(4, b)), np.float64))
    np.testing.assert_allclose(grad, gb / (ga + gb) ** 2 * _inverse_cdf_derivative(A, ga),
                               rtol=3e-3)
    weights = np.arange(4, dtype=np.float32)
    grad = fl.grad(lambda a: (R.dirichlet(key, a) * weights).sum())(A)
    np.testing.assert_allclose(grad, jax.grad(
        lambda a: (jax.random.dirichlet(key_j, a) * weights).sum())(A), rtol=1e-4, atol=1e-6)
    g = np.exp(np.asarray(R.loggamma(key, A), np.float64))  # dirichlet = g / sum(g)
    dg = _inverse_cdf_derivative(A, g)
    expected = dg * (weights - (weights * g).sum() / g.sum()) / g.sum()
    np.testing.assert_allclose(grad, expected, rtol=3e-3, atol=1e-6)


def test_samplers_reject_bad_arguments():
    with pytest.raises(ValueError, match="must be a float dtype"):
        R.gamma(R.key(0), 1.0, dtype=np.int32)
    with pytest.raises(ValueError, match="int dtype"):
        R.geometric(R.key(0), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match="broadcast-compatible"):
        R.beta(R.key(0), np.ones(3), 1.0, shape=(2, 3, 1))
    with pytest.raises(ValueError, match="incompatible shapes"):
        R.beta(R.key(0), np.ones(3), 1.0, shape=(2,))
    with pytest.raises(ValueError, match="alpha.ndim >= 1"):
        R.dirichlet(R.key(0), 1.0)
    with pytest.raises(ValueError, match="mode"):
        R.gumbel(R.key(0), mode="middle")
