"""`jax.image`: resizing and scale-and-translate resampling.

Every method but NEAREST builds, per spatial dimension, a (input size, output size)
weight matrix from a separable kernel (widened by 1/scale when antialiasing a
downsample, normalised to sum to one per output pixel, zero where the sample lies
outside the input) and contracts the image with all of them in one einsum. NEAREST
gathers the input pixel whose centre is nearest each output pixel's centre. Written
with our numpy/lax, so jit, grad (w.r.t. the image and scale/translation) and vmap
apply as to any other function.
"""
import enum
from collections.abc import Sequence

import numpy as np

from . import lax, numpy as jnp
from ._jit import jit
from .lax._util import canonicalize_axis


class ResizeMethod(enum.Enum):
    """Image resize method: NEAREST, LINEAR, LANCZOS3, LANCZOS5, CUBIC (Keys kernel),
    CUBIC_PYTORCH (PyTorch's bicubic without antialiasing) and AREA (box average)."""
    NEAREST = 0
    LINEAR = 1
    LANCZOS3 = 2
    LANCZOS5 = 3
    CUBIC = 4
    CUBIC_PYTORCH = 5
    AREA = 6

    @staticmethod
    def from_string(s: str):
        """The method a string names, with JAX's aliases ('bilinear', 'bicubic', ...)."""
        for method, names in _NAMES.items():
            if s in names:
                return method
        raise ValueError(f'Unknown resize method "{s}"')


_NAMES = {
    ResizeMethod.NEAREST: ("nearest",),
    ResizeMethod.LINEAR: ("linear", "bilinear", "trilinear", "triangle"),
    ResizeMethod.LANCZOS3: ("lanczos3",),
    ResizeMethod.LANCZOS5: ("lanczos5",),
    ResizeMethod.CUBIC: ("cubic", "bicubic", "tricubic"),
    ResizeMethod.CUBIC_PYTORCH: ("cubic-pytorch", "bicubic-pytorch"),
    ResizeMethod.AREA: ("area",),
}


def _lanczos(radius):
    def kernel(x):
        y = radius * jnp.sin(np.pi * x) * jnp.sin(np.pi * x / radius)
        out = jnp.where(x > 1e-3, y / jnp.where(x != 0, np.pi ** 2 * x ** 2, 1), 1)
        return jnp.where(x > radius, 0., out)
    return kernel


def _cubic(a):
    """The cubic convolution kernel with parameter `a` (Keys: -0.5, OpenCV: -0.75)."""
    def kernel(x):
        out = ((a + 2.) * x - (a + 3.)) * x * x + 1.
        out = jnp.where(x >= 1., ((a * x - 5. * a) * x + 8. * a) * x - 4. * a, out)
        return jnp.where(x >= 2., 0., out)
    return kernel


def _triangle(x):
    return jnp.maximum(0, 1 - jnp.abs(x))


_AREA = object()  # marks the box-overlap weights, which are not a kernel of distance

_KERNELS = {  # method -> (radius, kernel)
    ResizeMethod.LINEAR: (1, _triangle),
    ResizeMethod.LANCZOS3: (3, _lanczos(3.)),
    ResizeMethod.LANCZOS5: (5, _lanczos(5.)),
    ResizeMethod.CUBIC: (2, _cubic(-0.5)),
    ResizeMethod.CUBIC_PYTORCH: (2, _cubic(-0.75)),
    ResizeMethod.AREA: (1, _AREA),
}


def _normalise(weights):
    total = jnp.sum(weights, axis=0, keepdims=True)
    return jnp.where(jnp.abs(total) > 1000. * float(np.finfo(np.float32).eps),
                     weights / jnp.where(total != 0, total, 1), 0)


def _weight_matrix(in_size, out_size, scale, translation, kernel, antialias, radius,
                   edge_padding):
    """The (in_size, out_size) matrix of resampling weights for one dimension."""
    dtype = jnp.result_type(scale, translation)
    inv_scale = 1. / scale
    kernel_scale = jnp.maximum(inv_scale, 1.) if antialias else 1.
    sample = ((jnp.arange(out_size, dtype=dtype) + 0.5) * inv_scale
              - translation * inv_scale - 0.5)
    pad = radius if edge_padding else 0  # (edge padding only runs without antialias)
    indices = jnp.arange(-pad, in_size + pad, dtype=dtype)
    if kernel is _AREA:
        left = jnp.arange(out_size, dtype=dtype) * inv_scale - translation * inv_scale
        in_left = jnp.arange(in_size, dtype=dtype)
        weights = jnp.maximum(0., jnp.minimum((left + inv_scale)[None, :],
                                              (in_left + 1.)[:, None])
                              - jnp.maximum(left[None, :], in_left[:, None]))
    else:
        weights = kernel(jnp.abs(sample[None, :] - indices[:, None]) / kernel_scale)
    if edge_padding:  # fold the weights of off-edge samples onto the edge pixels
        rows = jnp.clip(indices.astype(jnp.int32), 0, in_size - 1)
        cols = lax.broadcast_in_dim(jnp.arange(out_size), (indices.shape[0], out_size),
                                    (1,))
        folded = jnp.zeros((in_size, out_size), dtype).at[rows[:, None], cols].add(weights)
        return _normalise(folded)
    weights = _normalise(weights)
    inside = jnp.logical_and(sample >= -0.5, sample <= in_size - 0.5)
    return jnp.where(inside[None, :], weights, 0)


