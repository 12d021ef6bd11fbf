"""Windowed operations with a user computation: the generic `reduce_window` primitive
(any associative computation over one or several operands, e.g. a windowed argmax over
(value, index) pairs) and `select_and_scatter` (XLA's SelectAndScatter with user
select and scatter computations, as `jax.lax.select_and_scatter_p`)."""

__all__ = ["reduce_window_p", "select_and_scatter_p"]
from jax import tree_util

from .._core import Primitive, ShapedArray, get_aval, user_source_line
from .._ad import Zero, instantiate, jvp_traced, tangent_aval
from .._batching import bdim_at_front
from .._ir import eval_program
from .._staging import trace_to_program
from ._reductions import _computation_program
from ._windowed import (_check_window, _insert_unit_window, _window_attrs, _window_params,
                        _window_shape)

reduce_window_p = Primitive("reduce_window", multiple_results=True)


def generic_reduce_window(operand, init_value, computation, window_dimensions,
                          window_strides, padding, base_dilation, window_dilation):
    """reduce_window of a pytree of operands with `computation(acc, x)` on pytrees of
    scalars (called by `lax.reduce_window` when the computation is no plain monoid)."""
    flat_ops, tree = tree_util.tree_flatten(operand)
    flat_init, init_tree = tree_util.tree_flatten(init_value)
    if tree != init_tree:
        raise ValueError(f"Operands must have the same tree structure as init_values: "
                         f"{tree} vs. {init_tree}")
    if not flat_ops:
        raise ValueError("reduce_window must have at least one operand.")
    params = _window_params(get_aval(flat_ops[0]), window_dimensions,
                            window_strides or (1,) * len(window_dimensions), padding,
                            base_dilation, window_dilation)
    program = _computation_program(computation, tree, [get_aval(x).dtype for x in flat_ops])
    outs = reduce_window_p.bind(*flat_ops, *flat_init, program=program, **params)
    return tree_util.tree_unflatten(tree, outs)


@reduce_window_p.def_abstract_eval
def _reduce_window_abstract_eval(*avals, program, **params):
    operands, inits = avals[:len(avals) // 2], avals[len(avals) // 2:]
    for x, init in zip(operands, inits):
        _check_window("reduce_window", x, **params)
        if init.shape != () or init.dtype != x.dtype:
            raise TypeError(f"reduce_window init values must be scalars of the operand "
                            f"dtype, got {init.str_short()} for {x.str_short()}"
                            f"\n  at {user_source_line()}")
    if len({x.shape for x in operands}) > 1:
        raise TypeError("reduce_window operands must have one shape")
    return [ShapedArray(_window_shape(x.shape, **params), x.dtype) for x in operands]


@reduce_window_p.def_lowering
def _reduce_window_lowering(ctx, *args, program, **params):
    region = ctx.region(program, [None] * len(program.in_vars))
    outs = ctx.op("stablehlo.reduce_window", list(args), regions=[region],
                  attrs=_window_attrs(**params))
    return [outs] if len(ctx.avals_out) == 1 else outs


@reduce_window_p.def_jvp
def _reduce_window_jvp(primals, tangents, *, program, **params):
    """As JAX: reduce windows of (primal, tangent) pairs with the JVP of the
    computation."""
    n = len(primals) // 2
    operands, inits = primals[:n], primals[n:]
    if any(not isinstance(t, Zero) for t in tangents[n:]):
        raise TypeError("reduce_window jvp does not support non-zero init_value_tangent.")
    op_tangents = [instantiate(t) for t in tangents[:n]]
    init_tangents = [instantiate(Zero(tangent_aval(get_aval(i)))) for i in inits]
    scalar = [ShapedArray((), get_aval(x).dtype) for x in operands]

    def pair_computation(*args):  # (pl, tl, pr, tr) -> (p, t)
        pl, tl, pr, tr = args[:n], args[n:2 * n], args[2 * n:3 * n], args[3 * n:]
        outs, touts = jvp_traced(lambda *xs: eval_program(program, xs), [*pl, *pr],
                                 [*tl, *tr])
        return [*outs, *map(instantiate, touts)]
    pair_program, consts = trace_to_program(pair_computation, scalar * 4,
                                            "reduce_window jvp")
    assert not consts
    outs = reduce_window_p.bind(*operands, *op_tangents, *inits, *init_tangents,
                                program=pair_program, **params)
    # the primal outputs come from a reduction of the primals alone, so that under
    # linearize they stay known (reverse mode then stops at the missing transpose, as
    # JAX's does for a generic computation)
    primal_outs = reduce_window_p.bind(*operands, *inits, program=program, **params)
    return primal_outs, outs[n:]


@reduce_window_p.def_batching
def _reduce_window_batching(axis_data, vals, dims, *, program, **params):
    n = len(vals) // 2
    if any(d is not None for d in dims[n:]):
        raise NotImplementedError("reduce_window batching is not implemented for "
                                  "initial values")
    operands = [bdim_at_front(axis_data.size, x, d) for x, d in zip(vals[:n], dims[:n])]
    outs = reduce_window_p.bind(*operands, *vals[n:], program=program,
                                **_insert_unit_window(params, 0))
    return outs, [0] * n


# --- select_and_scatter -------------------------------------------------------------

select_and_scatter_p = Primitive("select_and_scatter")


@select_and_scatter_p.def_abstract_eval
def _select_and_scatter_abstract_eval(operand, source, init_value, *, select_program,
                                      scatter_program, window_dimensions, window_strides,
                                      padding):
    if len(window_dimensions) != len(window_strides):
        raise TypeError(f"select_and_scatter got inconsistent window_strides and "
                        f"window_dimensions: got window_strides {window_strides} and "
                        f"window_dimensions {window_dimensions}.")
    return operand.strip_weak_type()


@select_and_scatter_p.def_lowering
def _select_and_scatter_lowering(ctx, operand, source, init_value, *, select_program,
                                 scatter_program, window_dimensions, window_strides,
                                 padding):
    select = ctx.region(select_program, [None, None])
    scatter = ctx.region(scatter_program, [None, None])
    return ctx.op("stablehlo.select_and_scatter", [operand, source, init_value],
                  regions=[select, scatter],
                  attrs=_window_attrs(window_dimensions, window_strides, padding))


@select_and_scatter_p.def_batching
def _select_and_scatter_batching(axis_data, vals, dims, *, window_dimensions,
                                 window_strides, padding, **params):
    if dims[2] is not None:
        raise NotImplementedError("select_and_scatter batching over init values")
    operand, source = (bdim_at_front(axis_data.size, v, d)
                       for v, d in zip(vals[:2], dims[:2]))
    return select_and_scatter_p.bind(
        operand, source, vals[2], window_dimensions=(1, *window_dimensions),
        window_strides=(1, *window_strides), padding=((0, 0), *padding), **params), 0
