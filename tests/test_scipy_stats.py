"""functorch_lite.scipy.stats against jax.scipy.stats (every function of every
distribution, eagerly and under jit), against SciPy in float64, log-density gradients
and vmap against JAX, and gaussian_kde / mode / rankdata / sem."""
import types

import numpy as np
import pytest
import jax
import jax.scipy.stats as jst
import scipy.stats as sst

import functorch_lite as fl
import functorch_lite.scipy.stats as fst
from harness import Rec, assert_close, check_jvp_vjp, check_vmap

F32 = np.float32
_rng = np.random.RandomState(5)
X = np.concatenate([_rng.randn(6) * 2, [0., 0.5, 1.5, 3.]]).astype(F32)
POS = np.abs(X) + 0.1
UNIT = np.asarray(_rng.rand(10) * 0.98 + 0.01, F32)
K = np.asarray([0, 1, 2, 3, 5, 0, 1, 4, 7, 2], F32)

# distribution: (arguments of its densities and distribution functions, of ppf / isf)
ARGS = {
    "norm": ((X, 0.5, 1.5), (UNIT, 0.5, 1.5)), "uniform": ((X, -1., 3.), (UNIT, -1., 3.)),
    "cauchy": ((X, 0.3, 2.), (UNIT, 0.3, 2.)), "laplace": ((X, .2, 1.3), None),
    "logistic": ((X, .2, 1.3), (UNIT, .2, 1.3)), "expon": ((X, -1., 2.), (UNIT, -1., 2.)),
    "gumbel_r": ((X, .2, 1.5), (UNIT, .2, 1.5)), "gumbel_l": ((X, .2, 1.5), (UNIT, .2, 1.5)),
    "t": ((X, 3.5, .1, 1.2), None), "pareto": ((POS + 1, 2.5, 0., 1.), (UNIT, 2.5)),
    "gennorm": ((X, 1.7), None), "vonmises": ((X, 2.), None), "wrapcauchy": ((POS, 0.4), None),
    "truncnorm": ((X, -1.0, 2.0, 0.1, 1.1), None), "gamma": ((POS, 2.5, 0., 1.3), None),
    "chi2": ((POS, 3.0), None), "beta": ((UNIT, 2., 3.5), None),
    "bernoulli": ((K % 2, 0.3), (UNIT, 0.3)), "binom": ((K, 8., 0.4), None),
    "betabinom": ((K, 8., 2., 3.), None), "geom": ((K + 1, 0.3), None),
    "nbinom": ((K, 3., 0.4), None), "poisson": ((K, 2.5), None),
}
QUANTILE_FNS = ("ppf", "isf")


def functions(module):
    return [n for n in dir(module) if not n.startswith("_") and n != "entropy"]


def _all_functions(stats, dist, dtype=F32):
    """Every function of a distribution on its test arguments (arrays cast to `dtype`),
    as a dict."""
    args, quantile_args = ([np.asarray(a, dtype) if isinstance(a, np.ndarray) else a
                            for a in group] if group else None for group in ARGS[dist])
    module = getattr(stats, dist)
    return lambda: {fn: getattr(module, fn)(*(quantile_args if fn in QUANTILE_FNS else args))
                    for fn in functions(getattr(jst, dist))}


@pytest.mark.parametrize("dist", sorted(ARGS))
def test_every_function_matches_jax(dist):
    assert functions(getattr(fst, dist)) == functions(getattr(jst, dist))
    want = _all_functions(jst, dist)()
    assert_close(fl.jit(_all_functions(fst, dist))(), want, 2e-5, 1e-6, f"{dist} jit")
    first = functions(getattr(jst, dist))[0]
    assert_close(_all_functions(fst, dist)()[first], want[first], 2e-5, 1e-6, f"{dist} eager")




