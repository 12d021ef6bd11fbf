"""Weight reparametrisations that wrap another layer (Flax's `SpectralNorm` and
`WeightNorm`): the wrapped layer runs with transformed parameters. Its parameters live
under `params["layer"]` (and its state under `state["layer"]`); the wrapper's own
entries mirror the paths of the parameters they transform ("kernel", "fc/kernel")."""
from typing import Any, Callable

import numpy as np
from jax import tree_util

import functorch_lite as fl
import functorch_lite.lax as lax
import functorch_lite.numpy as fnp
from . import initializers
from ._layer import Layer, as_raw_key
from ._paths import path_string
from ._scope import fold_name


def _l2_normalize(x, axis=None, eps=1e-12):
    return x * lax.rsqrt(fnp.sum(x * x, axis=axis, keepdims=True) + eps)


def _leaves(params):
    """[(path string, path keys, leaf)] of a parameter tree."""
    return [(path_string(p), tuple(str(getattr(k, "key", k)) for k in p), leaf)
            for p, leaf in tree_util.tree_flatten_with_path(params)[0]]


def _nested_set(tree, keys, value):
    for k in keys[:-1]:
        tree = tree.setdefault(k, {})
    tree[keys[-1]] = value


def _nested_get(tree, keys):
    for k in keys:
        tree = tree[k]
    return tree


class _Wrapper(Layer):
    layer: Layer

    def _inner_state(self, state):
        return state.get("layer", {})

    def _run(self, params, state, inputs, rng, training, kwargs):
        return self.layer.apply(params, self._inner_state(state), *inputs, rng=rng,
                                training=training, **kwargs)


class SpectralNorm(_Wrapper):
    """Divide every parameter of `layer` with two or more dimensions by its largest
    singular value (Miyato et al., 2018), estimated by `n_steps` power iterations from
    the vector `u` kept in `state` and updated when `training=True` (Flax's
    `update_stats`). Parameters of more than two dimensions are seen as matrices
    (-1, last axis); `error_on_non_matrix=True` refuses them.
    State: `u` (1, columns) and `sigma` () per transformed parameter, plus the wrapped
    layer's state under "layer"."""
    n_steps: int = 1
    epsilon: float = 1e-12
    error_on_non_matrix: bool = False

    def init(self, key, *inputs, **kwargs):
        key = as_raw_key(key)
        params, inner_state = self.layer.init(fold_name(key, "layer"), *inputs, **kwargs)
        state = {"u": {}, "sigma": {}}
        for path, keys, leaf in _leaves(params):
            if leaf.ndim > 1 and self.n_steps >= 1:
                self._check(path, leaf)
                columns = leaf.shape[-1]
                _nested_set(state["u"], keys, fl.random.normal(
                    fold_name(fold_name(key, "u"), path), (1, columns), leaf.dtype))
                _nested_set(state["sigma"], keys, fnp.ones((), leaf.dtype))
        if inner_state:
            state["layer"] = inner_state
        return {"layer": params}, state

    def _check(self, path, leaf):
        if leaf.ndim > 2 and self.error_on_non_matrix:
            raise ValueError(f"SpectralNorm: parameter '{path}' has {leaf.ndim} dimensions "
                             f"and error_on_non_matrix=True")

    def apply(self, params, state, *inputs, rng=None, training=False, **kwargs):
        if "u" not in state:
            raise ValueError("SpectralNorm keeps state (the power-iteration vectors): call "
                             "apply(params, state, ...) with the state from init")
        inner = params["layer"]
        new_u, new_sigma = {}, {}
        normalized = {}
        for path, keys, value in _leaves(inner):
            if value.ndim > 1 and self.n_steps >= 1:
                self._check(path, value)
                value, u, sigma = self._normalize(value, _nested_get(state["u"], keys))
                _nested_set(new_u, keys, u)
                _nested_set(new_sigma, keys, sigma)
            _nested_set(normalized, keys, value)
        out, inner_state = self._run(normalized, state, inputs, rng, training, kwargs)
        new_state = dict(state)
        if training:
            new_state["u"], new_state["sigma"] = new_u, new_sigma
        if inner_state:
            new_state["layer"] = inner_state
        return out, new_state

    def _normalize(self, value, u):
        matrix = fnp.reshape(value, (-1, value.shape[-1]))
        for _ in range(self.n_steps):
            v = _l2_normalize(u @ matrix.T, eps=self.epsilon)
            u = _l2_normalize(v @ matrix, eps=self.epsilon)
        u, v = lax.stop_gradient(u), lax.stop_gradient(v)
        sigma = (v @ matrix @ u.T)[0, 0]
        matrix = matrix / fnp.where(sigma != 0, sigma, 1)
        return fnp.reshape(matrix, value.shape), u, sigma


def _feature_axes(axes, ndim):
    if axes is None:
        return ()
    axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    return tuple(sorted(int(a) % ndim for a in axes))


class WeightNorm(_Wrapper):
    """Reparametrise the parameters of `layer` whose path contains one of
    `variable_filter` (default the kernels) as w = scale * v / ||v|| (Salimans & Kingma,
    2016), the norm taken over all axes except `feature_axes` (None: over all axes, one
    scalar scale). As Flax's `WeightNorm`, `scale` starts at `scale_init` (ones), so the
    initial weights are the normalized directions. Parameters: the wrapped layer's
    under "layer" (the directions v) and `scale` per transformed path."""
    epsilon: float = 1e-12
    use_scale: bool = True
    scale_init: Callable = initializers.ones
    feature_axes: Any = -1
    variable_filter: Any = ("kernel",)

    def _selected(self, params):
        for path, keys, leaf in _leaves(params):
            if self.variable_filter is None or any(f in path for f in self.variable_filter):
                yield path, keys, leaf

    def init(self, key, *inputs, **kwargs):
        key = as_raw_key(key)
        params, inner_state = self.layer.init(fold_name(key, "layer"), *inputs, **kwargs)
        out = {"layer": params}
        if self.use_scale:
            out["scale"] = {}
            for path, keys, leaf in self._selected(params):
                axes = _feature_axes(self.feature_axes, leaf.ndim)
                shape = tuple(leaf.shape[a] for a in axes)
                _nested_set(out["scale"], keys, self.scale_init(
                    fold_name(fold_name(key, "scale"), path), shape, leaf.dtype))
        return out, ({"layer": inner_state} if inner_state else {})

    def apply(self, params, state, *inputs, rng=None, training=False, **kwargs):
        normalized = tree_util.tree_map(lambda v: v, params["layer"])
        for path, keys, value in self._selected(params["layer"]):
            axes = _feature_axes(self.feature_axes, value.ndim)
            reduce = tuple(i for i in range(value.ndim) if i not in axes)
            value = _l2_normalize(value, axis=reduce, eps=self.epsilon)
            if self.use_scale:
                scale = _nested_get(params["scale"], keys)
                value = value * lax.broadcast_in_dim(scale, value.shape, axes)
            _nested_set(normalized, keys, value)
        out, inner_state = self._run(normalized, state, inputs, rng, training, kwargs)
        return out, ({"layer": inner_state} if inner_state else state)
