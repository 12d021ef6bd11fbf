"""sparsify: run a function written for dense arrays on BCOO arguments, an
interpretation of the IR like the others: a `SparsifyTrace` whose tracers hold a BCOO
or a dense value, and a rule per primitive (`SPARSE_RULES`) saying how it acts on
sparse operands. Zero-preserving elementwise functions act on the stored values,
products and sums with dense operands use the BCOO operations, and a primitive with
no rule raises (no silent densification). jit and custom-derivative calls are
inlined."""
import functools

from .. import _core
from .. import numpy as jnp
from .._core import MissingRuleError, Tracer, get_aval, new_trace, set_current_trace
from .._ir import eval_program
from ..tree_util import tree_flatten, tree_unflatten
from ._sparse_bcoo import (BCOO, bcoo_add, bcoo_dot_general, bcoo_multiply_dense,
                           bcoo_reduce_sum, bcoo_todense, bcoo_transpose)


class SparseTracer(Tracer):
    """A value inside `sparsify`: `value` is a BCOO or a dense array."""
    __slots__ = ("value",)

    def __init__(self, trace, value):
        self._trace = trace
        self.value = value

    @property
    def aval(self):
        if isinstance(self.value, BCOO):
            return _core.ShapedArray(self.value.shape, self.value.dtype)
        return get_aval(self.value)


class SparsifyTrace(_core.Trace):
    """Evaluates primitives on BCOO operands with their sparse rules."""

    def __init__(self, parent):
        super().__init__()
        self.parent = parent
        self.description = "sparsify"

    def lift(self, x):
        if isinstance(x, SparseTracer) and x._trace is self:
            return x.value
        if isinstance(x, Tracer):
            _core.check_tracer_alive(x)
        return x

    def process_primitive(self, primitive, args, params):
        values = [self.lift(x) for x in args]
        if not any(isinstance(v, BCOO) for v in values):
            with set_current_trace(self.parent):
                return primitive.bind(*values, **params)
        if "program" in params and primitive.name in _INLINED_CALLS:
            outs = eval_program(params["program"], list(args))  # in this trace
            return outs if primitive.multiple_results else outs[0]
        rule = SPARSE_RULES.get(primitive.name)
        if rule is None:
            raise MissingRuleError(f"sparse rule for '{primitive.name}' is not "
                                   f"implemented: sparsify cannot apply it to a BCOO "
                                   f"operand (densify with .todense() first)")
        with set_current_trace(self.parent):
            out = rule(primitive, values, **params)
        return SparseTracer(self, out)


_INLINED_CALLS = {"jit", "custom_jvp_call", "custom_vjp_call", "checkpoint"}


def sparsify(f):
    """`f` made to accept BCOO arguments (and return BCOO results where the outputs
    stay sparse).

    >>> import numpy as np
    >>> import functorch_lite.numpy as jnp
    >>> from functorch_lite.experimental import sparse
    >>> m = sparse.BCOO.fromdense(np.array([[0.0, 1.0], [2.0, 0.0]]))
    >>> float(sparse.sparsify(lambda a: (2 * jnp.sin(a)).sum())(m))
    3.5015...
    """
    @functools.wraps(f)
    def sparsified(*args, **kwargs):
        leaves, tree = tree_flatten((args, kwargs), is_leaf=lambda x: isinstance(x, BCOO))
        trace = SparsifyTrace(_core.current_trace())
        with new_trace(trace):
            ins = [SparseTracer(trace, x) if isinstance(x, BCOO) else x for x in leaves]
            args_in, kwargs_in = tree_unflatten(tree, ins)
            out = f(*args_in, **kwargs_in)
            out_leaves, out_tree = tree_flatten(out)
            out_leaves = [trace.lift(x) for x in out_leaves]
        return tree_unflatten(out_tree, out_leaves)
    return sparsified


# --- rules: rule(primitive, values, **params) -> BCOO or dense ---------------------------

SPARSE_RULES = {}


def _on_stored_values(primitive, values, **params):
    """A zero-preserving elementwise function of one sparse operand."""
    (mat,) = values
    return BCOO((primitive.bind(mat.data, **params), mat.indices), shape=mat.shape,
                indices_sorted=mat.indices_sorted, unique_indices=mat.unique_indices)


for _name in ("neg sin tan sinh tanh asin atan asinh atanh sqrt cbrt expm1 log1p sign "
              "abs real imag conj copy square convert_element_type").split():
    SPARSE_RULES[_name] = _on_stored_values


def _integer_pow_rule(primitive, values, *, y):
    if y <= 0:
        raise NotImplementedError(f"sparsify: x ** {y} does not preserve zeros")
    return _on_stored_values(primitive, values, y=y)


SPARSE_RULES["integer_pow"] = _integer_pow_rule


def _mul_rule(primitive, values, **params):
    lhs, rhs = values
    sparse, other = (lhs, rhs) if isinstance(lhs, BCOO) else (rhs, lhs)
    if isinstance(other, BCOO):
        raise NotImplementedError("sparsify: the elementwise product of two BCOO arrays "
                                  "is not implemented")
    return bcoo_multiply_dense(sparse, other)


def _div_rule(primitive, values, **params):
    lhs, rhs = values
    if isinstance(rhs, BCOO):
        raise NotImplementedError("sparsify: dividing by a BCOO array is not implemented")
    return bcoo_multiply_dense(lhs, jnp.reciprocal(rhs))


def _add_rule(sign):
    def rule(primitive, values, **params):
        lhs, rhs = values
        if isinstance(lhs, BCOO) and isinstance(rhs, BCOO):
            return bcoo_add(lhs, -rhs if sign < 0 else rhs)
        dense = [bcoo_todense(v) if isinstance(v, BCOO) else v for v in values]
        return primitive.bind(*dense, **params)   # adding a dense array densifies
    return rule


SPARSE_RULES.update({"mul": _mul_rule, "div": _div_rule, "add": _add_rule(1),
                     "add_any": _add_rule(1), "sub": _add_rule(-1)})


def _dot_general_rule(primitive, values, *, dimension_numbers, precision=None,
                      preferred_element_type=None, **_):
    lhs, rhs = values
    return bcoo_dot_general(lhs, rhs, dimension_numbers=dimension_numbers,
                            preferred_element_type=preferred_element_type)


def _reduce_sum_rule(primitive, values, *, axes, **_):
    return bcoo_reduce_sum(values[0], tuple(axes))


def _transpose_rule(primitive, values, *, permutation, **_):
    return bcoo_transpose(values[0], tuple(permutation))


SPARSE_RULES.update({"dot_general": _dot_general_rule, "reduce_sum": _reduce_sum_rule,
                     "transpose": _transpose_rule})


def _broadcast_in_dim_rule(primitive, values, *, shape, broadcast_dimensions, **_):
    (mat,) = values
    if tuple(shape) != mat.shape or tuple(broadcast_dimensions) != tuple(range(mat.ndim)):
        raise NotImplementedError("sparsify: broadcasting a BCOO array is not implemented")
    return mat


SPARSE_RULES["broadcast_in_dim"] = _broadcast_in_dim_rule