@pytest.mark.parametrize("dist", sorted(ARGS))
def test_float64_values_against_scipy(dist):
    fl.config.update("jax_enable_x64", True)
    try:
        args, quantile_args = ARGS[dist]
        ref = getattr(sst, dist)
        got = fl.jit(_all_functions(fst, dist, np.float64))()
        for fn, value in got.items():
            assert np.asarray(value).dtype == np.float64, (dist, fn)
            call_args = quantile_args if fn in QUANTILE_FNS else args
            expected = getattr(ref, fn)(*[np.asarray(a, np.float64) for a in call_args])
            # betaln for b >= 8 is cdflib's algdiv series (as JAX's): ~1e-7 relative
            rtol = 2e-6 if dist == "betabinom" else 1e-8
            np.testing.assert_allclose(value, expected, rtol=rtol, atol=1e-12,
                                       err_msg=f"{dist}.{fn}")
    finally:
        fl.config.update("jax_enable_x64", False)


def _logdensity(dist, fn="logpdf", **kw):
    return Rec(f"{dist}.{fn}", getattr(getattr(fst, dist), fn), getattr(getattr(jst, dist), fn),
               [np.asarray(a, F32) for a in ARGS[dist][0]], grad_argnums=kw.pop("grad", (0, 1)), rtol=2e-5, atol=1e-6,
               grad_rtol=2e-3, **kw)


COV = np.asarray([[2., .3, .1], [.3, 1., .2], [.1, .2, .5]], F32)
GRAD_RECS = [
    _logdensity("norm", grad=(0, 1, 2)), _logdensity("t", grad=(0, 1, 3)),
    _logdensity("gamma", grad=(0, 1, 3)), _logdensity("beta", grad=(0, 1, 2)),
    _logdensity("truncnorm", grad=(0, 1, 2, 3)), _logdensity("vonmises"),
    _logdensity("logistic", grad=(0, 2)), _logdensity("gennorm"),
    _logdensity("poisson", "logpmf", grad=(1,)), _logdensity("binom", "logpmf", grad=(2,)),
    _logdensity("norm", "logcdf", grad=(0, 1)), _logdensity("gamma", "cdf", grad=(0,)),
    Rec("multivariate_normal.logpdf", fst.multivariate_normal.logpdf,
        jst.multivariate_normal.logpdf, [((4, 3), F32), ((3,), F32), COV],
        grad_argnums=(0, 1, 2), grad_rtol=2e-3),
    Rec("dirichlet.logpdf", fst.dirichlet.logpdf, jst.dirichlet.logpdf,
        [np.asarray([[.2, .1], [.3, .6], [.5, .3]], F32), np.asarray([.8, 1.2, 2.], F32)],
        grad_argnums=(0, 1)),
]


@pytest.mark.parametrize("r", GRAD_RECS, ids=str)
def test_gradients_match_jax(r):
    check_jvp_vjp(r)


@pytest.mark.parametrize("r", [GRAD_RECS[i] for i in (0, 2, 4, 8, 12)], ids=str)
def test_vmap_matches_jax(r):
    check_vmap(r)


def test_logpdf_gradient_against_finite_differences():
    def f(mu, sigma):
        return fst.norm.logpdf(X, mu, sigma).sum() + fst.gamma.logpdf(POS, sigma).sum()
    grad = fl.grad(f, argnums=(0, 1))(np.float32(0.3), np.float32(1.7))
    eps = 1e-3
    f64 = lambda mu, s: (sst.norm.logpdf(X.astype(np.float64), mu, s).sum()  # noqa: E731
                         + sst.gamma.logpdf(POS.astype(np.float64), s).sum())
    numeric = ((f64(0.3 + eps, 1.7) - f64(0.3 - eps, 1.7)) / (2 * eps),
               (f64(0.3, 1.7 + eps) - f64(0.3, 1.7 - eps)) / (2 * eps))
    np.testing.assert_allclose(grad, numeric, rtol=1e-3)


def test_poisson_entropy_and_multinomial():
    mu = np.asarray([0., 0.5, 5., 40., 300.], F32)
    assert_close(fst.poisson.entropy(mu), jst.poisson.entropy(mu), 1e-5, 1e-6, "entropy")
    np.testing.assert_allclose(fst.poisson.entropy(mu[1:]), sst.poisson(mu[1:]).entropy(),
                               rtol=1e-4)
    p = np.asarray([.2, .3, .5], F32)
    x = np.asarray([2, 3, 5])
    assert_close(fst.multinomial.pmf(x, 10, p), jst.multinomial.pmf(x, 10, p), 1e-5, 1e-7, "pmf")
    with pytest.raises(ValueError, match="integer type"):
        fst.multinomial.logpmf(x.astype(F32), 10, p)


