"""Shapes without data (ShapeDtypeStruct, typeof), the top-level config flags and their
context managers (disable_jit, log_compiles, debug_infs, enable_x64), and the device
queries, each compared with JAX on the same inputs."""
import logging
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp

FLAGS = ("jax_enable_x64", "jax_debug_nans", "jax_debug_infs", "jax_disable_jit",
         "jax_log_compiles")


@pytest.fixture(autouse=True)
def restore_flags():
    """Every flag (ours and JAX's) is put back after each test."""
    ours = {name: fl.config.read(name) for name in FLAGS}
    theirs = {name: getattr(jax.config, name) for name in FLAGS}
    try:
        yield
    finally:
        for name, value in ours.items():
            if fl.config.read(name) != value:
                fl.config.update(name, value)
        for name, value in theirs.items():
            jax.config.update(name, value)


def _f(x, y):
    return {"prod": x @ y, "count": (x > 0).sum(0), "scaled": x * 2.0}


STRUCTS = (jax.ShapeDtypeStruct((3, 4), np.float32), jax.ShapeDtypeStruct((4, 2), np.float32))


def _signature(tree):
    return jax.tree_util.tree_map(lambda s: (s.shape, s.dtype, getattr(s, "weak_type", False)),
                                  tree)


def test_shape_dtype_struct_is_jaxs():
    assert fl.ShapeDtypeStruct is jax.ShapeDtypeStruct


def test_eval_shape_lower_trace_make_jaxpr_take_structs():
    expected = jax.eval_shape(_f, *STRUCTS)
    assert _signature(fl.eval_shape(_f, *STRUCTS)) == _signature(expected)
    # lowered and compiled from structs alone, then run on real arrays
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    y = np.random.RandomState(1).randn(4, 2).astype(np.float32)
    compiled = fl.jit(_f).lower(*STRUCTS).compile()
    want = jax.jit(_f).lower(*STRUCTS).compile()(x, y)
    got = compiled(x, y)
    assert _signature(got) == _signature(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6)
    assert "tensor<3x2xf32>" in fl.jit(_f).trace(*STRUCTS).lower().as_text()
    program, shapes = fl.make_jaxpr(_f, return_shape=True)(*STRUCTS)
    jaxpr, jax_shapes = jax.make_jaxpr(_f, return_shape=True)(*STRUCTS)
    assert [(a.shape, a.dtype) for a in program.out_avals] == \
        [(a.shape, a.dtype) for a in jaxpr.out_avals]
    assert _signature(shapes) == _signature(jax_shapes)


def test_stages_know_their_argument_and_output_structure():
    def g(x, y, scale=1.0):
        return {"a": x * scale, "b": (y, x.sum())}
    args, kwargs = STRUCTS, {"scale": jax.ShapeDtypeStruct((), np.float32)}
    ours, theirs = fl.jit(g).trace(*args, **kwargs), jax.jit(g).trace(*args, **kwargs)
    assert isinstance(ours, fl.stages.Traced)
    lowered, jax_lowered = ours.lower(), theirs.lower()
    assert isinstance(lowered, fl.stages.Lowered)
    compiled, jax_compiled = lowered.compile(), jax_lowered.compile()
    assert isinstance(compiled, fl.stages.Compiled)
    for stage, jax_stage in ((ours, theirs), (lowered, jax_lowered),
                             (compiled, jax_compiled)):
        assert stage.in_tree == jax_stage.in_tree
        assert _signature(stage.out_info) == _signature(jax_stage.out_info)


def test_eval_shape_of_integer_gradients_is_float0_as_jax():
    def f(x):
        return jax.grad(lambda a, b: a * 1.0, allow_int=True, argnums=(0, 1))(x, 3)
    ours = fl.eval_shape(lambda x: fl.grad(lambda a, b: a * 1.0, allow_int=True,
                                           argnums=(0, 1))(x, 3), 2.0)
    assert _signature(ours) == _signature(jax.eval_shape(f, 2.0))


def test_struct_where_values_are_needed_raises_as_jax():
    with pytest.raises(TypeError):
        jax.jit(_f)(*STRUCTS)
    with pytest.raises(TypeError, match=r"ShapeDtypeStruct \(float32\[3,4\]\).*eval_shape"):
        fl.jit(_f)(*STRUCTS)
    with pytest.raises(TypeError, match="no values"):
        fnp.sin(STRUCTS[0])


@pytest.mark.parametrize("value", [
    np.ones((2, 3), np.float32), 1.0, 3, True, np.int64(5), np.zeros((0, 4), np.float64),
    jax.ShapeDtypeStruct((5,), np.int32)], ids=repr)
