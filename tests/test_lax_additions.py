"""The rest of jax.lax against JAX: split/stack/unstack/tile, mulhi, reduce_precision,
total-order comparisons, log2/one_minus_square/polynomial, rng_bit_generator,
approx_top_k, barriers, custom_linear_solve/custom_root, composite,
platform_dependent, scatter_sub, generic reduce_window and select_and_scatter, the dot
variants, patches and locally connected convolutions, and the `*_p` names."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.lax as flax
import functorch_lite.numpy as fnp
from harness import Rec, assert_close, check_jvp_vjp, check_values, check_vmap, make_args

F32, I32 = np.float32, np.int32
S = (3, 4)
SDN = jax.lax.ScatterDimensionNumbers((1,), (0,), (0,))
IDX = np.array([[0], [2], [0]], I32)


def rec(name, ours, ref, specs, grad=(0,), **kw):
    return Rec(name, ours, ref, specs, grad_argnums=grad, rtol=kw.pop("rtol", 1e-5),
               atol=kw.pop("atol", 1e-5), **kw)


def _reduce_window_pair(lax_mod):
    """A windowed (sum, max) over a pair of operands: the generic reduce_window."""
    return lambda x: lax_mod.reduce_window(
        (x, 2 * x), (0.0, -np.inf), lambda a, b: (a[0] + b[0], lax_mod.max(a[1], b[1])),
        (2, 2), (1, 2), "SAME")


def _ragged_contracting(lax_mod):
    dn = lax_mod.RaggedDotDimensionNumbers((([1], [0]), ([], [])), [1], [])
    return lambda a, b: lax_mod.ragged_dot_general(a, b, np.array([1, 3], I32), dn)


RECS = [
    rec("split", lambda x: flax.split(x, (1, 3), 1), lambda x: jax.lax.split(x, (1, 3), 1),
        [(S, F32)]),
    rec("stack", lambda x, y: flax.stack([x, y], 1), lambda x, y: jax.lax.stack([x, y], 1),
        [(S, F32), (S, F32)], grad=(0, 1)),
    rec("unstack", lambda x: flax.unstack(x, 1), lambda x: jax.lax.unstack(x, 1), [(S, F32)]),
    rec("tile", lambda x: flax.tile(x, (2, 3)), lambda x: jax.lax.tile(x, (2, 3)), [(S, F32)]),
    rec("mulhi", flax.mulhi, jax.lax.mulhi, [np.array([[7, -9, 2 ** 30], [5, 1 << 20, -1]],
                                                      I32)] * 2, grad=()),
    rec("mulhi_u32", flax.mulhi, jax.lax.mulhi, [np.array([3, 2 ** 31 + 5, 9], np.uint32),
                                                np.array([2 ** 31, 7, 2 ** 32 - 1],
                                                         np.uint32)], grad=()),
    rec("reduce_precision", lambda x: flax.reduce_precision(x, 5, 10),
        lambda x: jax.lax.reduce_precision(x, 5, 10), [(S, F32)]),
    rec("log2", flax.log2, jnp.log2, [(S, F32)], domain="positive"),
    rec("one_minus_square", flax.one_minus_square, lambda x: 1 - x * x, [(S, F32)]),
    rec("polynomial", lambda x, c0, c2: flax.polynomial(x, [c0, 2.0 * x, c2]),
        lambda x, c0, c2: c0 + x * (2.0 * x + x * c2), [(S, F32)] * 3, grad=(0, 1, 2)),
    rec("approx_max_k", lambda x: flax.approx_max_k(x, 2),
        lambda x: jax.lax.approx_max_k(x, 2), [(S, F32)]),
    rec("approx_min_k_axis0", lambda x: flax.approx_min_k(x, 2, 0),
        lambda x: jax.lax.approx_min_k(x, 2, 0), [(S, F32)]),
    rec("optimization_barrier", lambda x, y: flax.optimization_barrier((x, 2 * y)),
        lambda x, y: jax.lax.optimization_barrier((x, 2 * y)), [(S, F32)] * 2, grad=(0, 1)),
    rec("scatter_sub", lambda x, u: flax.scatter_sub(x, IDX, u, SDN),
        lambda x, u: jax.lax.scatter_sub(x, IDX, u, SDN), [(S, F32), ((3, 4), F32)],
        grad=(0, 1)),
    rec("reduce_window_generic", _reduce_window_pair(flax), _reduce_window_pair(jax.lax),
        [((4, 6), F32)]),
    rec("dot", lambda x, y: flax.dot(x, y), lambda x, y: jax.lax.dot(x, y),
        [(S, F32), ((4, 2), F32)], grad=(0, 1)),
    rec("batch_matmul", flax.batch_matmul, jax.lax.batch_matmul,
        [((2, 3, 4), F32), ((2, 4, 5), F32)], grad=(0, 1)),
    rec("index_take", lambda x: flax.index_take(x, (np.array([0, 2, -1]),), (0,)),
        lambda x: jax.lax.index_take(x, (np.array([0, 2, -1]),), (0,)), [(S, F32)]),
    rec("broadcast_to_rank", lambda x: flax.broadcast_to_rank(x, 4),
        lambda x: jax.lax.broadcast_to_rank(x, 4), [(S, F32)]),
    rec("patches", lambda x: flax.conv_general_dilated_patches(x, (2, 3), (1, 2), "SAME"),
        lambda x: jax.lax.conv_general_dilated_patches(x, (2, 3), (1, 2), "SAME"),
        [((2, 3, 5, 6), F32)], rtol=1e-4, atol=1e-4),
    rec("conv_local", lambda x, w: flax.conv_general_dilated_local(
        x, w, (1, 1), "VALID", (2, 2), dimension_numbers=("NHWC", "HWIO", "NHWC")),
        lambda x, w: jax.lax.conv_general_dilated_local(
            x, w, (1, 1), "VALID", (2, 2), dimension_numbers=("NHWC", "HWIO", "NHWC")),
        [((2, 4, 5, 3), F32), ((3, 4, 12, 2), F32)], grad=(0, 1), rtol=1e-4, atol=1e-4),
    rec("ragged_dot", lambda a, b: flax.ragged_dot(a, b, np.array([2, 0, 4], I32)),
        lambda a, b: jax.lax.ragged_dot(a, b, np.array([2, 0, 4], I32)),
        [((6, 3), F32), ((3, 3, 4), F32)], grad=(0, 1)),
    rec("ragged_dot_contracting", _ragged_contracting(flax), _ragged_contracting(jax.lax),
        [((3, 4), F32), ((4, 5), F32)], grad=()),  # JAX has no VJP here: see below
]
VMAP_RECS = [r for r in RECS if not r.name.startswith(("mulhi", "dot", "broadcast_to",
                                                       "ragged"))]


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.grad_argnums and
                                 r.name != "reduce_window_generic"], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


def test_ragged_dot_contracting_derivatives():
    """JAX differentiates this mode forwards only; ours (a dense composition) also
    backwards, checked against the VJP of the group-by-group products."""
    a, b = make_args(RECS[[r.name for r in RECS].index("ragged_dot_contracting")])
    ours, ref = _ragged_contracting(flax), _ragged_contracting(jax.lax)
    assert_close(fl.jvp(ours, (a, b), (a, b)), jax.jvp(ref, (a, b), (a, b)),
                 1e-5, 1e-5, "jvp")
    ct = np.random.RandomState(3).randn(2, 3, 5).astype(F32)
    by_group = lambda a, b: jnp.stack([a[:, :1] @ b[:1], a[:, 1:] @ b[1:]])  # sizes 1, 3
    assert_close(fl.vjp(ours, a, b)[1](ct), jax.vjp(by_group, a, b)[1](ct), 1e-5, 1e-5,
                 "vjp")


def test_generic_reduce_window_derivatives():
    """Forward mode as JAX; reverse mode has no transpose (in JAX neither)."""
    x, t = np.random.RandomState(0).randn(2, 4, 6).astype(F32)
    assert_close(fl.jvp(_reduce_window_pair(flax), (x,), (t,)),
                 jax.jvp(_reduce_window_pair(jax.lax), (x,), (t,)), 1e-5, 1e-5, "jvp")
    with pytest.raises(NotImplementedError, match="no transpose rule for 'reduce_window'"):
        fl.grad(lambda x: _reduce_window_pair(flax)(x)[0].sum())(x)


@pytest.mark.parametrize("rec", VMAP_RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec, in_axis=1)


@pytest.mark.parametrize("name", ["ragged_dot", "ragged_dot_contracting"])
def test_vmap_ragged(name):
    """JAX's batching rule rejects most batch positions: compare with a loop."""
    rec = RECS[[r.name for r in RECS].index(name)]
    a, b = make_args(rec)
    a_s, b_s = np.stack([a, 2 * a, -a], 1), np.stack([b, b + 1, b], -1)
    want = np.stack([rec.ref(a_s[:, i], b_s[..., i]) for i in range(3)])
    assert_close(fl.vmap(rec.ours, (1, -1))(a_s, b_s), want, 1e-5, 1e-5, name)


