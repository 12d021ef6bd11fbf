"""Parameter initializers, as `jax.nn.initializers` (same signatures, same values for
the same key, bit for bit): each is a function `init(key, shape, dtype=float32) ->
array`; factories take the hyperparameters (and an optional default `dtype`).

Every `nn` layer also accepts JAX's and Flax's initializers (`jax.nn.initializers.*`,
`flax.linen.initializers.*`) as `kernel_init` / `bias_init`: they run on our keys,
which are JAX's raw `uint32[2]` keys.

Fans follow JAX: for a kernel of shape (*receptive_field, in, out), fan_in =
in * prod(receptive_field) and fan_out = out * prod(receptive_field).

>>> import functorch_lite as fl, nn
>>> w = nn.initializers.glorot_uniform()(fl.random.PRNGKey(0), (3, 4))
>>> w.shape
(3, 4)
"""
import functools
import inspect
import math

import numpy as np

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import _jax_versions  # initializers follow the installed JAX
from functorch_lite.example_libraries._initializers import scaled_normal
from functorch_lite.dtypes import canonicalize_dtype, issubdtype

__all__ = ["Initializer", "zeros", "ones", "zeros_init", "ones_init", "constant", "normal",
           "uniform", "truncated_normal", "variance_scaling", "glorot_uniform",
           "glorot_normal", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
           "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal",
           "orthogonal", "delta_orthogonal", "compute_fans"]


class Initializer:
    """An initializer made by a factory. Two are equal when the same factory made them
    from equal arguments, so layers built with `normal(0.02)` compare (and cache) equal
    and share one compiled initialization program."""
    __slots__ = ("fn", "key", "default_dtype")

    def __init__(self, fn, key, default_dtype=None):
        self.fn, self.key, self.default_dtype = fn, key, default_dtype

    def __call__(self, key, shape, dtype=None):
        dtype = self.default_dtype if dtype is None else dtype
        return self.fn(key, tuple(int(d) for d in shape), _float_dtype(dtype))

    def __eq__(self, other):
        return isinstance(other, Initializer) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        name, args, kwargs = self.key
        return f"{name}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs)])})"


def _factory(make):
    """Decorate an initializer factory (JAX's signature, with a `dtype` argument: the
    default dtype) so that it returns an `Initializer`; `make` returns a function
    `(key, shape, dtype)` that always receives a concrete dtype."""
    signature = inspect.signature(make)

    @functools.wraps(make)
    def factory(*args, **kwargs):
        default_dtype = signature.bind(*args, **kwargs).arguments.get("dtype")
        fn = make(*args, **kwargs)
        key = (make.__name__, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # e.g. constant(array): equal only to itself
            key = (make.__name__, (id(fn),), ())
        return Initializer(fn, key, default_dtype)
    return factory


def _float_dtype(dtype):
    """JAX's default: float32 (float64 with x64 on)."""
    return canonicalize_dtype(np.float64 if dtype is None else dtype)


def _real_only(dtype, what):
    if not issubdtype(dtype, np.floating):
        raise NotImplementedError(f"{what} initializes float parameters; got dtype "
                                  f"{np.dtype(dtype).name} (complex initializers are not "
                                  f"implemented: use jax.nn.initializers.{what})")


def zeros(key, shape, dtype=None):
    """All zeros."""
    return fl.lax.full(shape, 0, _float_dtype(dtype))


def ones(key, shape, dtype=None):
    """All ones."""
    return fl.lax.full(shape, 1, _float_dtype(dtype))


def zeros_init():
    """Flax's spelling: a factory returning `zeros`."""
    return zeros


def ones_init():
    """Flax's spelling: a factory returning `ones`."""
    return ones


@_factory
def constant(value, dtype=None):
    """An initializer filling every entry with `value` (broadcast to the shape)."""
    def init(key, shape, dtype):
        return fnp.full(shape, value, dtype)
    return init


@_factory
def normal(stddev=1e-2, dtype=None):
    """Normal with mean 0 and standard deviation `stddev`."""
    def init(key, shape, dtype):
        return scaled_normal(key, shape, dtype, fnp.array(stddev, dtype))
    return init


@_factory
def uniform(scale=1e-2, dtype=None):
    """Uniform on [0, scale) (as JAX's)."""
    def init(key, shape, dtype):
        return fl.random.uniform(key, shape, dtype) * fnp.array(scale, dtype)
    return init


@_factory
def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """Normal with standard deviation `stddev` (before truncation), cut to
    [lower, upper] standard deviations."""
    def init(key, shape, dtype):
        return fl.random.truncated_normal(key, lower, upper, shape, dtype) * \
            fnp.array(stddev, dtype)
    return init


def _axis_size(shape, axis):
    if isinstance(axis, (int, np.integer)):
        return shape[axis]
    return math.prod(shape[a] for a in axis)


def compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """(fan_in, fan_out) of a kernel shape, as JAX computes them (axes may be ints or
    sequences of ints)."""
    if isinstance(in_axis, (int, np.integer)) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"cannot compute input and output sizes of a {len(shape)}-"
                         f"dimensional weights tensor with the default in_axis: it needs "
                         f"at least 2 dimensions, or in_axis given explicitly")
    in_size, out_size = _axis_size(shape, in_axis), _axis_size(shape, out_axis)
    receptive_field = math.prod(shape) / in_size / out_size / _axis_size(shape, batch_axis)
    return in_size * receptive_field, out_size * receptive_field


