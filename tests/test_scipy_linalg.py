"""scipy.linalg (and the lax.linalg primitives under it: schur, hessenberg,
householder_product, tridiagonal_solve) against jax.scipy.linalg / jax.lax.linalg
(values eager and jit, jvp/vjp, vmap vs jax.vmap), SciPy, and finite differences."""
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

import functorch_lite as fl
import functorch_lite.numpy as fnp
import functorch_lite.scipy.linalg as fsl
from functorch_lite.lax import linalg as flax_linalg
from harness import Rec, assert_close, check_jvp_vjp, check_values, check_vmap, numerical_jvp

F32 = np.float32


def spd(np_mod):
    def make(x):
        n = x.shape[-1]
        return np_mod.matmul(x, np_mod.swapaxes(x, -1, -2)) + n * np_mod.eye(n, dtype=x.dtype)
    return make


def lower_tri(np_mod):
    return lambda x: np_mod.tril(x) + 4 * np_mod.eye(x.shape[-1], dtype=x.dtype)


def upper_tri(np_mod):
    return lambda x: np_mod.triu(x) + 4 * np_mod.eye(x.shape[-1], dtype=x.dtype)


def shifted(np_mod):  # well-conditioned general matrices
    return lambda x: x + 4 * np_mod.eye(x.shape[-1], dtype=x.dtype)


def reflectors(hessenberg_result):
    a, taus = hessenberg_result
    return a[..., 1:, :-1], taus


def rec(name, ours, ref, shapes, grad=True, rtol=1e-4, atol=1e-4, grad_rtol=2e-3,
        pre=None, batch=True):
    """A record; `pre` (spd, lower_tri, upper_tri, shifted) conditions the first input,
    written once with our numpy and once with jax.numpy."""
    ours_fn, ref_fn = ours, ref
    if pre is not None:
        ours_fn = lambda *a: ours(pre(fnp)(a[0]), *a[1:])
        ref_fn = lambda *a: ref(pre(jnp)(a[0]), *a[1:])
    return Rec(name, ours_fn, ref_fn, [(s, F32) for s in shapes], rtol=rtol, atol=atol,
               grad_argnums=tuple(range(len(shapes))) if grad else (), grad_rtol=grad_rtol,
               batch=batch)


def same(name, *args, **kw):
    """A record comparing fsl.name with jsl.name (positional args are shapes)."""
    return rec(name, getattr(fsl, name), getattr(jsl, name), list(args), **kw)


def call(name, shapes, **fixed):
    """fsl.name / jsl.name with fixed keyword arguments."""
    suffix = "_".join(f"{k}_{v}" for k, v in fixed.items())
    return lambda **kw: rec(f"{name}_{suffix}" if suffix else name,
                            lambda *a: getattr(fsl, name)(*a, **fixed),
                            lambda *a: getattr(jsl, name)(*a, **fixed), shapes, **kw)


