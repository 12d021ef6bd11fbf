"""The parameter initializers stax uses by default, with `jax.nn.initializers`'
semantics (same keys give the same values as JAX's): `init(key, shape, dtype)`."""
import math

import numpy as np

from .. import _jax_versions, _dtypes, lax, random


def zeros(key, shape, dtype=np.float32):
    """All zeros."""
    return lax.full(shape, 0, dtype)


def ones(key, shape, dtype=np.float32):
    """All ones."""
    return lax.full(shape, 1, dtype)


def scaled_normal(key, shape, dtype, scale):
    """`scale` times a standard normal draw, computed as the installed JAX's
    initializers do (nn.initializers uses it too)."""
    if _jax_versions.SCALED_NORMAL_INITIALIZERS and _dtypes.is_float(np.dtype(dtype)):
        lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
        u = random.uniform(key, shape, dtype, lo, np.array(1.0, dtype))
        return lax.mul(lax.mul(np.asarray(np.sqrt(2), dtype), scale), lax.erf_inv(u))
    return lax.mul(random.normal(key, shape, dtype), scale)


def normal(stddev=1e-2):
    """Normal samples with standard deviation `stddev`."""
    def init(key, shape, dtype=np.float32):
        return scaled_normal(key, shape, dtype, np.asarray(stddev, dtype))
    return init


def glorot_normal(in_axis=-2, out_axis=-1):
    """Truncated normal with variance 1 / mean(fan_in, fan_out) (Glorot & Bengio)."""
    def init(key, shape, dtype=np.float32):
        shape = tuple(shape)
        receptive = math.prod(d for i, d in enumerate(shape)
                              if i not in (in_axis % len(shape), out_axis % len(shape)))
        fan_avg = (shape[in_axis] * receptive + shape[out_axis] * receptive) / 2
        # in the dtype, as JAX: sqrt(variance) / 0.8796..., the standard deviation of a
        # unit normal truncated to [-2, 2]
        variance = np.asarray(1.0 / fan_avg, dtype)
        std = np.sqrt(variance) / np.asarray(.87962566103423978, dtype)
        return lax.mul(random.truncated_normal(key, -2, 2, shape, dtype),  # ints, as JAX
                       np.asarray(std, dtype))
    return init
