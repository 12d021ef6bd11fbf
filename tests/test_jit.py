"""jit: caching, static arguments, pytrees, AOT lowering, donation, IR printing and the
errors users meet first."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _runtime


@pytest.fixture
def compile_counter(monkeypatch):
    calls = []
    real = _runtime.compile

    def counting(text, *args):
        calls.append(text)
        return real(text, *args)
    monkeypatch.setattr(_runtime, "compile", counting)
    return calls


def test_jit_matches_eager_and_jax():
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    f = lambda x, y: fnp.sum(fnp.tanh(x) * y + 1.0)
    g = lambda x, y: jnp.sum(jnp.tanh(x) * y + 1.0)
    np.testing.assert_allclose(fl.jit(f)(x, 2.0), g(x, 2.0), rtol=1e-6)
    np.testing.assert_allclose(f(x, 2.0), g(x, 2.0), rtol=1e-6)


def test_cache_hits_and_recompiles(compile_counter):
    f = fl.jit(lambda x: x * 2.0)
    a = np.ones(3, np.float32)
    f(a); f(a + 1); f(jax.device_put(a))
    assert len(compile_counter) == 1  # same types: one compile
    f(np.ones(4, np.float32))
    assert len(compile_counter) == 2  # new shape
    f(np.ones(4, np.int32))
    assert len(compile_counter) == 3  # new dtype
    f(2.0); f(3.0)
    assert len(compile_counter) == 4  # weak-typed Python scalar: one new signature
    f(np.float32(2.0))
    assert len(compile_counter) == 5  # strong f32 scalar differs from weak f32


def test_static_argnums_by_value(compile_counter):
    @fl.jit
    def plain(x):
        return x
    f = fl.jit(lambda x, n: x * n, static_argnums=1)
    x = np.ones(2, np.float32)
    assert np.allclose(f(x, 3), 3) and np.allclose(f(x, 3), 3)
    assert len(compile_counter) == 1
    assert np.allclose(f(x, 4), 4)
    assert len(compile_counter) == 2
    g = fl.jit(lambda x, mode: x + 1 if mode == "add" else x - 1, static_argnames="mode")
    assert np.allclose(g(x, mode="add"), 2) and np.allclose(g(x, mode="sub"), 0)


def test_unhashable_static_argument_error():
    f = fl.jit(lambda x, shape: x.reshape(shape), static_argnums=1)
    with pytest.raises(ValueError, match="Non-hashable static argument 1.*tuple"):
        f(np.ones(4, np.float32), [2, 2])
    # the cache is not corrupted: a valid call still works
    assert f(np.ones(4, np.float32), (2, 2)).shape == (2, 2)


def test_pytrees_and_kwargs():
    @fl.jit
    def f(params, x, *, scale):
        return {"y": params["w"] * x * scale, "pair": (x, params["b"])}
    out = f({"w": np.float32(2), "b": np.ones(2, np.float32)}, np.ones(2, np.float32),
            scale=3.0)
    np.testing.assert_allclose(out["y"], [6, 6])
    assert isinstance(out["pair"], tuple) and out["pair"][1].shape == (2,)


def test_lower_as_text_is_our_stablehlo_and_compile_runs():
    f = fl.jit(lambda x: fnp.sin(x) * 2.0)
    lowered = f.lower(np.ones(3, np.float32))
    text = lowered.as_text()
    assert "stablehlo.sine" in text and "func.func public @main" in text
    compiled = lowered.compile()
    np.testing.assert_allclose(compiled(np.ones(3, np.float32)), 2 * np.sin(1.0), rtol=1e-6)


def test_donate_argnums_runs():
    f = fl.jit(lambda x: x + 1.0, donate_argnums=0)
    text = f.lower(np.ones(3, np.float32)).as_text()
    assert "jax.buffer_donor = true" in text
    out = f(jax.device_put(np.ones(3, np.float32)))
    np.testing.assert_allclose(out, 2.0)


def test_closure_over_array_constant():
    c = np.arange(3, dtype=np.float32)
    f = fl.jit(lambda x: x + c)
    np.testing.assert_allclose(f(np.ones(3, np.float32)), c + 1)


def test_make_jaxpr_prints_equations_and_subprograms():
    inner = fl.jit(lambda y: fnp.sin(y))
    program = fl.make_jaxpr(lambda x: inner(x) * 2.0)(np.ones(3, np.float32))
    text = str(program)
    assert text.splitlines()[0].startswith("{ lambda a:f32[3]. let")
    assert "jit[" in text and "sin a" in text and "mul" in text
    # sub-program indented beneath its equation
    assert any(line.startswith("      { lambda") for line in text.splitlines())


def test_python_if_on_traced_value_names_the_line():
    def f(x):
        if x > 0:  # the line the error must name
            return x
        return -x
    with pytest.raises(fl.ConcretizationTypeError) as info:
        fl.jit(f)(1.0)
    msg = str(info.value)
    assert "test_jit.py" in msg and "if x > 0" in msg and "lax.cond" in msg


@pytest.mark.parametrize("conv", [int, float, bool])
def test_concrete_conversions_raise(conv):
    with pytest.raises(fl.ConcretizationTypeError, match=conv.__name__):
        fl.jit(lambda x: conv(x))(1.0)


def test_while_on_traced_value_raises():
    def f(x):
        while x < 10:
            x = x * 2
        return x
    with pytest.raises(fl.ConcretizationTypeError, match="while_loop"):
        fl.jit(f)(1.0)


def test_leaked_tracer_error_says_where():
    leaked = []

    @fl.jit
    def f(x):
        leaked.append(x)
        return x
    f(1.0)
    with pytest.raises(fl.UnexpectedTracerError, match="jit\\(f\\)"):
        fnp.sin(leaked[0])


def test_incompatible_shapes_error_names_shapes():
    with pytest.raises(TypeError, match=r"\(3,\).*\(4,\)"):
        fl.jit(lambda a, b: a + b)(np.ones(3, np.float32), np.ones(4, np.float32))


def test_recompilation_after_error_keeps_cache_usable(compile_counter):
    f = fl.jit(lambda a, b: a + b)
    with pytest.raises(TypeError):  # JAX's class for equal-rank incompatible shapes
        f(np.ones(3, np.float32), np.ones(4, np.float32))
    np.testing.assert_allclose(f(np.ones(3, np.float32), np.ones(3, np.float32)), 2)


def test_nested_jit_compiles_outer_once(compile_counter):
    inner = fl.jit(lambda x: x * 3.0)
    outer = fl.jit(lambda x: inner(x) + inner(x + 1.0))
    np.testing.assert_allclose(outer(np.ones(2, np.float32)), [9, 9])
    assert len(compile_counter) == 1


def test_runtime_fallback_without_cpp_result_handlers():
    """The Python result path (for jaxlib releases without C++ result handlers) gives
    the same arrays and weak types."""
    compiled = fl.jit(lambda x: (x * 2.0, 3.0)).lower(np.ones(2, np.float32)).compile()
    fast = compiled(np.ones(2, np.float32))
    compiled.executable._handlers = None
    slow = compiled(np.ones(2, np.float32))
    np.testing.assert_array_equal(fast[0], slow[0])
    assert slow[1].weak_type and fast[1].weak_type


def test_donate_argnames_donates():
    p = jax.device_put(np.ones(3, np.float32))
    out = fl.jit(lambda p: p * 2, donate_argnames="p")(p)
    np.testing.assert_allclose(out, 2.0)
    assert p.is_deleted()


def test_debug_nans_raises_and_switches_off():
    fl.config.update("jax_debug_nans", True)
    try:
        with pytest.raises(FloatingPointError, match="nan"):
            fl.jit(fnp.log)(-1.0)
    finally:
        fl.config.update("jax_debug_nans", False)
    assert np.isnan(fl.jit(fnp.log)(-1.0))


def test_var_method_and_int_scalar_literals_under_jit():
    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(fl.jit(lambda v: v.var())(x), np.var(x), rtol=1e-6)
    program = fl.make_jaxpr(lambda v: v * 2)(1.0)
    assert len(program.in_vars) == 1  # the int 2 is a literal, not a captured constant


def test_three_nested_lambdas_compile():
    f = fl.jit(lambda x: fl.jit(lambda y: fl.jit(lambda z: z * 2.0)(y) + 1.0)(x))
    assert float(f(1.0)) == 3.0


def test_numpy_scalars_are_strongly_typed():
    x = np.ones(2, np.float16)
    got = fl.jit(lambda a, b: a + b)(x, np.float64(1.0))
    assert got.dtype == jax.jit(lambda a, b: a + b)(x, np.float64(1.0)).dtype


def test_float0_outputs_under_jit():
    def step(x, n):
        return fl.vjp(lambda x, n: x * n, x, n)[1](1.0)
    ct_x, ct_n = fl.jit(step)(2.0, 3)
    assert float(ct_x) == 3.0 and ct_n.dtype == jax.dtypes.float0


def test_x64_toggle_retraces_and_constants_are_snapshots():
    f = fl.jit(lambda x: x * 2)
    assert f(1.0).dtype == np.float32
    fl.config.update("jax_enable_x64", True)
    try:
        assert f(1.0).dtype == np.float64
    finally:
        fl.config.update("jax_enable_x64", False)
    w = np.ones(2, np.float32)
    g = fl.jit(lambda x: x + w)
    g(np.ones(2, np.float32))
    w[:] = 5  # captured at trace time, as in JAX: both call paths agree
    np.testing.assert_array_equal(g(np.ones(2, np.float32)), g(fnp.ones(2)))
