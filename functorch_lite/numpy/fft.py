"""`functorch_lite.numpy.fft`: discrete Fourier transforms, as `jax.numpy.fft`."""
from ._fft import (fft, ifft, rfft, irfft, hfft, ihfft, fft2, ifft2, rfft2,  # noqa: F401
                   irfft2, fftn, ifftn, rfftn, irfftn, fftfreq, rfftfreq, fftshift,
                   ifftshift)
