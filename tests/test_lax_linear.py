"""dot_general, conv_general_dilated and reduce_window against jax.lax: values (eager and
jit), jvp/vjp, vmap (either or both operands batched), and the StableHLO we emit."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.lax as flax
from harness import (Rec, assert_close, check_jvp_vjp, check_values, check_vmap, make_args,
                     numerical_jvp)

F32 = np.float32
NHWC = ("NHWC", "HWIO", "NHWC")


def dot_rec(name, ls, rs, dn, **kw):
    return Rec(name, lambda x, y: flax.dot_general(x, y, dn, **kw),
               lambda x, y: jax.lax.dot_general(x, y, dn, **kw),
               [(ls, F32), (rs, F32)], rtol=1e-5, atol=1e-5, grad_argnums=(0, 1))


DOT_RECS = [
    dot_rec("matmul", (3, 4), (4, 5), (((1,), (0,)), ((), ()))),
    dot_rec("vector", (4,), (4,), (((0,), (0,)), ((), ()))),
    dot_rec("batch_matmul", (2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,)))),
    dot_rec("batch_last", (3, 4, 2), (4, 2, 5), (((1,), (0,)), ((2,), (1,)))),
    dot_rec("two_contract", (3, 4, 2), (2, 5, 4), (((1, 2), (2, 0)), ((), ()))),
    dot_rec("outer", (3,), (5,), (((), ()), ((), ()))),
]


def conv_rec(name, ls, rs, **kw):
    return Rec(name, lambda x, w: flax.conv_general_dilated(x, w, **kw),
               lambda x, w: jax.lax.conv_general_dilated(x, w, **kw),
               [(ls, F32), (rs, F32)], rtol=1e-4, atol=1e-4, grad_argnums=(0, 1))


CONV_RECS = [
    conv_rec("nchw_same", (2, 3, 9, 9), (4, 3, 3, 3), window_strides=(1, 1), padding="SAME"),
    conv_rec("strides_rhs_dilation", (2, 3, 9, 8), (4, 3, 3, 2), window_strides=(2, 1),
             padding="VALID", rhs_dilation=(2, 1)),
    conv_rec("lhs_dilation_pads", (2, 3, 7, 6), (4, 3, 3, 3), window_strides=(1, 2),
             padding=((1, 2), (0, 1)), lhs_dilation=(2, 1)),
    conv_rec("nhwc_feature_groups", (2, 9, 9, 4), (3, 3, 2, 6), window_strides=(1, 1),
             padding="SAME", dimension_numbers=NHWC, feature_group_count=2),
    conv_rec("nhwc_stride2_same", (2, 8, 8, 4), (3, 3, 4, 5), window_strides=(2, 2),
             padding="SAME", dimension_numbers=NHWC),
    conv_rec("depthwise", (2, 7, 7, 4), (3, 3, 1, 8), window_strides=(1, 1), padding="SAME",
             dimension_numbers=NHWC, feature_group_count=4),
    conv_rec("batch_groups", (4, 3, 7, 7), (6, 3, 3, 3), window_strides=(1, 1),
             padding="VALID", batch_group_count=2),
    conv_rec("conv1d_same_lower", (2, 3, 10), (4, 3, 3), window_strides=(2,),
             padding="SAME_LOWER"),
    conv_rec("conv3d", (1, 5, 5, 5, 2), (3, 3, 3, 2, 4), window_strides=(1, 2, 1),
             padding="SAME", dimension_numbers=("NDHWC", "DHWIO", "NDHWC")),
]

WRAPPER_RECS = [
    Rec("conv", lambda x, w: flax.conv(x, w, (1, 2), "VALID"),
        lambda x, w: jax.lax.conv(x, w, (1, 2), "VALID"),
        [((2, 3, 8, 8), F32), ((4, 3, 3, 3), F32)], rtol=1e-4, atol=1e-4,
        grad_argnums=(0, 1)),
    Rec("conv_with_general_padding",
        lambda x, w: flax.conv_with_general_padding(x, w, (1, 1), ((1, 0), (2, 1)), (1, 2),
                                                    (2, 1)),
        lambda x, w: jax.lax.conv_with_general_padding(x, w, (1, 1), ((1, 0), (2, 1)),
                                                       (1, 2), (2, 1)),
        [((2, 3, 6, 6), F32), ((4, 3, 2, 3), F32)], rtol=1e-4, atol=1e-4,
        grad_argnums=(0, 1)),
    Rec("conv_transpose_same", lambda x, w: flax.conv_transpose(x, w, (2, 2), "SAME"),
        lambda x, w: jax.lax.conv_transpose(x, w, (2, 2), "SAME"),
        [((2, 5, 5, 3), F32), ((3, 3, 3, 4), F32)], rtol=1e-4, atol=1e-4,
        grad_argnums=(0, 1)),
    Rec("conv_transpose_valid_flip",
        lambda x, w: flax.conv_transpose(x, w, (2, 1), "VALID", transpose_kernel=True),
        lambda x, w: jax.lax.conv_transpose(x, w, (2, 1), "VALID", transpose_kernel=True),
        [((2, 5, 4, 3), F32), ((3, 2, 4, 3), F32)], rtol=1e-4, atol=1e-4,
        grad_argnums=(0, 1)),
]


def pool_rec(name, kind, shape, window, strides, padding, base=None, wdil=None,
             grad=True):
    ours_comp, ref_comp, init = {"max": (flax.max, jax.lax.max, -np.inf),
                                 "min": (flax.min, jax.lax.min, np.inf),
                                 "sum": (flax.add, jax.lax.add, 0.0)}[kind]
    return Rec(name, lambda x: flax.reduce_window(x, init, ours_comp, window, strides,
                                                  padding, base, wdil),
               lambda x: jax.lax.reduce_window(x, init, ref_comp, window, strides, padding,
                                               base, wdil),
               [(shape, F32)], rtol=1e-5, atol=1e-5, grad_argnums=(0,) if grad else ())


POOL_RECS = [
    pool_rec("maxpool_same", "max", (2, 9, 9, 3), (1, 3, 3, 1), (1, 2, 2, 1), "SAME"),
    pool_rec("maxpool_valid", "max", (2, 3, 8, 8), (1, 1, 2, 2), (1, 1, 2, 2), "VALID"),
    pool_rec("minpool_pads", "min", (2, 7, 6), (1, 3, 2), (1, 1, 2),
             ((0, 0), (1, 2), (0, 1))),
    pool_rec("sumpool_same", "sum", (2, 9, 9, 3), (1, 3, 3, 1), (1, 2, 2, 1), "SAME"),
    pool_rec("sum_dilations", "sum", (7, 6), (2, 3), (2, 1), ((1, 0), (0, 2)), (2, 1),
             (1, 2)),
    pool_rec("max_base_dilation", "max", (5, 6), (2, 2), (1, 2), ((1, 0), (0, 1)), (2, 1)),
    pool_rec("sum_1d", "sum", (10,), (4,), (3,), "VALID"),
    # windows that tile the (padded) operand: the reshape + reduce lowering
    pool_rec("maxpool_tiled_pads", "max", (2, 5, 6, 3), (1, 3, 2, 1), (1, 3, 2, 1),
             ((0, 0), (1, 0), (0, 0), (0, 0))),
    pool_rec("sumpool_tiled_same", "sum", (2, 8, 6, 3), (1, 2, 2, 1), (1, 2, 2, 1), "SAME"),
    pool_rec("minpool_tiled_1d", "min", (2, 9), (1, 3), (1, 3), "VALID"),
]


@pytest.mark.parametrize("rec", DOT_RECS + CONV_RECS + WRAPPER_RECS + POOL_RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", DOT_RECS + CONV_RECS + WRAPPER_RECS + POOL_RECS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", DOT_RECS + CONV_RECS + POOL_RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec)
    check_vmap(rec, in_axis=1)


@pytest.mark.parametrize("rec", DOT_RECS + CONV_RECS, ids=str)
def test_vmap_rhs_only(rec):
    x, w = make_args(rec)
    wb = np.stack([w, 2 * w, -w], axis=-1)
    got = fl.vmap(rec.ours, in_axes=(None, -1))(x, wb)
    want = jax.vmap(rec.ref, in_axes=(None, -1))(x, wb)
    assert_close(got, want, rec.rtol, rec.atol, f"{rec.name} rhs batched")


def test_conv_grad_matches_finite_differences():
    rec = CONV_RECS[3]
    x, w = make_args(rec)
    f = lambda x, w: fl.numpy.sum(flax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=NHWC, feature_group_count=2) ** 2)
    tx, tw = np.random.RandomState(5).randn(*x.shape), np.random.RandomState(6).randn(*w.shape)
    _, t = fl.jvp(f, (x, w), (tx.astype(F32), tw.astype(F32)))
    ref = lambda x, w: np.sum(np.asarray(jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=NHWC, feature_group_count=2,
        precision="highest")) ** 2)
    want = numerical_jvp(lambda x, w: ref(x.astype(F32), w.astype(F32)), (x, w), (tx, tw),
                         eps=1e-2)
    np.testing.assert_allclose(float(t), want, rtol=2e-2)


def test_conv_second_order_grad():
    x, w = make_args(CONV_RECS[0])
    f = lambda w: flax.conv_general_dilated(x, w, (1, 1), "SAME")
    ours = fl.grad(lambda w: fl.numpy.sum(fl.grad(lambda v: fl.numpy.sum(f(v) ** 3))(w)))(w)
    fr = lambda w: jax.lax.conv_general_dilated(x, w, (1, 1), "SAME")
    ref = jax.grad(lambda w: jnp.sum(jax.grad(lambda v: jnp.sum(fr(v) ** 3))(w)))(w)
    assert_close(ours, ref, 1e-3, 1e-3, "conv second order")


def test_conv_lowering_text():
    x, w = np.ones((2, 8, 8, 3), F32), np.ones((3, 3, 3, 4), F32)
    text = fl.jit(lambda x, w: flax.conv_general_dilated(
        x, w, (2, 1), "SAME", rhs_dilation=(1, 2), dimension_numbers=NHWC)).lower(x, w).as_text()
    assert "stablehlo.convolution" in text
    assert "#stablehlo.conv<[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]>" in text
    assert "window_strides = array<i64: 2, 1>" in text
    assert "rhs_dilation = array<i64: 1, 2>" in text
    assert "feature_group_count = 1 : i64" in text


def test_overlapping_maxpool_lowering_uses_select_and_scatter():
    x = np.ones((1, 6, 6, 2), F32)
    pool = lambda x: flax.reduce_window(x, -np.inf, flax.max, (1, 2, 2, 1), (1, 1, 1, 1),
                                        "VALID")
    text = fl.jit(fl.grad(lambda x: fl.numpy.sum(pool(x)))).lower(x).as_text()
    assert "stablehlo.select_and_scatter" in text
    text = fl.jit(lambda x, t: fl.jvp(pool, (x,), (t,))).lower(x, x).as_text()
    assert text.count("stablehlo.reduce_window") == 2


def test_conv_errors_name_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3, 8, 8\)"):
        flax.conv_general_dilated(np.ones((2, 3, 8, 8), F32), np.ones((4, 2, 3, 3), F32),
                                  (1, 1), "SAME")
    with pytest.raises(TypeError, match="dimension_numbers"):
        flax.conv_general_dilated(np.ones((2, 3, 8, 8), F32), np.ones((4, 3, 3, 3), F32),
                                  (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCH"))


def test_conv_dimension_numbers_helpers():
    for spec in [NHWC, ("NCHW", "OIHW", "NCHW"), ("NWHC", "WHIO", "NCWH")]:
        ours = flax.conv_dimension_numbers((1,) * 4, (1,) * 4, spec)
        ref = jax.lax.conv_dimension_numbers((1,) * 4, (1,) * 4, spec)
        assert tuple(map(tuple, ours)) == tuple(map(tuple, ref))
    assert flax.padtype_to_pads((7, 8), (3, 2), (2, 3), "SAME") == \
        tuple(map(tuple, jax.lax.padtype_to_pads((7, 8), (3, 2), (2, 3), "SAME")))


def test_dot_general_preferred_element_type():
    x = np.arange(12, dtype=np.int8).reshape(3, 4)
    y = np.arange(8, dtype=np.int8).reshape(4, 2)
    dn = (((1,), (0,)), ((), ()))
    got = flax.dot_general(x, y, dn, preferred_element_type=np.int32)
    assert_close(got, jax.lax.dot_general(x, y, dn, preferred_element_type=jnp.int32), 0, 0)
    xf, yf = x.astype(np.float16), y.astype(np.float16)
    got = flax.dot_general(xf, yf, dn, preferred_element_type=np.float32)
    want = jax.lax.dot_general(xf, yf, dn, preferred_element_type=jnp.float32)
    assert_close(got, want, 1e-3, 1e-3, "f16 -> f32")
    g = fl.grad(lambda a: fl.numpy.sum(flax.dot_general(a, yf, dn,
                                                          preferred_element_type=np.float32)))
    gr = jax.grad(lambda a: jnp.sum(jax.lax.dot_general(a, yf, dn,
                                                        preferred_element_type=jnp.float32)))
    assert_close(g(xf), gr(xf), 1e-3, 1e-3, "grad f16")


def test_precision_reaches_the_lowering():
    x = np.ones((2, 3), F32)
    dn = (((1,), (1,)), ((), ()))
    text = fl.jit(lambda x: flax.dot_general(x, x, dn, precision=flax.Precision.HIGHEST)
                  ).lower(x).as_text()
    assert "precision_config = [#stablehlo<precision HIGHEST>, #stablehlo<precision " \
           "HIGHEST>]" in text
    got = flax.dot_general(x, x, dn, precision=(jax.lax.Precision.HIGH, "highest"))
    assert_close(got, x @ x.T, 0, 0, "dot with precision")
    unset = fl.jit(lambda x: flax.dot_general(x, x, dn)).lower(x).as_text()
    assert "precision_config = [#stablehlo<precision DEFAULT>, #stablehlo<precision " \
           "DEFAULT>]" in unset  # written out, as JAX does
