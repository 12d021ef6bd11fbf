"""`functorch_lite.random`: a splittable, counter-based PRNG (threefry-2x32, as JAX
uses), written with our own primitives.

Keys are raw `uint32[2]` arrays (JAX's legacy `PRNGKey` representation); every
function is a pure function of its key, so results are reproducible eagerly, under
`jit`, under `vmap` over keys and inside `scan`, and bit-identical to `jax.random`
for the same key under JAX's default (partitionable threefry) configuration.

>>> import functorch_lite as fl
>>> key = fl.random.PRNGKey(0)
>>> k1, k2 = fl.random.split(key)
>>> fl.random.uniform(k1, (2,)).shape
(2,)
"""
from ._prng import (PRNGKey, key, key_data, wrap_key_data, split, fold_in, bits,
                    clone, threefry_2x32)
from ._samplers import (uniform, normal, truncated_normal, bernoulli, exponential, gumbel,
                        laplace, logistic, rademacher)
from ._discrete import categorical, randint, permutation, choice, multivariate_normal

__all__ = ["PRNGKey", "key", "key_data", "wrap_key_data", "split", "fold_in", "bits",
           "clone", "threefry_2x32", "uniform", "normal", "truncated_normal", "bernoulli",
           "exponential", "gumbel", "laplace", "logistic", "categorical", "randint",
           "permutation", "choice", "multivariate_normal", "rademacher"]
