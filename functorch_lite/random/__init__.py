"""`functorch_lite.random`: a splittable, counter-based PRNG (threefry-2x32, as JAX
uses), written with our own primitives.

Keys are typed key arrays (`random.key(seed)`, dtype `key<fry>`: JAX's own key type)
or raw `uint32[2]` arrays (`random.PRNGKey(seed)`, JAX's legacy representation); every
function accepts both and returns keys of the kind it was given. Every function is a
pure function of its key, so results are reproducible eagerly, under `jit`, under
`vmap` over keys and inside `scan`, and bit-identical to `jax.random` for the same key
under JAX's default (partitionable threefry) configuration.

>>> import functorch_lite as fl
>>> k1, k2 = fl.random.split(fl.random.key(0))
>>> fl.random.uniform(k1, (2,)).shape
(2,)
"""
from ._keys import Key, key_data, wrap_key_data, key_impl, key_dtype, clone
from ._prng import PRNGKey, key, split, fold_in, bits, threefry_2x32
from ._samplers import (uniform, normal, truncated_normal, bernoulli, exponential, gumbel,
                        laplace, logistic, rademacher)
from ._discrete import (categorical, randint, permutation, choice, multivariate_normal,
                        orthogonal)
from ._counts import poisson, binomial, multinomial
from ._continuous import (cauchy, pareto, lognormal, rayleigh, wald, weibull_min, triangular,
                          maxwell, double_sided_maxwell, geometric)
from ._gamma import (random_gamma_p, gamma, loggamma, beta, dirichlet, chisquare, f, t,
                     generalized_normal, ball)

__all__ = ["Key", "PRNGKey", "key", "key_data", "wrap_key_data", "key_impl", "key_dtype", "split",
           "fold_in", "bits", "clone", "threefry_2x32", "uniform", "normal",
           "truncated_normal", "bernoulli", "exponential", "gumbel", "laplace", "logistic",
           "categorical", "randint", "permutation", "choice", "multivariate_normal",
           "rademacher", "cauchy", "pareto", "lognormal", "rayleigh", "wald", "weibull_min",
           "triangular", "maxwell", "double_sided_maxwell", "geometric", "random_gamma_p",
           "gamma", "loggamma", "beta", "dirichlet", "chisquare", "f", "t",
           "generalized_normal", "ball", "orthogonal", "poisson", "binomial", "multinomial"]