def test_typeof_prints_as_jax(value):
    ours, theirs = fl.typeof(value), jax.typeof(value)
    assert (str(ours), repr(ours)) == (str(theirs), repr(theirs))


def test_typeof_of_traced_values_prints_as_jax():
    seen = {}

    def record(key):
        def f(x, n):
            seen[key] = (str(jax.typeof(x) if key == "jax" else fl.typeof(x)),
                         str(jax.typeof(n) if key == "jax" else fl.typeof(n)))
            return x * n
        return f
    fl.jit(record("ours"))(np.ones((2, 2), np.float32), 2.0)
    jax.jit(record("jax"))(np.ones((2, 2), np.float32), 2.0)
    assert seen["ours"] == seen["jax"] == ("float32[2,2]", "~float32[]")


def _printing(lib):
    def f(x):
        print("called")
        return lib.sin(x) * 2.0
    return f


def test_disable_jit_runs_python_each_call(capsys):
    x = np.linspace(0.0, 1.0, 5, dtype=np.float32)
    ours_f, jax_f = fl.jit(_printing(fnp)), jax.jit(_printing(jnp))
    with fl.disable_jit():
        assert fl.config.jax_disable_jit
        ours = [ours_f(x), ours_f(x)]
    with jax.disable_jit():
        theirs = [jax_f(x), jax_f(x)]
    assert capsys.readouterr().out == "called\n" * 4
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert not fl.config.jax_disable_jit
    ours_f(x), ours_f(x)  # traced once again: one print
    assert capsys.readouterr().out == "called\n"


def _control_flow(lib, lax):
    def f(x):
        def step(c, xi):
            print("scan step")
            return c + xi, c * xi
        c, ys = lax.scan(step, 0.0, x)
        c2, _ = lax.scan(step, c, x, reverse=True)

        def body(v):
            print("while step")
            return v * 2.0
        w = lax.while_loop(lambda v: v < 10.0, body, 1.0)
        i = lax.fori_loop(0, 2, lambda i, v: v + lib.sin(v) * i, c2)
        b = lax.cond(x[0] > 0, lambda v: (print("true") or v + 1.0),
                     lambda v: (print("false") or v - 1.0), c)
        s = lax.switch(1, [lambda v: v, lambda v: (print("branch 1") or v * 3.0)], w)
        return ys.sum() + c2 + w + i + b + s
    return f


def test_disable_jit_runs_control_flow_in_python_as_jax(capsys):
    x = np.array([0.5, 1.5, -2.0], np.float32)
    with jax.disable_jit():
        theirs = jax.jit(_control_flow(jnp, jax.lax))(x)
        jax_grad = jax.grad(_control_flow(jnp, jax.lax))(x)
    jax_printed = capsys.readouterr().out
    with fl.disable_jit():
        ours = fl.jit(_control_flow(fnp, fl.lax))(x)
        our_grad = fl.grad(_control_flow(fnp, fl.lax))(x)
    assert capsys.readouterr().out == jax_printed
    assert jax_printed.count("scan step") == 12 and jax_printed.count("while step") == 8
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(our_grad, jax_grad, rtol=1e-6)


def test_disable_jit_while_loop_under_vmap_falls_back_as_jax():
    def f(v):
        return fl.lax.while_loop(lambda a: a < 10.0, lambda a: a * 2.0, v)
    x = np.array([1.0, 3.0, 20.0], np.float32)
    with fl.disable_jit():
        ours = fl.vmap(f)(x)
    with jax.disable_jit():
        theirs = jax.vmap(lambda v: jax.lax.while_loop(lambda a: a < 10.0,
                                                       lambda a: a * 2.0, v))(x)
    np.testing.assert_array_equal(ours, theirs)


def test_disable_jit_flag_through_update(capsys):
    f = fl.jit(_printing(fnp))
    fl.config.update("jax_disable_jit", True)
    f(np.float32(0.5)), f(np.float32(0.5))
    assert capsys.readouterr().out == "called\n" * 2
    with pytest.raises(TypeError, match="jax_disable_jit takes a bool"):
        fl.config.update("jax_disable_jit", "yes")


def _compile_messages(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.getMessage().startswith("Compiling")]