@pytest.mark.parametrize("prim", ["eq_to", "le_to", "lt_to"])
def test_total_order_comparisons(prim):
    """-0 < +0 and NaNs ordered, as JAX's sort comparators see them."""
    x = np.array([0.0, -0.0, np.nan, 1.0, -np.inf, np.nan], F32)
    y = np.array([-0.0, 0.0, 1.0, np.nan, -np.inf, np.nan], F32)
    ours = getattr(flax, prim + "_p")
    theirs = getattr(jax.lax, prim + "_p")
    assert_close(fl.jit(lambda a, b: ours.bind(a, b))(x, y), theirs.bind(x, y), 0, 0, prim)


def test_rng_bit_generator_matches_jax_bits():
    key = np.array([1, 2, 3, 4], np.uint32)
    for shape, dtype in [((2, 3), np.uint32), ((5,), np.uint8), ((4,), np.uint16)]:
        assert_close(flax.rng_bit_generator(key, shape, dtype),
                     jax.lax.rng_bit_generator(key, shape, dtype), 0, 0, str(dtype))
    keys = np.stack([key, key + 7])
    f = lambda lax_mod: lambda k: lax_mod.rng_bit_generator(
        k, (3,), algorithm=lax_mod.RandomAlgorithm.RNG_THREE_FRY)
    assert_close(fl.vmap(f(flax))(keys), jax.vmap(f(jax.lax))(keys), 0, 0, "vmap")
    with pytest.raises(TypeError, match="unsupported dtype"):
        flax.rng_bit_generator(key, (2,), np.int32)


