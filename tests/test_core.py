"""Core: abstract values, type promotion, eager mode, the IR and its interpreters."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _dtypes, _ir
from functorch_lite._core import ShapedArray, get_aval


def test_avals_of_inputs():
    assert get_aval(1.0) == ShapedArray((), np.float32, weak_type=True)
    assert get_aval(np.ones((2, 3))) == ShapedArray((2, 3), np.float32)  # canonicalised
    assert get_aval(np.int64(3)) == ShapedArray((), np.int32)
    assert get_aval(jax.device_put(np.ones(2, np.int8))).dtype == np.int8


@pytest.mark.parametrize("a,b", [
    (np.float32, np.float16), (np.int8, np.uint8), (np.int32, np.float16),
    (np.uint32, np.int32), (np.bool_, np.int8), (np.float16, jnp.bfloat16),
    (np.int64, np.float32), (np.complex64, np.float32)])
def test_promotion_matches_jax(a, b):
    assert _dtypes.promote_types(a, b) == jnp.promote_types(a, b)


def test_issubdtype_files_ml_dtypes_as_jax_does():
    """bfloat16 and float8 are floating, int4 a signed integer (numpy alone says no)."""
    import ml_dtypes
    for a in (jnp.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.int4, ml_dtypes.uint4,
              np.float32, np.int8, "bfloat16"):
        for b in (np.floating, np.inexact, np.number, np.generic, np.integer,
                  np.signedinteger, np.unsignedinteger, np.complexfloating, jnp.bfloat16,
                  np.float32, "bfloat16"):
            assert fnp.issubdtype(a, b) == jnp.issubdtype(a, b), (a, b)
    assert fl.dtypes.issubdtype is fnp.issubdtype


@pytest.mark.parametrize("scalar", [1, 1.0, True])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.float16, np.float32,
                                   jnp.bfloat16, np.bool_])
def test_weak_scalar_promotion_matches_jax(scalar, dtype):
    x = np.zeros(2, dtype)
    want = jnp.add(jnp.asarray(x), scalar)
    got = fnp.add(x, scalar)
    assert got.dtype == want.dtype and got.weak_type == want.weak_type


def test_eager_equals_jit():
    x = np.linspace(0.1, 2, 7, dtype=np.float32)
    f = lambda x: fnp.log(x) * fnp.exp(-x) + fnp.sqrt(x)
    # same lowering; XLA may fuse the jitted program, so allow one ulp
    np.testing.assert_allclose(np.asarray(f(x)), np.asarray(fl.jit(f)(x)), rtol=1e-6, atol=1e-7)


def test_eager_results_are_jax_arrays():
    y = fnp.sin(np.ones(3, np.float32))
    assert isinstance(y, jax.Array)
    assert fnp.sin(2.0).weak_type  # op on a Python scalar stays weak, as in JAX


def test_ir_typecheck_eval_and_dce():
    program = fl.make_jaxpr(lambda x: (fnp.sin(x) * 2.0, fnp.cos(x)))(np.ones(3, np.float32))
    assert _ir.typecheck(program)
    outs = _ir.eval_program(program, [np.ones(3, np.float32)])
    np.testing.assert_allclose(outs[0], 2 * np.sin(1.0), rtol=1e-6)
    pruned = _ir.dead_code_elimination(program, [True, False])
    assert [e.primitive.name for e in pruned.equations].count("cos") == 0


def test_typecheck_catches_bad_program():
    program = fl.make_jaxpr(lambda x: fnp.sin(x))(np.ones(3, np.float32))
    program.equations[0].outputs[0].aval = ShapedArray((4,), np.float32)
    with pytest.raises(_ir.ProgramTypeError):
        _ir.typecheck(program)


def test_x64_switch():
    fl.config.update("jax_enable_x64", True)
    try:
        assert fnp.asarray(np.ones(2)).dtype == np.float64
        assert get_aval(1.0).dtype == np.float64
    finally:
        fl.config.update("jax_enable_x64", False)
    assert fnp.asarray(np.ones(2)).dtype == np.float32


def test_x64_is_ours_and_leaves_jax_alone():
    """functorch_lite's x64 flag does not touch JAX's, and still gives real 64-bit
    jax.Arrays: host values, eager and jitted results, gradients and the (JAX) array
    methods on them keep 64-bit precision."""
    x_host = np.arange(3.0) + 1e-10
    fl.config.update("jax_enable_x64", True)
    try:
        assert jax.config.jax_enable_x64 is False
        assert jax.numpy.array(1.0).dtype == np.float32
        assert (jax.numpy.ones(2) + np.float64(1.0)).dtype == np.float32
        x = fnp.asarray(x_host)
        assert isinstance(x, jax.Array) and x.dtype == np.float64
        np.testing.assert_array_equal(np.asarray(x), x_host)
        np.testing.assert_array_equal(np.asarray(fnp.sin(x)), np.sin(x_host))
        tiny = fl.jit(lambda a: a * a + 1e-12)(x)
        assert tiny.dtype == np.float64
        np.testing.assert_allclose(np.asarray(tiny)[0], 1e-12 + 1e-20, rtol=1e-14)
        g = fl.grad(lambda a: fnp.sum(a ** 2))(x)
        np.testing.assert_array_equal(np.asarray(g), 2 * x_host)
        assert int(fnp.array(2 ** 40) + 1) == 2 ** 40 + 1  # a JAX operator, in 64 bits
        assert (x + 1).dtype == np.float64 and float(x.sum()) == x_host.sum()
        assert fl.device_put(np.float64(1.5)).dtype == np.float64
        assert jax.config.jax_enable_x64 is False
    finally:
        fl.config.update("jax_enable_x64", False)
    assert fnp.asarray(x_host).dtype == np.float32
    assert fl.jit(lambda a: a * 2)(1.0).dtype == np.float32


def test_review_fixes_numpy_surface():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert float(fnp.sum(x, axis=[0, 1])) == 15.0  # list axis, eager
    seen = []
    fl.jit(lambda v: seen.append(isinstance(v, fnp.ndarray)) or v)(x)
    assert seen == [True] and isinstance(fnp.asarray(x), fnp.ndarray)
    assert not fnp.asarray(True).weak_type and fnp.asarray(1.0).weak_type
    got = fl.lax.convert_element_type(np.array([300, -1, np.nan, 3e9], np.float32), np.uint8)
    want = jax.lax.convert_element_type(np.array([300, -1, np.nan, 3e9], np.float32), np.uint8)
    np.testing.assert_array_equal(got, want)  # as the installed JAX (test_jax_versions)
    with pytest.raises(TypeError, match="complex"):
        fnp.remainder(np.float32(1.5), np.complex64(1 + 1j))
    with pytest.raises(TypeError, match="complex"):
        fnp.less(np.array([1 + 2j], np.complex64), np.array([1 + 1j], np.complex64))
