"""jnp reductions, statistics, sorting and searching against jax.numpy: values and
result dtypes (eager and jit), jvp/vjp, and vmap at the first and the last axis."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import Rec, assert_close, check_edges, check_jvp_vjp, check_values, check_vmap

F32, F16, I32, I8, U8, B = np.float32, np.float16, np.int32, np.int8, np.uint8, np.bool_

WITH_ZEROS = np.array([[1.5, 0.0, -2.0, 0.5], [0.0, 0.0, 3.0, 1.0], [2.0, -1.0, 0.5, 1.5]], F32)
WITH_TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, 0.1]], F32)
WITH_NANS = np.array([[1.0, np.nan, 3.0, -0.0], [np.nan, np.nan, np.nan, np.nan],
                      [-np.inf, 2.0, 0.5, 0.0]], F32)
MASK = np.array([[True, False, True, True], [False, True, True, False],
                 [True, True, False, True]])
SORTED = np.array([-1.5, -0.2, 0.0, 0.3, 0.3, 1.1, 2.0], F32)
QS = np.array([0.0, 0.25, 0.6, 1.0], F32)


def np_rec(name, fn_name, shapes, *args, grad=(0,), batch=True, **kw):
    """A record calling `<numpy>.<fn_name>(*arrays, *args, **kw)` in both libraries; its
    "empty" variant empties the (first) reduced axis."""
    n = len(shapes)
    ours, ref = getattr(fnp, fn_name), getattr(jnp, fn_name)
    axis = kw.get("axis")
    empty_axis = -1 if axis is None else np.ravel(axis)[0]
    return Rec(name, lambda *a: ours(*a[:n], *args, **kw), lambda *a: ref(*a[:n], *args, **kw),
               shapes, grad_argnums=grad, batch=batch, empty_axis=empty_axis,
               empty_ref=_EMPTY_REFS.get(fn_name, lambda *_: None)(ref, empty_axis, args, kw))


# Over an empty axis JAX 0.10 raises a TypeError from its gather in all of median,
# quantile and their NaN-ignoring versions; JAX 0.12 raises ValueError for median,
# gives NaN for the NaN-ignoring ones (with q's axis lost when q is a vector), and
# keeps the TypeError for quantile. We follow JAX 0.12, with q's axis kept: the
# references below state that behaviour in JAX terms for either release.

def _median_of_nothing(*_):
    def ref(*a):
        raise ValueError("jax.numpy.median reduction axis must be non-empty")
    return ref


def _as_over_all_nan(ref, axis, args, kw):
    """ref with one NaN appended along the (empty) reduced axis: a NaN-ignoring
    reduction over nothing is one over NaNs only (NaN, with zero derivative)."""
    def padded(a):
        shape = list(a.shape)
        shape[axis] = 1
        return ref(jnp.concatenate([a, jnp.full(shape, np.nan, a.dtype)], axis), *args, **kw)
    return padded


_EMPTY_REFS = {"median": _median_of_nothing, "nanmedian": _as_over_all_nan,
               "nanquantile": _as_over_all_nan, "nanpercentile": _as_over_all_nan}


GRAD_RECS = [
    np_rec("sum_axis", "sum", [((3, 4), F32)], axis=1),
    np_rec("sum_where_initial", "sum", [((3, 4), F32)], axis=0, where=MASK, initial=1.5),
    np_rec("mean_keepdims", "mean", [((3, 4), F32)], axis=(0, 1), keepdims=True),
    np_rec("mean_where", "mean", [((3, 4), F32)], axis=1, where=MASK),
    np_rec("var_ddof", "var", [((3, 4), F32)], axis=0, ddof=1),
    np_rec("std", "std", [((3, 4), F32)], axis=1),
    np_rec("prod", "prod", [((3, 4), F32)], axis=1),
    np_rec("prod_zeros", "prod", [WITH_ZEROS], axis=1),
    np_rec("prod_zeros_all", "prod", [WITH_ZEROS]),
    np_rec("max_ties", "max", [WITH_TIES], axis=1),
    np_rec("min_tuple_axes", "min", [((2, 3, 4), F32)], axis=(0, 2)),
    np_rec("max_where", "max", [((3, 4), F32)], axis=1, where=MASK, initial=-2.0),
    np_rec("ptp", "ptp", [((3, 4), F32)], axis=0),
    np_rec("cumsum", "cumsum", [((3, 4), F32)], axis=1),
    np_rec("cumsum_flat", "cumsum", [((3, 4), F32)]),
    np_rec("cumprod", "cumprod", [((3, 4), F32)], axis=0),
    np_rec("cumulative_sum", "cumulative_sum", [((3, 4), F32)], axis=1, include_initial=True),
    np_rec("sort", "sort", [((3, 5), F32)]),
    np_rec("sort_descending", "sort", [((3, 5), F32)], axis=0, descending=True),
    np_rec("median", "median", [((3, 5), F32)], axis=1),
    np_rec("median_even", "median", [((3, 4), F32)], axis=1, keepdims=True),
    np_rec("quantile", "quantile", [((3, 5), F32)], QS, axis=1),
    np_rec("percentile", "percentile", [((3, 5), F32)], 30.0, axis=0),
    np_rec("nanmedian", "nanmedian", [((3, 5), F32)], axis=0),
    np_rec("quantile_tuple_axes", "quantile", [((2, 3, 4), F32)], 0.3, axis=(0, 2)),
    Rec("average_weights", lambda x, w: fnp.average(x, axis=1, weights=w, returned=True),
        lambda x, w: jnp.average(x, axis=1, weights=w, returned=True),
        [((3, 4), F32), ((4,), F32)], grad_argnums=(0, 1), domain="positive"),
]

VALUE_RECS = [
    np_rec("sum_bool", "sum", [((3, 4), B)], grad=()),
    np_rec("sum_int8", "sum", [((3, 4), I8)], axis=0, grad=()),
    np_rec("sum_uint8", "sum", [((3, 4), U8)], axis=1, grad=()),
    np_rec("sum_f16", "sum", [((3, 4), F16)], axis=1, grad=()),
    np_rec("sum_dtype", "sum", [((3, 4), F32)], dtype=I32, grad=()),
    np_rec("prod_int8", "prod", [((3, 4), I8)], axis=1, grad=()),
    np_rec("mean_int", "mean", [((3, 4), I32)], axis=0, grad=()),
    np_rec("mean_f16_dtype", "mean", [((3, 4), F16)], dtype=F32, grad=()),
    np_rec("var_int", "var", [((3, 4), I32)], axis=1, grad=()),
    np_rec("max_bool", "max", [((3, 4), B)], axis=0, grad=()),
    np_rec("min_int_keepdims", "min", [((3, 4), I32)], axis=1, keepdims=True, grad=()),
    np_rec("any", "any", [((3, 4), I32)], axis=1, grad=()),
    np_rec("all_where", "all", [((3, 4), B)], axis=0, where=MASK, grad=()),
    np_rec("count_nonzero", "count_nonzero", [((3, 4), I32)], axis=0, grad=()),
    np_rec("cumsum_bool", "cumsum", [((3, 4), B)], axis=1, grad=()),
    np_rec("cumsum_int8", "cumsum", [((3, 4), I8)], axis=0, grad=()),
    np_rec("cumulative_sum_int8", "cumulative_sum", [((3, 4), I8)], axis=0, grad=()),
    np_rec("cumprod_dtype_bool", "cumprod", [((3, 4), I32)], axis=1, dtype=B, grad=()),
    np_rec("nansum", "nansum", [WITH_NANS], axis=1, grad=()),
    np_rec("nanmean", "nanmean", [WITH_NANS], axis=1, grad=()),
    np_rec("nanmax", "nanmax", [WITH_NANS], axis=1, grad=()),
    np_rec("nanmin", "nanmin", [WITH_NANS], axis=0, grad=()),
    np_rec("nanvar", "nanvar", [WITH_NANS], axis=1, ddof=1, grad=()),
    np_rec("nanstd", "nanstd", [WITH_NANS], grad=()),
    np_rec("nanprod", "nanprod", [WITH_NANS], axis=0, grad=()),
    np_rec("nancumsum", "nancumsum", [WITH_NANS], axis=1, grad=()),
    np_rec("nanmedian_nans", "nanmedian", [WITH_NANS], axis=1, grad=()),
    np_rec("nanquantile_nans", "nanquantile", [WITH_NANS], QS, axis=1, grad=()),
    np_rec("median_nans", "median", [WITH_NANS], axis=1, grad=()),
    np_rec("argmax", "argmax", [((3, 4), F32)], grad=()),
    np_rec("argmax_ties_keepdims", "argmax", [WITH_TIES], axis=1, keepdims=True, grad=()),
    np_rec("argmin_nans", "argmin", [WITH_NANS], axis=1, grad=()),
    np_rec("nanargmax", "nanargmax", [WITH_NANS], axis=1, grad=()),
    np_rec("nanargmin", "nanargmin", [WITH_NANS], axis=0, grad=()),
    np_rec("sort_nans", "sort", [WITH_NANS], axis=None, grad=()),
    np_rec("argsort", "argsort", [WITH_TIES], grad=()),
    np_rec("argsort_descending", "argsort", [WITH_TIES], axis=0, descending=True, grad=()),
    np_rec("argsort_int", "argsort", [((3, 5), I32)], axis=1, grad=()),
    np_rec("partition", "partition", [((3, 5), F32)], 2, grad=()),
    np_rec("argpartition", "argpartition", [((3, 5), I32)], 1, axis=0, grad=()),
    Rec("lexsort", lambda a, b: fnp.lexsort((a, b)), lambda a, b: jnp.lexsort((a, b)),
        [((3, 6), I32), ((3, 6), I32)]),
    np_rec("quantile_lower", "quantile", [((3, 5), F32)], QS, axis=0, method="lower", grad=()),
    np_rec("quantile_higher", "quantile", [((3, 5), F32)], 0.4, method="higher", grad=()),
    np_rec("quantile_nearest", "quantile", [((3, 5), F32)], QS, axis=1, method="nearest",
           grad=()),
    np_rec("quantile_int", "quantile", [((3, 5), I32)], 0.7, axis=1, grad=()),
    np_rec("median_all", "median", [((3, 4), F32)], grad=()),
    # (the sorted array stays sorted in the edge variants: only the queries change)
    Rec("searchsorted_left", lambda a, v: fnp.searchsorted(a, v),
        lambda a, v: jnp.searchsorted(a, v), [SORTED, ((2, 5), F32)], batch=False,
        edge_args=(1,)),
    Rec("searchsorted_right_sort", lambda a, v: fnp.searchsorted(a, v, "right", method="sort"),
        lambda a, v: jnp.searchsorted(a, v, "right", method="sort"), [SORTED, ((6,), F32)],
        edge_args=(1,)),
    Rec("searchsorted_ties_nan", lambda a, v: fnp.searchsorted(a, v, "right"),
        lambda a, v: jnp.searchsorted(a, v, "right"),
        [SORTED, np.array([0.3, np.nan, -np.inf, 2.0, -0.0], F32)], edge_args=(1,)),
    Rec("searchsorted_sorter", lambda a, v, s: fnp.searchsorted(a, v, sorter=s),
        lambda a, v, s: jnp.searchsorted(a, v, sorter=s),
        [SORTED[::-1].copy(), ((4,), F32), np.arange(6, -1, -1, dtype=I32)], batch=False,
        edge_args=(1,)),
    Rec("searchsorted_into_empty", lambda a, v: fnp.searchsorted(a, v, "right"),
        lambda a, v: jnp.searchsorted(a, v, "right"), [SORTED[:0], ((2, 3), F32)],
        edge_args=(1,)),
    Rec("nonzero_size", lambda x: fnp.nonzero(x, size=7), lambda x: jnp.nonzero(x, size=7),
        [((3, 4), B)]),
    Rec("nonzero_fill", lambda x: fnp.nonzero(x, size=9, fill_value=-1),
        lambda x: jnp.nonzero(x, size=9, fill_value=-1), [((3, 4), I32)]),
    Rec("argwhere_size", lambda x: fnp.argwhere(x, size=5), lambda x: jnp.argwhere(x, size=5),
        [((3, 4), B)]),
    Rec("unique_size", lambda x: fnp.unique(x, return_index=True, return_inverse=True,
                                            return_counts=True, size=9),
        lambda x: jnp.unique(x, return_index=True, return_inverse=True, return_counts=True,
                             size=9), [((3, 4), I32)]),
    Rec("unique_fill", lambda x: fnp.unique(x, return_counts=True, size=4, fill_value=-7),
        lambda x: jnp.unique(x, return_counts=True, size=4, fill_value=-7), [WITH_NANS]),
]


EDGES = ("base", "nonfinite")


@pytest.mark.parametrize("rec", GRAD_RECS + VALUE_RECS, ids=str)
def test_values(rec):
    check_values(rec, variants=EDGES)


@pytest.mark.parametrize("rec", GRAD_RECS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec, variants=EDGES)


@pytest.mark.parametrize("rec", GRAD_RECS + VALUE_RECS, ids=str)
def test_zero_size(rec):
    check_edges(rec)


# records about result dtypes gain nothing from vmap; the rest are batched
DTYPE_ONLY = {"sum_bool", "sum_int8", "sum_uint8", "sum_f16", "sum_dtype", "prod_int8",
              "mean_int", "mean_f16_dtype", "var_int", "max_bool", "min_int_keepdims", "any",
              "count_nonzero", "cumsum_bool", "cumsum_int8", "cumulative_sum_int8",
              "cumprod_dtype_bool", "nansum", "nanmin", "nanstd", "nanprod", "nancumsum",
              "sum_axis", "mean_keepdims", "std", "prod", "cumsum_flat", "sort",
              "median_even", "quantile_higher", "argsort_int", "median_all", "argmax"}
VMAP_RECS = [r for r in GRAD_RECS + VALUE_RECS if r.batch and r.name not in DTYPE_ONLY]


@pytest.mark.parametrize("rec", VMAP_RECS, ids=str)
def test_vmap_first_axis(rec):
    check_vmap(rec, 0, variants=EDGES)


@pytest.mark.parametrize("rec", VMAP_RECS[::4], ids=str)
def test_vmap_last_axis(rec):
    check_vmap(rec, -1)


# --- data-dependent output sizes, outside jit ----------------------------------------

@pytest.mark.parametrize("x", [WITH_NANS, np.array([[3, 1, 1], [2, 3, 0]], I32)],
                         ids=["floats_with_nans", "ints"])
def test_unique_concrete(x):
    for kw in [{}, dict(return_index=True, return_inverse=True, return_counts=True)]:
        assert_close(fnp.unique(x, **kw), jnp.unique(x, **kw), 0, 0, f"unique {kw}")


def test_unique_rows():
    x = np.array([[1, 2], [0, 5], [1, 2], [0, 4], [0, 5]], I32)
    kw = dict(axis=0, return_index=True, return_inverse=True, return_counts=True)
    assert_close(fnp.unique(x, **kw), jnp.unique(x, **kw), 0, 0, "unique rows")


def test_nonzero_family_concrete():
    x = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]], F32)
    assert_close(fnp.nonzero(x), jnp.nonzero(x), 0, 0, "nonzero")
    assert_close(fnp.flatnonzero(x), jnp.flatnonzero(x), 0, 0, "flatnonzero")
    assert_close(fnp.argwhere(x), jnp.argwhere(x), 0, 0, "argwhere")


def test_data_dependent_size_under_jit_asks_for_size():
    with pytest.raises(fl.ConcretizationTypeError, match="size"):
        fl.jit(fnp.nonzero)(np.ones(3, F32))
    with pytest.raises(fl.ConcretizationTypeError, match="size"):
        fl.jit(fnp.unique)(np.ones(3, F32))


# --- argument handling ---------------------------------------------------------------

def test_python_scalars_and_lists():
    assert_close(fnp.sum(3.0), jnp.sum(3.0), 0, 0, "sum of a Python float")
    assert_close(fnp.mean(np.array(2)), jnp.mean(np.array(2)), 0, 0, "mean of an int")
    with pytest.raises(TypeError, match="list"):  # as jax.numpy: no implicit conversion
        jnp.max([1.0, 4.0, 2.0])
    with pytest.raises(TypeError, match="list"):
        fnp.max([1.0, 4.0, 2.0])


def test_errors_match_numpy_rules():
    with pytest.raises(ValueError, match="zero-size"):
        fnp.max(np.zeros((0, 3), F32), axis=0)
    with pytest.raises(ValueError, match="duplicate"):
        fnp.sum(np.ones((2, 2), F32), axis=(0, -2))
    with pytest.raises(ValueError, match="empty"):
        fnp.argmax(np.zeros((0,), F32))
    assert_close(fnp.max(np.zeros((0, 3), F32), axis=0, initial=1.0),
                 jnp.max(np.zeros((0, 3), F32), axis=0, initial=1.0), 0, 0, "initial")


def test_array_methods_resolve_here():
    x = np.arange(12, dtype=F32).reshape(3, 4)

    def f(x):
        return (x.sum(axis=0), x.mean(), x.argmax(axis=1), x.cumsum(axis=1), x.std(),
                x.sort(axis=0), x.argsort(), x.ptp(), x.prod(axis=1), x.any(), x.all())
    got = fl.jit(f)(x)
    want = jax.jit(f)(x)
    assert_close(got, want, 1e-6, 1e-6, "array methods")


def test_grad_of_median_and_quantile_under_jit():
    x = np.random.RandomState(0).randn(4, 6).astype(F32)
    f_ours = lambda x: (fnp.median(x, axis=0) + fnp.quantile(x, QS, axis=1).sum()).sum()
    f_ref = lambda x: (jnp.median(x, axis=0) + jnp.quantile(x, QS, axis=1).sum()).sum()
    assert_close(fl.jit(fl.grad(f_ours))(x), jax.grad(f_ref)(x), 1e-5, 1e-6, "grad")
