"""The scope a layer's `forward` sees: its parameters, running state, random key, the
`training` flag and its sub-layers. In "init" mode (the abstract pass of `init`) it
records declarations and hands out traced placeholders; in "apply" mode it reads the
parameter and state trees and collects the new state."""
import difflib
import zlib

import numpy as np
from jax import tree_util

import functorch_lite as fl
from ._abstract import to_spec
from ._policy import cast, cast_tree, layer_dtypes


def name_hash(name):
    """A stable 31-bit hash of a path component (the data of `fold_in`)."""
    return zlib.crc32(str(name).encode()) & 0x7FFFFFFF


def fold_name(key, name):
    """The key of the child called `name` of the layer whose key is `key`."""
    return fl.random.fold_in(key, name_hash(name))


def _path_str(path):
    return "/".join(map(str, path)) or "<root>"


def uses_forward(layer):
    """True when the layer is described by `forward` (not a custom init/apply pair)."""
    return getattr(type(layer), "_uses_forward", False)


def is_layer(value):
    return hasattr(value, "init") and hasattr(value, "apply")


class ParamsKeyError(KeyError):
    """A parameter or state tree passed to `apply` lacks a key a layer needs."""

    def __str__(self):
        return self.args[0]


def _missing_key(scope, kind, name):
    """The error for `kind` ("parameter"/"state") `name` absent from the tree of
    `scope`: names the layer, the expected key and the keys found, with a suggestion."""
    layer = f"layer '{_path_str(scope.path)}' ({type(scope._layer).__name__})"
    tree = "params" if kind == "parameter" else "state"
    where, found, wanted = scope.path, getattr(scope, f"_{tree}"), name
    if tree in scope._absent:  # this layer's whole entry is missing in its parent
        where, found, wanted = scope._absent[tree]
    keys = sorted(map(str, found))
    close = difflib.get_close_matches(str(wanted), keys, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ParamsKeyError(
        f"{layer} needs the {kind} '{_path_str(scope.path + (name,))}', but the {tree} "
        f"passed to apply {'lack' if tree == 'params' else 'lacks'} the key '{wanted}' at '{_path_str(where)}': found keys "
        f"{keys}{hint}. Pass the {tree} that this model's init returned.")


def run_forward(layer, scope, args, kwargs, method="forward"):
    """Run `layer.<method>(scope, *args, **kwargs)` with its floating inputs cast to
    the layer's compute dtype (as Keras' autocast) and its dtypes as the policy of the
    layers built meanwhile."""
    args, kwargs = cast_tree((args, kwargs), getattr(layer, "dtype", None))
    with layer_dtypes(layer):  # sub-layers built in properties follow this layer
        return getattr(layer, method)(scope, *args, **kwargs)


class _NoState(dict):
    """The empty state of the short form `layer(params, x)`."""


NO_STATE = _NoState()


class InitRecord:
    """What the abstract pass learned about one layer: its own parameters and state
    (name -> (shape, dtype, initializer)) and its children (name -> record)."""

    def __init__(self, layer):
        self.layer = layer
        self.params = {}
        self.state = {}
        self.children = {}


class OpaqueChild:
    """A child layer with its own init/apply: re-initialised from its input Specs."""

    def __init__(self, layer, arg_specs, kwarg_specs):
        self.layer, self.arg_specs, self.kwarg_specs = layer, arg_specs, kwarg_specs


class Scope:
    """What `forward` uses to reach its parameters, state, key and sub-layers.

    `scope.<name>(*inputs)` (or `scope.child("name")(...)`) runs the sub-layer stored
    in the layer's attribute `name`; its parameters live under `params[name]`.
    """

    def __init__(self, layer, mode, *, params=None, state=None, rng=None, training=False,
                 record=None, path=(), key_source=None, observer=None):
        self._layer = layer
        self._mode = mode
        self._params = {} if params is None else params
        self._state = {} if state is None else state
        self._new_state = {}
        self._record = record
        self._rng = rng
        self._key_source = key_source  # folds this scope's key lazily from the parent's
        self.training = bool(training) if mode == "apply" else False
        self.path = tuple(path)
        self._observer = observer  # .enter(path, layer, args, kwargs) / .exit(outputs)
        self._absent = {}  # "params"/"state": (parent path, its keys, name) if lacking us

    # --- parameters and state -------------------------------------------------------

    def param(self, name, shape, init, dtype=None, autocast=True):
        """The parameter `name` of this layer, created by `init(key, shape, dtype)`;
        `dtype` defaults to the layer's `param_dtype`. Floating parameters are returned
        cast to the layer's compute `dtype` (gradients reach the stored ones) unless
        `autocast=False`."""
        shape = tuple(int(d) for d in shape)
        if dtype is None:
            dtype = getattr(self._layer, "param_dtype", None) or np.float32
        compute = getattr(self._layer, "dtype", None) if autocast else None
        if self._mode == "init":
            self._declare(self._record.params, name, shape, dtype, init, "parameter")
            return cast(fl.lax.full(shape, 0, dtype), compute)  # a traced placeholder
        if name not in self._params:
            raise _missing_key(self, "parameter", name)
        value = self._params[name]
        if tuple(value.shape) != shape:
            raise ValueError(f"parameter '{_path_str(self.path + (name,))}' has shape "
                             f"{tuple(value.shape)}, but this input needs {shape}")
        return cast(value, compute)

    def state(self, name, shape, init, dtype=np.float32):
        """The current value of the running state `name` (created by `init`)."""
        shape = tuple(int(d) for d in shape)
        if self._mode == "init":
            self._declare(self._record.state, name, shape, dtype, init, "state")
            return fl.lax.full(shape, 0, dtype)
        if name in self._new_state:
            return self._new_state[name]
        if name not in self._state:
            where = _path_str(self.path)
            if isinstance(self._state, _NoState):
                raise ValueError(
                    f"layer '{where}' ({type(self._layer).__name__}) keeps state: call "
                    f"layer.apply(params, state, x, ...) with the state from init")
            raise _missing_key(self, "state", name)
        return self._state[name]

    def set_state(self, name, value):
        """Replace the running state `name`; `apply` returns it in the new state."""
        if self._mode == "init":
            return
        if name not in self._state and name not in self._new_state:
            raise KeyError(f"set_state of undeclared state "
                           f"'{_path_str(self.path + (name,))}': read it with "
                           f"scope.state(name, shape, init) first")
        self._new_state[name] = value

    def _declare(self, table, name, shape, dtype, init, what):
        if name in self._record.children:
            raise ValueError(f"'{_path_str(self.path + (name,))}' is both a sub-layer and "
                             f"a {what}")
        previous = table.get(name)
        if previous is not None and previous[0] != shape:
            raise ValueError(f"{what} '{_path_str(self.path + (name,))}' declared with "
                             f"shapes {previous[0]} and {shape}")
        table[name] = (shape, np.dtype(dtype), init)

    def final_state(self):
        """The state after this call: the input state with this call's updates."""
        if not self._new_state:
            return self._state
        merged = dict(self._state)
        merged.update(self._new_state)
        return merged

    # --- random keys ----------------------------------------------------------------

    def _key_or_none(self):
        if self._rng is None and self._key_source is not None:
            self._rng = self._key_source.key_or_none()
            self._key_source = None
        return self._rng

    @property
    def rng(self):
        """This layer's random key (from `apply(..., rng=key)`, folded with its path)."""
        if self._mode == "init":
            return fl.random.PRNGKey(0)  # only traced: values do not matter here
        key = self._key_or_none()
        if key is None:
            raise ValueError(f"layer '{_path_str(self.path)}' ({type(self._layer).__name__})"
                             f" needs a random key: pass rng=key to apply")
        return key

    def make_rng(self, name):
        """An independent key for one use inside this layer (e.g. "dropout")."""
        return fold_name(self.rng, name)

    # --- sub-layers -----------------------------------------------------------------

    def child(self, name, layer=None):
        """The callable running the sub-layer `name` (a tuple of them for a tuple).

        The layer is the attribute `name` of this layer, or `layer` when given (for
        sub-layers whose hyperparameters depend on the input, e.g. its width)."""
        if layer is None:
            layer = self._layer.sublayer(name)
        if isinstance(layer, (tuple, list)):
            return tuple(_BoundLayer(self, (name, str(i)), sub)
                         for i, sub in enumerate(layer))
        if not is_layer(layer):
            raise TypeError(f"'{name}' of {type(self._layer).__name__} is not a layer "
                            f"(got {type(layer).__name__})")
        return _BoundLayer(self, (name,), layer)

    __getitem__ = child

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.child(name)

    @property
    def initializing(self):
        """True during `init`'s abstract pass (parameters are placeholders)."""
        return self._mode == "init"

    def _run_child(self, names, layer, args, kwargs, method="forward"):
        if method != "forward" and not uses_forward(layer):
            raise TypeError(f"scope.{'.'.join(names)}.{method}(...): only layers written "
                            f"with forward(scope, ...) can run other methods in a scope")
        if self._mode == "init":
            return self._init_child(names, layer, args, kwargs, method)
        if self._observer is not None:
            self._observer.enter(self.path + names, layer, args, kwargs)
        params = _get_path(self._params, names)
        state = _get_path(self._new_state, names)
        if state is None:
            state = _get_path(self._state, names)
        absent = {tree: (self.path + names[:-1], _get_path(parent, names[:-1]) or {},
                         names[-1])
                  for tree, value, parent in (("params", params, self._params),
                                              ("state", state, self._state))
                  if value is None}
        state = {} if state is None else state
        if isinstance(self._state, _NoState) and not state:
            state = NO_STATE
        params = {} if params is None else params
        if uses_forward(layer):
            sub = Scope(layer, "apply", params=params, state=state, training=self.training,
                        path=self.path + names, key_source=_ChildKey(self, names),
                        observer=self._observer)
            sub._absent = absent
            out = run_forward(layer, sub, args, kwargs, method)
            new_state = sub.final_state()
        else:
            key = _ChildKey(self, names).key_or_none()
            out, new_state = layer.apply(params, state, *args, rng=key,
                                         training=self.training, **kwargs)
        if new_state:
            _set_path(self._new_state, names, new_state)
        if self._observer is not None:
            self._observer.exit(out)
        return out

    def _init_child(self, names, layer, args, kwargs, method):
        table = self._record.children
        for n in names[:-1]:
            table = table.setdefault(n, {})
        name = names[-1]
        if len(names) == 1 and (name in self._record.params or name in self._record.state):
            raise ValueError(f"'{_path_str(self.path + names)}' is both a sub-layer and "
                             f"a parameter")
        if uses_forward(layer):
            record = table.get(name)
            if record is None:
                record = table[name] = InitRecord(layer)
            sub = Scope(layer, "init", record=record, path=self.path + names)
            return run_forward(layer, sub, args, kwargs, method)
        specs = tree_util.tree_map(to_spec, (args, kwargs))
        table[name] = OpaqueChild(layer, specs[0], specs[1])
        params, state = layer.init(fl.random.PRNGKey(0), *args, **kwargs)
        out, _ = layer.apply(params, state, *args, **kwargs)
        return out


class _ChildKey:
    """The key of a child (`names` is its path below `scope`), folded on first use."""

    def __init__(self, scope, names):
        self.scope, self.names = scope, names

    def key_or_none(self):
        key = self.scope._key_or_none()
        if key is None:
            return None
        for n in self.names:
            key = fold_name(key, n)
        return key


class _BoundLayer:
    """A sub-layer bound to its parent's scope: calling it runs the sub-layer's
    `forward`; `bound.<method>(...)` runs another of its methods taking `(scope, ...)`
    with the same parameters (e.g. `scope.embed.attend(x)` for tied embeddings)."""

    def __init__(self, scope, names, layer):
        self.scope, self.names, self.layer = scope, names, layer

    def __call__(self, *args, **kwargs):
        return self.scope._run_child(self.names, self.layer, args, kwargs)

    def __getattr__(self, method):
        if method.startswith("_") or not callable(getattr(self.layer, method, None)):
            raise AttributeError(f"{type(self.layer).__name__} has no method {method!r}")
        return lambda *args, **kwargs: self.scope._run_child(self.names, self.layer, args,
                                                             kwargs, method)


def _get_path(tree, names):
    for n in names:
        if not isinstance(tree, dict) or n not in tree:
            return None
        tree = tree[n]
    return tree


def _set_path(tree, names, value):
    for n in names[:-1]:
        tree = tree.setdefault(n, {})
    tree[names[-1]] = value
