"""Dtype policies (Keras' mixed precision): the dtype a layer computes in and the dtype
its parameters are stored in.

Every layer has `dtype` (compute) and `param_dtype` fields; left at None they take the
values of the policy in force when the layer is built. A layer built while another
layer's `forward` runs (a sub-layer made in a property or in `forward`) takes that
layer's dtypes, so sub-layers follow the model they belong to. A layer casts its floating
inputs and parameters to its compute dtype; normalization layers compute their
statistics and attention its softmax in float32; the outermost `apply` returns floating
outputs in the parameter dtype, so losses and metrics see float32.

>>> import nn
>>> with nn.set_dtype_policy("mixed_bfloat16"):
...     layer = nn.Dense(4)
>>> layer.dtype.name, layer.param_dtype.name
('bfloat16', 'float32')
"""
import contextlib
import dataclasses
import threading

import numpy as np
from jax import tree_util

import functorch_lite.lax as lax
from functorch_lite.dtypes import bfloat16, issubdtype


@dataclasses.dataclass(frozen=True)
class DtypePolicy:
    """A named pair of dtypes: `compute_dtype` (what layers compute in) and
    `param_dtype` (what parameters are stored and updated in; Keras' variable_dtype)."""
    name: str
    compute_dtype: np.dtype
    param_dtype: np.dtype

    @property
    def variable_dtype(self):
        """Keras' name for `param_dtype`."""
        return self.param_dtype


_F32, _F16 = np.dtype(np.float32), np.dtype(np.float16)
POLICIES = {
    "float32": DtypePolicy("float32", _F32, _F32),
    "mixed_bfloat16": DtypePolicy("mixed_bfloat16", bfloat16, _F32),
    "mixed_float16": DtypePolicy("mixed_float16", _F16, _F32),
    "bfloat16": DtypePolicy("bfloat16", bfloat16, bfloat16),
    "float16": DtypePolicy("float16", _F16, _F16),
}

_current = [POLICIES["float32"]]
_running = threading.local()  # the dtypes of the layers whose forward is running


def as_policy(policy):
    """A `DtypePolicy` from a policy or its name."""
    if isinstance(policy, DtypePolicy):
        return policy
    if policy not in POLICIES:
        raise ValueError(f"unknown dtype policy {policy!r}: use one of {sorted(POLICIES)} "
                         f"or nn.DtypePolicy(name, compute_dtype, param_dtype)")
    return POLICIES[policy]


def dtype_policy():
    """The policy new layers take their dtypes from: the global one (default
    "float32"), or inside a layer's `forward` that layer's dtypes."""
    stack = getattr(_running, "stack", None)
    return stack[-1] if stack else _current[0]


def _policy_of(layer):
    compute, param = layer.dtype, layer.param_dtype
    for policy in POLICIES.values():
        if (policy.compute_dtype, policy.param_dtype) == (compute, param):
            return policy
    return DtypePolicy(f"{np.dtype(compute).name}/{np.dtype(param).name}", compute, param)


@contextlib.contextmanager
def layer_dtypes(layer):
    """While `layer`'s forward runs, layers built take its dtypes."""
    if getattr(layer, "dtype", None) is None or getattr(layer, "param_dtype", None) is None:
        yield
        return
    stack = _running.__dict__.setdefault("stack", [])
    stack.append(_policy_of(layer))
    try:
        yield
    finally:
        stack.pop()


class _PolicyRestorer:
    def __init__(self, previous):
        self.previous = previous

    def __enter__(self):
        return _current[0]

    def __exit__(self, *exc):
        _current[0] = self.previous


def set_dtype_policy(policy):
    """Set the policy for layers built from now on: "float32" (default),
    "mixed_bfloat16" / "mixed_float16" (compute in 16 bits, parameters in float32) or
    "bfloat16" / "float16" (both). Also a context manager that restores the previous
    policy on exit: `with nn.set_dtype_policy("mixed_bfloat16"): model = ...`.

    Layers read the policy when they are built, so set it before building the model
    (sub-layers built later, in properties or `forward`, follow their parent).
    "mixed_float16" has no automatic loss scaling: prefer "mixed_bfloat16".
    """
    previous = _current[0]
    _current[0] = as_policy(policy)
    return _PolicyRestorer(previous)


def _dtype_or_none(value):
    return None if value is None else np.dtype(value)


def resolve_dtypes(layer):
    """Fill a layer's `dtype` / `param_dtype` fields left at None from the policy (called
    when the layer is built)."""
    policy = dtype_policy()
    compute, param = _dtype_or_none(layer.dtype), _dtype_or_none(layer.param_dtype)
    object.__setattr__(layer, "dtype", policy.compute_dtype if compute is None else compute)
    object.__setattr__(layer, "param_dtype", policy.param_dtype if param is None else param)


def is_floating(x):
    return hasattr(x, "dtype") and issubdtype(x.dtype, np.floating)


def cast(x, dtype):
    """`x` as `dtype` if it is a floating array of another float dtype, else `x`."""
    if dtype is None or not is_floating(x) or np.dtype(x.dtype) == dtype:
        return x
    return lax.convert_element_type(x, dtype)


def cast_tree(tree, dtype):
    """Every floating array leaf of `tree` as `dtype` (other leaves unchanged)."""
    if dtype is None:
        return tree
    return tree_util.tree_map(lambda x: cast(x, dtype), tree)


def cast_outputs(layer, outputs):
    """The outermost call's outputs: floating leaves back in the parameter dtype when the
    layer computes in a narrower one (mixed precision)."""
    compute, param = getattr(layer, "dtype", None), getattr(layer, "param_dtype", None)
    if compute is None or param is None or compute == param:
        return outputs
    return cast_tree(outputs, param)
