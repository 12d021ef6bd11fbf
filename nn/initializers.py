"""Parameter initializers, as `jax.nn.initializers`: each is a function
`init(key, shape, dtype=float32) -> array`; factories take the hyperparameters.

Fans follow JAX: for a kernel of shape (*receptive_field, in, out), fan_in =
in * prod(receptive_field) and fan_out = out * prod(receptive_field).

>>> import functorch_lite as fl, nn
>>> w = nn.initializers.glorot_uniform()(fl.random.PRNGKey(0), (3, 4))
>>> w.shape
(3, 4)
"""
import functools
import math

import numpy as np

import functorch_lite as fl
import functorch_lite.numpy as fnp

__all__ = ["zeros", "ones", "constant", "normal", "uniform", "truncated_normal",
           "variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform",
           "xavier_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
           "lecun_uniform", "lecun_normal", "orthogonal"]


class Initializer:
    """An initializer made by a factory. Two are equal when the same factory made them
    from equal arguments, so layers built with `normal(0.02)` compare (and cache) equal
    and share one compiled initialization program."""
    __slots__ = ("fn", "key")

    def __init__(self, fn, key):
        self.fn, self.key = fn, key

    def __call__(self, key, shape, dtype=np.float32):
        return self.fn(key, shape, dtype)

    def __eq__(self, other):
        return isinstance(other, Initializer) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        name, args, kwargs = self.key
        return f"{name}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs)])})"


def _factory(make):
    """Decorate an initializer factory so that it returns an `Initializer`."""
    @functools.wraps(make)
    def factory(*args, **kwargs):
        fn = make(*args, **kwargs)
        key = (make.__name__, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # e.g. constant(array): equal only to itself
            key = (make.__name__, (id(fn),), ())
        return Initializer(fn, key)
    return factory


def zeros(key, shape, dtype=np.float32):
    """All zeros."""
    return fl.lax.full(shape, 0, dtype)


def ones(key, shape, dtype=np.float32):
    """All ones."""
    return fl.lax.full(shape, 1, dtype)


@_factory
def constant(value):
    """An initializer filling every entry with `value`."""
    def init(key, shape, dtype=np.float32):
        return fl.lax.full(shape, value, dtype)
    return init


@_factory
def normal(stddev=1e-2):
    """Normal with mean 0 and standard deviation `stddev`."""
    def init(key, shape, dtype=np.float32):
        return fl.random.normal(key, shape, dtype) * stddev
    return init


@_factory
def uniform(scale=1e-2):
    """Uniform on [0, scale) (as JAX's)."""
    def init(key, shape, dtype=np.float32):
        return fl.random.uniform(key, shape, dtype) * scale
    return init


@_factory
def truncated_normal(stddev=1e-2, lower=-2.0, upper=2.0):
    """Normal with standard deviation `stddev` (before truncation), cut to
    [lower, upper] standard deviations."""
    def init(key, shape, dtype=np.float32):
        return fl.random.truncated_normal(key, lower, upper, shape, dtype) * stddev
    return init


def compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """(fan_in, fan_out) of a kernel shape."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    ndim = len(shape)
    in_axis, out_axis = in_axis % ndim, out_axis % ndim
    batch_axis = tuple(a % ndim for a in (batch_axis if isinstance(batch_axis, tuple)
                                          else (batch_axis,)))
    receptive = math.prod(d for i, d in enumerate(shape)
                          if i not in (in_axis, out_axis, *batch_axis))
    return float(shape[in_axis] * receptive), float(shape[out_axis] * receptive)


@_factory
def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=()):
    """Samples with variance `scale / n`, n = fan_in, fan_out or their mean (`mode`);
    `distribution` is "truncated_normal", "normal" or "uniform"."""
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")

    def init(key, shape, dtype=np.float32):
        fan_in, fan_out = compute_fans(tuple(shape), in_axis, out_axis, batch_axis)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / n
        if distribution == "truncated_normal":
            # 0.8796... is the stddev of a standard normal truncated to [-2, 2]
            std = math.sqrt(variance) / 0.87962566103423978
            return fl.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * std
        if distribution == "normal":
            return fl.random.normal(key, shape, dtype) * math.sqrt(variance)
        if distribution == "uniform":
            return fl.random.uniform(key, shape, dtype, -1) * math.sqrt(3 * variance)
        raise ValueError(f"unknown distribution {distribution!r}")
    return init


@_factory
def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=()):
    """Glorot/Xavier uniform: variance 1 / fan_avg."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis)


@_factory
def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=()):
    """Glorot/Xavier normal (truncated): variance 1 / fan_avg."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis,
                            batch_axis)


@_factory
def he_uniform(in_axis=-2, out_axis=-1, batch_axis=()):
    """He/Kaiming uniform: variance 2 / fan_in."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis)


@_factory
def he_normal(in_axis=-2, out_axis=-1, batch_axis=()):
    """He/Kaiming normal (truncated): variance 2 / fan_in."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis,
                            batch_axis)


@_factory
def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=()):
    """LeCun uniform: variance 1 / fan_in."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis)


@_factory
def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=()):
    """LeCun normal (truncated): variance 1 / fan_in."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis,
                            batch_axis)


xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


@_factory
def orthogonal(scale=1.0, column_axis=-1):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample, the
    columns along `column_axis`; the other axes are flattened into rows."""
    def init(key, shape, dtype=np.float32):
        if len(shape) < 2:
            raise ValueError(f"orthogonal initializer needs at least 2 dimensions, got "
                             f"shape {tuple(shape)}")
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        matrix_shape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
        a = fl.random.normal(key, matrix_shape, dtype)
        q, r = fnp.linalg.qr(a)
        q = q * fnp.sign(fnp.diagonal(r))[None, :]
        if n_rows < n_cols:
            q = q.T
        rest = tuple(d for i, d in enumerate(shape) if i != column_axis % len(shape))
        q = fnp.reshape(q, rest + (n_cols,))
        return fnp.moveaxis(q, -1, column_axis) * scale
    return init