def test_summaries_match_jax():
    m = np.asarray([[1, 2, 2, 5], [3, 3, 1, 5], [1, 2, 1, 0]], F32)
    for axis in (0, 1, None):
        assert_close(tuple(fst.mode(m, axis=axis)), tuple(jst.mode(m, axis=axis)), 0, 0,
                     f"mode {axis}")
    assert_close(tuple(fst.mode(m, keepdims=True)), tuple(jst.mode(m, keepdims=True)), 0, 0,
                 "mode keepdims")
    ties = np.asarray([3., 1., 4., 1., 5., 9., 2., 6., 5.], F32)
    for method in ("average", "min", "max", "dense", "ordinal"):
        assert_close(fst.rankdata(ties, method), jst.rankdata(ties, method), 0, 0, method)
        np.testing.assert_array_equal(fst.rankdata(ties, method), sst.rankdata(ties, method))
    assert_close(fst.rankdata(m, axis=1), jst.rankdata(m, axis=1), 0, 0, "rank axis")
    assert np.isnan(np.asarray(fst.rankdata(np.asarray([1., np.nan])))).all()
    assert_close(fst.sem(m), jst.sem(m), 1e-6, 1e-7, "sem")
    assert_close(fst.sem(m, axis=None, ddof=0), jst.sem(m, axis=None, ddof=0), 1e-6, 1e-7,
                 "sem all")
    assert_close(fl.jit(fst.rankdata)(ties), sst.rankdata(ties).astype(F32), 0, 0, "rank jit")


def test_gaussian_kde_matches_jax_and_scipy():
    data = _rng.randn(2, 30).astype(F32)
    points = _rng.randn(2, 5).astype(F32)
    ours, ref = fst.gaussian_kde(data), jst.gaussian_kde(data)
    assert_close(ours(points), ref(points), 1e-5, 1e-7, "evaluate")
    assert_close(ours.logpdf(points), ref.logpdf(points), 1e-5, 1e-6, "logpdf")
    np.testing.assert_allclose(ours(points), sst.gaussian_kde(data)(points), rtol=1e-4)
    mean, cov = np.asarray([.1, -.2], F32), COV[:2, :2]
    assert_close(ours.integrate_gaussian(mean, cov), ref.integrate_gaussian(mean, cov), 1e-5,
                 1e-7, "integrate_gaussian")
    other = (fst.gaussian_kde(data[:, :10]), jst.gaussian_kde(data[:, :10]))
    assert_close(ours.integrate_kde(other[0]), ref.integrate_kde(other[1]), 1e-5, 1e-7, "kde")
    weights = np.arange(1., 31.)
    one_d = fst.gaussian_kde(data[0], bw_method="silverman", weights=weights)
    one_d_ref = jst.gaussian_kde(data[0], bw_method="silverman", weights=weights)
    assert_close(one_d.integrate_box_1d(-0.5, 1.), one_d_ref.integrate_box_1d(-0.5, 1.), 1e-5,
                 1e-7, "box")
    assert_close(one_d.resample(fl.random.key(0), (4,)),
                 one_d_ref.resample(jax.random.key(0), (4,)), 1e-5, 1e-6, "resample")
    # a pytree: it crosses jit, and the density is differentiable in the points
    assert_close(fl.jit(lambda k, x: k.logpdf(x))(ours, points), ref.logpdf(points), 1e-5,
                 1e-6, "jit")
    grad = fl.grad(lambda x: ours.logpdf(x).sum())(points)
    assert_close(grad, jax.grad(lambda x: ref.logpdf(x).sum())(points), 1e-4, 1e-5, "grad")


def test_stats_namespace_is_modules():
    assert isinstance(fst.norm, types.ModuleType)
    from functorch_lite.scipy.stats import norm
    assert norm.logpdf is fst.norm.logpdf
