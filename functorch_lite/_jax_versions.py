"""Behaviour that differs between the JAX releases pyproject.toml admits (jax>=0.10.2,
<0.13). Our results must match the JAX a user has installed, so where JAX changed what
users see, the library follows the installed release. This table is the one place
that reads JAX's version: each flag names the release that changed the behaviour, and
code asks the flag, never the version. tests/test_jax_versions.py checks each flag
against the installed JAX's own behaviour.
"""
import re

import jax

JAX_VERSION = tuple(int(p) for p in re.findall(r"\d+", jax.__version__)[:3])


def _since(*release):
    return JAX_VERSION >= release


#: jnp.broadcast_arrays and jnp.meshgrid return tuples, not lists (0.11.1)
BROADCAST_ARRAYS_TUPLE = _since(0, 11, 1)
#: jnp.atleast_1d/2d/3d of several arrays return a tuple, not a list (0.12.0)
ATLEAST_TUPLE = _since(0, 12, 0)
#: lax.convert_element_type converts a NumPy array with NumPy (out-of-range floats
#: wrap, as in `ndarray.astype`) instead of XLA (which saturates) (0.11.0)
CONVERT_NUMPY_ON_HOST = _since(0, 11, 0)
#: jnp.log2 is `lax.log2`: log(x) * (1 / ln 2), keeping weak types (0.11.2; before:
#: log(x) / log(2), strongly typed)
LOG2_PRIMITIVE = _since(0, 11, 2)
#: jnp.hypot is `lax.hypot`: scaled by powers of two, keeping weak types (0.12.0)
HYPOT_SCALED = _since(0, 12, 0)
#: jnp.sinc: "direct" sin(pi x)/(pi x) (NaN at +-inf); "series" a Taylor series for
#: |pi x| < 1 and 0 at +-inf (0.11.1); "range_reduction" x = n + r with exact r, 0 at
#: +-inf and for huge x (0.12.0)
SINC = ("range_reduction" if _since(0, 12, 0) else "series" if _since(0, 11, 1)
        else "direct")
#: jnp.cross accepts only 3-vectors (2-vectors raise) (0.12.0)
CROSS_3_VECTORS_ONLY = _since(0, 12, 0)
#: jax.nn.initializers' normal and variance_scaling(normal) draw
#: sqrt(2) * scale * erf_inv(uniform(nextafter(-1, 0), 1)), folding the scale into the
#: constant (last-bit differences from normal(...) * scale), and a zero fan gives
#: variance 0 instead of a ZeroDivisionError (seen between 0.10.2 and 0.12.0)
SCALED_NORMAL_INITIALIZERS = _since(0, 12, 0)
#: random.multinomial's `shape` is the batch shape, without the categories' axis
#: (seen between 0.10.2 and 0.12.0; before, it included that axis)
MULTINOMIAL_BATCH_SHAPE = _since(0, 12, 0)