def test_log_compiles_once_per_compile_as_jax(caplog):
    def logged_fun(x):
        return x * 3.0 + 1.0
    x = np.ones((3, 7), np.float32)
    caplog.set_level(logging.WARNING)
    with jax.log_compiles():
        jax.jit(logged_fun)(x)
        jax.jit(logged_fun)(x)
    theirs = _compile_messages(caplog)
    caplog.clear()
    with fl.log_compiles():
        fl.jit(logged_fun)(x)
        fl.jit(logged_fun)(x)  # the same signature: no compile, no message
        fl.jit(logged_fun)(np.ones((2,), np.float32))
    ours = _compile_messages(caplog)
    assert len(theirs) == 1 and len(ours) == 2
    # JAX's message goes on with its argument shardings
    assert theirs[0].startswith(ours[0].rstrip("."))
    assert "jit(logged_fun)" in ours[1] and "float32[2]" in ours[1]
    caplog.clear()
    fl.jit(logged_fun)(np.ones((4,), np.float32))  # flag off again: silent
    assert _compile_messages(caplog) == []


def test_log_compiles_eager_primitive(caplog):
    caplog.set_level(logging.WARNING)
    with fl.log_compiles():
        fnp.cos(np.ones((3, 17, 5), np.float32))
    assert any(m.startswith("Compiling jit(cos) with global shapes and types "
                            "(ShapedArray(float32[3,17,5]),)")
               for m in _compile_messages(caplog))


def _reciprocal(x):  # through our numpy: a concrete jax.Array's `1.0 / x` is JAX's
    return fnp.divide(1.0, x)


def _jax_reciprocal(x):
    return jnp.divide(1.0, x)


def test_debug_infs_jit_and_eager_as_jax():
    zeros = np.zeros(3, np.float32)
    with jax.debug_infs(True):
        with pytest.raises(FloatingPointError) as theirs_jit:
            jax.jit(_jax_reciprocal)(jnp.asarray(zeros))
        with pytest.raises(FloatingPointError) as theirs_eager:
            jnp.log(jnp.asarray(zeros))
        jnp.log(jnp.asarray(-1.0))  # a NaN is not an inf: no error
    with fl.debug_infs():
        with pytest.raises(FloatingPointError) as ours_jit:
            fl.jit(_reciprocal)(fnp.asarray(zeros))
        with pytest.raises(FloatingPointError) as ours_eager:
            fnp.log(fnp.asarray(zeros))
        assert float(fl.jit(_reciprocal)(2.0)) == 0.5  # finite: no error
        assert np.isnan(fnp.log(fnp.asarray(-1.0)))
    # both name the primitive that made the inf (JAX's message is the start of ours)
    assert str(ours_jit.value).startswith(str(theirs_jit.value).splitlines()[0])
    assert str(ours_eager.value).startswith(str(theirs_eager.value).splitlines()[0])
    assert "jax_debug_infs" in str(ours_eager.value)
    assert not fl.config.jax_debug_infs


def test_enable_x64_context():
    with fl.enable_x64():
        assert fnp.ones(2).dtype == np.float64
    assert fnp.ones(2).dtype == np.float32


def test_device_queries_equal_jaxs():
    assert fl.devices() == jax.devices()
    assert fl.devices("cpu") == jax.devices("cpu")
    assert fl.local_devices() == jax.local_devices()
    assert fl.device_count() == jax.device_count()
    assert fl.local_device_count() == jax.local_device_count()
    assert fl.default_backend() == jax.default_backend()
    assert (fl.process_index(), fl.process_count()) == (jax.process_index(),
                                                        jax.process_count())
    assert fl.Device is jax.Device and isinstance(fl.devices()[0], fl.Device)
    with fl.default_device(fl.devices()[0]):
        assert float(fl.jit(_reciprocal)(4.0)) == 0.25


def test_clear_caches_recompiles(caplog):
    def cached_fun(x):
        return fl.lax.scan(lambda c, xi: (c + xi, c), 0.0, x)[1] * 2.0
    x = np.arange(3.0, dtype=np.float32)
    first = fl.jit(cached_fun)(x)
    caplog.set_level(logging.WARNING)
    with fl.log_compiles():
        fl.jit(cached_fun)(x)
        assert _compile_messages(caplog) == []
        fl.clear_caches()
        again = fl.jit(cached_fun)(x)
    assert any("jit(cached_fun)" in m for m in _compile_messages(caplog))
    np.testing.assert_array_equal(first, again)


def test_float0_live_arrays_environment_as_jax():
    assert fl.float0 == jax.float0
    kept = fnp.arange(5.0) * 2.0
    assert any(a is kept for a in fl.live_arrays())
    info = fl.print_environment_info(return_string=True)
    assert info.startswith("functorch_lite: ") and \
        jax.print_environment_info(return_string=True) in info


