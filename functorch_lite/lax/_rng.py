"""XLA's own random number operations, as `jax.lax` exposes them: rng_bit_generator
(stateless bits from a key, bit-identical to JAX's since XLA computes them) and
rng_uniform (stateful, backend defined). Neither is differentiable. `jax.random`'s
threefry functions are in `functorch_lite.random`."""

__all__ = ["rng_bit_generator", "rng_uniform", "RandomAlgorithm", "rng_bit_generator_p",
           "rng_uniform_p"]
import enum
import warnings

import numpy as np

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, tangent_aval
from .._batching import bdim_at_front
from ._dynamic_slice import dynamic_update_index_in_dim
from ._slicing import index_in_dim

_BIT_DTYPES = {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)}


class RandomAlgorithm(enum.IntEnum):
    """The algorithm of `rng_bit_generator` (the values of `jax.lax.RandomAlgorithm`)."""
    RNG_DEFAULT = 0    # the platform's default
    RNG_THREE_FRY = 1  # Threefry-2x32
    RNG_PHILOX = 2     # Philox-4x32

    def __str__(self):
        return self.name


_ALGORITHM_ATTR = {0: "DEFAULT", 1: "THREE_FRY", 2: "PHILOX"}


def _zero_tangents(prim):
    def jvp(primals, tangents, **params):
        outs = prim.bind(*primals, **params)
        outs_list = outs if prim.multiple_results else [outs]
        zeros = [Zero(tangent_aval(get_aval(o))) for o in outs_list]
        return outs, zeros if prim.multiple_results else zeros[0]
    prim.jvp_rule = jvp


# --- rng_bit_generator ----------------------------------------------------------------

rng_bit_generator_p = Primitive("rng_bit_generator", multiple_results=True)


def rng_bit_generator(key, shape, dtype=np.uint32, algorithm=RandomAlgorithm.RNG_DEFAULT):
    """(new_key, bits): random unsigned integers of `shape` from a `uint32[4]` (or
    `uint64[2]`) key, with XLA's RngBitGenerator."""
    dtype = np.dtype(dtype)
    if _dtypes.canonicalize_dtype(dtype) != dtype:
        warnings.warn(f"Explicitly requested dtype {dtype} requested in rng_bit_generator "
                      f"is not available, and will be truncated to dtype "
                      f"{_dtypes.canonicalize_dtype(dtype)} (enable jax_enable_x64 for "
                      f"64-bit dtypes).", stacklevel=2)
        dtype = _dtypes.canonicalize_dtype(dtype)
    if dtype not in _BIT_DTYPES:
        raise TypeError(f"rng_bit_generator: unsupported dtype {dtype}\n"
                        f"  at {user_source_line()}")
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)
    return tuple(rng_bit_generator_p.bind(key, shape=shape, dtype=dtype,
                                          algorithm=RandomAlgorithm(int(algorithm))))


@rng_bit_generator_p.def_abstract_eval
def _rng_bit_generator_abstract_eval(key, *, shape, dtype, algorithm):
    if (key.shape, key.dtype) not in (((4,), np.dtype(np.uint32)),
                                      ((2,), np.dtype(np.uint64))):
        raise TypeError(f"rng_bit_generator needs a uint32[4] or uint64[2] key, got "
                        f"{key.str_short()}\n  at {user_source_line()}")
    return [key.strip_weak_type(), ShapedArray(shape, dtype)]


@rng_bit_generator_p.def_lowering
def _rng_bit_generator_lowering(ctx, key, *, shape, dtype, algorithm):
    key_aval = ctx.avals_in[0]
    u64_key = ShapedArray((2,), np.uint64)
    if key_aval.dtype == np.uint32:  # XLA's state is u64[2]
        key = ctx.op("stablehlo.reshape", [key], [ShapedArray((2, 2), np.uint32)])
        key = ctx.op("stablehlo.bitcast_convert", [key], [u64_key])
    out_key, bits = ctx.op("stablehlo.rng_bit_generator", [key],
                           [u64_key, ShapedArray(shape, dtype)], attrs={
                               "rng_algorithm":
                                   f"#stablehlo<rng_algorithm {_ALGORITHM_ATTR[algorithm]}>"})
    if key_aval.dtype == np.uint32:
        out_key = ctx.op("stablehlo.bitcast_convert", [out_key],
                         [ShapedArray((2, 2), np.uint32)])
        out_key = ctx.op("stablehlo.reshape", [out_key], [key_aval])
    return [out_key, bits]


_zero_tangents(rng_bit_generator_p)


@rng_bit_generator_p.def_batching
def _rng_bit_generator_batching(axis_data, vals, dims, *, shape, dtype, algorithm):
    """As JAX: the first key of the batch draws all the bits (one row per batch element)
    and only the first key advances."""
    (keys,), (d,) = vals, dims
    keys = bdim_at_front(axis_data.size, keys, d)
    new_key, bits = rng_bit_generator_p.bind(
        index_in_dim(keys, 0, keepdims=False), shape=(axis_data.size, *shape), dtype=dtype,
        algorithm=algorithm)
    return [dynamic_update_index_in_dim(keys, new_key, 0, 0), bits], [0, 0]


# --- rng_uniform --------------------------------------------------------------------

rng_uniform_p = Primitive("rng_uniform")


def rng_uniform(a, b, shape):
    """Stateful uniform numbers in [a, b) of `shape` from XLA's RNG (backend defined:
    use functorch_lite.random for reproducible numbers)."""
    return rng_uniform_p.bind(a, b, shape=tuple(int(d) for d in shape))


@rng_uniform_p.def_abstract_eval
def _rng_uniform_abstract_eval(a, b, *, shape):
    if a.dtype != b.dtype:
        raise ValueError(f"Arguments to rng_uniform must have identical dtypes, got "
                         f"{a.dtype} and {b.dtype}.")
    if a.shape != () or b.shape != ():
        raise ValueError(f"Arguments to rng_uniform must be scalars; got shapes {a.shape} "
                         f"and {b.shape}.")
    return ShapedArray(shape, a.dtype, a.weak_type and b.weak_type)


@rng_uniform_p.def_lowering
def _rng_uniform_lowering(ctx, a, b, *, shape):
    dims = ctx.constant(np.array(shape, np.int64), np.int64, (len(shape),))
    return ctx.op("stablehlo.rng", [a, b, dims],
                  attrs={"rng_distribution": "#stablehlo<rng_distribution UNIFORM>"})


_zero_tangents(rng_uniform_p)


@rng_uniform_p.def_batching
def _rng_uniform_batching(axis_data, vals, dims, *, shape):
    raise NotImplementedError("vmap of lax.rng_uniform over batched bounds (JAX has no "
                              "rule either): draw with functorch_lite.random.uniform")
