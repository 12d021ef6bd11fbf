"""functorch_lite.scipy.special against jax.scipy.special (values eagerly and under jit,
jvp/vjp, vmap) and against SciPy (values in float64), on inputs that reach every branch
of the piecewise approximations."""
import numpy as np
import pytest
import jax
import jax.scipy.special as jsp
import scipy.special as sp

import functorch_lite as fl
import functorch_lite.scipy.special as fsp
from harness import Rec, check_jvp_vjp, check_values, check_vmap

F32 = np.float32
_rng = np.random.RandomState(3)
POS = np.asarray(_rng.rand(8) * 4 + 0.1, F32)
POS2 = np.asarray(_rng.rand(8) * 3 + 0.2, F32)
UNIT = np.asarray(_rng.rand(8) * 0.9 + 0.05, F32)
NORMAL = np.asarray(_rng.randn(8), F32)
WIDE = np.asarray([-30., -7., -2., -0.3, 0.4, 3., 9., 40.], F32)
EXPI_X = np.asarray([-40., -3., -0.5, 0.5, 3., 7., 20., 100.], F32)
SPENCE_X = np.asarray([0., 0.2, 0.7, 1., 1.3, 1.8, 3., 10.], F32)
SMALL_INTS = np.arange(8, dtype=np.int32) % 4
HYP2F1_X = np.asarray([-0.6, -0.2, 0.1, 0.5, 0.85, 0.92, 0.96, 0.99], F32)


def rec(name, args, grad=(), ref=None, ours=None, **kw):
    kw.setdefault("rtol", 2e-5)
    kw.setdefault("atol", 1e-6)
    kw.setdefault("grad_rtol", 2e-3)
    base = name.split("/")[0]
    return Rec(name, ours or getattr(fsp, base), ref or getattr(jsp, base), args,
               grad_argnums=grad, **kw)


RECS = [
    rec("gammaln", [NORMAL], grad=(0,)), rec("gammasgn", [WIDE / 3]),
    rec("gamma", [NORMAL], grad=(0,), rtol=1e-4), rec("loggamma", [NORMAL]),
    rec("betaln", [POS, POS2 * 5], grad=(0, 1), rtol=1e-4),
    rec("beta", [POS, POS2], grad=(0, 1), rtol=1e-4),
    rec("betainc", [POS, POS2, UNIT], grad=(2,), rtol=1e-4),
    rec("factorial", [np.asarray([-1, 0, 3, 5.5, 10, 2, 1, 4], F32)], rtol=1e-4),
    rec("comb", [POS * 3, POS2], grad=(0, 1), rtol=1e-4),
    rec("poch", [POS, POS2], grad=(0, 1), rtol=1e-4), rec("digamma", [POS], grad=(0,)),
    rec("polygamma", [SMALL_INTS, POS], grad=(1,), rtol=1e-4, atol=1e-5, grad_rtol=1e-2),
    rec("gammainc", [POS, POS2], grad=(0, 1)), rec("gammaincc", [POS, POS2], grad=(0, 1)),
    rec("zeta", [POS + 1.1, POS2], grad=(0, 1), rtol=1e-4, grad_rtol=1e-2),
    rec("multigammaln", [POS + 2, 3], grad=(0,), rtol=1e-5),
    rec("i0", [NORMAL * 3], grad=(0,)), rec("i0e", [NORMAL * 3], grad=(0,)),
    rec("i1", [NORMAL * 3], grad=(0,)), rec("i1e", [NORMAL * 3], grad=(0,)),
    rec("erf", [NORMAL], grad=(0,)), rec("erfc", [NORMAL], grad=(0,)),
    rec("erfinv", [UNIT * 2 - 1], grad=(0,)),
    rec("ndtr", [WIDE], grad=(0,)), rec("ndtri", [UNIT], grad=(0,), rtol=1e-4),
    rec("log_ndtr", [WIDE], grad=(0,), rtol=1e-4),
    rec("log_ndtr/order5", [WIDE], ours=lambda x: fsp.log_ndtr(x, 5),
        ref=lambda x: jsp.log_ndtr(x, 5), rtol=1e-4),
    rec("erfcx", [WIDE], grad=(0,), rtol=1e-4), rec("dawsn", [WIDE * 0.3], grad=(0,)),
    rec("logit", [UNIT], grad=(0,)), rec("expit", [NORMAL], grad=(0,)),
    rec("xlogy", [np.asarray([0, 1, 2, 0, 3, .5, 1, 2], F32), POS], grad=(0, 1)),
    rec("xlog1py", [np.asarray([0, 1, 2, 0, 3, .5, 1, 2], F32), UNIT], grad=(0, 1)),
    rec("entr", [np.asarray([-1, 0, .5, 1, 2, 3, .1, 7], F32)]),
    rec("rel_entr", [POS, POS2], grad=(0, 1)), rec("kl_div", [POS, POS2], grad=(0, 1)),
    rec("boxcox", [POS, np.asarray([0, 1, .5, -1, 2, 0, .3, -.2], F32)], grad=(0, 1)),
    rec("boxcox1p", [POS, np.asarray([0, 1, .5, -1, 2, 0, .3, -.2], F32)], grad=(0, 1)),
    rec("softmax", [NORMAL], grad=(0,)), rec("log_softmax", [NORMAL], grad=(0,)),
    rec("logsumexp", [NORMAL], grad=(0,)),
    rec("expi", [EXPI_X], grad=(0,), rtol=1e-4), rec("exp1", [POS], grad=(0,), rtol=1e-4),
    rec("expn", [SMALL_INTS, POS * 2], grad=(1,), rtol=1e-4),
    rec("sici", [WIDE], grad=(0,), rtol=1e-4), rec("spence", [SPENCE_X], rtol=1e-4),
    rec("owens_t", [NORMAL, POS2 - 1.5], grad=(0, 1), rtol=1e-4),
    rec("fresnel", [WIDE], grad=(0,), rtol=1e-4),
    rec("hyp1f1", [POS, POS2, NORMAL * 3], grad=(0, 1, 2), rtol=1e-4, grad_rtol=5e-3),
    # c - a - b = 1: the series for x <= 0.9, the logarithmic expansion near 1
    rec("hyp2f1", [POS, POS2, POS + POS2 + 1, HYP2F1_X], grad=(3,), rtol=1e-3, atol=1e-5,
        grad_rtol=5e-3),
    rec("bessel_jn", [POS * 3 + 2], ours=lambda z: fsp.bessel_jn(z, v=3),
        ref=lambda z: jsp.bessel_jn(z, v=3), atol=2e-6, rtol=1e-4),
]