RECS = [
    call("cholesky", [(4, 4)])(pre=spd),
    call("cholesky", [(2, 4, 4)], lower=True)(pre=spd, grad=False),
    rec("cho_solve", lambda a, b: fsl.cho_solve(fsl.cho_factor(a), b),
        lambda a, b: jsl.cho_solve(jsl.cho_factor(a), b), [(4, 4), (4, 2)], pre=spd),
    rec("cho_solve_lower_vector", lambda a, b: fsl.cho_solve(fsl.cho_factor(a, True), b),
        lambda a, b: jsl.cho_solve(jsl.cho_factor(a, True), b), [(4, 4), (4,)], pre=spd),
    same("lu", (4, 4), pre=shifted, grad=False),
    rec("lu_lu", lambda a: fsl.lu(a)[1:], lambda a: jsl.lu(a)[1:], [(5, 3)], grad=False),
    call("lu", [(3, 5)], permute_l=True)(grad=False),
    rec("lu_factor", lambda a: fsl.lu_factor(a)[0], lambda a: jsl.lu_factor(a)[0],
        [(4, 4)], pre=shifted),
    *[rec(f"lu_solve_trans{t}", lambda a, b, t=t: fsl.lu_solve(fsl.lu_factor(a), b, t),
          lambda a, b, t=t: jsl.lu_solve(jsl.lu_factor(a), b, t), [(4, 4), (4, 3)],
          pre=shifted) for t in (0, 1, 2)],
    rec("lu_solve_vector", lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b),
        lambda a, b: jsl.lu_solve(jsl.lu_factor(a), b), [(4, 4), (4,)], pre=shifted),
    call("qr", [(5, 3)], mode="economic")(),
    call("qr", [(4, 4)])(),
    call("qr", [(3, 5)], mode="r")(grad=False),
    call("qr_multiply", [(5, 3), (2, 5)])(grad=False),
    call("qr_multiply", [(5, 3), (3, 2)], mode="left")(grad=False),
    call("qr_multiply", [(4, 6), (4,)], mode="left", conjugate=True)(grad=False),
    rec("svd_values", lambda a: fsl.svd(a, compute_uv=False),
        lambda a: jsl.svd(a, compute_uv=False), [(5, 3)]),
    call("eigh", [(4, 4)], eigvals_only=True)(pre=spd),
    call("schur", [(4, 4)])(grad=False),
    call("schur", [(4, 4)], output="complex")(grad=False),
    call("hessenberg", [(5, 5)], calc_q=True)(grad=False),
    same("det", (4, 4)),
    same("inv", (4, 4), pre=shifted),
    same("solve", (4, 4), (4, 2), pre=shifted),
    call("solve", [(4, 4), (4, 2)], assume_a="pos")(pre=spd),
    call("solve", [(4, 4), (4,)], assume_a="pos", lower=True)(pre=spd),
    call("solve_triangular", [(4, 4), (4, 2)], lower=True)(pre=lower_tri),
    call("solve_triangular", [(4, 4), (4,)], trans=1)(pre=upper_tri),
    call("solve_triangular", [(4, 4), (4, 3)], trans="C", unit_diagonal=True)(
        pre=upper_tri),
    same("expm", (4, 4), grad_rtol=5e-3),
    call("expm", [(4, 4)], upper_triangular=True)(pre=upper_tri, rtol=1e-3, grad=False),
    rec("expm_frechet", lambda a, e: fsl.expm_frechet(a, e, compute_expm=False),
        lambda a, e: jsl.expm_frechet(a, e, compute_expm=False), [(3, 3), (3, 3)],
        grad=False, batch=False),
    same("sqrtm", (4, 4), pre=spd, grad=False),
    same("sqrtm", (3, 3), grad=False),
    rec("rsf2csf", lambda a: fsl.rsf2csf(*fsl.schur(a)),
        lambda a: jsl.rsf2csf(*jsl.schur(a)), [(5, 5)], grad=False),
    rec("funm_sin", lambda a: fsl.funm(a, fnp.sin), lambda a: jsl.funm(a, jnp.sin),
        [(4, 4)], grad=False, batch=False, rtol=1e-3, atol=1e-3),
    same("solve_sylvester", (3, 3), (2, 2), (3, 2), grad=False),
    same("polar", (5, 3), grad=False),
    call("polar", [(3, 5)], side="left")(grad=False, batch=False),
    call("polar", [(4, 4)], method="svd")(),
    rec("eigh_tridiagonal", fsl.eigh_tridiagonal, jsl.eigh_tridiagonal,
        [(6,), (5,)], grad=False),
    rec("eigh_tridiagonal_select", lambda d, e: fsl.eigh_tridiagonal(
        d, e, eigvals_only=True, select="i", select_range=(1, 3)),
        lambda d, e: jsl.eigh_tridiagonal(d, e, eigvals_only=True, select="i",
                                          select_range=(1, 3)), [(6,), (5,)], grad=False,
        batch=False),
    same("block_diag", (2, 3), (2,), (1, 1)),
    same("toeplitz", (3,), (4,)),
    same("toeplitz", (2, 3), grad=False),
    same("hankel", (3,), (4,)),
    same("circulant", (4,)),
    same("leslie", (4,), (3,)),
    same("companion", (5,)),
    same("fiedler", (4,)),
    same("fiedler_companion", (6,), grad=False),
    rec("convolution_matrix_same", lambda a: fsl.convolution_matrix(a, 5, "same"),
        lambda a: jsl.convolution_matrix(a, 5, "same"), [(3,)]),
    rec("lax_schur", lambda a: flax_linalg.schur(a), lambda a: jax.lax.linalg.schur(a),
        [(4, 4)], grad=False),
    rec("lax_hessenberg", flax_linalg.hessenberg, jax.lax.linalg.hessenberg, [(4, 4)],
        grad=False),
    rec("lax_householder_product", lambda a: flax_linalg.householder_product(
        *reflectors(flax_linalg.hessenberg(a))), lambda a: jax.lax.linalg.householder_product(
        *reflectors(jax.lax.linalg.hessenberg(a))), [(5, 5)], grad=False),
    rec("lax_tridiagonal_solve", flax_linalg.tridiagonal_solve,
        jax.lax.linalg.tridiagonal_solve, [(5,), (5,), (5,), (5, 2)],
        pre=lambda np_mod: lambda dl: dl * 0.2),
    rec("lax_tridiagonal_solve_perturbed", lambda *a: flax_linalg.tridiagonal_solve(
        *a, perturb_singular=True), lambda *a: jax.lax.linalg.tridiagonal_solve(
        *a, perturb_singular=True), [(5,), (5,), (5,), (5, 2)], grad=False),
]


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.batch], ids=str)
def test_vmap(rec):
    check_vmap(rec)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_constant_matrices(n):
    """Matrices given by their size equal SciPy's (ours are exact) and JAX's."""
    for name, args in [("hilbert", (n,)), ("invhilbert", (n,)), ("pascal", (n,)),
                       ("pascal", (n, "lower")), ("invpascal", (n, "upper")),
                       ("helmert", (n,)), ("helmert", (n, True)), ("dft", (n,))]:
        got, want = getattr(fsl, name)(*args), getattr(jsl, name)(*args)
        assert np.asarray(got).dtype == np.asarray(want).dtype, name
        np.testing.assert_allclose(np.asarray(got), getattr(sla, name)(*args),
                                   rtol=1e-5, atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(fsl.hadamard(2 ** n), jsl.hadamard(2 ** n))


def test_matrix_functions_match_scipy():
    rng = np.random.RandomState(3)
    a = rng.randn(5, 5)
    s = a @ a.T + np.eye(5)
    a32 = a.astype(F32)
    np.testing.assert_allclose(fsl.expm(a32), sla.expm(a), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fsl.sqrtm(s.astype(F32)), sla.sqrtm(s), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(fsl.funm(a32, fnp.cos), sla.funm(a, np.cos), rtol=1e-3,
                               atol=1e-3)
    e = rng.randn(5, 5)
    np.testing.assert_allclose(fsl.expm_frechet(a32, e.astype(F32))[1],
                               sla.expm_frechet(a, e)[1], rtol=1e-3, atol=1e-3)
    b, c = rng.randn(3, 3) + 3 * np.eye(3), rng.randn(5, 3)
    np.testing.assert_allclose(fsl.solve_sylvester(a32, b.astype(F32), c.astype(F32)),
                               sla.solve_sylvester(a, b, c), rtol=1e-3, atol=1e-3)
    u, p = fsl.polar(a32)
    u_ref, p_ref = sla.polar(a)
    np.testing.assert_allclose(u, u_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(p, p_ref, rtol=1e-4, atol=1e-4)
    w, v = fsl.eigh_tridiagonal(np.diag(s).astype(F32), np.diag(s, 1).astype(F32))
    w_ref, v_ref = sla.eigh_tridiagonal(np.diag(s), np.diag(s, 1))
    np.testing.assert_allclose(w, w_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.abs(v), np.abs(v_ref), rtol=1e-3, atol=1e-3)


def test_expm_big_norm_needs_squarings_and_64_bit_matches_scipy():
    a = np.random.RandomState(4).randn(4, 4) * 3
    with fl.experimental.enable_x64():
        got = fsl.expm(a)
        assert np.asarray(got).dtype == np.float64
        np.testing.assert_allclose(got, sla.expm(a), rtol=1e-10)


@pytest.mark.parametrize("name, fn", [
    ("expm", lambda a: fsl.expm(a)),
    ("solve_pos", lambda a: fsl.solve(a @ a.T + 4 * fnp.eye(4), a[:, 0], assume_a="pos")),
    ("polar_qdwh", lambda a: fsl.polar(a)[0]),
    ("lu_solve", lambda a: fsl.lu_solve(fsl.lu_factor(a + 4 * fnp.eye(4)), a[0])),
])
def test_forward_derivatives_match_finite_differences(name, fn):
    rng = np.random.RandomState(7)
    a, t = (0.5 * rng.randn(4, 4)).astype(F32), rng.randn(4, 4)
    _, tangent = fl.jvp(fn, (a,), (t.astype(F32),))
    f64 = lambda a: np.asarray(fl.jit(fn)(a.astype(F32)), np.float64)
    want = numerical_jvp(f64, (a,), (t,), eps=1e-2)
    np.testing.assert_allclose(tangent, want, rtol=3e-2, atol=3e-2)


def test_grad_through_expm_matches_jax_and_vmap_of_grad():
    a = (0.3 * np.random.RandomState(5).randn(2, 3, 3)).astype(F32)
    ours = fl.vmap(fl.grad(lambda x: fsl.expm(x)[0, 1]))(a)
    ref = jax.vmap(jax.grad(lambda x: jsl.expm(x)[0, 1]))(a)
    assert_close(ours, ref, 1e-4, 1e-5, "vmap(grad(expm))")


def test_errors_are_clear():
    with pytest.raises(ValueError, match="output"):
        fsl.schur(np.eye(3, dtype=F32), output="bad")
    with pytest.raises(NotImplementedError, match="geqp3"):
        fsl.qr(np.eye(3, dtype=F32), pivoting=True)
    with pytest.raises(ValueError, match="square"):
        fsl.expm(np.ones((2, 3), F32))
    with pytest.raises(NotImplementedError, match="no JVP rule for 'schur'"):
        fl.grad(lambda a: fsl.schur(a)[0].sum())(np.eye(3, dtype=F32))
    with pytest.raises(ValueError, match="trans"):
        fsl.solve_triangular(np.eye(2, dtype=F32), np.ones(2, F32), trans=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fsl.solve_triangular(np.stack([np.eye(2, dtype=F32)] * 3), np.ones((3, 2), F32))
    assert any(issubclass(w.category, FutureWarning) for w in caught)
