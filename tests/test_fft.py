"""lax.fft and jax.numpy.fft against JAX: values (eager and jit), jvp/vjp (the transpose
rules of all four transform types), vmap, and the stablehlo.fft we emit."""
import re

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.lax as flax
import functorch_lite.numpy as fnp
from harness import Rec, assert_close, check_jvp_vjp, check_values, check_vmap

F32, C64 = np.float32, np.complex64


def rec(fn_name, shape, dtype=F32, grad=True, **kw):
    """fnp.fft.<fn_name>(x, **kw) against jnp.fft.<fn_name>(x, **kw)."""
    ours, ref = getattr(fnp.fft, fn_name), getattr(jnp.fft, fn_name)
    label = ",".join(f"{k}={v}" for k, v in kw.items())
    return Rec(f"{fn_name}[{label}]", lambda x: ours(x, **kw), lambda x: ref(x, **kw),
               [(shape, dtype)], rtol=1e-4, atol=1e-4, grad_argnums=(0,) if grad else ())


def lax_rec(fft_type, shape, lengths, dtype=F32):
    return Rec(f"lax.fft[{fft_type}]", lambda x: flax.fft(x, fft_type, lengths),
               lambda x: jax.lax.fft(x, fft_type, lengths), [(shape, dtype)], rtol=1e-4,
               atol=1e-4, grad_argnums=(0,))


FFT_RECS = [
    lax_rec("fft", (3, 8), (8,), C64), lax_rec("ifft", (2, 4, 6), (4, 6), C64),
    lax_rec("rfft", (3, 8), (8,)), lax_rec("irfft", (3, 5), (8,), C64),
    lax_rec("irfft", (2, 3, 4), (3, 7), C64),
    rec("fft", (3, 8)), rec("fft", (3, 8), n=5, axis=0, norm="ortho"),
    rec("ifft", (4, 6), C64, n=9, norm="forward"),
    rec("rfft", (3, 8), norm="ortho"), rec("rfft", (7, 3), n=6, axis=0),
    rec("irfft", (3, 5), C64), rec("irfft", (3, 5), C64, n=9, norm="forward"),
    rec("hfft", (3, 5), C64), rec("ihfft", (3, 7), n=6, norm="ortho"),
    rec("fft2", (2, 4, 6)), rec("ifft2", (4, 6), C64, s=(3, 8), norm="ortho"),
    rec("rfft2", (4, 6), axes=(0, 1)), rec("irfft2", (4, 5), C64, s=(4, 7)),
    rec("fftn", (2, 3, 2, 4, 2)), rec("ifftn", (3, 4, 5), C64, axes=(2, 0)),
    rec("rfftn", (2, 2, 3, 4), norm="forward"),
    rec("irfftn", (2, 2, 3, 4, 3), C64), rec("irfftn", (3, 4), C64, s=(5, 6)),
    rec("fftshift", (4, 5)), rec("ifftshift", (4, 5), axes=1),
    rec("fftshift", (3, 4, 5), axes=(0, 2)),
]
GRAD_RECS = [r for r in FFT_RECS if "shift" not in r.name]
VMAP_RECS = [FFT_RECS[i] for i in (0, 2, 3, 4, 7, 12, 13, 16, 21, 23)]


@pytest.mark.parametrize("rec", FFT_RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", GRAD_RECS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", VMAP_RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec, in_axis=1)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_sample_frequencies(name):
    for n, d, dtype in [(8, 1.0, None), (7, 0.5, None), (5, 2.0, np.float16)]:
        got = getattr(fnp.fft, name)(n, d, dtype=dtype)
        want = getattr(jnp.fft, name)(n, d, dtype=dtype)
        assert_close(got, want, 1e-6, 1e-6, f"{name}({n}, {d}, {dtype})")


def test_grad_of_norm_of_spectrum_matches_jax():
    """A real loss of a complex spectrum: the transposes compose with abs and sums."""
    x = np.random.RandomState(0).randn(3, 8).astype(F32)
    def loss(np_):
        return lambda x: np_.sum(np_.abs(np_.fft.rfft(x, n=10) * np_.fft.fft(x)[..., :6]) ** 2)
    assert_close(fl.jit(fl.grad(loss(fnp)))(x), jax.grad(loss(jnp))(x), 1e-4, 1e-4,
                 "grad")


_JAX_FFT = re.compile(r"stablehlo\.fft %\w+, type = (\w+), length = \[([\d, ]*)\]")
_OUR_FFT = re.compile(r'"stablehlo\.fft"\(.*fft_type = #stablehlo<fft_type (\w+)>, '
                      r"fft_length = array<i64: ([\d, ]*)>")


@pytest.mark.parametrize("fn_name,kw", [("rfftn", {}), ("irfft2", {}), ("ifft", {"n": 6})])
def test_lowering_matches_jax(fn_name, kw):
    """The same stablehlo.fft operations (type and lengths) as jax.jit(...).lower."""
    x = np.ones((3, 4, 8), C64 if fn_name.startswith("i") else F32)
    ours = fl.jit(lambda x: getattr(fnp.fft, fn_name)(x, **kw)).lower(x).as_text()
    theirs = jax.jit(lambda x: getattr(jnp.fft, fn_name)(x, **kw)).lower(x).as_text()
    want = [(t, [int(n) for n in ls.split(",")]) for t, ls in _JAX_FFT.findall(theirs)]
    got = [(t, [int(n) for n in ls.split(",")]) for t, ls in _OUR_FFT.findall(ours)]
    assert got == want and want


def test_errors():
    with pytest.raises(ValueError, match="only real valued inputs"):
        flax.fft(np.ones(4, C64), "rfft", (4,))
    with pytest.raises(ValueError, match="Unknown FFT type"):
        flax.fft(np.ones(4, C64), "dct", (4,))
    with pytest.raises(ValueError, match="does not support multiple axes"):
        fnp.fft.fft(np.ones((2, 2)), axis=(0, 1))
    with pytest.raises(ValueError, match="Invalid norm"):
        fnp.fft.fft(np.ones(4), norm="unit")
