"""scipy.fft (dct, idct, dctn, idctn) and the FFT-based scipy.signal functions
(fftconvolve, convolve/correlate with method='fft', stft, istft, csd, welch) against
jax.scipy (values eager and under jit, jvp/vjp, vmap) and SciPy (types and norms JAX
lacks)."""
import warnings

import numpy as np
import pytest
import scipy.fft as sfft
import scipy.signal as ssignal
import jax
import jax.scipy as jsp

import functorch_lite as fl
import functorch_lite.scipy as fsp
from harness import Rec, check_jvp_vjp, check_values, check_vmap

F32 = np.float32
C64 = np.complex64


def rec(name, fn, shapes, grad=False, batch=True, dtype=F32):
    """A record running `fn(module, *args)` with our scipy and with jax.scipy (jitted:
    JAX's op-by-op dispatch would dominate the test time)."""
    return Rec(name, lambda *a: fn(fsp, *a), jax.jit(lambda *a: fn(jsp, *a)),
               [(s, dtype) if isinstance(s, tuple) else s for s in shapes],
               rtol=1e-4, atol=1e-4, grad_argnums=(
                   tuple(i for i, s in enumerate(shapes) if isinstance(s, tuple))
                   if grad else ()), batch=batch)


def dct_rec(name, shape, grad=False, **kw):
    return rec(f"{name}_{shape}_{kw}", lambda m, x: getattr(m.fft, name)(x, **kw),
               [shape], grad=grad)


def signal_rec(name, shapes, grad=False, **kw):
    return rec(f"{name}_{kw}", lambda m, *a: getattr(m.signal, name)(*a, **kw), shapes,
               grad=grad)


RECS = [
    *[dct_rec(name, shape, norm=norm) for name, shape, norm in [
        ("dct", (5,), None), ("dct", (4, 6), "ortho"), ("idct", (5,), "ortho"),
        ("idct", (4, 6), None)]],
    dct_rec("dct", (4, 6), n=3, axis=0),
    dct_rec("idct", (4, 6), n=7, axis=0),
    *[dct_rec(name, (2, 3, 4), s=s, axes=axes, norm="ortho") for name, s, axes in [
        ("dctn", None, None), ("dctn", (2, 6), (0, 2)), ("idctn", (5,), None),
        ("idctn", None, (1,))]],
    dct_rec("dct", (4, 6), grad=True, axis=0),
    dct_rec("idct", (4, 6), grad=True, norm="ortho"),
    dct_rec("dctn", (4, 6), grad=True),
    dct_rec("idctn", (3, 4), grad=True, s=(4, 5)),
    rec("dct_complex", lambda m, x: m.fft.dctn(x, norm="ortho"), [(3, 4)], dtype=C64),
    *[signal_rec("fftconvolve", shapes, mode=mode, axes=axes) for mode, shapes, axes in [
        ("full", [(9,), (4,)], None), ("same", [(3, 5), (6, 8)], None),
        ("valid", [(3, 5), (6, 8)], None), ("full", [(3, 9), (3, 4)], (1,)),
        ("same", [(7, 2, 5), (3, 2, 2)], (0, -1)), ("valid", [(7, 2, 5), (3, 2, 2)], (0, -1))]],
    signal_rec("fftconvolve", [(8,), (3,)], grad=True, mode="same"),
    signal_rec("fftconvolve", [(5, 6), (2, 3)], grad=True),
    signal_rec("fftconvolve", [(3, 9), (3, 4)], grad=True, mode="valid", axes=1),
    rec("fftconvolve_complex", lambda m, a, b: m.signal.fftconvolve(a, b),
        [(7,), (3,)], dtype=C64),
    *[signal_rec(name, [(6, 7), (3, 2)], mode=mode, method="fft")
      for name, mode in [("convolve", "full"), ("correlate", "same"), ("convolve", "valid")]],
    signal_rec("stft", [(2, 60)], grad=True, nperseg=16),
    signal_rec("stft", [(40, 2)], nperseg=15, noverlap=5, nfft=20, window="hamming",
               boundary="even", padded=False, detrend="linear", axis=0),
    signal_rec("stft", [(50,)], nperseg=16, return_onesided=False, boundary="odd"),
    rec("istft", lambda m, x: m.signal.istft(m.signal.stft(x, nperseg=16)[2],
                                             nperseg=16), [(2, 60)], grad=True),
    rec("istft_axes", lambda m, x: m.signal.istft(
        m.signal.stft(x, nperseg=12, noverlap=8, axis=0)[2], nperseg=12, noverlap=8,
        time_axis=-1, freq_axis=0), [(50, 2)]),
    signal_rec("welch", [(2, 80)], grad=True, nperseg=16),
    signal_rec("welch", [(70,)], nperseg=15, average="median", scaling="spectrum",
               detrend="linear"),
    signal_rec("csd", [(2, 80), (2, 70)], grad=True, nperseg=16),
    signal_rec("csd", [(3, 64), (1, 64)], nperseg=20, nfft=25, average="median"),
]

