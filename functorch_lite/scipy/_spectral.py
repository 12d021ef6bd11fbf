"""Spectral analysis as `jax.scipy.signal`: the short-time Fourier transform (`stft`)
and its inverse (`istft`), and Welch's averaged periodograms (`csd`, `welch`). Segment
positions, windows and overlap-add normalisations depend only on shapes and static
arguments, so they are NumPy constants; the data flows through our numpy and fft."""
import dataclasses
import operator
import warnings

import numpy as np

from .. import _dtypes
from .. import numpy as jnp
from .._core import get_aval
from ..lax._util import canonicalize_axis
from ..numpy import fft as jnp_fft
from ._util import inexact_arrays, inline_jit

__all__ = ["stft", "istft", "csd", "welch"]


@dataclasses.dataclass(frozen=True)
class _ArrayWindow:
    """A window given as an array, held as a static (hashable) argument of the jitted
    transforms."""
    shape: tuple
    values: tuple
    dtype: str

    def array(self):
        return np.asarray(self.values, self.dtype).reshape(self.shape)


def _static_window(window):
    """`window` as a static argument: names and SciPy's (name, parameter) tuples as
    given, arrays by value."""
    if isinstance(window, (str, tuple)):
        return window
    window = np.asarray(window)
    return _ArrayWindow(window.shape, tuple(window.ravel().tolist()), str(window.dtype))


def _named_window(window, nperseg):
    """The periodic window `window` names (SciPy's get_window), as a NumPy array."""
    if isinstance(window, str) and window == "hann":
        return np.ones(1) if nperseg == 1 else np.sin(
            np.linspace(0, np.pi, nperseg, endpoint=False)) ** 2
    try:
        from scipy.signal import get_window  # SciPy is optional
    except ImportError as err:
        raise ImportError(f"scipy must be installed to use window={window!r}; install it "
                          f"or pass the window as an array") from err
    return get_window(window, nperseg)


def _window(window, nperseg, input_length, dtype):
    """(window as a NumPy array of `dtype`, segment length), as SciPy's _triage_segments."""
    if isinstance(window, (str, tuple)):
        nperseg = input_length if nperseg is None else nperseg
        if nperseg > input_length:
            warnings.warn(f"nperseg={nperseg} is greater than input_length={input_length}, "
                          f"using nperseg={input_length}")
            nperseg = input_length
        return _named_window(window, nperseg).astype(dtype), nperseg
    win = window.array().astype(dtype)
    if win.ndim != 1:
        raise ValueError(f"window must be 1-D; got shape {win.shape}")
    if input_length < win.size:
        raise ValueError("window is longer than input signal")
    if nperseg is not None and nperseg != win.size:
        raise ValueError("value specified for nperseg is different from length of window")
    return win, win.size


def _extend(x, n, boundary):
    """`x` extended by n points at both ends of its last axis, as SciPy's boundary modes."""
    if boundary == "odd":
        if n < 1:
            return x
        if n > get_aval(x).shape[-1] - 1:
            raise ValueError(f"The extension length n ({n}) is too big. It must not exceed "
                             f"x.shape[axis]-1, which is {get_aval(x).shape[-1] - 1}.")
        left = 2 * x[..., :1] - jnp.flip(x[..., 1:n + 1], -1)
        right = 2 * x[..., -1:] - jnp.flip(x[..., -(n + 1):-1], -1)
        return jnp.concatenate([left, x, right], axis=-1)
    pad_mode = {"even": "reflect", "constant": "edge", "zeros": "constant"}[boundary]
    return jnp.pad(x, [(0, 0)] * (get_aval(x).ndim - 1) + [(n, n)], pad_mode)


def _pad_last(x, n):
    return jnp.pad(x, [(0, 0)] * (get_aval(x).ndim - 1) + [(0, n)])


def _detrend_function(detrend_type, axis):
    from .signal import detrend   # signal re-exports this module
    if isinstance(detrend_type, str):
        return lambda d: detrend(d, axis=-1, type=detrend_type)
    if callable(detrend_type):
        if axis == -1:
            return detrend_type
        # SciPy's convention: the callable sees the data's axis last
        return lambda d: jnp.moveaxis(detrend_type(jnp.moveaxis(d, axis, -1)), -1, axis)
    if not detrend_type:
        return lambda d: d
    raise ValueError(f"Unsupported detrend type: {detrend_type!r}; give 'constant', "
                     f"'linear', a function or False")