@pytest.mark.parametrize("r", RECS, ids=str)
def test_values(r):
    check_values(r)


@pytest.mark.parametrize("r", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(r):
    check_jvp_vjp(r)


VMAP_RECS = [r for r in RECS if r.name in (
    "gammaln", "betainc", "zeta", "log_ndtr", "xlogy", "expn", "sici", "hyp1f1", "poch",
    "softmax", "multigammaln")]


@pytest.mark.parametrize("r", VMAP_RECS, ids=str)
def test_vmap(r):
    check_vmap(r)


SCIPY = [  # our float64 results against SciPy's (x64 on for this test)
    ("gammaln", sp.gammaln, (POS,)), ("betainc", sp.betainc, (POS, POS2, UNIT)),
    ("gammaincc", sp.gammaincc, (POS, POS2)), ("ndtri", sp.ndtri, (UNIT,)),
    ("log_ndtr", sp.log_ndtr, (WIDE,)), ("erfcx", sp.erfcx, (WIDE,)),
    ("dawsn", sp.dawsn, (WIDE,)), ("expi", sp.expi, (EXPI_X,)),
    ("expn", sp.expn, (SMALL_INTS, POS * 2)), ("spence", sp.spence, (SPENCE_X,)),
    ("owens_t", sp.owens_t, (NORMAL, POS2 - 1.5)), ("hyp1f1", sp.hyp1f1, (POS, POS2, NORMAL)),
    ("zeta", sp.zeta, (POS + 1.1, POS2)), ("i1", sp.i1, (NORMAL * 3,)),
    ("polygamma", sp.polygamma, (SMALL_INTS, POS)),
]


def test_float64_values_against_scipy():
    fl.config.update("jax_enable_x64", True)
    try:
        for name, ref, args in SCIPY:
            args64 = [a.astype(np.float64) if a.dtype == F32 else a for a in args]
            got = getattr(fsp, name)(*args64)
            assert np.asarray(got).dtype == np.float64, name
            np.testing.assert_allclose(got, ref(*args64), rtol=1e-9, atol=1e-12, err_msg=name)
        s, c = fsp.fresnel(WIDE.astype(np.float64))
        ref_s, ref_c = sp.fresnel(WIDE.astype(np.float64))
        np.testing.assert_allclose(s, ref_s, atol=1e-12)
        np.testing.assert_allclose(c, ref_c, atol=1e-12)
    finally:
        fl.config.update("jax_enable_x64", False)


def test_gradient_against_finite_differences():
    for f, x in ((fsp.log_ndtr, WIDE), (fsp.erfcx, WIDE[1:]), (fsp.expi, EXPI_X[1:-1])):
        eps = 1e-3
        x64 = x.astype(np.float64)
        numeric = (np.asarray(f(np.float32(1) * (x64 + eps)), np.float64)
                   - np.asarray(f(np.float32(1) * (x64 - eps)), np.float64)) / (2 * eps)
        grad = fl.vmap(fl.grad(f))(x)
        np.testing.assert_allclose(grad, numeric, rtol=2e-2, atol=1e-3)


def test_errors():
    with pytest.raises(ValueError, match="integer type"):
        fsp.polygamma(1.0, POS)
    with pytest.raises(ValueError, match="complex"):
        fsp.gammaln(np.ones(2, np.complex64))
    with pytest.raises(NotImplementedError, match="Riemann"):
        fsp.zeta(POS)
    with pytest.raises(TypeError, match="float32 or float64"):
        fsp.ndtr(np.ones(2, np.int32))
    with pytest.raises(NotImplementedError, match="exact=True"):
        fsp.factorial(3, exact=True)
