"""Abstract values for `nn`: `Spec` (a shape and a dtype standing in for an array) and
`eval_shape`, which traces a function with functorch_lite's staging trace and reads
the output shapes off the program, without computing anything."""
import numpy as np
from jax import tree_util

import functorch_lite as fl


class Spec:
    """The shape and dtype of an array, without its values.

    `layer.init(key, Spec((32, 28, 28, 1), "float32"))` works like passing an array.
    `Spec` also carries `.aval`, so functorch_lite's tracing accepts it as an argument.
    """
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype=np.float32):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))
    aval = property(lambda self: fl.ShapedArray(self.shape, self.dtype))

    def __eq__(self, other):
        return isinstance(other, Spec) and (self.shape, self.dtype) == (other.shape,
                                                                        other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"Spec({self.shape}, {self.dtype.name})"


def is_array(x):
    """True for values that are traced as arrays (arrays, tracers, Specs)."""
    return hasattr(x, "shape") and hasattr(x, "dtype")


def to_spec(x):
    """The Spec of an array-like value (arrays and tracers keep their shape/dtype)."""
    return Spec(x.shape, x.dtype) if is_array(x) else x


def eval_shape(fun, *args, **kwargs):
    """Output Specs of `fun(*args, **kwargs)`, found by tracing only (no FLOPs).

    Array leaves of the arguments (arrays, tracers or Specs) are traced abstractly;
    any other leaf (Python numbers, strings, None) is passed through unchanged.
    """
    leaves, treedef = tree_util.tree_flatten((args, kwargs))
    traced_positions = [i for i, leaf in enumerate(leaves) if is_array(leaf)]
    out_tree = []

    def flat_fun(*traced):
        full = list(leaves)
        for i, value in zip(traced_positions, traced):
            full[i] = value
        a, kw = tree_util.tree_unflatten(treedef, full)
        flat_out, tree = tree_util.tree_flatten(fun(*a, **kw))
        out_tree.append(tree)
        return flat_out

    specs = [to_spec(leaves[i]) for i in traced_positions]
    program = fl.make_jaxpr(flat_fun)(*specs)
    outs = [Spec(a.shape, a.dtype) for a in program.out_avals]
    return tree_util.tree_unflatten(out_tree[0], outs)
