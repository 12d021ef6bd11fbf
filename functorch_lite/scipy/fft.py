"""`functorch_lite.scipy.fft`: discrete cosine transforms, as `jax.scipy.fft`."""
from ._dct import dct, dctn, idct, idctn  # noqa: F401
