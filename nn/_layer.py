"""The layer protocol.

A layer is a frozen dataclass of hyperparameters. It describes its computation once,
in `forward(scope, *inputs)`, where `scope` hands out its parameters
(`scope.param`), running state (`scope.state` / `scope.set_state`), random key
(`scope.rng`), the `training` flag, and its sub-layers (`scope.<attribute>(x)`).
From that one description the base class derives:

- `init(key, *example_inputs) -> (params, state)`: a first pass traces `forward` on
  abstract inputs (functorch_lite's staging trace, no FLOPs) and records every
  parameter's shape, dtype and initializer; a second pass creates the arrays. The key
  of a parameter or sub-layer is `fold_in(parent_key, hash(name))`: deterministic and
  independent of creation order.
- `apply(params, state, *inputs, rng=None, training=False) -> (outputs, new_state)`.
- `layer(params, *inputs)`: the short form for layers without state.

Every layer has keyword-only `dtype` (compute) and `param_dtype` fields, filled from the
dtype policy (`nn.set_dtype_policy`) when left at None; see `_policy.py`.

Parameter and state trees are plain nested dicts named after sub-layer attributes
(or `Sequential`'s names); layers without parameters take no entry.
"""
import contextlib
import dataclasses
import functools
import threading
from typing import Any

import numpy as np
from jax import tree_util

import functorch_lite as fl
from . import initializers
from ._abstract import eval_shape, to_spec
from ._policy import cast_outputs, resolve_dtypes
from ._scope import NO_STATE, InitRecord, OpaqueChild, Scope, fold_name, run_forward

_nesting = threading.local()


@contextlib.contextmanager
def _outermost_call():
    """Yields True for the outermost `apply` of this thread (not one inside a layer)."""
    depth = getattr(_nesting, "depth", 0)
    _nesting.depth = depth + 1
    try:
        yield depth == 0
    finally:
        _nesting.depth = depth


def as_raw_key(key):
    """A raw uint32[2] key from ours or JAX's (`jax.random.key` typed keys included)."""
    dtype = getattr(key, "dtype", None)
    if dtype is not None and not isinstance(dtype, np.dtype):  # a typed JAX key
        return fl.random.key_data(key)  # ours: also on a traced key (jit's argument)
    return key


def _with_dtypes(dataclass_repr):
    """The dataclass repr, plus the dtypes when they are not float32."""
    @functools.wraps(dataclass_repr)
    def __repr__(self):
        text = dataclass_repr(self)
        dtypes = [(name, getattr(self, name)) for name in ("dtype", "param_dtype")]
        extra = ", ".join(f"{name}={np.dtype(d).name}" for name, d in dtypes
                          if d is not None and np.dtype(d) != np.float32)
        if not extra:
            return text
        return text[:-1] + (", " if not text.endswith("()") else "") + extra + ")"
    return __repr__


