"""Reductions, arg-reductions, cumulative reductions, sort and top_k against jax.lax:
values (eager and jit), jvp/vjp, and vmap at the first and the last axis."""
import numpy as np
import pytest
import jax

import functorch_lite as fl
import functorch_lite.lax as flax
from harness import Rec, assert_close, check_edges, check_jvp_vjp, check_values, check_vmap

F32, I32 = np.float32, np.int32

WITH_ZEROS = np.array([[1.5, 0.0, -2.0, 0.5], [0.0, 0.0, 3.0, 1.0], [2.0, -1.0, 0.5, 1.5]], F32)
WITH_TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, 0.1]], F32)
WITH_NANS = np.array([[1.0, np.nan, 3.0, -0.0], [0.0, -0.0, np.nan, np.nan],
                      [-np.inf, 2.0, np.inf, 0.0]], F32)
INT_KEYS = np.array([[1, 0, 1, 0, 2], [2, 2, 1, 1, 0], [0, 0, 0, 1, 1]], I32)


def lax_rec(name, fn_name, shapes, *args, grad=(0,), **kw):
    """A record calling `lax.<fn_name>(*arrays, *args, **kw)` in both libraries; its
    "empty" variant empties the (first) reduced axis: the first positional argument
    after the arrays or the `dimension`/`axis` keyword."""
    ours = getattr(flax, fn_name)
    ref = getattr(jax.lax, fn_name)
    n = len(shapes)
    axis = args[0] if args and fn_name != "top_k" else kw.get("dimension", kw.get("axis", -1))
    return Rec(name, lambda *a: ours(*a[:n], *args, **kw), lambda *a: ref(*a[:n], *args, **kw),
               shapes, grad_argnums=grad, empty_axis=np.ravel(axis)[0])


REDUCE_RECS = [
    lax_rec("sum_1", "reduce_sum", [((3, 4), F32)], (1,)),
    lax_rec("sum_all", "reduce_sum", [((3, 4), F32)], (0, 1)),
    lax_rec("max_0", "reduce_max", [((3, 4), F32)], (0,)),
    lax_rec("max_ties", "reduce_max", [WITH_TIES], (1,)),
    lax_rec("min_ties", "reduce_min", [WITH_TIES], (0, 1)),
    lax_rec("prod_1", "reduce_prod", [((3, 4), F32)], (1,)),
    lax_rec("prod_zeros", "reduce_prod", [WITH_ZEROS], (1,)),
    lax_rec("prod_zeros_0", "reduce_prod", [WITH_ZEROS], (0,)),
    lax_rec("prod_int", "reduce_prod", [((3, 4), I32)], (0,), grad=()),
    lax_rec("and", "reduce_and", [((3, 4), np.bool_)], (1,), grad=()),
    lax_rec("or", "reduce_or", [((3, 4), np.bool_)], (0,), grad=()),
    lax_rec("xor", "reduce_xor", [((3, 4), np.bool_)], (0, 1), grad=()),
    lax_rec("and_int", "reduce_and", [((3, 4), I32)], (1,), grad=()),
    lax_rec("argmax", "argmax", [((3, 4), F32)], 1, I32),
    lax_rec("argmax_ties", "argmax", [WITH_TIES], 1, I32),
    lax_rec("argmin_ties", "argmin", [WITH_TIES], 0, I32),
    lax_rec("argmax_nan", "argmax", [WITH_NANS], 1, I32),
    lax_rec("argmin_nan", "argmin", [WITH_NANS], 0, I32),
    lax_rec("argmax_int", "argmax", [((3, 4), I32)], 0, I32, grad=()),
]