@pytest.mark.parametrize("case", ["add", "where", "jit_mul", "scalar", "same_rank"])
def test_numpy_rank_promotion_as_jax(case):
    a, b = np.ones(3, np.float32), np.ones((2, 3), np.float32)

    def run(lib, jit):
        return {"add": lambda: lib.add(a, b),
                "where": lambda: lib.where(a > 0, b, 0.0),
                "jit_mul": lambda: jit(lambda x, y: x * y)(a, b),
                "scalar": lambda: lib.multiply(b, 2.0) + lib.float32(1.0),
                "same_rank": lambda: lib.add(b, b)}[case]()

    outcomes = []
    for set_mode, lib, jit in ((jax.numpy_rank_promotion, jnp, jax.jit),
                               (fl.numpy_rank_promotion, fnp, fl.jit)):
        with set_mode("raise"):
            try:
                outcomes.append(np.asarray(run(lib, jit)))
            except ValueError as e:
                assert "jax_numpy_rank_promotion='raise'" in str(e)
                outcomes.append("raised")
        with set_mode("warn"), pytest.warns() as record:
            warnings.warn("marker")  # pytest.warns needs at least one warning
            run(lib, jit)
        outcomes.append(len([w for w in record if "rank promotion" in str(w.message)]))
    jax_raise, jax_warns, our_raise, our_warns = outcomes
    if isinstance(jax_raise, str):
        assert our_raise == "raised" and jax_warns >= 1 and our_warns >= 1
    else:
        np.testing.assert_array_equal(our_raise, jax_raise)
        assert jax_warns == our_warns == 0
    assert fl.config.jax_numpy_rank_promotion == "allow"
    with pytest.raises(ValueError, match="must be one of"):
        fl.config.update("jax_numpy_rank_promotion", "strict")


def _folding(lib, j):
    @j.jit
    def f(x):
        with j.ensure_compile_time_eval():
            z = lib.sin(lib.sin(3.0))
            positive = z > 0  # concrete: usable in Python control flow
            w = x * z         # traced operand: staged as usual
        return lib.sin(x) * w if positive else lib.cos(x)
    return f


def test_ensure_compile_time_eval_as_jax():
    x = np.float32(0.7)
    ours, theirs = _folding(fnp, fl), _folding(jnp, jax)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6)
    np.testing.assert_allclose(fl.grad(ours)(x), jax.grad(theirs)(x), rtol=1e-6)
    np.testing.assert_allclose(fl.vmap(ours)(np.array([0.1, 0.2], np.float32)),
                               jax.vmap(theirs)(np.array([0.1, 0.2], np.float32)),
                               rtol=1e-6)
    program = fl.make_jaxpr(ours)(x)
    assert "sin" in str(program) and str(program).count("sin") == 1  # folded twice


def test_rank_promotion_setting_retraces_as_jax():
    def promoting(x, y):
        return x + y
    a, b = np.ones(3, np.float32), np.ones((2, 3), np.float32)
    f = fl.jit(promoting)
    f(a, b)  # traced under 'allow'
    with fl.numpy_rank_promotion("raise"), pytest.raises(ValueError, match="raise"):
        f(a, b)
    body = fl.jit(lambda x, y: fl.lax.scan(lambda c, _: (promoting(c, y), None), x,
                                           None, length=2)[0])
    body(np.zeros((2, 3), np.float32), a)
    with fl.numpy_rank_promotion("raise"), pytest.raises(ValueError, match="raise"):
        body(np.zeros((2, 3), np.float32), a)
    np.testing.assert_array_equal(f(a, b), jax.jit(promoting)(a, b))


def test_jacobian_is_jacrev_as_jax():
    assert fl.jacobian is fl.jacrev  # JAX: "Alias of jax.jacrev"
    x = np.array([0.3, -1.2, 2.0], np.float32)
    np.testing.assert_allclose(fl.jacobian(lambda v: fnp.sin(v) * v[0])(x),
                               jax.jacobian(lambda v: jnp.sin(v) * v[0])(x), rtol=1e-6)


_PROMOTION_PAIRS = [
    (np.float32(1), np.float32(2)), (np.int8(1), 3), (np.float16(1), 2.0),
    (np.int32(1), 2.0), (True, np.int32(1)), (np.uint8(1), 2.0),
    (np.float32(1), np.float16(1)), (np.int32(1), np.int16(1)), (np.complex64(1), 1.0),
    (np.float32(1), 1j), (True, False)]


@pytest.mark.parametrize("pair", _PROMOTION_PAIRS, ids=repr)
def test_strict_dtype_promotion_as_jax(pair):
    def outcome(set_mode, lib):
        with set_mode("strict"):
            try:
                return lib.multiply(*pair).dtype
            except jax.dtypes.TypePromotionError:
                return "TypePromotionError"
    assert outcome(fl.numpy_dtype_promotion, fnp) == \
        outcome(jax.numpy_dtype_promotion, jnp)
    assert fl.config.jax_numpy_dtype_promotion == "standard"
