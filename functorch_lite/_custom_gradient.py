"""`closure_convert` and `custom_gradient`, as JAX's.

`closure_convert(fun, *example_args)` traces `fun` on the example arguments' types and
hoists the values it closes over that a transformation may perturb (tracers) into
explicit trailing arguments, so they can cross a `custom_vjp` boundary.
`custom_gradient(f)`, where `f` returns `(value, vjp_fn)`, is a `custom_vjp` whose
forward rule closure-converts `vjp_fn` and carries the hoisted values as residuals.
"""
import functools

from jax import tree_util

from . import _dtypes
from ._ad import JVPTracer, Zero, tangent_aval, zeros_like_aval
from ._batching import BatchTracer
from ._core import Tracer, get_aval
from ._custom_vjp import custom_vjp
from ._ir import eval_program
from ._staging import StagingTracer, trace_to_program
from ._traceback_util import api_boundary


def _maybe_perturbed(x):
    """Whether `x` may carry a nonzero tangent (JAX's heuristic): a tracer, unless it is
    staged with an integer dtype or is a JVP tracer with a zero tangent."""
    if not isinstance(x, Tracer):
        return False
    if isinstance(x, JVPTracer) and isinstance(x.tangent, Zero):
        return _maybe_perturbed(x.primal)
    if isinstance(x, StagingTracer):
        return _dtypes.tangent_dtype(x.aval.dtype) != _dtypes.float0
    if isinstance(x, BatchTracer):
        return _maybe_perturbed(x.val)
    return True


@api_boundary
def closure_convert(fun, *example_args):
    """`(converted, hoisted)`: `converted(*args, *hoisted)` computes `fun(*args)` for
    arguments of the example arguments' structure and types, with the traced values
    `fun` closes over passed explicitly as `hoisted`, as `jax.closure_convert`."""
    leaves, in_tree = tree_util.tree_flatten(example_args)
    out_tree = []

    def flat_fun(*flat):
        out = fun(*tree_util.tree_unflatten(in_tree, flat))
        out_leaves, tree = tree_util.tree_flatten(out)
        out_tree.append(tree)
        return out_leaves

    program, consts = trace_to_program(flat_fun, [get_aval(x) for x in leaves],
                                       "closure_convert")
    hoisted_at = [i for i, c in enumerate(consts) if _maybe_perturbed(c)]
    hoisted = [consts[i] for i in hoisted_at]

    def converted_fun(*args_and_hoisted):
        num_args = len(args_and_hoisted) - len(hoisted)
        args, hoisted_now = args_and_hoisted[:num_args], args_and_hoisted[num_args:]
        flat, tree = tree_util.tree_flatten(tuple(args))
        if tree != in_tree:
            raise TypeError(
                f"The inputs to the closure produced by closure_convert must have the "
                f"same Pytree structure as the example arguments passed when "
                f"closure_convert was called. Expected {in_tree}, but got {tree}")
        all_consts = list(consts)
        for i, value in zip(hoisted_at, hoisted_now):
            all_consts[i] = value
        return tree_util.tree_unflatten(out_tree[0],
                                        eval_program(program, [*all_consts, *flat]))

    return converted_fun, hoisted


@tree_util.register_pytree_node_class
class _VJPResiduals:
    """The residuals of `custom_gradient`: the hoisted values of the user's vjp
    function are the leaves; the closure-converted function is static."""

    def __init__(self, vjp_fun, hoisted):
        self.vjp_fun, self.hoisted = vjp_fun, hoisted

    def tree_flatten(self):
        return self.hoisted, self.vjp_fun

    @classmethod
    def tree_unflatten(cls, vjp_fun, hoisted):
        return cls(vjp_fun, list(hoisted))


def custom_gradient(fun):
    """A function whose gradient is given with its value: `fun(*args)` returns
    `(value, vjp_fn)` with `vjp_fn(g)` giving the cotangents of the arguments (a tuple,
    or one value for one argument), as `jax.custom_gradient`.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> @fl.custom_gradient
    ... def f(x):
    ...     return x ** 2, lambda g: (g * x,)
    >>> float(f(3.0)), float(fl.grad(f)(3.0))
    (9.0, 3.0)
    """
    @custom_vjp
    def wrapped(*args, **kwargs):
        value, _ = fun(*args, **kwargs)
        return value

    def fwd(*args, **kwargs):
        value, vjp_fun = fun(*args, **kwargs)
        cts_example = tree_util.tree_map(
            lambda v: zeros_like_aval(tangent_aval(get_aval(v))), value)
        converted, hoisted = closure_convert(vjp_fun, cts_example)
        return value, _VJPResiduals(converted, hoisted)

    def bwd(res, cts):
        cts_out = res.vjp_fun(cts, *res.hoisted)
        if tree_util.treedef_is_leaf(tree_util.tree_structure(cts_out)):
            cts_out = (cts_out,)
        return cts_out

    wrapped.defvjp(fwd, bwd)
    return functools.wraps(fun)(wrapped)

