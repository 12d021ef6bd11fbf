"""gather, scatter*, dynamic_slice and dynamic_update_slice against jax.lax: values (eager
and jit, out-of-bounds modes included), jvp/vjp, and vmap with the operand, the indices,
the updates or several of them batched."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.lax as flax
from harness import Rec, assert_close, check_edges, check_jvp_vjp, check_values, check_vmap

F32 = np.float32
I32 = np.int32
GD, SD = flax.GatherDimensionNumbers, flax.ScatterDimensionNumbers
JGD, JSD = jax.lax.GatherDimensionNumbers, jax.lax.ScatterDimensionNumbers

ROWS = np.array([[1], [3], [1]], I32)                # repeated row indices
UNIQUE_ROWS = np.array([[2], [0]], I32)
POINTS = np.array([[0, 1], [3, 4], [0, 1], [2, 2]], I32)
OOB_ROWS = np.array([[7], [-2], [2]], I32)


def gather_rec(name, shape, idx, dn, sizes, **kw):
    return Rec(name, lambda x, i: flax.gather(x, i, GD(*dn), sizes, **kw),
               lambda x, i: jax.lax.gather(x, i, JGD(*dn), sizes, **kw),
               [(shape, F32), idx], grad_argnums=(0,), empty_axis=0)


GATHER_RECS = [
    gather_rec("rows_repeated", (4, 5), ROWS, ((1,), (0,), (0,)), (1, 5)),
    gather_rec("points", (4, 5), POINTS, ((), (0, 1), (0, 1)), (1, 1)),
    gather_rec("windows", (4, 5), np.array([[1, 2], [2, 0]], I32), ((1, 2), (), (0, 1)),
               (2, 3)),
    gather_rec("columns_offset_first", (4, 5), np.array([[4], [0]], I32), ((0,), (1,), (1,)),
               (4, 1)),
    gather_rec("clip_oob", (4, 5), OOB_ROWS, ((1,), (0,), (0,)), (1, 5), mode="clip"),
    gather_rec("fill_oob", (4, 5), OOB_ROWS, ((1,), (0,), (0,)), (1, 5), mode="fill"),
    gather_rec("fill_value", (4, 5), OOB_ROWS, ((1,), (0,), (0,)), (1, 5), mode="fill",
               fill_value=0.5),
    gather_rec("batching_dims", (3, 4, 5), np.array([[[1], [3]], [[0], [0]], [[2], [1]]], I32),
               ((2,), (1,), (1,), (0,), (0,)), (1, 1, 5)),
    gather_rec("no_indices", (4, 5), ROWS[:0], ((1,), (0,), (0,)), (1, 5)),
    gather_rec("empty_windows", (4, 5), ROWS, ((1,), (0,), (0,)), (1, 0)),
]


def scatter_rec(name, op, shape, idx, upd_shape, dn, grad=(0, 2), **kw):
    return Rec(name, lambda x, i, u: getattr(flax, op)(x, i, u, SD(*dn), **kw),
               lambda x, i, u: getattr(jax.lax, op)(x, i, u, JSD(*dn), **kw),
               [(shape, F32), idx, (upd_shape, F32)], grad_argnums=grad, empty_axis=0)


ROW_DN = ((1,), (0,), (0,))
SCATTER_RECS = [
    scatter_rec("add_repeated", "scatter_add", (4, 5), ROWS, (3, 5), ROW_DN),
    scatter_rec("add_points", "scatter_add", (4, 5), POINTS, (4,), ((), (0, 1), (0, 1))),
    scatter_rec("set_unique", "scatter", (4, 5), UNIQUE_ROWS, (2, 5), ROW_DN,
                unique_indices=True),
    scatter_rec("set_repeated", "scatter", (4, 5), ROWS, (3, 5), ROW_DN),
    scatter_rec("mul_unique", "scatter_mul", (4, 5), UNIQUE_ROWS, (2, 5), ROW_DN,
                unique_indices=True),
    scatter_rec("min_repeated", "scatter_min", (4, 5), ROWS, (3, 5), ROW_DN),
    scatter_rec("max_repeated", "scatter_max", (4, 5), ROWS, (3, 5), ROW_DN),
    scatter_rec("add_drop_oob", "scatter_add", (4, 5), OOB_ROWS, (3, 5), ROW_DN),
    scatter_rec("add_clip_oob", "scatter_add", (4, 5), OOB_ROWS, (3, 5), ROW_DN, mode="clip"),
    scatter_rec("set_windows", "scatter", (4, 5), np.array([[0, 1], [2, 2]], I32), (2, 2, 3),
                ((1, 2), (), (0, 1)), unique_indices=True),
    scatter_rec("add_batching_dims", "scatter_add", (3, 4, 5),
                np.array([[[1], [1]], [[0], [3]], [[2], [1]]], I32), (3, 2, 5),
                ((2,), (1,), (1,), (0,), (0,))),
    scatter_rec("set_no_indices", "scatter", (4, 5), ROWS[:0], (0, 5), ROW_DN),
    scatter_rec("max_no_indices", "scatter_max", (4, 5), ROWS[:0], (0, 5), ROW_DN),
]

START = np.array(1, I32)   # a traced start index
FAR = np.array(-7, I32)    # clamped after wrapping
DYNAMIC_RECS = [
    Rec("dynamic_slice", lambda x, i: flax.dynamic_slice(x, (i, 2), (2, 3)),
        lambda x, i: jax.lax.dynamic_slice(x, (i, 2), (2, 3)), [((4, 5), F32), START],
        grad_argnums=(0,)),
    Rec("dynamic_slice_clamped", lambda x, i: flax.dynamic_slice(x, (i, -1), (3, 2)),
        lambda x, i: jax.lax.dynamic_slice(x, (i, -1), (3, 2)), [((4, 5), F32), FAR],
        grad_argnums=(0,)),
    Rec("dynamic_update_slice",
        lambda x, u, i: flax.dynamic_update_slice(x, u, (i, 3)),
        lambda x, u, i: jax.lax.dynamic_update_slice(x, u, (i, 3)),
        [((4, 5), F32), ((2, 3), F32), START], grad_argnums=(0, 1)),
    Rec("dynamic_slice_in_dim", lambda x, i: flax.dynamic_slice_in_dim(x, i, 2, axis=1),
        lambda x, i: jax.lax.dynamic_slice_in_dim(x, i, 2, axis=1), [((4, 5), F32), START],
        grad_argnums=(0,)),
    Rec("dynamic_index_in_dim",
        lambda x, i: flax.dynamic_index_in_dim(x, i, axis=0, keepdims=False),
        lambda x, i: jax.lax.dynamic_index_in_dim(x, i, axis=0, keepdims=False),
        [((4, 5), F32), START], grad_argnums=(0,)),
    Rec("dynamic_slice_size_0", lambda x, i: flax.dynamic_slice(x, (i, 9), (0, 2)),
        lambda x, i: jax.lax.dynamic_slice(x, (i, 9), (0, 2)), [((4, 5), F32), FAR],
        grad_argnums=(0,)),
    Rec("dynamic_update_index_in_dim",
        lambda x, u, i: flax.dynamic_update_index_in_dim(x, u, i, axis=1),
        lambda x, u, i: jax.lax.dynamic_update_index_in_dim(x, u, i, axis=1),
        [((4, 5), F32), ((4,), F32), FAR], grad_argnums=(0, 1)),
]

ALL_RECS = GATHER_RECS + SCATTER_RECS + DYNAMIC_RECS


EDGES = ("base", "nonfinite")


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
def test_values(rec):
    check_values(rec, variants=EDGES)


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec, variants=EDGES)


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec, in_axis=0, variants=EDGES)


@pytest.mark.parametrize("rec", ALL_RECS, ids=str)
def test_zero_size(rec):
    check_edges(rec)


@pytest.mark.parametrize("rec", [GATHER_RECS[0], SCATTER_RECS[0], DYNAMIC_RECS[2]], ids=str)
def test_vmap_last_axis(rec):
    check_vmap(rec, in_axis=-1)


# --- vmap with different indices per example ------------------------------------------

RNG = np.random.RandomState(0)
XS = RNG.randn(3, 4, 5).astype(F32)
IDX = np.array([[[1], [3]], [[0], [0]], [[2], [1]]], I32)   # per example (2, 1)
UPD = RNG.randn(3, 2, 5).astype(F32)


def _row_gather(lax_mod, dn_cls):
    return lambda x, i: lax_mod.gather(x, i, dn_cls((1,), (0,), (0,)), (1, 5))


def _row_scatter(lax_mod, dn_cls, op):
    return lambda x, i, u: getattr(lax_mod, op)(x, i, u, dn_cls((1,), (0,), (0,)))


@pytest.mark.parametrize("in_axes", [(None, 0), (0, 0), (1, 0), (0, None)])
def test_vmap_gather_batched_indices(in_axes):
    xs = XS if in_axes[0] != 1 else np.moveaxis(XS, 0, 1)
    x_in = xs if in_axes[0] is not None else XS[0]
    i_in = IDX if in_axes[1] is not None else IDX[0]
    got = fl.vmap(_row_gather(flax, GD), in_axes=in_axes)(x_in, i_in)
    want = jax.vmap(_row_gather(jax.lax, JGD), in_axes=in_axes)(x_in, i_in)
    assert_close(got, want, 1e-6, 1e-6, f"gather vmap {in_axes}")


@pytest.mark.parametrize("op", ["scatter_add", "scatter", "scatter_max"])
@pytest.mark.parametrize("in_axes", [(None, 0, None), (0, 0, 0), (None, 0, 0), (0, None, 1),
                                     (None, None, 0)])
def test_vmap_scatter_batched(op, in_axes):
    args = [XS, IDX, UPD]
    singles = [XS[0], IDX[0], UPD[0]]
    args = [a if ax is not None else s for a, s, ax in zip(args, singles, in_axes)]
    if in_axes[2] == 1:
        args[2] = np.moveaxis(UPD, 0, 1)
    got = fl.vmap(_row_scatter(flax, SD, op), in_axes=in_axes)(*args)
    want = jax.vmap(_row_scatter(jax.lax, JSD, op), in_axes=in_axes)(*args)
    assert_close(got, want, 1e-6, 1e-6, f"{op} vmap {in_axes}")


@pytest.mark.parametrize("in_axes", [(None, 0), (0, 0), (0, None)])
def test_vmap_dynamic_slices_batched_start(in_axes):
    starts = np.array([0, 3, -1], I32)
    x_in = XS if in_axes[0] is not None else XS[0]
    s_in = starts if in_axes[1] is not None else starts[0]

    def slice_(lax_mod):
        return lambda x, s: lax_mod.dynamic_slice(x, (s, 1), (2, 3))

    def update(lax_mod):
        return lambda x, s: lax_mod.dynamic_update_slice(x, lax_mod.slice(x, (0, 0), (2, 3)), (1, s))
    for make in (slice_, update):
        got = fl.vmap(make(flax), in_axes=in_axes)(x_in, s_in)
        want = jax.vmap(make(jax.lax), in_axes=in_axes)(x_in, s_in)
        assert_close(got, want, 1e-6, 1e-6, f"{make.__name__} vmap {in_axes}")


def test_grad_of_vmapped_gather_batched_indices():
    def ours(x):
        out = fl.vmap(_row_gather(flax, GD), in_axes=(None, 0))(x, IDX)
        return flax.reduce_sum(out * out, (0, 1, 2))

    def ref(x):
        out = jax.vmap(_row_gather(jax.lax, JGD), in_axes=(None, 0))(x, IDX)
        return (out * out).sum()
    assert_close(fl.grad(ours)(XS[0]), jax.grad(ref)(XS[0]), 1e-5, 1e-5, "grad")


# --- out-of-bounds modes and scatter_apply --------------------------------------------

def test_modes_parse_like_jax():
    for s in ["clip", "fill", "drop", "promise_in_bounds", None]:
        assert flax.GatherScatterMode.from_any(s).name == \
            jax.lax.GatherScatterMode.from_any(s).name


def test_gather_fill_default_per_dtype():
    dn = ((1,), (0,), (0,))
    for dtype in (np.int32, np.bool_, np.uint8):
        x = (np.arange(20) % 3).reshape(4, 5).astype(dtype)
        got = flax.gather(x, OOB_ROWS, GD(*dn), (1, 5), mode="fill")
        want = jax.lax.gather(x, OOB_ROWS, JGD(*dn), (1, 5), mode="fill")
        assert_close(got, want, 0, 0, f"fill {dtype}")


def test_scatter_apply():
    x = np.arange(10, dtype=F32)
    idx = np.array([[1], [3], [1]], I32)
    dn = ((), (0,), (0,))
    got = fl.jit(lambda x: flax.scatter_apply(x, idx, lambda v: v * 2 + 1, SD(*dn),
                                              update_shape=(3,)))(x)
    want = jax.lax.scatter_apply(x, idx, lambda v: v * 2 + 1, JSD(*dn), update_shape=(3,))
    assert_close(got, want, 0, 0, "scatter_apply")


def test_errors_are_clear():
    x = np.zeros((4, 5), F32)
    with pytest.raises(TypeError, match="integer"):
        flax.gather(x, np.zeros((2, 1), F32), GD((1,), (0,), (0,)), (1, 5))
    with pytest.raises(TypeError, match="start_index_map"):
        flax.gather(x, np.zeros((2, 2), I32), GD((1,), (0,), (0,)), (1, 5))
    with pytest.raises(TypeError, match="dtype"):
        flax.scatter_add(x, ROWS, np.zeros((3, 5), np.int32), SD(*ROW_DN))
    with pytest.raises(TypeError, match="fit"):
        flax.dynamic_slice(x, (0, 0), (5, 1))


def test_emitted_stablehlo():
    both = fl.vmap(_row_gather(flax, GD))
    text = fl.jit(both).lower(XS, IDX).as_text()
    assert '"stablehlo.gather"' in text and "operand_batching_dims = [0]" in text and \
        "start_indices_batching_dims = [0]" in text and "slice_sizes = array<i64: 1, 1, 5>" \
        in text
    text = fl.jit(_row_scatter(flax, SD, "scatter_max")).lower(XS[0], IDX[0], UPD[0]).as_text()
    assert '"stablehlo.scatter"' in text and '"stablehlo.maximum"' in text and \
        "update_window_dims = [1], inserted_window_dims = [0]" in text
    text = fl.jit(lambda x, i: flax.dynamic_slice(x, (i, 0), (2, 5))).lower(
        XS[0], START).as_text()
    assert '"stablehlo.dynamic_slice"' in text and "slice_sizes = array<i64: 2, 5>" in text