def test_rng_uniform_range():
    """Stateful and backend defined (JAX's values differ run to run): shape, dtype and
    range only."""
    out = np.asarray(flax.rng_uniform(np.float32(2), np.float32(3), (50,)))
    assert out.shape == (50,) and out.dtype == F32 and ((out >= 2) & (out < 3)).all()


def test_stage_dce_sink_and_device_put():
    assert_close(flax.stage(1.5), jax.lax.stage(1.5), 0, 0, "stage")
    assert flax.stage(1.5).weak_type
    f = lambda x: (flax.dce_sink(x * 3), x + 1)[1]
    assert_close(fl.jit(f)(np.ones(3, F32)), np.full(3, 2, F32), 0, 0, "dce_sink")
    jaxpr = str(fl.make_jaxpr(lambda x: fl.device_put(x) * 2)(np.ones(2, F32)))
    assert "device_put" in jaxpr
    assert_close(fl.grad(lambda x: fl.device_put(x) * 2)(1.0),
                 jax.grad(lambda x: jax.device_put(x) * 2)(1.0), 0, 0, "grad")


def _spd(n=3):
    a = np.random.RandomState(0).randn(n, n).astype(F32)
    return a @ a.T + n * np.eye(n, dtype=F32)


def _linear_solve(np_, lax_mod, symmetric=False):
    def f(m, b):
        matvec = lambda v: m @ v
        solve = lambda mv, r: np_.linalg.solve(m, r)
        return lax_mod.custom_linear_solve(matvec, b, solve, symmetric=symmetric,
                                           transpose_solve=None if symmetric else
                                           lambda vm, r: np_.linalg.solve(m.T, r))
    return f


@pytest.mark.parametrize("symmetric", [False, True])
def test_custom_linear_solve(symmetric):
    m, b = _spd(), np.arange(3, dtype=F32)
    ours, ref = _linear_solve(fnp, flax, symmetric), _linear_solve(jnp, jax.lax, symmetric)
    rec = Rec("custom_linear_solve", ours, ref, [m, b], rtol=1e-4, atol=1e-4,
              grad_argnums=(0, 1))
    check_values(rec)
    check_jvp_vjp(rec)
    bs = np.stack([b, b + 1, -b])
    assert_close(fl.vmap(ours, (None, 0))(m, bs), jax.vmap(ref, (None, 0))(m, bs), 1e-4,
                 1e-4, "vmap")
    with pytest.raises(TypeError, match="transpose_solve required"):
        fl.grad(lambda b: flax.custom_linear_solve(
            lambda v: m @ v, b, lambda mv, r: fnp.linalg.solve(m, r)).sum())(b)