# the standard deviation of a standard normal truncated to [-2, 2]
_TRUNCATED_STD = .87962566103423978


@_factory
def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=None):
    """Samples with variance `scale / n`, n = fan_in, fan_out, their mean ("fan_avg")
    or their geometric mean ("fan_geo_avg") (`mode`); `distribution` is
    "truncated_normal", "normal" or "uniform"."""
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"mode must be fan_in, fan_out, fan_avg or fan_geo_avg, got "
                         f"{mode!r}")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"distribution must be truncated_normal, normal or uniform, got "
                         f"{distribution!r}")

    def init(key, shape, dtype):
        _real_only(dtype, "variance_scaling")
        fan_in, fan_out = compute_fans(shape, in_axis, out_axis, batch_axis)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
             "fan_geo_avg": (fan_in * fan_out) ** 0.5}[mode]
        # the constants are computed in `dtype` (not in Python floats), as JAX does
        zero_fan = n == 0 and _jax_versions.SCALED_NORMAL_INITIALIZERS  # variance 0
        variance = fnp.array(0 if zero_fan else scale / n, dtype)
        if distribution == "truncated_normal":
            stddev = fnp.sqrt(variance) / fnp.array(_TRUNCATED_STD, dtype)
            return fl.random.truncated_normal(key, -2, 2, shape, dtype) * stddev
        if distribution == "normal":
            return scaled_normal(key, shape, dtype, fnp.sqrt(variance))
        return fl.random.uniform(key, shape, dtype, -1) * fnp.sqrt(3 * variance)
    return init


@_factory
def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot/Xavier uniform: variance 1 / fan_avg."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis)


@_factory
def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot/Xavier normal (truncated): variance 1 / fan_avg."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis,
                            batch_axis)


@_factory
def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He/Kaiming uniform: variance 2 / fan_in."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis)


@_factory
def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He/Kaiming normal (truncated): variance 2 / fan_in."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis,
                            batch_axis)


@_factory
def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun uniform: variance 1 / fan_in."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis)


@_factory
def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun normal (truncated): variance 1 / fan_in."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis,
                            batch_axis)


xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def _orthogonal_matrix(key, n_rows, n_cols, dtype):
    """A uniformly random (semi-)orthogonal (n_rows, n_cols) matrix (JAX's
    `random.orthogonal`): QR of a normal sample, signs fixed by R's diagonal. Dtypes
    without a LAPACK QR (bfloat16, float16) are drawn in float32 and rounded (JAX
    raises for them)."""
    work = dtype if np.dtype(dtype).itemsize >= 4 else np.float32
    a = fl.random.normal(key, (max(n_rows, n_cols), min(n_rows, n_cols)), work)
    q, r = fnp.linalg.qr(a)
    q = q * fnp.expand_dims(fnp.sign(fnp.diagonal(r)), -2)
    q = q.T if n_rows < n_cols else q
    return q.astype(dtype)


@_factory
def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """A (semi-)orthogonal matrix, the columns along `column_axis`; the other axes are
    flattened into rows."""
    def init(key, shape, dtype):
        _real_only(dtype, "orthogonal")
        if len(shape) < 2:
            raise ValueError(f"orthogonal initializer needs at least 2 dimensions, got "
                             f"shape {tuple(shape)}")
        if 0 in shape:
            return fl.lax.full(shape, 0, dtype)
        n_cols = shape[column_axis]
        q = _orthogonal_matrix(key, math.prod(shape) // n_cols, n_cols, dtype)
        rest = tuple(d for i, d in enumerate(shape) if i != column_axis % len(shape))
        q = fnp.moveaxis(fnp.reshape(q, rest + (n_cols,)), -1, column_axis)
        return fnp.array(scale, dtype) * q
    return init


@_factory
def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """For convolution kernels (*window, in, out) with in <= out and 1 to 3 spatial
    dimensions: zero except an orthogonal (in, out) matrix at the window's centre
    (Xiao et al., 2018)."""
    def init(key, shape, dtype):
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"delta_orthogonal needs a 3D, 4D or 5D shape, got "
                             f"{tuple(shape)}")
        if shape[-1] < shape[-2]:
            raise ValueError(f"delta_orthogonal needs fan_in <= fan_out, got shape "
                             f"{tuple(shape)}")
        matrix = orthogonal(scale, column_axis)(key, shape[-2:], dtype)
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        return fl.lax.full(shape, 0, dtype).at[centre].set(matrix)
    return init
