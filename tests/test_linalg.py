"""numpy.linalg and lax.linalg against jax (values eager and jit, jvp/vjp, vmap vs
jax.vmap and vs a Python loop), NumPy, finite differences, reconstructions, the
lowering (LAPACK custom calls) and float64."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
import functorch_lite.lax as flax
import backend_expectations as backends
from harness import (Rec, assert_close, check_jvp_vjp, check_values, check_vmap, make_args,
                     numerical_jvp)

F32 = np.float32
fla, jla = fnp.linalg, jnp.linalg


def spd(np_mod):
    """x -> x x^T + n I (symmetric positive definite), written with `np_mod`."""
    def make(x):
        n = x.shape[-1]
        return np_mod.matmul(x, np_mod.swapaxes(x, -1, -2)) + n * np_mod.eye(n, dtype=x.dtype)
    return make


def rec(name, ours, ref, shapes, grad=True, rtol=1e-4, atol=1e-4, grad_rtol=2e-3,
        pre=None):
    """A record; `pre` (given as a name: 'spd') conditions the input first."""
    if pre == "spd":
        ours_fn = lambda *a: ours(spd(fnp)(a[0]), *a[1:])
        ref_fn = lambda *a: ref(spd(jnp)(a[0]), *a[1:])
    else:
        ours_fn, ref_fn = ours, ref
    return Rec(name, ours_fn, ref_fn, [(s, F32) for s in shapes], rtol=rtol, atol=atol,
               grad_argnums=tuple(range(len(shapes))) if grad else (), grad_rtol=grad_rtol)


def sq(x):   # sign-free function of eigen/singular vectors (their sign is arbitrary)
    return x * x


RECS = [
    rec("cholesky_3", fla.cholesky, jla.cholesky, [(3, 3)], pre="spd"),
    rec("cholesky_batch", fla.cholesky, jla.cholesky, [(2, 4, 4)], pre="spd"),
    rec("cholesky_upper", lambda a: fla.cholesky(a, upper=True),
        lambda a: jla.cholesky(a, upper=True), [(4, 4)], pre="spd", grad=False),
    rec("solve_vector", fla.solve, jla.solve, [(4, 4), (4,)]),
    rec("solve_matrix", fla.solve, jla.solve, [(5, 5), (5, 2)]),
    rec("solve_batch_broadcast", fla.solve, jla.solve, [(2, 4, 4), (4, 3)], grad=False),
    rec("inv", fla.inv, jla.inv, [(4, 4)]),
    rec("inv_batch", fla.inv, jla.inv, [(2, 4, 4)], grad=False),
    rec("det_2", fla.det, jla.det, [(2, 2)]),
    rec("det_3", fla.det, jla.det, [(2, 3, 3)], grad=False),
    rec("det_4", fla.det, jla.det, [(4, 4)]),
    rec("slogdet", lambda a: tuple(fla.slogdet(a)), lambda a: tuple(jla.slogdet(a)),
        [(2, 4, 4)]),
    rec("eigvalsh", fla.eigvalsh, jla.eigvalsh, [(4, 4)], pre="spd"),
    rec("eigh_vectors", lambda a: sq(fla.eigh(a)[1]), lambda a: sq(jla.eigh(a)[1]),
        [(2, 4, 4)], pre="spd"),
    rec("svdvals_tall", lambda a: fla.svd(a, compute_uv=False),
        lambda a: jla.svd(a, compute_uv=False), [(5, 3)]),
    rec("svd_reduced_wide", lambda a: [sq(x) for x in fla.svd(a, full_matrices=False)],
        lambda a: [sq(x) for x in jla.svd(a, full_matrices=False)], [(3, 5)]),
    rec("svd_tall_batch", lambda a: [sq(x) for x in fla.svd(a, full_matrices=False)],
        lambda a: [sq(x) for x in jla.svd(a, full_matrices=False)], [(2, 5, 3)]),
    rec("svd_square_full", lambda a: [sq(x) for x in fla.svd(a)],
        lambda a: [sq(x) for x in jla.svd(a, full_matrices=False)], [(4, 4)], grad=False),
    rec("svd_full_values", lambda a: [sq(x) for x in fla.svd(a)],
        lambda a: [sq(x) for x in jla.svd(a)], [(5, 3)], grad=False),
    rec("qr_reduced", lambda a: tuple(fla.qr(a)), lambda a: tuple(jla.qr(a)), [(5, 3)]),
    rec("qr_square_batch", lambda a: tuple(fla.qr(a)), lambda a: tuple(jla.qr(a)),
        [(2, 4, 4)]),
    rec("qr_complete_wide", lambda a: tuple(fla.qr(a, "complete")),
        lambda a: tuple(jla.qr(a, "complete")), [(3, 5)], grad=False),
    rec("qr_r", lambda a: fla.qr(a, "r"), lambda a: jla.qr(a, "r"), [(5, 3)], grad=False),
    rec("lstsq", lambda a, b: fla.lstsq(a, b)[0], lambda a, b: jla.lstsq(a, b)[0],
        [(5, 3), (5, 2)], grad=False),
    rec("pinv", fla.pinv, jla.pinv, [(5, 3)]),
    rec("matrix_power_3", lambda a: fla.matrix_power(a, 3),
        lambda a: jla.matrix_power(a, 3), [(2, 4, 4)]),
    rec("matrix_power_neg", lambda a: fla.matrix_power(a, -2),
        lambda a: jla.matrix_power(a, -2), [(4, 4)], pre="spd", grad=False),
    rec("multi_dot", lambda a, b, c: fla.multi_dot([a, b, c]),
        lambda a, b, c: jla.multi_dot([a, b, c]), [(3,), (3, 4), (4, 2)]),
    rec("tensorsolve", fla.tensorsolve, jla.tensorsolve, [(2, 2, 4), (2, 2)], grad=False),
    rec("tensorinv", lambda a: fla.tensorinv(a, 1), lambda a: jla.tensorinv(a, 1),
        [(4, 2, 2)], grad=False),
    rec("cond", fla.cond, jla.cond, [(4, 4)], grad=False),
    rec("lax_triangular_solve_left_lower",
        lambda a, b: flax.linalg.triangular_solve(a, b, left_side=True, lower=True),
        lambda a, b: jax.lax.linalg.triangular_solve(a, b, left_side=True, lower=True),
        [(4, 4), (4, 3)], pre="spd"),
    rec("lax_triangular_solve_right_upper_t",
        lambda a, b: flax.linalg.triangular_solve(a, b, lower=False, transpose_a=True,
                                                  unit_diagonal=True),
        lambda a, b: jax.lax.linalg.triangular_solve(a, b, lower=False, transpose_a=True,
                                                     unit_diagonal=True),
        [(2, 4, 4), (2, 3, 4)]),
    rec("lax_lu", lambda a: flax.linalg.lu(a)[0], lambda a: jax.lax.linalg.lu(a)[0],
        [(2, 5, 3)]),
    rec("lax_lu_wide", lambda a: flax.linalg.lu(a)[0], lambda a: jax.lax.linalg.lu(a)[0],
        [(3, 5)], grad=False),
]

NORM_ORDS_MATRIX = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]
NORM_ORDS_VECTOR = [None, 0, 1, 2, 3, 0.5, np.inf, -np.inf]
NORM_RECS = (
    [rec(f"norm_matrix_{o}", lambda a, o=o: fla.norm(a, o, axis=(1, 2)),
         lambda a, o=o: jla.norm(a, o, axis=(1, 2)), [(2, 4, 3)],
         grad=o not in (0,)) for o in NORM_ORDS_MATRIX]
    + [rec(f"norm_vector_{o}", lambda a, o=o: fla.norm(a, o, axis=-1),
           lambda a, o=o: jla.norm(a, o, axis=-1), [(3, 5)], grad=o not in (0,))
       for o in NORM_ORDS_VECTOR])


@pytest.mark.parametrize("rec", RECS + NORM_RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.name in (
    "cholesky_batch", "solve_matrix", "det_4", "svdvals_tall", "qr_reduced", "lax_lu")],
    ids=str)
def test_vmap_matches_loop(rec):
    args = make_args(rec)
    batch = [np.stack([make_args(rec, seed=s)[i] for s in range(3)]) for i in range(len(args))]
    got = fl.vmap(rec.ours)(*batch)
    loop = [rec.ours(*[b[k] for b in batch]) for k in range(3)]
    want = jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *loop)
    assert_close(got, want, 1e-5, 1e-5, f"{rec.name} vmap vs loop")


@pytest.mark.parametrize("name, fn", [
    ("solve", lambda a, b: fla.solve(a, b)),
    ("det", lambda a, b: fla.det(a) * b[0]),
    ("cholesky", lambda a, b: fla.cholesky(spd(fnp)(a)) @ b),
    ("eigvalsh", lambda a, b: fla.eigvalsh(spd(fnp)(a)) * b),
    ("svdvals", lambda a, b: fla.svd(a, compute_uv=False) * b),
    ("slogdet", lambda a, b: fla.slogdet(a)[1] * b[0]),
    ("inv", lambda a, b: fla.inv(a) @ b),
])
def test_gradients_match_finite_differences(name, fn):
    rng = np.random.RandomState(7)
    a = (rng.randn(4, 4) + 3 * np.eye(4)).astype(F32)
    b = rng.randn(4).astype(F32)
    ta, tb = rng.randn(4, 4), rng.randn(4)
    _, tangent = fl.jvp(fn, (a, b), (ta.astype(F32), tb.astype(F32)))
    f64 = lambda a, b: np.asarray(fl.jit(fn)(a.astype(F32), b.astype(F32)), np.float64)
    want = numerical_jvp(f64, (a, b), (ta, tb), eps=1e-2)
    np.testing.assert_allclose(np.asarray(tangent), want, rtol=2e-2, atol=2e-2)


def test_hessian_of_logdet_and_solve():
    a = (np.random.RandomState(3).randn(3, 3) + 3 * np.eye(3)).astype(F32)
    b = np.arange(3, dtype=F32)
    f_ours = lambda a: fla.slogdet(a)[1] + fnp.sum(fla.solve(a, b))
    f_ref = lambda a: jla.slogdet(a)[1] + jnp.sum(jla.solve(a, b))
    assert_close(fl.jit(fl.hessian(f_ours))(a), jax.hessian(f_ref)(a), 2e-3, 2e-3,
                 "hessian")
    assert_close(fl.jit(fl.grad(f_ours))(a), jax.grad(f_ref)(a), 1e-4, 1e-4, "jit(grad)")


def test_reconstructions_and_numpy():
    rng = np.random.RandomState(11)
    a = rng.randn(2, 5, 3).astype(F32)
    q, r = fla.qr(a)
    np.testing.assert_allclose(np.asarray(q @ r), a, atol=1e-5)
    np.testing.assert_allclose(np.asarray(fnp.swapaxes(q, -1, -2) @ q), np.broadcast_to(
        np.eye(3), (2, 3, 3)), atol=1e-5)
    u, s, vh = fla.svd(a, full_matrices=False)
    np.testing.assert_allclose(np.asarray((u * s[..., None, :]) @ vh), a, atol=1e-5)
    np.testing.assert_allclose(np.asarray(s), np.linalg.svd(a, compute_uv=False), rtol=1e-5)
    m = spd(np)(rng.randn(4, 4)).astype(F32)
    L = fla.cholesky(m)
    np.testing.assert_allclose(np.asarray(L @ L.T), m, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(L), np.linalg.cholesky(m), rtol=1e-4, atol=1e-5)
    w, v = fla.eigh(m)
    np.testing.assert_allclose(np.asarray((v * w) @ v.T), m, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.asarray(w), np.linalg.eigvalsh(m), rtol=1e-5)
    lu, pivots, perm = flax.linalg.lu(a[0])
    l = np.tril(np.asarray(lu), -1) + np.eye(5, 3)
    np.testing.assert_allclose(l @ np.triu(np.asarray(lu))[:3], a[0][np.asarray(perm)],
                               atol=1e-5)
    assert_close(perm, jax.lax.linalg.lu(a[0])[2], 0, 0, "permutation")
    assert_close(flax.linalg.lu_pivots_to_permutation(pivots, 5),
                 jax.lax.linalg.lu_pivots_to_permutation(pivots, 5), 0, 0, "pivots")
    np.testing.assert_allclose(np.asarray(fla.det(m)), np.linalg.det(m), rtol=1e-4)


def test_singular_and_indefinite_follow_jax():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]], F32)
    assert_close(fla.inv(singular), jla.inv(singular), 0, 0, "inv singular")
    ones = np.ones((4, 4), F32)
    assert_close(tuple(fla.slogdet(ones)), tuple(jla.slogdet(ones)), 0, 0, "slogdet")
    assert float(fla.det(ones)) == 0.0
    indefinite = -np.eye(3, dtype=F32)
    assert_close(fla.cholesky(indefinite), jla.cholesky(indefinite), 0, 0, "cholesky nan")
    assert int(fla.matrix_rank(singular)) == 1


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        fla.inv(np.ones((4, 3), F32))
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(4,\)"):
        fla.solve(np.eye(3, dtype=F32), np.ones(4, F32))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        fla.cholesky(np.ones((2, 5), F32))
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(2, 2\)"):
        flax.linalg.triangular_solve(np.eye(3, dtype=F32), np.ones((2, 2), F32),
                                     left_side=True)


def test_lowering_uses_the_platform_factorisation_kernels():
    """LAPACK on a CPU, cuSOLVER on an NVIDIA GPU (backend_expectations lists both; each
    platform's lowering is checked here, the one this machine runs is also executed by
    the value tests)."""
    a = np.eye(4, dtype=F32)
    routines = {"cholesky": fla.cholesky, "inv": fla.inv,
                "solve": lambda a: fla.solve(a, a[0]), "qr": lambda a: fla.qr(a)[0],
                "eigh": lambda a: fla.eigh(a)[1], "svd": lambda a: fla.svd(a)[0]}
    for platform in {"cpu", "cuda", backends.PLATFORM}:
        text = lambda f: fl.jit(f).trace(a).lower(lowering_platforms=(platform,)).as_text()
        for name, f in routines.items():
            assert backends.custom_call_targets(text(f)) == \
                backends.factorisation_targets(name, platform), (platform, name)
        t = text(fla.cholesky)
        assert "operand_layouts = [dense<[0, 1]> : tensor<2xindex>]" in t
        assert backends.CHOLESKY_CONFIG[platform] in t
    batched = fl.jit(fla.eigh).lower(np.ones((2, 3, 3), F32)).as_text()
    assert "dense<[1, 2, 0]> : tensor<3xindex>" in batched
    assert 'num_batch_dims = "1"' in batched


def test_float64_under_x64():
    fl.config.update("jax_enable_x64", True)
    try:
        rng = np.random.RandomState(5)
        a = rng.randn(4, 4)
        m = spd(np)(a)
        for ours, ref, x in [(fla.inv, jla.inv, a), (fla.cholesky, jla.cholesky, m),
                             (fla.eigvalsh, jla.eigvalsh, m), (fla.det, jla.det, a),
                             (lambda x: fla.svd(x, compute_uv=False),
                              lambda x: jla.svd(x, compute_uv=False), a)]:
            got = ours(x)
            assert np.asarray(got).dtype == np.float64
            with jax.enable_x64(True):  # the oracle in 64 bits too (JAX's own flag)
                want = np.asarray(ref(x))
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)
        assert backends.custom_call_targets(fl.jit(fla.inv).lower(a).as_text()) == \
            backends.factorisation_targets("inv", dtype=np.float64)
        g = fl.grad(lambda x: fla.slogdet(x)[1])(a)
        np.testing.assert_allclose(np.asarray(g), np.linalg.inv(a).T, rtol=1e-10)
    finally:
        fl.config.update("jax_enable_x64", False)


def test_array_api_spellings():
    rng = np.random.RandomState(2)
    x, y = rng.randn(2, 3, 3).astype(F32), rng.randn(2, 3, 3).astype(F32)
    for name, args, kw in [("diagonal", (x,), {"offset": 1}), ("trace", (x,), {}),
                           ("vecdot", (x, y), {"axis": 1}), ("cross", (x, y), {}),
                           ("outer", (x[0, 0], y[0, 1]), {}), ("matmul", (x, y), {}),
                           ("tensordot", (x, y[0]), {"axes": 1}),
                           ("matrix_transpose", (x,), {}), ("svdvals", (x,), {}),
                           ("vector_norm", (x,), {"ord": 3}),
                           ("matrix_norm", (x,), {"ord": "nuc"})]:
        assert_close(getattr(fla, name)(*args, **kw), getattr(jla, name)(*args, **kw),
                     1e-5, 1e-5, name)
