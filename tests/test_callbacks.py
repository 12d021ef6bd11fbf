"""Host callbacks (`pure_callback`, `debug.print`, `debug.callback`) against JAX: values
eagerly, under jit, vmap (every vmap_method) and grad through custom_jvp; printed
output equal to JAX's for the same programs."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp
from lowered import jax_text, our_text, signatures

LIBS = {"ours": (fl, fnp), "jax": (jax, jnp)}


def _sin_cb(x, *, scale):
    return {"sin": np.sin(np.asarray(x)) * scale, "n": np.asarray(x.size, np.int32)}


def _pure(lib, x):
    J, _ = LIBS[lib]
    shapes = {"sin": jax.ShapeDtypeStruct(x.shape, x.dtype),
              "n": jax.ShapeDtypeStruct((), np.int32)}
    return J.pure_callback(_sin_cb, shapes, x, scale=2.0)


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_pure_callback_values_match_jax(mode):
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    results = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        f = (lambda x, lib=lib: _pure(lib, x))
        results[lib] = (J.jit(f) if mode == "jit" else f)(x)
    ours, theirs = results["ours"], results["jax"]
    assert set(ours) == set(theirs)
    for k in ours:
        assert ours[k].dtype == theirs[k].dtype and ours[k].shape == theirs[k].shape
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6)
    assert isinstance(ours["sin"], jax.Array)


METHODS = ["sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
           "legacy_vectorized"]


@pytest.mark.parametrize("method", METHODS)
def test_pure_callback_vmap_methods_match_jax(method):
    xs = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = np.array([10.0, 20.0], np.float32)
    for jitted in (False, True):
        seen, outs = {}, {}
        for lib in LIBS:
            J, _ = LIBS[lib]
            calls = seen[lib] = []

            def cb(x, y, calls=calls):
                calls.append((np.shape(x), np.shape(y)))
                return np.asarray(x) * 2 + np.asarray(y)

            def f(x, J=J):
                return J.pure_callback(cb, jax.ShapeDtypeStruct(x.shape, x.dtype), x, y,
                                       vmap_method=method)
            g = J.vmap(f)
            outs[lib] = (J.jit(g) if jitted else g)(xs)
        np.testing.assert_array_equal(outs["ours"], outs["jax"])
        assert seen["ours"] == seen["jax"], (method, jitted)  # same calls, same shapes


def test_pure_callback_vmap_without_method_and_bad_method_raise_as_jax():
    sds = jax.ShapeDtypeStruct((), np.float32)
    for J in (fl, jax):
        with pytest.raises(NotImplementedError, match="vmap_method"):
            J.vmap(lambda x: J.pure_callback(np.sin, sds, x))(np.ones(2, np.float32))
        with pytest.raises(ValueError, match="vmap_method"):
            J.pure_callback(np.sin, sds, 1.0, vmap_method="loop")


def test_grad_through_bare_pure_callback_raises_the_class_jax_raises():
    sds = jax.ShapeDtypeStruct((), np.float32)
    errors = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        with pytest.raises(Exception) as info:
            J.grad(lambda x: J.pure_callback(np.sin, sds, x))(1.0)
        errors[lib] = info.type
    assert errors["ours"] is errors["jax"] is ValueError


def _custom_sin(J):
    sds = jax.ShapeDtypeStruct((), np.float32)

    @J.custom_jvp
    def sin(x):
        return J.pure_callback(lambda a: np.sin(a).astype(np.float32), sds, x)

    @sin.defjvp
    def _(primals, tangents):
        x, = primals
        cos = J.pure_callback(lambda a: np.cos(a).astype(np.float32), sds, x)
        return sin(x), cos * tangents[0]
    return sin


def test_grad_through_custom_jvp_around_pure_callback_matches_jax():
    x = np.float32(0.7)
    for transform in (lambda J, f: J.grad(f), lambda J, f: J.jit(J.grad(f))):
        ours = transform(fl, lambda x: _custom_sin(fl)(x) * x)(x)
        theirs = transform(jax, lambda x: _custom_sin(jax)(x) * x)(x)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_callback_errors_surface_as_jax_reports_them():
    def bad(x):
        raise ValueError("boom from the callback")
    sds = jax.ShapeDtypeStruct((), np.float32)
    classes = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        with pytest.raises(Exception, match="boom from the callback") as info:
            J.jit(lambda x: J.pure_callback(bad, sds, x))(np.float32(1))
        classes[lib] = info.type
    assert classes["ours"] is classes["jax"]
    with pytest.raises(RuntimeError, match="Incorrect output shape"):
        fl.pure_callback(lambda x: np.zeros(3, np.float32), sds, 1.0)
    with pytest.raises(ValueError, match="64-bit"):
        fl.pure_callback(np.sin, jax.ShapeDtypeStruct((), np.float64), 1.0)


# --- debug.print / debug.callback -------------------------------------------------------

def _programs(J, N):
    def f(x):
        J.debug.print("f: x={} sum={s}", x, s=x.sum())
        return (N.sin(x) ** 2).sum()

    def body(c, xi):
        J.debug.print("step c={} x={}", c, xi)
        return c + xi, c * xi
    return {
        "eager": lambda x: f(x),
        "jit": lambda x: J.jit(f)(x),
        "vmap": lambda x: J.vmap(f)(x.reshape(3, 1)),
        "jit_vmap": lambda x: J.jit(J.vmap(f))(x.reshape(3, 1)),
        "grad": lambda x: J.grad(f)(x),
        "grad_jit": lambda x: J.jit(J.grad(J.jit(f)))(x),
        "jvp": lambda x: J.jvp(f, (x,), (N.ones_like(x),)),
        "checkpoint_grad": lambda x: J.grad(J.checkpoint(f))(x),
        "scan_grad": lambda x: J.jit(J.grad(lambda xs: J.lax.scan(body, 1.0, xs)[1].sum()))(x),
        "cond": lambda x: J.jit(lambda x: J.lax.cond(
            x.sum() > 0, lambda x: (J.debug.print("pos {}", x), x)[1], lambda x: -x, x))(x),
        "vmap_cond": lambda x: J.vmap(lambda v: J.lax.cond(  # batched predicate: both
            v > 0, lambda v: (J.debug.print("pos {}", v), v)[1],  # branches run
            lambda v: (J.debug.print("neg {}", v), -v)[1], v))(x),
        "vmap_while": lambda x: J.vmap(lambda v: J.lax.while_loop(
            lambda c: c < v, lambda c: (J.debug.print("c={}", c), c + 1)[1], 0.0))(x),
        "custom_vjp_grad": lambda x: J.jit(J.grad(lambda x: _logged_sin(J, N)(x).sum()))(x),
        "hessian": lambda x: J.hessian(f)(x),
    }


def _logged_sin(J, N):
    @J.custom_vjp
    def sin(x):
        return N.sin(x)

    def fwd(x):
        J.debug.print("fwd {}", x)
        return N.sin(x), x

    def bwd(x, g):
        J.debug.print("bwd {} {}", x, g)
        return (g * N.cos(x),)
    sin.defvjp(fwd, bwd)
    return sin


@pytest.mark.parametrize("name", list(_programs(fl, fnp)))
def test_debug_print_output_matches_jax(name, capsys):
    x = np.array([0.5, -1.0, 2.0], np.float32)
    printed = {}
    for lib in LIBS:
        J, N = LIBS[lib]
        _programs(J, N)[name](x)
        printed[lib] = capsys.readouterr().out
    assert printed["ours"] == printed["jax"]
    assert printed["ours"].strip()


def test_debug_callback_gets_arrays_and_static_arguments_as_jax():
    x = np.arange(3, dtype=np.float32)
    calls = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        seen = calls[lib] = []

        def record(a, tag, *, scale, seen=seen):
            seen.append((type(a).__name__, np.asarray(a).tolist(), tag, float(scale)))
        J.debug.callback(record, x, "eager", scale=2.0)
        J.jit(lambda x: J.debug.callback(record, x * 2, "jit", scale=x[1]))(x)
        J.vmap(lambda x: J.debug.callback(record, x, "vmap", scale=1.0))(x)
    assert calls["ours"] == calls["jax"]


def test_debug_print_format_errors_and_ordered_are_reported():
    for J in (fl, jax):
        with pytest.raises(ValueError, match="Unused positional"):
            J.debug.print("no fields", 1.0)
        with pytest.raises(ValueError, match="Unused keyword"):
            J.debug.print("{x}", x=1.0, y=2.0)
    with pytest.raises(NotImplementedError, match="ordered=True"):
        fl.debug.print("{}", 1.0, ordered=True)


def test_unused_print_is_kept_by_dead_code_elimination(capsys):
    def loop(x):
        def body(i, c):
            fl.debug.print("i={}", i)  # its result feeds nothing
            return c
        return fl.lax.fori_loop(0, 2, body, x)
    fl.jit(fl.grad(loop))(1.0)
    assert capsys.readouterr().out == "i=0\ni=1\n"


@pytest.mark.parametrize("method", ["sequential", "expand_dims"])
def test_pure_callback_vmap_over_a_later_axis_matches_jax(method):
    xs = np.arange(6, dtype=np.float32).reshape(2, 3)
    outs = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        f = lambda x, J=J: J.pure_callback(lambda a: np.cumsum(a, -1), x, x,
                                           vmap_method=method)
        outs[lib] = J.vmap(f, in_axes=1, out_axes=1)(xs)
    np.testing.assert_array_equal(outs["ours"], outs["jax"])


# --- io_callback ----------------------------------------------------------------------

def test_io_callback_runs_for_its_effects_as_jax():
    from jax.experimental import io_callback as jax_io_callback
    from functorch_lite.experimental import io_callback
    sds = jax.ShapeDtypeStruct((), np.float32)
    logs, outs = {}, {}
    for lib, io in (("ours", io_callback), ("jax", jax_io_callback)):
        J, _ = LIBS[lib]
        log = logs[lib] = []

        def record(x, log=log):
            log.append(np.asarray(x).tolist())
            return np.float32(np.sum(x))

        def f(x, J=J, io=io, record=record):
            io(record, sds, x * 3)  # result unused: still runs
            return io(record, sds, x)
        outs[lib] = (f(np.ones(2, np.float32)), J.jit(f)(np.arange(2, dtype=np.float32)),
                     J.vmap(J.jit(f))(np.arange(4, dtype=np.float32).reshape(2, 2)))
        with pytest.raises(ValueError, match="IO callbacks do not support JVP"):
            J.grad(lambda x: io(record, sds, x))(1.0)
    assert logs["ours"] == logs["jax"]
    for a, b in zip(outs["ours"], outs["jax"]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(NotImplementedError, match="ordered=True"):
        io_callback(np.sin, sds, 1.0, ordered=True)


def test_effects_barrier_sees_every_effect_of_dispatched_work():
    """After `effects_barrier()` every io_callback and debug.callback of the jitted
    calls made so far has run, in both libraries."""
    from jax.experimental import io_callback as jax_io_callback
    from functorch_lite.experimental import io_callback
    sds = jax.ShapeDtypeStruct((), np.float32)
    for J, io in ((fl, io_callback), (jax, jax_io_callback)):
        seen = []

        def f(x, J=J, io=io, seen=seen):
            J.debug.callback(lambda v: seen.append(("debug", float(v))), x)
            return io(lambda v: (seen.append(("io", float(v))), np.float32(v))[1],
                      sds, x)
        step = J.jit(f)
        outs = [step(np.float32(i)) for i in range(3)]
        assert J.effects_barrier() is None
        want = [(kind, float(i)) for i in range(3) for kind in ("debug", "io")]
        assert sorted(seen) == sorted(want)
        assert [float(o) for o in outs] == [0.0, 1.0, 2.0]


def test_callbacks_lower_to_the_custom_calls_jax_writes():
    """Same FFI target, layouts, side-effect flag and callback index as JAX's CPU
    lowering (JAX also annotates a one-device Shardy sharding, which we do not)."""
    def program(J):
        def f(x):
            J.debug.print("{}", x)
            return J.pure_callback(np.sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x,
                                   x.sum())
        return f
    x = np.ones((2, 3), np.float32)
    sharding = re.compile(r", sdy\.sharding = #sdy\.sharding_per_value<.*?>(?=\} :)")
    ours = signatures(our_text(program(fl), x, platform="cpu"), "stablehlo.custom_call")
    theirs = signatures(jax_text(program(jax), x, platform="cpu"), "stablehlo.custom_call")
    assert len(ours) == 2 and ours == [sharding.sub("", s) for s in theirs]


def test_two_call_forms_print_as_jax(capsys):
    printed = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        J.debug.print()("two {} {{literal}}", 1.5)
        J.jit(lambda x, J=J: J.debug.callback()(print, "cb", x, sep="|"))(2.0)
        J.debug.print("{{not a field}}")
        printed[lib] = capsys.readouterr().out
    assert printed["ours"] == printed["jax"] and printed["ours"].count("\n") == 3
    with pytest.raises(TypeError, match="two-call form"):
        fl.debug.print(None, 1.0)


def test_eager_sequential_vmap_compiles_once(monkeypatch):
    from functorch_lite import _runtime
    compiles = []
    real = _runtime.compile
    monkeypatch.setattr(_runtime, "compile", lambda *a: compiles.append(1) or real(*a))
    f = fl.vmap(lambda x, y: fl.pure_callback(np.add, x, x, y, vmap_method="sequential"),
                in_axes=(0, None))
    xs = np.ones((4, 3), np.float32)
    results = [f(xs, np.float32(i)) for i in range(3)]
    for i, r in enumerate(results):  # the unbatched y is an operand, not a baked constant
        np.testing.assert_array_equal(r, xs + i)
    assert len(compiles) == 1


def test_a_jaxlib_without_the_callback_api_raises_naming_the_version(monkeypatch):
    from functorch_lite import _runtime
    monkeypatch.delattr(_runtime._xla.ExecuteResults, "consume_token")
    with pytest.raises(NotImplementedError, match="jaxlib"):
        fl.jit(lambda x: fl.debug.print("{}", x * 7))(1.0)


def test_call_jax_of_a_function_with_jax_callbacks_is_refused():
    def jax_fn(x):
        jax.debug.print("inside jax {}", x)
        return x + 1
    with pytest.raises(NotImplementedError, match="host callback"):
        fl.jit(lambda x: (fl.debug.print("ours {}", x), fl.interop.call_jax(jax_fn, x))[1])(
            1.0)


def test_debug_log_records_as_jax(caplog):
    import logging
    caplog.set_level(logging.INFO)
    records = {}
    for lib in LIBS:
        J, _ = LIBS[lib]
        caplog.clear()
        J.jit(lambda x, J=J: J.debug.log("logged {x}", x=x * 2))(np.float32(1.5))
        J.vmap(lambda x, J=J: J.debug.log("row {}", x))(np.arange(2.0, dtype=np.float32))
        records[lib] = [(r.levelno, r.getMessage(), r.pathname, r.lineno)
                        for r in caplog.records]
    assert records["ours"] == records["jax"] and len(records["ours"]) == 3
    assert records["ours"][0][2] == __file__