def _to_inexact(x):
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return x
    return x.astype(jnp.promote_types(x.dtype, jnp.result_type(float)))


def _resample(image, shape, spatial_dims, scale, translation, method, antialias,
              precision):
    if method == ResizeMethod.CUBIC_PYTORCH and antialias:
        method = ResizeMethod.CUBIC
    radius, kernel = _KERNELS[method]
    edge_padding = method == ResizeMethod.CUBIC_PYTORCH
    if not spatial_dims:
        return image
    operands, out_indices = [], list(range(len(shape)))
    for i, d in enumerate(spatial_dims):
        d = canonicalize_axis(d, image.ndim)
        w = _weight_matrix(image.shape[d], shape[d], scale[i], translation[i], kernel,
                           antialias, radius, edge_padding)
        operands += [w.astype(image.dtype), [d, len(shape) + i]]
        out_indices[d] = len(shape) + i
    return jnp.einsum(image, list(range(len(shape))), *operands, out_indices,
                      precision=precision)


def _check_shape(image, shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) != image.ndim:
        raise ValueError("shape must have length equal to the number of dimensions of "
                         f"x;  {shape} vs {image.shape}")
    return shape


def _method(method):
    return ResizeMethod.from_string(method) if isinstance(method, str) else method


def scale_and_translate(image, shape: Sequence[int], spatial_dims: Sequence[int],
                        scale, translation, method, antialias: bool = True,
                        precision=lax.Precision.HIGHEST):
    """`jax.image.scale_and_translate`: resample `image` to `shape`, mapping input
    location x of each spatial dim to `x * scale + translation` (half-pixel centres;
    samples outside the input get weight zero). NEAREST is not supported, as in JAX."""
    image = jnp.asarray(image)
    shape = _check_shape(image, shape)
    method = _method(method)
    if method == ResizeMethod.NEAREST:
        raise ValueError("Nearest neighbor resampling is not currently supported for "
                         "scale_and_translate.")
    scale = _to_inexact(scale)
    translation = _to_inexact(translation)
    dtype = jnp.result_type(scale, translation)
    scale, translation = scale.astype(dtype), translation.astype(dtype)
    if len(spatial_dims) != scale.shape[0] or len(spatial_dims) != translation.shape[0]:
        raise ValueError(f"scale {scale.shape} and translation {translation.shape} must "
                         f"have one entry per spatial dim {tuple(spatial_dims)}")
    return _resample(_to_inexact(image), shape, tuple(spatial_dims), scale, translation,
                     method, antialias, precision)


def _resize_nearest(image, shape):
    for d in range(len(shape)):
        m, n = image.shape[d], shape[d]
        if m == n:
            continue
        offsets = jnp.floor((jnp.arange(n, dtype=np.float32) + 0.5) * m / n)
        index = [slice(None)] * len(shape)
        index[d] = offsets.astype(np.int32)
        image = image[tuple(index)]
    return image


def _resize_traced(image, shape, method, antialias, precision):
    if method == ResizeMethod.NEAREST:
        return _resize_nearest(image, shape)
    image = _to_inexact(image)
    spatial_dims = tuple(d for d in range(len(shape)) if image.shape[d] != shape[d])
    scale = [1. if shape[d] == 0 else shape[d] / image.shape[d] for d in spatial_dims]
    return _resample(image, shape, spatial_dims, scale, [0.] * len(spatial_dims),
                     method, antialias, precision)


_resize = jit(_resize_traced, static_argnums=(1, 2, 3, 4))


def resize(image, shape: Sequence[int], method, antialias: bool = True,
           precision=lax.Precision.HIGHEST):
    """`jax.image.resize`: resize `image` to `shape` (all dims; leave batch/channel
    dims unchanged). NEAREST keeps the dtype; other methods promote to floating."""
    image = jnp.asarray(image)
    return _resize(image, _check_shape(image, shape), _method(method), antialias,
                   precision)