def _sqrt_root(lax_mod, np_):
    newton = lambda f, y0: lax_mod.fori_loop(0, 30, lambda i, y: y - f(y) / (2 * y), y0)
    return lambda c: lax_mod.custom_root(lambda y: y ** 2 - c, np_.ones_like(c), newton,
                                         lambda g, y: y / g(np_.ones_like(y)))


def test_custom_root():
    c = np.array([2.0, 9.0, 0.5], F32)
    ours, ref = _sqrt_root(fl.lax, fnp), _sqrt_root(jax.lax, jnp)
    assert_close(fl.jit(ours)(c), ref(c), 1e-5, 1e-5, "value")
    g = lambda f: lambda c: f(c).sum()
    assert_close(fl.grad(g(ours))(c), jax.grad(g(ref))(c), 1e-5, 1e-5, "grad")
    cs = np.stack([c, c + 1])
    assert_close(fl.vmap(ours)(cs), jax.vmap(ref)(cs), 1e-5, 1e-5, "vmap")


def test_composite_lowers_to_stablehlo_composite():
    ours = flax.composite(lambda x, *, n: x * n, name="my.mul", version=2)
    x = np.arange(3, dtype=F32)
    assert_close(ours(x, n=3.0), x * 3, 0, 0, "eager")
    assert_close(fl.jit(lambda x: ours(x, n=3.0))(x), x * 3, 0, 0, "jit")
    text = fl.jit(lambda x: ours(x, n=3.0)).lower(x).as_text()
    assert '"stablehlo.composite"' in text and 'name = "my.mul"' in text
    assert "composite_attributes = {n = 3.0 : f64}" in text and "version = 2 : i32" in text
    with pytest.raises(ValueError, match="JVP rule for composite not implemented"):
        fl.jvp(lambda x: ours(x, n=3.0), (x,), (x,))


def test_platform_dependent():
    x = np.ones(2, F32)
    assert_close(flax.platform_dependent(x, cpu=lambda x: x + 1, default=lambda x: x - 1),
                 jax.lax.platform_dependent(x, cpu=lambda x: x + 1, default=lambda x: x - 1),
                 0, 0, "cpu")
    assert_close(flax.platform_dependent(x, tpu=lambda x: x + 1, default=lambda x: x - 1),
                 x - 1, 0, 0, "default")
    with pytest.raises(NotImplementedError, match="no function for platform"):
        flax.platform_dependent(x, tpu=lambda x: x)


def test_select_and_scatter_matches_jax():
    from jax._src.lax.windowed_reductions import _select_and_scatter
    from functorch_lite.lax._reductions import _computation_program
    from jax import tree_util
    x = np.random.RandomState(0).randn(4, 6).astype(F32)
    source = np.random.RandomState(1).randn(2, 3).astype(F32)
    leaf = tree_util.tree_structure(0.0)
    params = dict(window_dimensions=(2, 2), window_strides=(2, 2), padding=((0, 0), (0, 0)))
    ours = flax.select_and_scatter_p.bind(
        x, source, np.float32(0), select_program=_computation_program(flax.ge, leaf, [F32]),
        scatter_program=_computation_program(flax.add, leaf, [F32]), **params)
    want = _select_and_scatter(x, jax.lax.ge, params["window_dimensions"],
                               params["window_strides"], params["padding"], source,
                               np.float32(0), jax.lax.add)
    assert_close(ours, want, 0, 0, "select_and_scatter")


def test_scaled_dot_float8():
    rng = np.random.RandomState(0)
    a = jnp.asarray(rng.randn(2, 64), jnp.float8_e4m3fn)
    b = jnp.asarray(rng.randn(3, 64), jnp.float8_e4m3fn)
    s = jnp.asarray(rng.rand(2, 2) + 0.5, jnp.float8_e8m0fnu)
    t = jnp.asarray(rng.rand(3, 2) * 4, jnp.float8_e8m0fnu)
    dn = (((1,), (1,)), ((), ()))
    f = lambda lax_mod: lambda a, s: lax_mod.scaled_dot(a, b, lhs_scale=s, rhs_scale=t,
                                                        dimension_numbers=dn)
    assert_close(fl.jit(f(flax))(a, s), f(jax.lax)(a, s), 0, 0, "scaled_dot")
    stacked = (jnp.stack([a, a]), jnp.stack([s, s]))
    assert_close(fl.vmap(f(flax))(*stacked), jax.vmap(f(jax.lax))(*stacked), 0, 0, "vmap")
    assert "xla.scaled_dot" in fl.jit(f(flax)).lower(a, s).as_text()


