"""The parameter initializers stax uses by default, with `jax.nn.initializers`'
semantics (same keys give the same values as JAX's): `init(key, shape, dtype)`."""
import math

import numpy as np

from .. import lax, random


def zeros(key, shape, dtype=np.float32):
    """All zeros."""
    return lax.full(shape, 0, dtype)


def ones(key, shape, dtype=np.float32):
    """All ones."""
    return lax.full(shape, 1, dtype)


def normal(stddev=1e-2):
    """Normal samples with standard deviation `stddev`."""
    def init(key, shape, dtype=np.float32):
        return lax.mul(random.normal(key, shape, dtype), np.asarray(stddev, dtype))
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
        return lax.mul(random.truncated_normal(key, -2.0, 2.0, shape, dtype),
                       np.asarray(std, dtype))
    return init
