"""gaussian_kde: a Gaussian kernel density estimate (SciPy's class), a pytree, so it
can be passed through jit and vmap."""
import functools

import numpy as np
from jax import tree_util

from ... import _dtypes, lax, random
from ... import numpy as jnp
from ..._api_vmap import vmap
from ..._jit import jit
from ...numpy._util import promote_to_inexact
from .. import special


@tree_util.register_pytree_node_class
class gaussian_kde:
    """Kernel density estimate of `dataset` (shape (d, n), or (n,) for d = 1) with
    Gaussian kernels of covariance `factor**2 * cov(dataset)`; the bandwidth factor is
    Scott's (default), Silverman's, a scalar, or a callable of the estimate."""

    def __init__(self, dataset, bw_method=None, weights=None):
        dataset = jnp.atleast_2d(jnp.asarray(dataset))
        if _dtypes.is_complex(dataset.dtype):
            raise NotImplementedError("gaussian_kde does not support complex data")
        if not dataset.size > 1:
            raise ValueError("`dataset` input should have multiple elements.")
        d, n = dataset.shape
        if weights is not None:
            dataset, weights = promote_to_inexact(dataset, jnp.atleast_1d(jnp.asarray(weights)))
            if weights.ndim != 1:
                raise ValueError("`weights` input should be one-dimensional.")
            if len(weights) != n:
                raise ValueError("`weights` input should be of length n")
        else:
            (dataset,) = promote_to_inexact(dataset)
            weights = jnp.ones(n, dtype=dataset.dtype)
        self.dataset = dataset
        self.weights, self.neff = _normalized_weights(weights)
        bw_method = "scott" if bw_method is None else bw_method
        if isinstance(bw_method, str):
            if bw_method not in ("scott", "silverman"):
                raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar, or a "
                                 "callable.")
            factor = _rule_of_thumb(self.neff, d, bw_method)
        elif callable(bw_method):
            factor = bw_method(self)
        elif np.ndim(bw_method) == 0:
            factor = bw_method
        else:
            raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar, or a "
                             "callable.")
        self.covariance, self.inv_cov = _kernel_covariance(dataset, self.weights, factor)

    def tree_flatten(self):
        return (self.neff, self.dataset, self.weights, self.covariance, self.inv_cov), None

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        kde = cls.__new__(cls)
        kde.neff, kde.dataset, kde.weights, kde.covariance, kde.inv_cov = children
        return kde

    d = property(lambda self: self.dataset.shape[0])
    n = property(lambda self: self.dataset.shape[1])

    def evaluate(self, points):
        """The density at `points` (shape (d, m), or (m,) for d = 1)."""
        return _kernel_sum(False, self.dataset, self.weights, self._points(points),
                           self.inv_cov)

    def __call__(self, points):
        return self.evaluate(points)

    def pdf(self, x):
        return self.evaluate(x)

    def logpdf(self, x):
        return _kernel_sum(True, self.dataset, self.weights, self._points(x), self.inv_cov)

    def integrate_gaussian(self, mean, cov):
        """The integral of the density times the Gaussian N(mean, cov)."""
        mean, cov = jnp.atleast_1d(jnp.squeeze(jnp.asarray(mean))), jnp.atleast_2d(cov)
        if mean.shape != (self.d,):
            raise ValueError(f"mean does not have dimension {self.d}")
        if cov.shape != (self.d, self.d):
            raise ValueError(f"covariance does not have dimension {self.d}")
        return _gaussian_convolution(self.covariance, cov, self.dataset, self.weights, mean)

    def integrate_box_1d(self, low, high):
        """The probability of [low, high] (one-dimensional estimates only)."""
        if self.d != 1:
            raise ValueError("integrate_box_1d() only handles 1D pdfs")
        if np.ndim(low) != 0 or np.ndim(high) != 0:
            raise ValueError("the limits of integration in integrate_box_1d must be scalars")
        return _box_1d(self.covariance, self.dataset, self.weights, low, high)

    def integrate_kde(self, other):
        """The integral of the product of two estimates."""
        if other.d != self.d:
            raise ValueError("KDEs are not the same dimensionality")
        small, large = (self, other) if self.n < other.n else (other, self)
        return _kde_overlap(self.covariance, other.covariance, small, large)

    def resample(self, key, shape=()):
        """Draws from the estimate: a data point (by weight) plus kernel noise."""
        return _resample(self, key, tuple(shape))

    def integrate_box(self, low_bounds, high_bounds, maxpts=None):
        raise NotImplementedError("only 1D box integrations are supported; use "
                                  "`integrate_box_1d`")

    def set_bandwidth(self, bw_method=None):
        raise NotImplementedError("dynamically changing the bandwidth method is not "
                                  "supported")

    def _points(self, points):
        points = jnp.atleast_2d(jnp.asarray(points))
        if _dtypes.is_complex(points.dtype):
            raise NotImplementedError("gaussian_kde does not support complex coordinates")
        d, m = points.shape
        if d != self.d:
            if d == 1 and m == self.d:
                return points.reshape(self.d, 1)
            raise ValueError(f"points have dimension {d}, dataset has dimension {self.d}")
        return points


