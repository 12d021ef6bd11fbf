"""The rest of jax.numpy against JAX: convolutions, polynomials, histograms, calculus,
floating-point and integer helpers, selection and insertion, index tricks, set
routines, vectorize/ufunc, products, windows, dtype names, I/O, eig/eigvals and the
jax.nn additions. Values eager and under jit; gradients and vmap where defined."""
import io

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import Rec, assert_close, check_jvp_vjp, check_values, check_vmap

F32, I32 = np.float32, np.int32
V5, V3, M34 = ((5,), F32), ((3,), F32), ((3, 4), F32)
INTS = np.array([[12, -18, 7, 0], [9, 6, -4, 15]], I32)
INTS2 = np.array([[8, 24, 0, 5], [-6, 4, 10, 0]], I32)


def rec(name, fn, specs, grad=(), jit=True, **kw):
    """`fn(np_module, *args)` with functorch_lite.numpy against jax.numpy."""
    r = Rec(name, lambda *a: fn(fnp, *a), lambda *a: fn(jnp, *a), specs,
            grad_argnums=grad, rtol=kw.pop("rtol", 1e-5), atol=kw.pop("atol", 1e-5), **kw)
    r.jit = jit
    return r


RECS = [
    # convolutions
    rec("convolve_full", lambda np_, a, v: np_.convolve(a, v), [V5, V3], grad=(0, 1)),
    rec("convolve_same_long_v", lambda np_, a, v: np_.convolve(v, a, mode="same"), [V5, V3],
        grad=(0, 1)),
    rec("correlate_valid", lambda np_, a, v: np_.correlate(a, v), [V5, V3], grad=(0, 1)),
    rec("correlate_full_swapped", lambda np_, a, v: np_.correlate(v, a, mode="full"),
        [V5, V3], grad=(0, 1)),
    # polynomials
    rec("poly", lambda np_, r: np_.poly(r), [V3], grad=(0,)),
    rec("polyval", lambda np_, p, x: np_.polyval(p, x), [V3, M34], grad=(0, 1)),
    rec("polyfit", lambda np_, x, y: np_.polyfit(x, y, 2), [((8,), F32), ((8,), F32)],
        grad=(1,), rtol=1e-3, atol=1e-3, grad_rtol=1e-2),
    rec("polyfit_weights_cov", lambda np_, x, y, w: np_.polyfit(x, y, 1, w=w, cov=True),
        [((8,), F32), ((8,), F32), ((8,), F32)], rtol=1e-3, atol=1e-3, domain="positive"),
    rec("polyadd", lambda np_, a, b: np_.polyadd(a, b), [V5, V3], grad=(0, 1)),
    rec("polysub", lambda np_, a, b: np_.polysub(b, a), [V5, V3], grad=(0, 1)),
    rec("polymul", lambda np_, a, b: np_.polymul(a, b), [V5, V3], grad=(0, 1)),
    rec("polydiv", lambda np_, a, b: np_.polydiv(a, b), [V5, V3], grad=(0, 1), rtol=1e-4,
        atol=1e-4),
    rec("polyder", lambda np_, p: np_.polyder(p, 2), [V5], grad=(0,)),
    rec("polyint", lambda np_, p: np_.polyint(p, 2, k=3.0), [V5], grad=(0,)),
    rec("vander", lambda np_, x: np_.vander(x, 4, increasing=True), [V5], grad=(0,)),
    # calculus
    rec("gradient", lambda np_, f: np_.gradient(f), [M34], grad=(0,)),
    rec("gradient_coords_axis", lambda np_, f, x: np_.gradient(f, x, axis=1),
        [M34, np.array([0.0, 0.5, 1.5, 3.0], F32)], grad=(0,)),
    rec("trapezoid_dx", lambda np_, y: np_.trapezoid(y, dx=0.5, axis=0), [M34], grad=(0,)),
    rec("trapezoid_x", lambda np_, y, x: np_.trapezoid(y, x), [M34,
        np.array([0.0, 0.3, 1.0, 2.5], F32)], grad=(0, 1)),
    rec("unwrap", lambda np_, p: np_.unwrap(p * 4), [((10,), F32)], grad=(0,)),
    # floating point and integers
    rec("frexp", lambda np_, x: np_.frexp(x * 100), [M34]),
    rec("frexp_mantissa", lambda np_, x: np_.frexp(x * 100)[0], [M34], grad=(0,)),
    rec("frexp_specials", lambda np_, x: np_.frexp(x),  # (subnormals: XLA versions differ)
        [np.array([0.0, -0.0, np.inf, 1e-30, 3.0, np.nan], F32)]),
    rec("ldexp", lambda np_, x, e: np_.ldexp(x, e),
        [M34, (np.arange(12).reshape(3, 4) % 5 - 2).astype(I32)]),
    rec("modf", lambda np_, x: np_.modf(x * 3), [M34], grad=(0,)),
    rec("spacing", lambda np_, x: np_.spacing(x), [np.array([0.0, 1.0, -2.5, 1e30], F32)]),
    rec("gcd", lambda np_, a, b: np_.gcd(a, b), [INTS, INTS2]),
    rec("lcm", lambda np_, a, b: np_.lcm(a, b), [INTS, INTS2]),
    rec("packbits", lambda np_, a: np_.packbits(a > 0, axis=1), [((3, 11), F32)]),
    rec("unpackbits", lambda np_, a: np_.unpackbits(a, axis=0, count=5, bitorder="little"),
        [np.array([[3, 255], [128, 7]], np.uint8)]),
    # selection
    rec("select", lambda np_, x: np_.select([x > 1, x < -1], [x, x * 2], 7.0), [M34],
        grad=(0,)),
    rec("piecewise", lambda np_, x: np_.piecewise(x, [x < 0, x > 1],
                                                 [lambda v: v * v, 2.0, lambda v: -v]),
        [M34], grad=(0,)),
    rec("choose_wrap", lambda np_, a, b: np_.choose(np.array([[0, 3], [1, -1]]), [a, b],
                                                    mode="wrap"), [((2, 2), F32)] * 2,
        grad=(0, 1)),
    rec("compress_size", lambda np_, x: np_.compress(x[0] > 0, x, axis=1, size=3,
                                                     fill_value=-1.0), [M34], grad=(0,)),
    rec("extract_size", lambda np_, x: np_.extract(x > 0, x, size=5), [M34], grad=(0,)),
    rec("place", lambda np_, x: np_.place(x, x > 0, np_.array([10.0, 20.0]),
                                          inplace=False), [M34]),
    rec("put_wrap", lambda np_, x, v: np_.put(x, np.array([1, 14, -2]), v, mode="wrap",
                                              inplace=False), [M34, V3], grad=(0, 1)),
    rec("insert", lambda np_, x, v: np_.insert(x, np.array([0, 2, 2]), v, axis=1),
        [M34, V3], grad=(0, 1)),
    rec("insert_scalar", lambda np_, x: np_.insert(x, 1, 5.0), [M34], grad=(0,)),
    rec("delete_index", lambda np_, x: np_.delete(x, 1, axis=0), [M34], grad=(0,)),
    rec("delete_unique", lambda np_, x: np_.delete(x, np.array([0, 2]), axis=1,
                                                   assume_unique_indices=True), [M34],
        grad=(0,)),
    rec("resize", lambda np_, x: np_.resize(x, (5, 3)), [M34], grad=(0,)),
    rec("block", lambda np_, a, b: np_.block([[a, b], [b, a]]), [((2, 2), F32)] * 2,
        grad=(0, 1)),
    rec("fill_diagonal", lambda np_, x: np_.fill_diagonal(x, 9.0, inplace=False), [M34],
        grad=(0,)),
    rec("rollaxis", lambda np_, x: np_.rollaxis(x, 2, 0), [((2, 3, 4), F32)], grad=(0,)),
    rec("top_k_smallest", lambda np_, x: fnp.top_k(x, 2, mode="smallest")
        if np_ is fnp else tuple(-v if i == 0 else v for i, v in
                                 enumerate(jax.lax.top_k(-x, 2))), [M34], grad=(0,)),
    # index tricks
    rec("unravel_index", lambda np_, i: np_.unravel_index(i, (3, 4)),
        [np.array([0, 5, 11, -1, 20], I32)]),
    rec("ravel_multi_index", lambda np_, i, j: np_.ravel_multi_index((i, j), (3, 4),
                                                                    mode="clip"),
        [np.array([0, 2, 5], I32), np.array([1, -1, 3], I32)]),
    rec("ix_", lambda np_, a, b: np_.ix_(a, b), [np.array([0, 2], I32),
                                                 np.array([1, 2, 3], I32)]),
    # sets with size= (jit)
    rec("union1d_size", lambda np_, a, b: np_.union1d(a, b, size=8), [INTS[0], INTS2[0]]),
    rec("intersect1d_size", lambda np_, a, b: np_.intersect1d(a, b, size=4,
                                                              return_indices=True),
        [INTS.ravel(), INTS2.ravel()]),
    rec("setdiff1d_size", lambda np_, a, b: np_.setdiff1d(a, b, size=6, fill_value=99),
        [INTS.ravel(), INTS2.ravel()]),
    rec("setxor1d_size", lambda np_, a, b: np_.setxor1d(a, b, size=9),
        [INTS.ravel(), INTS2.ravel()]),
    rec("unique_all_size", lambda np_, a: tuple(np_.unique_all(a, size=8)), [INTS.ravel()]),
    rec("unique_counts", lambda np_, a: tuple(np_.unique_counts(a, size=8)), [INTS.ravel()]),
    rec("unique_inverse", lambda np_, a: tuple(np_.unique_inverse(a, size=8)),
        [INTS.ravel()]),
    # vectorize, products, windows
    rec("vectorize_signature", lambda np_, a, b: np_.vectorize(
        lambda u, v: (u * v).sum(), signature="(n),(n)->()")(a, b),
        [((2, 3, 4), F32), ((4,), F32)], grad=(0, 1)),
    rec("apply_along_axis", lambda np_, x: np_.apply_along_axis(
        lambda v: np_.stack([v.sum(), v.max()]), 1, x), [((2, 3, 4), F32)], grad=(0,)),
    rec("apply_over_axes", lambda np_, x: np_.apply_over_axes(np_.sum, x, [0, 2]),
        [((2, 3, 4), F32)], grad=(0,)),
    rec("vecdot", lambda np_, a, b: np_.vecdot(a, b, axis=0), [M34, M34], grad=(0, 1)),
    rec("matvec", lambda np_, a, b: np_.matvec(a, b), [((2, 3, 4), F32), ((4,), F32)],
        grad=(0, 1)),
    rec("vecmat", lambda np_, a, b: np_.vecmat(a, b), [((3,), F32), ((2, 3, 4), F32)],
        grad=(0, 1)),
    rec("windows", lambda np_: [getattr(np_, w)(7) for w in
                               ("bartlett", "blackman", "hamming", "hanning")] +
        [np_.hamming(1), np_.bartlett(0)], [], jit=False),
    rec("mgrid_ogrid_r_c", lambda np_: [np_.mgrid[0:3, 0:4:2], *np_.ogrid[0:2, 1:4],
                                         np_.mgrid[0:1:5j], np_.r_[1:4, [7, 8], 0.5],
                                         np_.r_["0,2", [1, 2], [3, 4]],
                                         np_.c_[np.arange(3), np.ones(3)]], [], jit=False),
    rec("indices_from", lambda np_, x: [*np_.tril_indices_from(x, 1),
                                        *np_.triu_indices_from(x, -1),
                                        *np_.mask_indices(4, np_.triu, 1)], [M34],
        jit=False),
    rec("eigvals", lambda np_, a: np_.linalg.eigvals(a), [((3, 3), F32)], grad=(0,),
        rtol=1e-4, atol=1e-4, grad_rtol=5e-3),
    rec("eig", lambda np_, a: tuple(np_.linalg.eig(a)), [((2, 3, 3), F32)], rtol=1e-4,
        atol=1e-4),
    rec("log1mexp", lambda np_, x: (fl.nn if np_ is fnp else jax.nn).log1mexp(x),
        [((3, 4), F32)], grad=(0,), domain="positive"),
    rec("logmeanexp", lambda np_, x: (fl.nn if np_ is fnp else jax.nn).logmeanexp(
        x, axis=1, where=x > -1), [M34], grad=(0,)),
]
BY_NAME = {r.name: r for r in RECS}
VMAP = ["convolve_full", "correlate_valid", "polyval", "polyfit", "gradient", "trapezoid_x",
        "unwrap", "frexp", "gcd", "select", "piecewise", "insert", "delete_unique",
        "compress_size", "union1d_size", "intersect1d_size", "vectorize_signature",
        "matvec", "eigvals", "log1mexp"]


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_values(rec):
    check_values(rec, jit=rec.jit)


