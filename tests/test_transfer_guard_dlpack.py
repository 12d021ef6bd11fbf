"""Transfer guards (JAX's, seeing our transfers: implicit ones refused by "disallow",
our explicit device_put/device_get only by "disallow_explicit", as JAX), DLPack
exchange, and the leak checker's clear refusal."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp

LIBS = {"ours": (fl, fnp), "jax": (jax, jnp)}
HOST = np.arange(3, dtype=np.float32)


def _cases(J, N):
    on_device = J.device_put(HOST)
    return {
        "device_put": lambda: J.device_put(HOST),
        "device_get": lambda: J.device_get(on_device),
        "asarray": lambda: N.asarray(HOST),
        "jit_numpy_arg": lambda: J.jit(lambda a: a * 2)(HOST),
        "jit_device_arg": lambda: J.jit(lambda a: a * 2)(on_device),
        "op_on_device": lambda: N.sin(on_device),
        "float": lambda: float(on_device[0]),
    }


def _outcomes(lib, level):
    J, N = LIBS[lib]
    result = {}
    for name, run in _cases(J, N).items():
        try:
            with J.transfer_guard(level):
                run()
            result[name] = "ok"
        except Exception as e:  # noqa: BLE001  (the error class is compared)
            result[name] = type(e).__name__
    return result


@pytest.mark.parametrize("level", ["allow", "log", "disallow", "disallow_explicit"])
def test_transfer_guard_refuses_what_jax_refuses(level):
    ours, theirs = _outcomes("ours", level), _outcomes("jax", level)
    assert ours == theirs
    if level == "disallow":
        assert theirs["jit_numpy_arg"] != "ok" and theirs["device_put"] == "ok"


def test_directional_guards():
    on_device = fl.device_put(HOST)
    with fl.transfer_guard_host_to_device("disallow"):
        np.testing.assert_allclose(np.asarray(fnp.sin(on_device)), np.sin(HOST), rtol=1e-6)
        with pytest.raises(Exception, match="Disallowed host-to-device"):
            fnp.asarray(HOST)
    for J in (fl, jax):  # JAX's CPU client lets device_get through: so do we
        with J.transfer_guard_device_to_host("disallow_explicit"):
            np.testing.assert_array_equal(J.device_get(J.device_put(HOST)), HOST)
    with fl.transfer_guard_device_to_device("disallow"):
        assert jax.config.jax_transfer_guard_device_to_device == "disallow"


@pytest.mark.parametrize("lib", ["ours", "jax"])
def test_dlpack_round_trip(lib):
    J, N = LIBS[lib]
    host = np.arange(6, dtype=np.int32).reshape(2, 3)
    for from_dlpack in (J.dlpack.from_dlpack, N.from_dlpack):
        x = from_dlpack(host)
        assert isinstance(x, jax.Array) and x.dtype == np.int32
        np.testing.assert_array_equal(np.asarray(x), host)
    back = np.from_dlpack(J.jit(lambda a: a + 1)(x))
    np.testing.assert_array_equal(back, host + 1)
    assert J.dlpack.is_supported_dtype(np.float32)


def test_leak_checking_refuses_clearly():
    with pytest.raises(NotImplementedError, match="UnexpectedTracerError"):
        with fl.checking_leaks():
            pass
    with pytest.raises(NotImplementedError, match="leaked tracers"):
        fl.check_tracer_leaks(True)
    with fl.check_tracer_leaks(False):
        assert float(fl.jit(fnp.sin)(0.0)) == 0.0
    leaked = []
    fl.jit(lambda x: leaked.append(x) or x)(1.0)
    with pytest.raises(fl.UnexpectedTracerError):
        fnp.sin(leaked[0])


def test_typing_annotations_accept_our_arrays():
    import typing
    assert fl.typing.ArrayLike is jax.typing.ArrayLike
    assert isinstance(fnp.ones(2), typing.get_args(fl.typing.ArrayLike))
    assert fl.typing.DTypeLike is jax.typing.DTypeLike