GRAD_RECS = [r for r in RECS if r.grad_argnums]
VMAP_RECS = [r for r in RECS if r.name.startswith(("dctn_(2, 3, 4)_{'s': (2, 6)",
                                                   "fftconvolve_{'mode': 'same', 'axes': (0"))
             or r.grad_argnums]


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_values(rec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # JAX's complex-input notice
        check_values(rec)


@pytest.mark.parametrize("rec", GRAD_RECS, ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", VMAP_RECS, ids=str)
def test_vmap(rec):
    check_vmap(rec)


def test_grad_under_jit_matches_jax():
    x = np.random.RandomState(0).randn(4, 6).astype(F32)
    kernel = np.random.RandomState(1).randn(3, 2).astype(F32)

    def loss(m, v):
        spectrum = m.fft.dctn(v, norm="ortho")
        smoothed = m.signal.fftconvolve(v, kernel, mode="same")
        return (spectrum[:2] ** 2).sum() + (smoothed * m.fft.idct(v, axis=0)).sum()
    got = fl.jit(fl.grad(lambda v: loss(fsp, v)))(x)
    want = jax.jit(jax.grad(lambda v: loss(jsp, v)))(x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    batch = np.stack([x, -x])
    np.testing.assert_allclose(fl.jit(fl.vmap(fl.grad(lambda v: loss(fsp, v))))(batch),
                               jax.jit(jax.vmap(jax.grad(lambda v: loss(jsp, v))))(batch),
                               rtol=1e-4, atol=1e-4)


def test_dct_types_and_norms_match_scipy():
    """Types 2 and 3 and the 'forward' norm (JAX has type 2 and no 'forward')."""
    rng = np.random.RandomState(0)
    x = rng.randn(4, 5)
    for name in ("dct", "idct"):
        for type in (2, 3):
            for norm in (None, "ortho", "forward"):
                for n, axis in [(None, -1), (7, 0)]:
                    np.testing.assert_allclose(
                        getattr(fsp.fft, name)(x.astype(F32), type, n, axis, norm),
                        getattr(sfft, name)(x, type, n, axis, norm), rtol=1e-4, atol=1e-4,
                        err_msg=f"{name} type={type} norm={norm} n={n} axis={axis}")
    y = rng.randn(3, 4, 5)
    for name in ("dctn", "idctn"):
        for type in (2, 3):
            for s, axes in [(None, None), ((6, 2), (0, 2)), ((3,), None)]:
                np.testing.assert_allclose(
                    getattr(fsp.fft, name)(y.astype(F32), type, s, axes, "forward"),
                    getattr(sfft, name)(y, type, s, axes, "forward"), rtol=1e-4, atol=1e-4,
                    err_msg=f"{name} type={type} s={s} axes={axes}")


def test_signal_matches_scipy():
    rng = np.random.RandomState(0)
    a, b = rng.randn(6, 9), rng.randn(3, 4)
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(fsp.signal.fftconvolve(a.astype(F32), b.astype(F32), mode),
                                   ssignal.fftconvolve(a, b, mode), rtol=1e-4, atol=1e-4)
    x, y = rng.randn(2, 100), rng.randn(2, 100)
    for ours, theirs in zip(fsp.signal.stft(x.astype(F32), fs=8.0, nperseg=20),
                            ssignal.stft(x, fs=8.0, nperseg=20)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    for ours, theirs in zip(fsp.signal.csd(x.astype(F32), y.astype(F32), nperseg=32),
                            ssignal.csd(x, y, nperseg=32)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    _, _, zxx = ssignal.stft(x, nperseg=20)
    np.testing.assert_allclose(fsp.signal.istft(zxx.astype(C64), nperseg=20)[1],
                               ssignal.istft(zxx, nperseg=20)[1], rtol=1e-4, atol=1e-5)


def test_errors_match_jax():
    x = np.ones((4, 5), F32)
    for ours, theirs in [(fsp.fft.dct, jsp.fft.dct), (fsp.fft.idctn, jsp.fft.idctn)]:
        for kw, err in [(dict(type=1), NotImplementedError), (dict(norm="bad"), ValueError)]:
            with pytest.raises(err):
                theirs(x, **kw)
            with pytest.raises(err, match="type|norm"):
                ours(x, **kw)
    for kw in [dict(mode="bad"), dict(axes=(0,))]:   # mapped axes must have equal sizes
        with pytest.raises(ValueError):
            jsp.signal.fftconvolve(x, np.ones((2, 2), F32), **kw)
        with pytest.raises(ValueError, match="mode|mapped axes"):
            fsp.signal.fftconvolve(x, np.ones((2, 2), F32), **kw)
    with pytest.raises(ValueError, match="noverlap"):
        fsp.signal.stft(np.ones(40, F32), nperseg=8, noverlap=8)
