"""Special-function primitives (lax/_special.py) against jax.lax: values eagerly and
under jit (edge cases included: x = 0, x = inf, a = 0, nan, out of domain), float16
through float32, jvp/vjp where JAX has rules, vmap, and the errors for derivatives
neither library defines."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
import scipy.special as sp

import functorch_lite as fl
import functorch_lite.lax as flax
from harness import Rec, check_jvp_vjp, check_values, check_vmap

F32, F16 = np.float32, np.float16
S = (3, 4)
_rng = np.random.RandomState(11)
POS_A = np.asarray(_rng.rand(*S) * 4 + 0.2, F32)
POS_X = np.asarray(_rng.rand(*S) * 6 + 0.05, F32)   # both sides of x = a (series and fraction)
UNIT = np.asarray(_rng.rand(*S) * 0.9 + 0.05, F32)
EDGE_A = np.asarray([[0.0, 1.0, 2.0, -1.0], [np.nan, 3.0, 0.5, 1e-3],
                     [2.0, 0.0, 40.0, 5.0]], F32)
EDGE_X = np.asarray([[0.0, 0.0, np.inf, 1.0], [1.0, np.nan, -1.0, 2.0],
                     [1e-8, 3.0, 38.0, 1e4]], F32)
EDGE_UNIT = np.asarray([[0.0, 1.0, 0.5, -0.1], [1.1, 0.3, np.nan, 0.999],
                        [1e-6, 0.5, 0.2, 0.7]], F32)


def rec(name, args, grad=(), ours=None, ref=None, **kw):
    kw.setdefault("rtol", 2e-5)
    kw.setdefault("atol", 1e-6)
    kw.setdefault("grad_rtol", 2e-3)
    return Rec(name, ours or getattr(flax, name.split("/")[0]),
               ref or getattr(jax.lax, name.split("/")[0]), args, grad_argnums=grad, **kw)


RECS = [
    rec("igamma", [POS_A, POS_X], grad=(0, 1)),
    rec("igammac", [POS_A, POS_X], grad=(0, 1)),
    rec("igamma_grad_a", [POS_A, POS_X], rtol=1e-4, atol=1e-5),
    rec("random_gamma_grad", [POS_A, POS_X], rtol=1e-4, atol=1e-5),
    rec("betainc", [POS_A, POS_A[::-1], UNIT], grad=(2,), rtol=1e-4, atol=1e-6),
    rec("zeta", [POS_A + 1.1, POS_X], grad=(1,), ref=jax.scipy.special.zeta, rtol=1e-4),
    rec("bessel_i0e", [(S, F32)], grad=(0,)),
    rec("bessel_i1e", [(S, F32)], grad=(0,)),
    rec("bessel_i0e/large", [np.asarray(POS_X * 5, F32)], grad=(0,)),
    rec("igamma/edges", [EDGE_A, EDGE_X], rtol=1e-4, atol=1e-6),
    rec("igammac/edges", [EDGE_A, EDGE_X], rtol=1e-4, atol=1e-6),
    rec("igamma_grad_a/edges", [EDGE_A, EDGE_X], rtol=1e-3, atol=1e-5),
    rec("random_gamma_grad/edges", [EDGE_A, EDGE_X], rtol=1e-3, atol=1e-5),
    rec("betainc/edges", [EDGE_A, np.abs(EDGE_A[::-1]), EDGE_UNIT], rtol=1e-4),
    rec("igamma/f16", [POS_A.astype(F16), POS_X.astype(F16)], rtol=2e-3, atol=2e-3),
    rec("bessel_i0e/f16", [POS_X.astype(F16)], rtol=2e-3, atol=2e-3),
    rec("igamma/scalars", [np.float32(2.5), np.float32(1.5)]),
]


@pytest.mark.parametrize("r", RECS, ids=str)
def test_values(r):
    check_values(r)


@pytest.mark.parametrize("r", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(r):
    check_jvp_vjp(r)


@pytest.mark.parametrize("r", [RECS[0], RECS[4], RECS[5], RECS[7]], ids=str)
def test_vmap(r):
    check_vmap(r)


def test_igamma_matches_scipy_in_float64_precision_terms():
    # float32 results against SciPy's double-precision reference
    np.testing.assert_allclose(flax.igamma(POS_A, POS_X), sp.gammainc(POS_A, POS_X),
                               rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(flax.betainc(POS_A, POS_A[::-1], UNIT),
                               sp.betainc(POS_A, POS_A[::-1], UNIT), rtol=2e-4, atol=1e-6)
    np.testing.assert_allclose(flax.bessel_i1e(POS_X), sp.i1e(POS_X), rtol=2e-5)


def test_igamma_derivative_in_a_against_finite_differences():
    eps = 1e-3
    a64, x64 = POS_A.astype(np.float64), POS_X.astype(np.float64)
    numeric = (sp.gammainc(a64 + eps, x64) - sp.gammainc(a64 - eps, x64)) / (2 * eps)
    np.testing.assert_allclose(flax.igamma_grad_a(POS_A, POS_X), numeric, rtol=2e-3,
                               atol=1e-5)


def test_second_derivative_through_igamma_in_x():
    f = lambda x: flax.igamma(np.float32(2.0), x)
    g = lambda x: jax.lax.igamma(np.float32(2.0), x)
    np.testing.assert_allclose(fl.grad(fl.grad(f))(np.float32(1.3)),
                               jax.grad(jax.grad(g))(np.float32(1.3)), rtol=1e-5)


@pytest.mark.parametrize("fn,arg,match", [
    (lambda a: flax.betainc(a, np.float32(2.0), np.float32(0.3)), 2.0, "betainc.*a"),
    (lambda x: flax.zeta(x, np.float32(2.0)), 3.0, "zeta.*x"),
    (lambda a: flax.igamma_grad_a(a, np.float32(2.0)), 2.0, "igamma_grad_a"),
    (lambda a: flax.random_gamma_grad(a, np.float32(2.0)), 2.0, "random_gamma_grad"),
])
def test_derivatives_jax_lacks_raise(fn, arg, match):
    with pytest.raises(NotImplementedError, match=match):
        fl.grad(fn)(np.float32(arg))


def test_integer_operands_are_rejected():
    with pytest.raises(TypeError, match="igamma requires real floating-point"):
        flax.igamma(np.ones(3, np.int32), np.ones(3, np.int32))