CUMULATIVE_RECS = [
    lax_rec("cumsum", "cumsum", [((3, 4), F32)], 1),
    lax_rec("cumsum_rev", "cumsum", [((3, 4), F32)], 0, True),
    lax_rec("cumprod", "cumprod", [((3, 4), F32)], 1),
    lax_rec("cumprod_rev", "cumprod", [((3, 4), F32)], 0, True),
    lax_rec("cumprod_zeros", "cumprod", [WITH_ZEROS], 1),
    lax_rec("cumprod_zeros_rev", "cumprod", [WITH_ZEROS], 1, True),
    lax_rec("cummax", "cummax", [((3, 4), F32)], 1),
    lax_rec("cummax_rev", "cummax", [((3, 4), F32)], 0, True),
    lax_rec("cummin", "cummin", [((3, 4), F32)], 1),
    lax_rec("cummin_rev", "cummin", [((3, 4), F32)], 1, True),
    lax_rec("cumlogsumexp", "cumlogsumexp", [((3, 4), F32)], 1),
    lax_rec("cumlogsumexp_rev", "cumlogsumexp", [((3, 4), F32)], 0, True),
    lax_rec("cumsum_int", "cumsum", [((3, 4), I32)], 0, grad=()),
    lax_rec("cummax_int", "cummax", [((3, 4), I32)], 1, True, grad=()),
]

SORT_RECS = [
    lax_rec("sort_last", "sort", [((3, 5), F32)]),
    lax_rec("sort_0", "sort", [((3, 5), F32)], dimension=0),
    lax_rec("sort_nans", "sort", [WITH_NANS], grad=()),
    lax_rec("sort_int", "sort", [((3, 5), I32)], grad=()),
    lax_rec("sort_unstable", "sort", [((3, 5), F32)], is_stable=False),
    Rec("sort_two_keys", lambda k, x, y: flax.sort((k, x, y), num_keys=2),
        lambda k, x, y: jax.lax.sort((k, x, y), num_keys=2),
        [INT_KEYS, ((3, 5), F32), ((3, 5), F32)], grad_argnums=(1, 2)),
    Rec("sort_tuple_one_key", lambda k, x: flax.sort((k, x), dimension=0),
        lambda k, x: jax.lax.sort((k, x), dimension=0),
        [INT_KEYS, ((3, 5), F32)], grad_argnums=(1,)),
    Rec("sort_key_val", lambda k, v: flax.sort_key_val(k, v), lambda k, v: jax.lax.sort_key_val(k, v),
        [((3, 5), F32), ((3, 5), F32)], grad_argnums=(0, 1)),
    lax_rec("top_k", "top_k", [((3, 5), F32)], 2),
    lax_rec("top_k_axis0", "top_k", [((3, 5), F32)], 2, axis=0),
    lax_rec("top_k_nans", "top_k", [WITH_NANS], 3, grad=()),
    lax_rec("top_k_int", "top_k", [((3, 5), I32)], 3, grad=()),
]



GENERAL_REDUCE_RECS = [
    Rec("reduce_monoid", lambda x: flax.reduce(x, 0.0, flax.add, (1,)),
        lambda x: jax.lax.reduce(x, 0.0, jax.lax.add, (1,)), [((3, 4), F32)],
        grad_argnums=(0,)),
    Rec("reduce_max_monoid", lambda x: flax.reduce(x, -np.inf, flax.max, (0,)),
        lambda x: jax.lax.reduce(x, -np.inf, jax.lax.max, (0,)), [((3, 4), F32)],
        grad_argnums=(0,), empty_axis=0),
    Rec("reduce_variadic",
        lambda x, y: flax.reduce((x, y), (F32(-np.inf), F32(0)),
                                 lambda a, b: (flax.max(a[0], b[0]), flax.add(a[1], b[1])), (1,)),
        lambda x, y: jax.lax.reduce((x, y), (F32(-np.inf), F32(0)),
                                    lambda a, b: (jax.lax.max(a[0], b[0]),
                                                  jax.lax.add(a[1], b[1])), (1,)),
        [((3, 4), F32), ((3, 4), F32)]),
    Rec("reduce_custom", lambda x: flax.reduce(x, F32(1), lambda a, b: flax.mul(a, flax.abs(b)), (0,)),
        lambda x: jax.lax.reduce(x, F32(1), lambda a, b: jax.lax.mul(a, jax.lax.abs(b)), (0,)),
        [((3, 4), F32)], empty_axis=0),
]