class Layer:
    """Base class of all layers. Subclasses become frozen dataclasses automatically:
    declare hyperparameters as annotated class attributes and implement
    `forward(self, scope, *inputs)`.

    >>> import functorch_lite as fl, nn
    >>> class MLP(nn.Layer):
    ...     hidden: int = 8
    ...     @property
    ...     def fc1(self): return nn.Dense(self.hidden)
    ...     @property
    ...     def fc2(self): return nn.Dense(1)
    ...     def forward(self, scope, x):
    ...         return scope.fc2(fl.nn.relu(scope.fc1(x)))
    >>> params, state = MLP().init(fl.random.PRNGKey(0), nn.Spec((4, 3)))
    >>> {k: v["kernel"].shape for k, v in params.items()}
    {'fc1': (3, 8), 'fc2': (8, 1)}
    """

    dtype: Any = dataclasses.field(default=None, kw_only=True, repr=False)
    param_dtype: Any = dataclasses.field(default=None, kw_only=True, repr=False)

    def __post_init__(self):
        resolve_dtypes(self)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a class with its own __init__/__repr__ (Sequential) keeps them in subclasses
        options = getattr(cls, "_dataclass_options", {})
        dataclasses.dataclass(frozen=True, **options)(cls)
        if options.get("repr", True):
            cls.__repr__ = _with_dtypes(cls.__repr__)
        cls._uses_forward = cls.init is Layer.init and cls.apply is Layer.apply

    def forward(self, scope, *inputs, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(scope, ...)")

    def sublayer(self, name):
        """The sub-layer (or tuple of sub-layers) called `name` (default: attribute)."""
        return getattr(self, name)

    # --- the protocol -------------------------------------------------------------

    @fl.errors.api_boundary
    def init(self, key, *inputs, **kwargs):
        """Create `(params, state)` for inputs shaped like `inputs` (arrays or Specs).

        Shapes are found by abstract evaluation; only the initializers run. `key` is
        ours (`fl.random.PRNGKey`) or JAX's (raw or `jax.random.key`).
        """
        return _init_function(self, inputs, kwargs)(as_raw_key(key))

    @fl.errors.api_boundary
    def apply(self, params, state, *inputs, rng=None, training=False, method="forward",
              **kwargs):
        """Run the layer: returns `(outputs, new_state)`. `rng` is needed by random
        layers (Dropout) when `training=True`; BatchNorm updates `state` only then.
        `method` names another method taking `(scope, ...)` to run instead of
        `forward` (e.g. `Embedding.attend`). Under a mixed dtype policy the outermost
        call returns floating outputs in the parameter dtype (float32)."""
        rng = None if rng is None else as_raw_key(rng)
        scope = Scope(self, "apply", params=params, state=state, rng=rng,
                      training=training)
        with _outermost_call() as outermost:
            outputs = run_forward(self, scope, inputs, kwargs, method)
        if outermost:
            outputs = cast_outputs(self, outputs)
        return outputs, scope.final_state()

    @fl.errors.api_boundary
    def __call__(self, params, *inputs, rng=None, training=False, **kwargs):
        """Short form of `apply` for layers without state: returns the outputs."""
        outputs, _ = self.apply(params, NO_STATE, *inputs, rng=rng, training=training,
                                **kwargs)
        return outputs

    def output_spec(self, params, state, *inputs, **kwargs):
        """The Specs of the outputs for these inputs (abstract evaluation)."""
        return eval_shape(lambda p, s, *xs: self.apply(p, s, *xs, **kwargs)[0],
                          params, state, *inputs)


# --- init: the abstract pass records, the concrete pass creates ----------------------

def trace_init(layer, inputs, kwargs):
    """The abstract pass: trace `forward` on Specs of `inputs`, recording declarations."""
    record = InitRecord(layer)

    def run(*xs, **kw):
        scope = Scope(layer, "init", record=record)
        return run_forward(layer, scope, xs, kw)

    specs = tree_util.tree_map(to_spec, (inputs, kwargs))
    eval_shape(run, *specs[0], **specs[1])
    return record


_RECORD_CACHE = {}


def _init_function(layer, inputs, kwargs):
    """`key -> (params, state)` for these input shapes (the abstract pass is cached per
    layer and input signature)."""
    specs = tree_util.tree_map(to_spec, (inputs, kwargs))
    leaves, treedef = tree_util.tree_flatten(specs)
    try:
        cache_key = (layer, treedef, tuple(leaves))
        hash(cache_key)
    except TypeError:
        cache_key = None
    record = _RECORD_CACHE.get(cache_key) if cache_key is not None else None
    if record is None:
        record = trace_init(layer, inputs, kwargs)
        if cache_key is not None:
            if len(_RECORD_CACHE) >= 256:
                _RECORD_CACHE.clear()
            _RECORD_CACHE[cache_key] = record
    return lambda key: materialize(record, key)


@functools.lru_cache(maxsize=None)
def _compiled_initializer(init):
    # One small program per (initializer, shape, dtype): XLA compiles many random draws
    # in one program much more slowly than the same draws one by one.
    return fl.jit(init, static_argnums=(1, 2))


def _create(init, key, shape, dtype):
    if not isinstance(init, initializers.Initializer) and \
            init not in (initializers.zeros, initializers.ones):
        # a JAX or Flax initializer (or any function): JAX's run on our concrete key
        return _checked(init(key, shape, dtype), init, shape, dtype)
    return _compiled_initializer(init)(key, shape, dtype)


def _checked(value, init, shape, dtype):
    if tuple(np.shape(value)) != tuple(shape) or np.dtype(value.dtype) != np.dtype(dtype):
        raise ValueError(f"initializer {init!r} returned {np.dtype(value.dtype).name}"
                         f"{list(np.shape(value))} for a parameter declared "
                         f"{np.dtype(dtype).name}{list(shape)}: an initializer takes "
                         f"(key, shape, dtype) and returns that shape and dtype")
    return value


def materialize(record, key):
    """The concrete pass: create the arrays an `InitRecord` describes."""
    params, state = {}, {}
    for name, (shape, dtype, init) in record.params.items():
        params[name] = _create(init, fold_name(key, name), shape, dtype)
    for name, (shape, dtype, init) in record.state.items():
        state[name] = _create(init, fold_name(key, name), shape, dtype)
    children_params, children_state = _materialize_children(record.children, key)
    params.update(children_params)
    state.update(children_state)
    return params, state


def _materialize_children(children, key):
    params, state = {}, {}
    for name, child in children.items():
        child_key = fold_name(key, name)
        if isinstance(child, OpaqueChild):
            p, s = child.layer.init(child_key, *child.arg_specs, **child.kwarg_specs)
        elif isinstance(child, InitRecord):
            p, s = materialize(child, child_key)
        else:  # a tuple attribute of layers: {"0": record, "1": record, ...}
            p, s = _materialize_children(child, child_key)
        if p:
            params[name] = p
        if s:
            state[name] = s
    return params, state


dataclasses.dataclass(frozen=True)(Layer)  # the base's dtype fields reach every layer