@jit
def _normalized_weights(weights):
    weights = weights / jnp.sum(weights)
    return weights, 1 / jnp.sum(weights ** 2)


@functools.partial(jit, static_argnums=(1, 2))
def _rule_of_thumb(neff, d, rule):
    """Scott's (neff^(-1/(d+4))) or Silverman's bandwidth factor."""
    base = neff if rule == "scott" else neff * (d + 2) / 4.0
    return jnp.power(base, -1.0 / (d + 4))


@jit
def _kernel_covariance(dataset, weights, factor):
    data_covariance = jnp.atleast_2d(jnp.cov(dataset, rowvar=1, bias=False, aweights=weights))
    return (data_covariance * factor ** 2, jnp.linalg.inv(data_covariance) / factor ** 2)


@functools.partial(jit, static_argnums=2)
def _resample(kde, key, shape):
    ind_key, eps_key = random.split(key)
    index = random.choice(ind_key, kde.n, shape=shape, p=kde.weights)
    eps = random.multivariate_normal(eps_key, jnp.zeros(kde.d, kde.covariance.dtype),
                                     kde.covariance, shape=shape, dtype=kde.dataset.dtype)
    return kde.dataset[:, index] + jnp.moveaxis(eps, -1, 0)


@jit
def _kde_overlap(cov_a, cov_b, small, large):
    per_point = vmap(lambda m: _gaussian_convolution(cov_a, cov_b, large.dataset,
                                                     large.weights, m),
                     in_axes=1)(small.dataset)
    return jnp.sum(per_point * small.weights)


@functools.partial(jit, static_argnums=0)
def _kernel_sum(in_log, points, weights, xi, precision):
    """sum_j w_j N(x_i; point_j, precision^-1) (or its log) for every column x_i of xi
    (points: the dataset, one column per point)."""
    points, weights, xi, precision = promote_to_inexact(points.T, weights, xi.T, precision)
    d = points.shape[1]
    whitening = lax.linalg.cholesky(precision)
    points, xi = jnp.dot(points, whitening), jnp.dot(xi, whitening)
    log_norm = jnp.sum(jnp.log(jnp.diagonal(whitening))) - 0.5 * d * np.log(2 * np.pi)

    def at(x):
        log_kernel = log_norm - 0.5 * jnp.sum(jnp.square(points - x), -1)
        if in_log:
            return special.logsumexp(jnp.log(weights) + log_kernel)
        return jnp.sum(weights * jnp.exp(log_kernel))
    return vmap(at)(xi)


@jit
def _gaussian_convolution(cov_a, cov_b, dataset, weights, mean):
    """int sum_j w_j N(x; data_j, cov_a) N(x; mean, cov_b) dx."""
    cov = cov_a + cov_b
    factor = lax.linalg.cholesky(cov)
    norm = 1.0 / (np.sqrt(2 * np.pi) ** cov.shape[0] * jnp.prod(jnp.diagonal(factor)))
    diff = dataset - mean[:, None]
    whitened = lax.linalg.triangular_solve(factor, diff, left_side=True, lower=True)
    return norm * jnp.sum(jnp.exp(-0.5 * jnp.sum(whitened * whitened, 0)) * weights)


@jit
def _box_1d(covariance, dataset, weights, low, high):
    sigma = jnp.squeeze(jnp.sqrt(covariance))
    low, high = jnp.squeeze((low - dataset) / sigma), jnp.squeeze((high - dataset) / sigma)
    return jnp.sum(weights * (special.ndtr(high) - special.ndtr(low)))
