"""numpy products (dot, matmul/@, einsum, tensordot, ...) and diagonal helpers against
jax.numpy: values eager and under jit, jvp/vjp, vmap."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _jax_versions
from harness import Rec, assert_close, check_jvp_vjp, check_values, check_vmap

F32 = np.float32


def rec(name, fn_name, shapes, *static, ref_fn=None, **kw):
    ours, ref = getattr(fnp, fn_name), getattr(jnp, fn_name)
    specs = [(s, F32) for s in shapes]
    n = len(shapes)
    return Rec(name, lambda *a: ours(*a[:n], *static, **kw),
               lambda *a: ref(*a[:n], *static, **kw), specs, rtol=1e-5, atol=1e-5,
               grad_argnums=tuple(range(n)))


def einsum_rec(spec, *shapes):
    return Rec(f"einsum[{spec}]", lambda *a: fnp.einsum(spec, *a),
               lambda *a: jnp.einsum(spec, *a), [(s, F32) for s in shapes], rtol=1e-5,
               atol=1e-5, grad_argnums=tuple(range(len(shapes))))


PRODUCT_RECS = [
    rec("dot_mm", "dot", [(3, 4), (4, 5)]),
    rec("dot_mv", "dot", [(3, 4), (4,)]),
    rec("dot_vv", "dot", [(4,), (4,)]),
    rec("dot_nd", "dot", [(2, 3, 4), (5, 4, 2)]),
    rec("matmul_batch", "matmul", [(2, 3, 4), (2, 4, 5)]),
    rec("matmul_broadcast", "matmul", [(2, 1, 3, 4), (5, 4, 2)]),
    rec("matmul_size1_batch", "matmul", [(1, 3, 4), (2, 4, 5)]),
    rec("matmul_vec_left", "matmul", [(4,), (2, 4, 5)]),
    rec("matmul_vec_right", "matmul", [(2, 3, 4), (4,)]),
    rec("vdot", "vdot", [(3, 4), (3, 4)]),
    rec("inner", "inner", [(2, 3, 4), (5, 4)]),
    rec("outer", "outer", [(3, 2), (4,)]),
    rec("tensordot_int", "tensordot", [(2, 3, 4), (3, 4, 5)], 2),
    rec("tensordot_pairs", "tensordot", [(2, 3, 4), (4, 5, 2)], ((0, 2), (2, 0))),
    rec("kron", "kron", [(2, 3), (3, 2)]),
    rec("kron_ranks", "kron", [(3,), (2, 2)]),
    rec("cross3", "cross", [(5, 3), (5, 3)]),
] + ([] if _jax_versions.CROSS_3_VECTORS_ONLY else [  # (test_jax_versions checks both)
    rec("cross2x3_axis0", "cross", [(2, 4), (3, 4)], axisa=0, axisb=0, axisc=0),
]) + [
    rec("trace", "trace", [(4, 5)]),
    rec("trace_offset_axes", "trace", [(3, 4, 5)], -1, 2, 1),
    rec("diagonal", "diagonal", [(4, 3)]),
    rec("diagonal_offset_axes", "diagonal", [(2, 3, 4)], 1, 2, 0),
    rec("diag_of_matrix", "diag", [(4, 5)], -2),
    rec("diag_from_vector", "diag", [(4,)]),
    rec("diag_from_vector_k", "diag", [(3,)], 2),
    rec("diagflat", "diagflat", [(2, 2)], -1),
    einsum_rec("bqd,bkd->bqk", (2, 5, 8), (2, 6, 8)),
    einsum_rec("ii", (4, 4)),
    einsum_rec("ii->i", (4, 4)),
    einsum_rec("...ij,...jk", (2, 3, 4), (2, 4, 5)),
    einsum_rec("...ij,jk->...ik", (2, 1, 3, 4), (4, 2)),
    einsum_rec("i,j->ij", (4,), (3,)),
    einsum_rec("ij,jk,kl->il", (3, 4), (4, 5), (5, 2)),
    einsum_rec("ab,cd,bc->ad", (2, 3), (4, 5), (3, 4)),
    einsum_rec("ijk,jil->kl", (3, 4, 5), (4, 3, 2)),
    einsum_rec("iij->j", (3, 3, 2)),
    einsum_rec("ij->", (3, 4)),
    einsum_rec("ab,ab->a", (3, 4), (3, 4)),
    einsum_rec("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)),
]


@pytest.mark.parametrize("rec", PRODUCT_RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", PRODUCT_RECS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", PRODUCT_RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec)


def test_matmul_operator_and_method():
    a = np.random.RandomState(0).randn(3, 4).astype(F32)
    b = np.random.RandomState(1).randn(4, 2).astype(F32)
    assert_close(fl.jit(lambda a, b: a @ b)(a, b), a @ b, 1e-5, 1e-5, "@")
    assert_close(fl.jit(lambda a, b: b.T @ a.T)(a, b), b.T @ a.T, 1e-5, 1e-5, "@ T")
    assert_close(fl.jit(lambda a: a.dot(a.T))(a), a @ a.T, 1e-5, 1e-5, ".dot")
    assert_close(fl.jit(lambda a: np.ones((2, 3), F32) @ a)(a), np.ones((2, 3), F32) @ a,
                 1e-5, 1e-5, "host @ traced")
    assert_close(fl.grad(lambda a: fnp.sum(a @ b))(a), jax.grad(lambda a: jnp.sum(a @ b))(a),
                 1e-5, 1e-5, "grad @")


def test_integer_and_mixed_dtypes():
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert_close(fnp.dot(i, np.arange(3, dtype=np.int32)),
                 jnp.dot(i, np.arange(3, dtype=np.int32)), 0, 0, "int dot")
    f = np.ones((3, 2), F32)
    assert_close(fnp.matmul(i, f), jnp.matmul(i, f), 0, 0, "int @ float")
    assert_close(fnp.dot(2.0, f), jnp.dot(2.0, f), 0, 0, "scalar dot")
    assert_close(fnp.einsum("ij,jk->ik", i, i.T, preferred_element_type=np.float32),
                 jnp.einsum("ij,jk->ik", i, i.T, preferred_element_type=np.float32), 0, 0,
                 "einsum preferred_element_type")


def test_einsum_interleaved_and_path():
    a = np.random.RandomState(0).randn(3, 4).astype(F32)
    b = np.random.RandomState(1).randn(4, 5).astype(F32)
    assert_close(fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]), a @ b, 1e-5, 1e-5, "interleaved")
    operands = (np.ones((50, 2)), np.ones((2, 50)), np.ones((50, 3)))
    path, _ = fnp.einsum_path("ij,jk,kl->il", *operands)
    assert path == jnp.einsum_path("ij,jk,kl->il", *operands)[0] == [(1, 2), (0, 1)]


def test_einsum_uses_one_dot_general_per_pair():
    a, b, c = np.ones((3, 4), F32), np.ones((4, 5), F32), np.ones((5, 2), F32)
    text = fl.jit(lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c)).lower(a, b, c).as_text()
    assert text.count("stablehlo.dot_general") == 2


def test_errors_name_shapes():
    with pytest.raises(TypeError, match=r"\(2, 3\).*\(4, 5\)"):  # JAX's class
        fnp.matmul(np.ones((2, 3), F32), np.ones((4, 5), F32))
    with pytest.raises(ValueError, match="einsum"):
        fnp.einsum("ij,jk->ik", np.ones((2, 3), F32), np.ones((4, 5), F32))
    with pytest.raises(TypeError, match="tensordot"):
        fnp.tensordot(np.ones((2, 3), F32), np.ones((4, 5), F32), 1)