ALL_RECS = REDUCE_RECS + CUMULATIVE_RECS + SORT_RECS + GENERAL_REDUCE_RECS


EDGES = ("base", "nonfinite")


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
def test_values(rec):
    check_values(rec, variants=EDGES)


@pytest.mark.parametrize("rec", [r for r in ALL_RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec, variants=EDGES)


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
@pytest.mark.parametrize("in_axis", [0, -1])
def test_vmap(rec, in_axis):
    check_vmap(rec, in_axis, variants=EDGES if in_axis == 0 else ("base",))


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
def test_zero_size(rec):
    check_edges(rec)


def test_result_dtypes():
    x = np.ones((2, 3), F32)
    assert flax.argmax(x, 1, np.int8).dtype == np.int8
    assert flax.argmin(x, 0, np.int32).dtype == np.int32
    values, indices = flax.top_k(x, 2)
    assert values.dtype == np.float32 and indices.dtype == np.int32
    assert flax.reduce_and(x > 0, (0,)).dtype == np.bool_
    assert flax.cumsum(x.astype(np.int8), 1).dtype == np.int8


def test_sort_zero_and_nan_order_matches_jax():
    x = np.array([0.0, -0.0, np.nan, -np.nan, 1.0, -np.inf, -0.0, 0.0], F32)
    got = np.asarray(flax.sort(x))
    want = np.asarray(jax.lax.sort(x))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # -0.0 stays in place
    np.testing.assert_array_equal(got, want)
    keys, perm = flax.sort_key_val(x, np.arange(8, dtype=I32))
    np.testing.assert_array_equal(perm, jax.lax.sort_key_val(x, np.arange(8, dtype=I32))[1])


def test_complex_sort_is_lexicographic():
    x = np.array([1 + 2j, 1 - 1j, -3 + 0j, 1 + 0j, np.nan + 0j], np.complex64)
    assert_close(flax.sort(x), jax.lax.sort(x), 0, 0, "complex sort")


def test_grad_of_sort_is_a_permutation():
    x = np.array([3.0, 1.0, 2.0, 1.0], F32)
    weights = np.arange(4.0, dtype=F32)
    grad = fl.grad(lambda x: (flax.sort(x) * weights).sum())(x)
    want = jax.grad(lambda x: (jax.lax.sort(x) * weights).sum())(x)
    assert_close(grad, want, 0, 0, "grad of sort")


def test_second_order_reduce_prod_and_cumprod():
    x = np.array([1.5, -0.5, 2.0, 0.7], F32)
    for ours, ref in [(lambda v: flax.reduce_prod(v, (0,)), lambda v: jax.lax.reduce_prod(v, (0,))),
                      (lambda v: flax.cumprod(v).sum(), lambda v: jax.lax.cumprod(v).sum())]:
        assert_close(fl.jit(fl.hessian(ours))(x), jax.jit(jax.hessian(ref))(x), 1e-4, 1e-5, "hessian")


def test_lowerings_use_the_ops_jax_uses():
    x = np.ones((3, 4), F32)
    assert "stablehlo.reduce_window" in fl.jit(lambda x: flax.cumsum(x, 1)).lower(x).as_text()
    assert "chlo.top_k" in fl.jit(lambda x: flax.top_k(x, 2)).lower(x).as_text()
    argmax_text = fl.jit(lambda x: flax.argmax(x, 1, np.int32)).lower(x).as_text()
    assert "stablehlo.reduce" in argmax_text and "stablehlo.iota" in argmax_text


def test_top_k_grad_takes_the_tangent_at_the_indices():
    x = np.array([[0.3, 2.0, -1.0, 2.5], [1.0, 0.0, 4.0, -2.0]], F32)
    f_ours = lambda x: (flax.top_k(x, 2)[0] ** 2).sum()
    f_ref = lambda x: (jax.lax.top_k(x, 2)[0] ** 2).sum()
    assert_close(fl.grad(f_ours)(x), jax.grad(f_ref)(x), 1e-6, 1e-6, "grad top_k")
