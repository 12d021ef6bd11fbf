"""Control flow under `disable_jit`, as JAX runs it: `scan` is a Python loop over the
leading axis, `while_loop` a Python `while` (when its predicate is concrete), and
`cond`/`switch` call the chosen branch (when the index is concrete). Bodies run op by
op, so their prints and Python side effects happen at every step."""
from jax import tree_util

from .._core import ConcretizationTypeError
from ._stacking import stack


def python_scan(f, init, xs, length, reverse):
    if length == 0:
        raise ValueError("zero-length scan is not supported in disable_jit() mode "
                         "because the output type is unknown.")
    carry, ys = init, []
    steps = range(length - 1, -1, -1) if reverse else range(length)
    for i in steps:
        carry, y = f(carry, tree_util.tree_map(lambda x, i=i: x[i], xs))
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, tree_util.tree_map(lambda *leaves: stack(leaves), *ys)


def python_while(cond_fun, body_fun, init_val):
    """The final carry, or None when the predicate is not concrete (a transformation
    traces it): the loop then falls back to `while_p`, as JAX's does."""
    val = init_val
    try:
        while cond_fun(val):
            val = body_fun(val)
    except ConcretizationTypeError:
        return None
    return val