def _windowed_ffts(x, win, detrend_func, nperseg, nstep, nfft, twosided):
    """FFTs of the detrended, windowed segments of x's last axis: (..., segments, freqs)."""
    length = get_aval(x).shape[-1]
    starts = np.arange(0, length - nperseg + 1, nstep)
    segments = x[..., starts[:, None] + np.arange(nperseg)]
    segments = detrend_func(segments) * win
    if twosided:
        return jnp_fft.fft(segments, n=nfft)
    return jnp_fft.rfft(jnp.real(segments), n=nfft)


def _spectral(x, y, fs, window, nperseg, noverlap, nfft, detrend_type, return_onesided,
              scaling, axis, mode, boundary=None, padded=False):
    """(frequencies, segment times, per-segment spectra) shared by stft, csd and welch,
    as SciPy's _spectral_helper (frequency axis where `axis` was, segments last)."""
    if boundary not in ("even", "odd", "constant", "zeros", None):
        raise ValueError(f"Unknown boundary option '{boundary}', must be one of: "
                         f"['even', 'odd', 'constant', 'zeros', None]")
    ndim = get_aval(jnp.asarray(x)).ndim
    axis = canonicalize_axis(operator.index(axis), ndim)
    if y is None:
        (x,) = inexact_arrays(x)
    else:
        x, y = inexact_arrays(x, y)
        if get_aval(y).ndim != ndim:
            raise ValueError(f"two-arguments must have the same rank ({ndim} vs "
                             f"{get_aval(y).ndim}).")
        outer = [s[:axis] + s[axis + 1:] for s in (get_aval(x).shape, get_aval(y).shape)]
        try:
            np.broadcast_shapes(*outer)
        except ValueError as err:
            raise ValueError("x and y cannot be broadcast together.") from err
    result_dtype = _dtypes.promote_types(get_aval(x).dtype, np.complex64)
    freq_dtype = np.finfo(result_dtype).dtype
    if nperseg is not None:
        nperseg = operator.index(nperseg)
        if nperseg < 1:
            raise ValueError("nperseg must be a positive integer")
    win, nperseg = _window(window, nperseg, get_aval(x).shape[axis], get_aval(x).dtype)
    noverlap = nperseg // 2 if noverlap is None else operator.index(noverlap)
    nfft = nperseg if nfft is None else operator.index(nfft)
    if get_aval(x).size == 0 or (y is not None and get_aval(y).size == 0):
        shape = get_aval(x).shape   # empty results, as JAX
        if y is not None:
            shape = np.broadcast_shapes(*outer)
            shape = shape[:axis] + (min(get_aval(x).shape[axis], get_aval(y).shape[axis]),) \
                + shape[axis:]
        return (jnp.zeros(shape, freq_dtype), jnp.zeros(shape, freq_dtype),
                jnp.zeros(shape, result_dtype))
    x = jnp.moveaxis(x, axis, -1)
    if y is not None:
        y = jnp.moveaxis(y, axis, -1)
        gap = get_aval(y).shape[-1] - get_aval(x).shape[-1]
        x, y = (_pad_last(x, gap), y) if gap > 0 else (x, _pad_last(y, -gap))
    if nfft < nperseg:
        raise ValueError("nfft must be greater than or equal to nperseg.")
    if noverlap >= nperseg:
        raise ValueError("noverlap must be less than nperseg.")
    nstep = nperseg - noverlap
    signals = [x] if y is None else [x, y]
    if boundary is not None:
        signals = [_extend(s, nperseg // 2, boundary) for s in signals]
    if padded:   # a whole number of segments
        nadd = (-(get_aval(signals[0]).shape[-1] - nperseg) % nstep) % nperseg
        signals = [_pad_last(s, nadd) for s in signals]
    length = get_aval(signals[0]).shape[-1]
    detrend_func = _detrend_function(detrend_type, axis)
    fs = jnp.asarray(fs, freq_dtype)
    if scaling == "density":
        scale = 1.0 / (fs * float((win * win).sum()))
    elif scaling == "spectrum":
        scale = jnp.asarray(1.0 / float(win.sum()) ** 2, freq_dtype)
    else:
        raise ValueError(f"Unknown scaling: {scaling!r}; give 'density' or 'spectrum'")
    if mode == "stft":
        scale = jnp.sqrt(scale)
    twosided = not return_onesided
    if return_onesided and any(jnp.iscomplexobj(s) for s in signals):
        twosided = True
        warnings.warn("Input data is complex, switching to return_onesided=False")
    freqs = (jnp_fft.fftfreq(nfft, 1 / fs, dtype=freq_dtype) if twosided
             else jnp_fft.rfftfreq(nfft, 1 / fs, dtype=freq_dtype))
    spectra = [_windowed_ffts(s, win, detrend_func, nperseg, nstep, nfft, twosided)
               for s in signals]
    if y is not None:
        result = jnp.conj(spectra[0]) * spectra[1]
    elif mode == "psd":
        result = jnp.conj(spectra[0]) * spectra[0]
    else:
        result = spectra[0]
    result = result * scale
    if not twosided and mode == "psd":   # one-sided: fold the negative frequencies in
        doubled = np.full(get_aval(result).shape[-1], 2.0)
        doubled[0] = 1.0
        if nfft % 2 == 0:
            doubled[-1] = 1.0
        result = result * doubled.astype(freq_dtype)
    time = np.arange(nperseg / 2, length - nperseg / 2 + 1, nstep)
    if boundary is not None:
        time = time - nperseg / 2
    time = jnp.asarray(time.astype(freq_dtype)) / fs
    result = result.astype(result_dtype)
    if y is None and mode != "stft":
        result = jnp.real(result)
    return freqs, time, jnp.moveaxis(result, -1, axis)


_STATIC = ("window", "nperseg", "noverlap", "nfft", "detrend", "return_onesided", "axis")


@inline_jit(*_STATIC, "boundary", "padded")
def _stft(x, fs, window, nperseg, noverlap, nfft, detrend, return_onesided, boundary,
          padded, axis):
    return _spectral(x, None, fs, window, nperseg, noverlap, nfft, detrend,
                     return_onesided, "spectrum", axis, "stft", boundary, padded)


def stft(x, fs=1.0, window="hann", nperseg=256, noverlap=None, nfft=None, detrend=False,
         return_onesided=True, boundary="zeros", padded=True, axis=-1):
    """Short-time Fourier transform: (frequencies, segment times, Zxx), the spectra of
    overlapping windowed segments of `x` along `axis`."""
    return _stft(x, fs, _static_window(window), nperseg, noverlap, nfft, detrend,
                 return_onesided, boundary, padded, axis)


def csd(x, y, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
        detrend="constant", return_onesided=True, scaling="density", axis=-1,
        average="mean"):
    """Cross power spectral density of x and y by Welch's method: (frequencies, Pxy)."""
    return _csd(x, y, fs, _static_window(window), nperseg, noverlap, nfft, detrend,
                return_onesided, scaling, axis, average)


@inline_jit(*_STATIC, "scaling", "average")
def _csd(x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided, scaling,
         axis, average):
    freqs, _, pxy = _spectral(x, y, fs, window, nperseg, noverlap, nfft, detrend,
                              return_onesided, scaling, axis, "psd")
    if y is not None:
        pxy = pxy + 0j   # complex even when x is y
    shape = get_aval(pxy).shape
    if len(shape) >= 2 and shape[-1] > 1:
        if average == "median":
            # the median of n periodograms is biased low relative to the mean
            even = np.arange(2.0, shape[-1], 2)
            bias = 1 + np.sum(1.0 / (even + 1) - 1.0 / even)
            if jnp.iscomplexobj(pxy):
                pxy = jnp.median(jnp.real(pxy), axis=-1) + 1j * jnp.median(jnp.imag(pxy),
                                                                           axis=-1)
            else:
                pxy = jnp.median(pxy, axis=-1)
            pxy = pxy / np.asarray(bias, get_aval(pxy).dtype)
        elif average == "mean":
            pxy = pxy.mean(axis=-1)
        else:
            raise ValueError(f'average must be "median" or "mean", got {average!r}')
    elif len(shape) >= 2:
        pxy = pxy.reshape(shape[:-1])
    return freqs, pxy


def welch(x, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          detrend="constant", return_onesided=True, scaling="density", axis=-1,
          average="mean"):
    """Power spectral density of x by Welch's method: (frequencies, Pxx)."""
    freqs, pxx = csd(x, None, fs, window, nperseg, noverlap, nfft, detrend,
                     return_onesided, scaling, axis, average)
    return freqs, jnp.real(pxx)


def istft(Zxx, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          input_onesided=True, boundary=True, time_axis=-1, freq_axis=-2):
    """Inverse short-time Fourier transform by weighted overlap-add: (times, x)."""
    return _istft(Zxx, fs, _static_window(window), nperseg, noverlap, nfft, input_onesided,
                  boundary, time_axis, freq_axis)


@inline_jit("window", "nperseg", "noverlap", "nfft", "input_onesided", "boundary",
            "time_axis", "freq_axis")
def _istft(Zxx, fs, window, nperseg, noverlap, nfft, input_onesided, boundary, time_axis,
           freq_axis):
    Zxx = jnp.asarray(Zxx)
    ndim = get_aval(Zxx).ndim
    if ndim < 2:
        raise ValueError(f"Input stft must be at least 2d! Got shape {get_aval(Zxx).shape}")
    freq_axis = canonicalize_axis(operator.index(freq_axis), ndim)
    time_axis = canonicalize_axis(operator.index(time_axis), ndim)
    if freq_axis == time_axis:
        raise ValueError("Must specify differing time and frequency axes!")
    Zxx = Zxx.astype(_dtypes.promote_types(get_aval(Zxx).dtype, np.complex64))
    nfreq = get_aval(Zxx).shape[freq_axis]
    n_default = 2 * (nfreq - 1) if input_onesided else nfreq
    nperseg = n_default if nperseg is None else operator.index(nperseg)
    if nperseg < 1:
        raise ValueError("nperseg must be a positive integer")
    if nfft is None:
        nfft = n_default + 1 if input_onesided and nperseg == n_default + 1 else n_default
    if nfft < nperseg:
        raise ValueError(f"FFT length ({nfft}) must be longer than nperseg ({nperseg}).")
    # noverlap=0 is honoured (SciPy's meaning); JAX 0.10 replaces it by nperseg // 2
    noverlap = nperseg // 2 if noverlap is None else operator.index(noverlap)
    if noverlap >= nperseg:
        raise ValueError("noverlap must be less than nperseg.")
    nstep = nperseg - noverlap
    outer = tuple(a for a in range(ndim) if a not in (time_axis, freq_axis))
    Zxx = jnp.transpose(Zxx, outer + (freq_axis, time_axis))
    inverse = jnp_fft.irfft if input_onesided else jnp_fft.ifft
    frames = jnp.swapaxes(inverse(Zxx, axis=-2, n=nfft)[..., :nperseg, :], -2, -1)
    dtype = get_aval(frames).dtype
    if isinstance(window, (str, tuple)):
        win = _named_window(window, nperseg)
    else:
        win = window.array()
        if win.ndim != 1:
            raise ValueError(f"window must be 1-D; got shape {win.shape}")
        if win.shape[0] != nperseg:
            raise ValueError(f"window must have length of {nperseg}")
    win = win.astype(np.finfo(dtype).dtype if jnp.iscomplexobj(frames) else dtype)
    nframes = get_aval(frames).shape[-2]
    positions = np.arange(nframes)[:, None] * nstep + np.arange(nperseg)
    out_len = nstep * (nframes - 1) + nperseg
    # overlap-add of the windowed frames ('spectrum' scaling undone by win.sum()),
    # normalised by the overlap-added squared window
    x = jnp.zeros((*get_aval(frames).shape[:-2], out_len), dtype).at[..., positions].add(
        frames * (win * win.sum()).astype(win.dtype))
    norm = np.zeros(out_len, win.dtype)
    np.add.at(norm, positions, np.broadcast_to(win * win, positions.shape))
    if boundary:
        x, norm = x[..., nperseg // 2:-(nperseg // 2)], norm[nperseg // 2:-(nperseg // 2)]
    x = x / np.where(norm > 1e-10, norm, 1.0).astype(norm.dtype)
    if get_aval(x).ndim > 1 and time_axis != ndim - 1:
        x = jnp.moveaxis(x, -1, time_axis - 1 if freq_axis < time_axis else time_axis)
    time = jnp.arange(get_aval(x).shape[0], dtype=np.finfo(dtype).dtype) / fs
    return time, x