@pytest.mark.parametrize("rec", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("name", VMAP)
def test_vmap(name):
    check_vmap(BY_NAME[name])


def _both(fn, *args):
    assert_close(fn(fnp, *args), fn(jnp, *args), 1e-5, 1e-5, getattr(fn, "__name__", ""))


def test_value_dependent_shapes_eager():
    """Functions whose output size depends on values: concrete inputs, as jax.numpy."""
    x = np.array([[1.5, -2.0, 0.0, 3.0], [0.5, 0.0, -1.0, 2.0]], F32)
    a, b = INTS.ravel(), INTS2.ravel()
    _both(lambda np_: np_.compress(np.array([True, False, True]), x, axis=1))
    _both(lambda np_: np_.extract(x > 0, x))
    _both(lambda np_: np_.delete(x, np.array([0, 3]), axis=1))
    _both(lambda np_: np_.delete(x, slice(1, 3), axis=1))
    _both(lambda np_: np_.trim_zeros(np.array([0, 0, 1, 2, 0, 3, 0], F32)))
    _both(lambda np_: np_.trim_zeros(np.array([0, 0, 1, 2, 0], F32), trim="f"))
    _both(lambda np_: np_.union1d(a, b))
    _both(lambda np_: np_.intersect1d(a, b, return_indices=True))
    _both(lambda np_: np_.setdiff1d(a, b))
    _both(lambda np_: np_.setxor1d(a, b))
    _both(lambda np_: tuple(np_.unique_all(a)))
    _both(lambda np_: np_.unique_values(np.array([1.0, np.nan, 1.0, np.nan], F32)))
    _both(lambda np_: np_.choose(np.array([0, 1, 1]), [np.arange(3.0), -np.arange(3.0)]))
    _both(lambda np_: np_.roots(np.array([0.0, 1.0, -3.0, 2.0], F32)))
    _both(lambda np_: np_.roots(np.array([1.0, 0.0, 1.0], F32)))
    _both(lambda np_: np_.polydiv(np.array([1.0, -3.0, 2.0], F32), np.array([1.0, -1.0], F32),
                                  trim_leading_zeros=True))
    _both(lambda np_: np_.polymul(np.array([0.0, 1.0, 2.0], F32), np.array([3.0], F32),
                                  trim_leading_zeros=True))
    with pytest.raises(fl.ConcretizationTypeError):
        fl.jit(lambda x: fnp.extract(x > 0, x))(x)


def test_histograms():
    rng = np.random.RandomState(0)
    x, y = rng.randn(50).astype(F32), rng.randn(50).astype(F32)
    w = rng.rand(50).astype(F32)
    _both(lambda np_: np_.histogram(x))
    _both(lambda np_: np_.histogram(x, bins=5, range=(-1, 1), weights=w, density=True))
    _both(lambda np_: np_.histogram(x, bins=np.array([-2.0, -0.5, 0.0, 3.0], F32)))
    _both(lambda np_: np_.histogram_bin_edges(x, 4))
    _both(lambda np_: np_.histogram_bin_edges(np.ones(3, F32), 2))
    _both(lambda np_: np_.histogram2d(x, y, bins=(3, 4), weights=w))
    _both(lambda np_: np_.histogramdd(np.stack([x, y, w], 1), bins=3, density=True))
    _both(lambda np_: np_.digitize(x, np.array([-1.0, 0.0, 1.0], F32)))
    _both(lambda np_: np_.digitize(x, np.array([1.0, 0.0, -1.0], F32), right=True))
    assert_close(fl.jit(lambda x: fnp.histogram(x, 6, range=(-2, 2))[0])(x),
                 jnp.histogram(x, 6, range=(-2, 2))[0], 1e-6, 1e-6, "jit")
    assert_close(fl.grad(lambda w: fnp.histogram(x, 4, weights=w)[0][1])(w),
                 jax.grad(lambda w: jnp.histogram(x, 4, weights=w)[0][1])(w), 1e-6, 1e-6,
                 "grad")


@pytest.mark.parametrize("case", [
    (np.array([1, -3, 2, 7, 2], I32), {}),
    (np.array([True, False, True]), {"minlength": 4}),
    (np.array([], I32), {}),
    (np.array([], I32), {"minlength": 3}),
    (np.array([0, 5, 9], I32), {"length": 4}),
], ids=["negative_clipped", "bool_minlength", "empty", "empty_minlength", "length_drops"])
def test_bincount_edge_cases(case):
    x, kw = case
    _both(lambda np_: np_.bincount(x, **kw))
    if x.size:
        w = np.linspace(0.5, 2, x.size).astype(F32)
        _both(lambda np_: np_.bincount(x, w, **kw))


def test_frompyfunc_ufunc_methods():
    x = np.arange(1, 7, dtype=I32).reshape(2, 3)
    mk = lambda np_: np_.frompyfunc(lambda a, b: a * b + 1, nin=2, nout=1, identity=0)
    for fn in (lambda u, np_: u(x, 2), lambda u, np_: u.outer(x[0], x[1]),
               lambda u, np_: u.reduce(x, axis=1), lambda u, np_: u.reduce(x, axis=None),
               lambda u, np_: u.accumulate(x, axis=1),
               lambda u, np_: u.at(x, (np.array([0, 1, 0]), np.array([2, 0, 2])), 5,
                                   inplace=False),
               lambda u, np_: u.reduceat(x[0], np.array([0, 2]))):
        assert_close(fn(mk(fnp), fnp), fn(mk(jnp), jnp), 0, 0, "ufunc")
    assert mk(fnp).nin == 2 and repr(mk(fnp)).startswith("<jnp.ufunc")


def test_dtype_names_and_predicates():
    for name in ["bool", "single", "double", "csingle", "cdouble", "uint", "int4",
                 "uint4", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"]:
        assert np.dtype(getattr(fnp, name)) == np.dtype(getattr(jnp, name)), name
    if hasattr(jnp, "complex_"):
        assert np.dtype(fnp.complex_) == np.dtype(jnp.complex_)
    assert_close(fnp.float8_e4m3fn(1.7), jnp.float8_e4m3fn(1.7), 0, 0, "f8")
    assert_close(fnp.single([1, 2]), jnp.single([1, 2]), 0, 0, "single")
    for dtype, kind in [(np.float32, "real floating"), (np.int8, "integral"),
                        (np.uint8, "signed integer"), (jnp.int4, "integral"),
                        (jnp.float8_e5m2, ("bool", "real floating")),
                        (np.complex64, "numeric"), (np.float16, np.float16)]:
        assert fnp.isdtype(dtype, kind) == jnp.isdtype(dtype, kind), (dtype, kind)
    values = [1.0, 1j, np.float32(2), np.ones(3, np.complex64), fnp.ones(2), [1, 2], "a"]
    for v in values:
        assert fnp.iscomplexobj(v) == jnp.iscomplexobj(v), v
        assert fnp.isrealobj(v) == jnp.isrealobj(v), v
        assert fnp.isscalar(v) == jnp.isscalar(v), v
    assert fnp.isscalar(fnp.float32(1)) and not fnp.isscalar(fnp.ones(1))
    assert fl.jit(lambda x: np.asarray(fnp.isscalar(x)))(1.0)
    assert fnp.can_cast(np.int8, np.int32) and fnp.iterable([1]) and not fnp.iterable(1)
    with fnp.printoptions(precision=2):
        assert fnp.get_printoptions()["precision"] == 2


def test_save_load_and_buffers(tmp_path):
    x = np.arange(6, dtype=F32).reshape(2, 3)
    path = tmp_path / "x.npy"
    fnp.save(path, fnp.asarray(x))
    loaded = fnp.load(path)
    assert isinstance(loaded, jax.Array)
    assert_close(loaded, jnp.load(path), 0, 0, "load")
    buf = io.BytesIO()
    fnp.savez(buf, a=x, b=x * 2)
    buf.seek(0)
    assert_close(fnp.load(buf)["b"], x * 2, 0, 0, "savez")
    assert_close(fnp.frombuffer(x.tobytes(), F32), jnp.frombuffer(x.tobytes(), F32), 0, 0,
                 "frombuffer")
    assert_close(fnp.fromstring("1 2 3", sep=" "), jnp.fromstring("1 2 3", sep=" "), 0, 0,
                 "fromstring")
    for name in ("fromfile", "fromiter"):
        with pytest.raises(NotImplementedError, match="non-pure"):
            getattr(fnp, name)(iter([1]))


@pytest.mark.skipif(not hasattr(fl.lax, "bessel_i0e"),
                    reason="jnp.i0 and kaiser need lax.bessel_i0e, which lands with the "
                           "lax special functions (lax/_special.py, another branch)")
def test_i0_and_kaiser():
    x = np.array([0.0, 0.5, -2.0, 10.0], F32)
    _both(lambda np_: np_.i0(x))
    _both(lambda np_: np_.kaiser(6, 3.0))
    assert_close(fl.grad(lambda x: fnp.i0(x).sum())(x), jax.grad(lambda x: jnp.i0(x).sum())(x),
                 1e-5, 1e-5, "grad")


def test_minmax():
    x = np.random.RandomState(0).randn(3, 4).astype(F32)
    got = fnp.minmax(x, axis=1, initial=(-0.5, 0.5), where=x > 0)
    want = (np.min(x, 1, initial=-0.5, where=x > 0), np.max(x, 1, initial=0.5, where=x > 0))
    assert_close(got, tuple(want), 0, 0, "minmax")
    if hasattr(jnp, "minmax"):
        assert_close(fnp.minmax(x), jnp.minmax(x), 0, 0, "jnp.minmax")


def test_errors_match_jax():
    x = np.ones((3, 4), F32)
    for np_ in (fnp, jnp):
        with pytest.raises(ValueError, match="mode must be one of"):
            np_.convolve(x[0], x[0], mode="middle")
        with pytest.raises(ValueError, match="cannot modify arrays in-place"):
            np_.put(x, 0, 1.0)
        with pytest.raises(ValueError, match="integers"):
            np_.gcd(x, x)
        with pytest.raises(ValueError, match="condlist must have length"):
            np_.select([x > 0], [x, x])


def test_nn_block_scaled_products():
    """scaled_matmul as the dequantize-then-dot composite (JAX runs it with cuDNN on
    NVIDIA GPUs only; its ROCm path is this lax.scaled_dot); the config helper."""
    rng = np.random.RandomState(0)
    a = jnp.asarray(rng.randn(2, 3, 64), jnp.float8_e4m3fn)
    b = jnp.asarray(rng.randn(2, 4, 64), jnp.float8_e4m3fn)
    s = jnp.asarray(rng.rand(2, 3, 2) + 0.5, jnp.float8_e8m0fnu)
    t = jnp.asarray(rng.rand(2, 4, 2) + 0.5, jnp.float8_e8m0fnu)
    want = jax.lax.scaled_dot(a, b, lhs_scale=s, rhs_scale=t, preferred_element_type=F32,
                              dimension_numbers=(((2,), (2,)), ((0,), (0,))))
    assert_close(fl.jit(fl.nn.scaled_matmul)(a, b, s, t), want, 0, 0, "scaled_matmul")
    for mode in ("mxfp8", "nvfp4"):
        ours, theirs = (fl.nn.get_scaled_dot_general_config(mode),
                        jax.nn.get_scaled_dot_general_config(mode))
        assert (ours.block_size, np.dtype(ours.data_type), np.dtype(ours.scale_type)) == \
            (theirs.block_size, np.dtype(theirs.data_type), np.dtype(theirs.scale_type))
    x, w = rng.randn(3, 4).astype(F32), rng.randn(4, 2).astype(F32)
    dn = (((1,), (0,)), ((), ()))
    assert_close(fl.nn.scaled_dot_general(x, w, dn), jax.nn.scaled_dot_general(x, w, dn),
                 1e-5, 1e-5, "scaled_dot_general")
