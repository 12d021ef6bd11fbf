"""experimental.sparse: BCOO from/to dense, products and sparsify against
jax.experimental.sparse; gradients with respect to the stored values; jit and vmap."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
from jax.experimental import sparse as jsparse

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite.experimental import sparse
from harness import assert_close

F32 = np.float32
M = np.array([[0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, -1.0]], F32)
V = np.arange(4, dtype=F32)
D = np.arange(8, dtype=F32).reshape(4, 2)


@pytest.mark.parametrize("nse", [None, 6])
def test_fromdense_todense_match_jax(nse):
    ours, ref = sparse.BCOO.fromdense(M, nse=nse), jsparse.BCOO.fromdense(M, nse=nse)
    assert ours.shape == ref.shape and ours.nse == ref.nse
    assert_close((ours.data, ours.indices), (ref.data, ref.indices), 0, 0, "fromdense")
    np.testing.assert_array_equal(ours.todense(), M)
    np.testing.assert_array_equal(sparse.todense(ours.T), M.T)


def test_products_sums_and_elementwise_match_jax():
    ours, ref = sparse.BCOO.fromdense(M, nse=6), jsparse.BCOO.fromdense(M, nse=6)
    pairs = [(ours @ V, ref @ V), (ours @ D, ref @ D),
             (jnp.ones((2, 3), F32) @ ours.todense(), np.ones((2, 3), F32) @ M),
             (sparse.bcoo_dot_general(np.ones((2, 3), F32), ours,
                                      dimension_numbers=(((1,), (0,)), ((), ()))),
              jsparse.bcoo_dot_general(np.ones((2, 3), F32), ref,
                                       dimension_numbers=(((1,), (0,)), ((), ())))),
             (ours.sum(0).todense(), ref.sum(0).todense()), (ours.sum(), ref.sum()),
             ((ours * 2.0).todense(), (ref * 2.0).todense()),
             ((ours * np.arange(4, dtype=F32)).todense(),
              (ref * np.arange(4, dtype=F32)).todense()),
             ((ours + ours).todense(), (ref + ref).todense())]
    for k, (got, want) in enumerate(pairs):
        assert_close(got, want, 1e-6, 1e-6, f"pair {k}")


def test_sparsify_matches_jax():
    programs = [
        lambda np_: lambda a, v: np_.sin(a) @ v + 1.0,
        lambda np_: lambda a, v: (2 * a - a * 0.5).sum(axis=1) * v[:3],
        lambda np_: lambda a, v: (a.T @ np_.tanh(a @ v)),
    ]
    ours, ref = sparse.BCOO.fromdense(M), jsparse.BCOO.fromdense(M)
    for k, program in enumerate(programs):
        got = sparse.sparsify(program(fnp))(ours, V)
        want = jsparse.sparsify(program(jnp))(ref, V)
        got, want = sparse.todense(got), jsparse.todense(want)
        assert_close(got, want, 1e-5, 1e-6, f"program {k}")


def test_sparse_result_stays_sparse_and_unsupported_raises():
    out = sparse.sparsify(lambda a: -a * 3.0 + a)(sparse.BCOO.fromdense(M))
    assert isinstance(out, sparse.BCOO)
    np.testing.assert_allclose(out.todense(), -2 * M)
    with pytest.raises(NotImplementedError, match="sparse rule for 'exp'"):
        sparse.sparsify(fnp.exp)(sparse.BCOO.fromdense(M))
    with pytest.raises(ValueError, match="nse"):
        fl.jit(lambda m: sparse.BCOO.fromdense(m).data)(M)


def test_gradients_jit_and_vmap():
    mat = sparse.BCOO.fromdense(M)
    loss = lambda data, v: fnp.sum((sparse.BCOO((data, mat.indices), shape=M.shape) @ v) ** 2)
    ref = lambda data, v: jnp.sum((jsparse.BCOO((data, mat.indices), shape=M.shape) @ v) ** 2)
    assert_close(fl.grad(loss, argnums=(0, 1))(mat.data, V),
                 jax.grad(ref, argnums=(0, 1))(np.asarray(mat.data), V), 1e-5, 1e-5, "grad")
    assert_close(fl.jit(lambda m, v: m @ v)(mat, V), M @ V, 1e-6, 1e-6, "jit")
    batch = np.stack([V, 2 * V, -V])
    assert_close(fl.vmap(lambda v: mat @ v)(batch), batch @ M.T, 1e-6, 1e-6, "vmap")