def test_shape_helpers_and_types():
    assert flax.conv_transpose_shape_tuple((2, 3, 9, 9), (4, 3, 3, 3), (2, 2), "SAME",
                                           ("NCHW", "OIHW", "NCHW")) == \
        jax.lax.conv_transpose_shape_tuple((2, 3, 9, 9), (4, 3, 3, 3), (2, 2), "SAME",
                                           ("NCHW", "OIHW", "NCHW"))
    args = ((7, 8), (3, 2), (2, 3), ((1, 1), (0, 2)), (2, 1), (1, 2))
    assert flax.reduce_window_shape_tuple(*args) == jax.lax.reduce_window_shape_tuple(*args)
    assert flax.broadcast_shapes((3, 1), (4,)) == jax.lax.broadcast_shapes((3, 1), (4,))
    assert_close(flax.broadcast_like(np.ones(4, F32), np.ones(S)),
                 jax.lax.broadcast_like(np.ones(4, F32), np.ones(S)), 0, 0, "like")
    assert flax.empty((2, 3), jnp.int8).shape == (2, 3)
    assert flax.empty((2, 3), jnp.int8).dtype == jax.lax.empty((2, 3), jnp.int8).dtype
    assert_close(flax.shape_as_value((2, 3)), jax.lax.shape_as_value((2, 3)), 0, 0, "shape")
    for v in (1.0, 3, np.float64(2), np.ones(2, np.int64)):
        assert flax.dtype(v) == jax.lax.dtype(v), v
    assert [m.value for m in flax.FftType] == [m.value for m in jax.lax.FftType]
    assert [m.name for m in flax.RandomAlgorithm] == [m.name for m in jax.lax.RandomAlgorithm]
    assert [m.name for m in flax.DotAlgorithmPreset] == \
        [m.name for m in jax.lax.DotAlgorithmPreset]
    assert [m.name for m in flax.AccuracyMode] == [m.name for m in jax.lax.AccuracyMode]
    with pytest.raises(ValueError, match="At least one"):
        flax.Tolerance()


def test_axis_size():
    x = np.ones((2, 3), F32)
    f = lambda lax_mod: lambda x: x * lax_mod.axis_size(("i", "j"))
    nested = lambda vmap, lax_mod: vmap(vmap(f(lax_mod), axis_name="j"), axis_name="i")
    assert_close(nested(fl.vmap, flax)(x), nested(jax.vmap, jax.lax)(x), 0, 0, "nested")
    assert_close(fl.vmap(fl.jit(lambda x: x * flax.axis_size("i")), axis_name="i")(x),
                 np.full_like(x, 2), 0, 0, "under jit")


def test_primitives_under_their_jax_names():
    """Programs are made of the exported `*_p` objects, named as JAX names them."""
    program = fl.make_jaxpr(lambda x, y: fnp.logical_and(x > 0, y > 0) & ~(x < y))(
        np.ones(2, F32), np.ones(2, F32))
    prims = {e.primitive for e in program.program.equations} if hasattr(
        program, "program") else None
    names = {n for n in dir(jax.lax) if n.endswith("_p")} & set(dir(flax))
    assert {"add_p", "and_p", "not_p", "while_p", "cond_p", "scan_p", "fft_p",
            "split_p", "reduce_precision_p"} <= names
    for name in names:
        assert getattr(flax, name).name == getattr(jax.lax, name).name, name
    if prims is not None:
        assert flax.and_p in prims and flax.not_p in prims


def test_eig_eigenvector_derivatives_when_enabled():
    """lax.linalg.eig: eigenvector JVPs only with enable_eigvec_derivs=True, as JAX."""
    a, t = np.random.RandomState(0).randn(2, 3, 3).astype(F32)
    f = lambda lax_mod: lambda a: lax_mod.linalg.eig(a, enable_eigvec_derivs=True)
    assert_close(fl.jvp(f(flax), (a,), (t,)), jax.jvp(f(jax.lax), (a,), (t,)), 1e-4, 1e-4,
                 "jvp")
    with pytest.raises(NotImplementedError, match="enable_eigvec_derivs=True"):
        fl.jvp(flax.linalg.eig, (a,), (t,))
