"""Windowed reductions: reduce_window_sum / _max / _min (pooling) and the generic
`reduce_window` that dispatches to them, plus the two primitives their derivatives
need: select_and_gather_add (tangent of the window's max, a JVP) and
select_and_scatter_add (its transpose, routing cotangents to the argmax)."""

__all__ = ["reduce_window", "reduce_window_sum", "reduce_window_max", "reduce_window_min",
           "reduce_window_shape_tuple"]
import numpy as np
from jax import tree_util

from .. import _dtypes
from .._core import Primitive, ShapedArray, get_aval
from .._ad import Zero, deflinear, instantiate, is_undefined, tangent_aval
from .._batching import bdim_at_front
from .._lowering import dense_attr
from ._linear import padtype_to_pads
from ._conv import conv_general_vjp_lhs_padding, _dilate_shape, _strided_out_size
from ._structural import i64_array
from ._reductions import scalar_region, _max_identity, _min_identity
from ._windowed_tiled import tiled_lowering, tiled_sum_transpose, tiles_exactly
from . import _elementwise


def _window_shape(operand_shape, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    """Output shape of a windowed reduction (padding applies after base dilation)."""
    base = _dilate_shape(operand_shape, base_dilation)
    window = _dilate_shape(window_dimensions, window_dilation)
    return tuple(_strided_out_size(d + lo + hi, w, s)
                 for d, (lo, hi), w, s in zip(base, padding, window, window_strides))


def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None):
    """Output shape of a windowed reduction with explicit (low, high) `padding`."""
    ones = (1,) * len(operand_shape)
    return _window_shape(operand_shape, window_dimensions, window_strides, padding,
                         base_dilation or ones, window_dilation or ones)


def _check_window(name, aval, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    for what, value in (("window_dimensions", window_dimensions),
                        ("window_strides", window_strides), ("padding", padding),
                        ("base_dilation", base_dilation),
                        ("window_dilation", window_dilation)):
        if len(value) != aval.ndim:
            raise TypeError(f"{name}: {what}={value} needs one entry per dimension of the "
                            f"operand of shape {aval.shape}")
    if any(d < 1 for d in (*window_dimensions, *window_strides, *base_dilation,
                           *window_dilation)):
        raise TypeError(f"{name}: window sizes, strides and dilations must be positive, "
                        f"got {window_dimensions}, {window_strides}, {base_dilation}, "
                        f"{window_dilation}")


def _window_attrs(window_dimensions, window_strides, padding, base_dilation=None,
                  window_dilation=None):
    attrs = {"window_dimensions": i64_array(window_dimensions),
             "window_strides": i64_array(window_strides),
             "padding": dense_attr(np.asarray(padding, np.int64).reshape(-1, 2), np.int64,
                                   (len(padding), 2))}
    if base_dilation is not None:
        attrs["base_dilations"] = i64_array(base_dilation)
        attrs["window_dilations"] = i64_array(window_dilation)
    return attrs


def _compare(ctx, a, b, direction):
    return ctx.op("stablehlo.compare", [a, b], [ShapedArray((), np.bool_)], attrs={
        "comparison_direction": f"#stablehlo<comparison_direction {direction}>"})


# --- reduce_window_{sum,max,min} --------------------------------------------------

def _window_params(aval, window_dimensions, window_strides, padding, base_dilation,
                   window_dilation):
    nd = aval.ndim
    base_dilation = (1,) * nd if base_dilation is None else tuple(base_dilation)
    window_dilation = (1,) * nd if window_dilation is None else tuple(window_dilation)
    window_strides = tuple(window_strides)
    if isinstance(padding, str):
        padding = padtype_to_pads(_dilate_shape(aval.shape, base_dilation),
                                  _dilate_shape(window_dimensions, window_dilation),
                                  window_strides, padding)
    return dict(window_dimensions=tuple(int(d) for d in window_dimensions),
                window_strides=tuple(int(s) for s in window_strides),
                padding=tuple((int(lo), int(hi)) for lo, hi in padding),
                base_dilation=tuple(int(d) for d in base_dilation),
                window_dilation=tuple(int(d) for d in window_dilation))


def _window_reducer(name, hlo_op, identity):
    """A reduce_window primitive for the monoid (`hlo_op`, `identity(dtype)`)."""
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, **params):
        _check_window(name, x, **params)
        if x.dtype == _dtypes.bool_ and name == "reduce_window_sum":
            raise TypeError("reduce_window_sum requires a numeric operand, got bool")
        return ShapedArray(_window_shape(x.shape, **params), x.dtype, x.weak_type)

    @prim.def_lowering
    def lowering(ctx, x, **params):
        tiled = tiled_lowering(name, ctx, [x], params, ctx.avals_in[0])
        if tiled is not None:
            return tiled
        dtype = ctx.avals_in[0].dtype
        init = ctx.constant(identity(dtype), dtype)
        region = scalar_region(ctx, [dtype, dtype],
                               lambda c, a, b: [c.op(hlo_op, [a, b], [ShapedArray((), dtype)])])
        return ctx.op("stablehlo.reduce_window", [x, init], regions=[region],
                      attrs=_window_attrs(**params))

    @prim.def_batching
    def batching(axis_data, vals, dims, **params):
        (x,), (d,) = vals, dims
        return prim.bind(x, **_insert_unit_window(params, d)), d

    def wrapper(operand, window_dimensions, window_strides, padding, base_dilation=None,
                window_dilation=None):
        return prim.bind(operand, **_window_params(
            get_aval(operand), window_dimensions, window_strides, padding, base_dilation,
            window_dilation))
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = (f"Reduce each window of `operand` with {hlo_op.split('.')[-1]} "
                       f"(padding 'SAME'/'VALID' or (low, high) pairs).")
    return prim, wrapper


def _insert_unit_window(params, d):
    """Window parameters for an operand with a new (batch) axis at `d`."""
    ins = lambda t, v: (*t[:d], v, *t[d:])
    out = dict(params)
    for key in ("window_dimensions", "window_strides", "base_dilation", "window_dilation"):
        if key in params:
            out[key] = ins(params[key], 1)
    out["padding"] = ins(params["padding"], (0, 0))
    return out


reduce_window_sum_p, reduce_window_sum = _window_reducer(
    "reduce_window_sum", "stablehlo.add", lambda dtype: 0)
reduce_window_max_p, reduce_window_max = _window_reducer(
    "reduce_window_max", "stablehlo.maximum", _max_identity)
reduce_window_min_p, reduce_window_min = _window_reducer(
    "reduce_window_min", "stablehlo.minimum", _min_identity)


def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):
    # every input element is summed into the outputs whose windows cover it: the
    # cotangent, dilated by the strides and padded, summed over the same windows
    shape = x.aval.shape
    if tiles_exactly(shape, x.aval.dtype, window_dimensions, window_strides, padding,
                     base_dilation, window_dilation):
        return [tiled_sum_transpose(ct, shape, window_dimensions, padding)]
    pads = conv_general_vjp_lhs_padding(shape, window_dimensions, window_strides,
                                        get_aval(ct).shape, padding, base_dilation,
                                        window_dilation)
    out = reduce_window_sum_p.bind(
        ct, window_dimensions=window_dimensions, window_strides=base_dilation,
        padding=pads, base_dilation=window_strides, window_dilation=window_dilation)
    assert get_aval(out).shape == shape, (get_aval(out).shape, shape)
    return [out]


deflinear(reduce_window_sum_p, _reduce_window_sum_transpose)


def _chooser_jvp(select):
    prim = reduce_window_max_p if select == "GE" else reduce_window_min_p

    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        return out, select_and_gather_add_p.bind(instantiate(t), x, select=select, **params)
    return jvp


reduce_window_max_p.jvp_rule = _chooser_jvp("GE")
reduce_window_min_p.jvp_rule = _chooser_jvp("LE")


# --- select_and_gather_add: the tangent at each window's chosen element -------------

select_and_gather_add_p = Primitive("select_and_gather_add")


@select_and_gather_add_p.def_abstract_eval
def _gather_abstract_eval(t, x, *, select, **params):
    _check_window("select_and_gather_add", x, **params)
    return ShapedArray(_window_shape(x.shape, **params), t.dtype, t.weak_type)


@select_and_gather_add_p.def_lowering
def _gather_lowering(ctx, t, x, *, select, **params):
    tiled = tiled_lowering("select_and_gather_add", ctx, [t, x],
                           dict(params, select=select), ctx.avals_in[1])
    if tiled is not None:
        return tiled
    # a variadic reduce_window over (value, tangent) pairs keeps the chosen pair
    t_dtype, x_dtype = ctx.avals_in[0].dtype, ctx.avals_in[1].dtype
    identity = _max_identity if select == "GE" else _min_identity

    def body(c, xa, ta, xb, tb):
        which = _compare(c, xa, xb, select)
        return [c.op("stablehlo.select", [which, xa, xb], [ShapedArray((), x_dtype)]),
                c.op("stablehlo.select", [which, ta, tb], [ShapedArray((), t_dtype)])]
    region = scalar_region(ctx, [x_dtype, t_dtype, x_dtype, t_dtype], body)
    inits = [ctx.constant(identity(x_dtype), x_dtype), ctx.constant(0, t_dtype)]
    out = ctx.avals_out[0]
    outs = ctx.op("stablehlo.reduce_window", [x, t, *inits], [out.update(dtype=x_dtype), out],
                  regions=[region], attrs=_window_attrs(**params))
    return outs[1]


@select_and_gather_add_p.def_jvp
def _gather_jvp(primals, tangents, **params):
    (t, x), (gt, _) = primals, tangents
    out = select_and_gather_add_p.bind(t, x, **params)
    if isinstance(gt, Zero):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, select_and_gather_add_p.bind(gt, x, **params)


@select_and_gather_add_p.def_transpose
def _gather_transpose(ct, t, x, *, select, window_dimensions, window_strides, padding,
                      base_dilation, window_dilation):
    assert is_undefined(t) and not is_undefined(x)
    if any(d != 1 for d in window_dilation):
        raise NotImplementedError(f"the VJP of a max/min reduce_window with window "
                                  f"dilation {window_dilation} is not implemented")
    return [select_and_scatter_add_p.bind(
        ct, x, select=select, window_dimensions=window_dimensions,
        window_strides=window_strides, padding=padding, base_dilation=base_dilation), None]


@select_and_gather_add_p.def_batching
def _gather_batching(axis_data, vals, dims, **params):
    t, x = (bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims))
    return select_and_gather_add_p.bind(t, x, **_insert_unit_window(params, 0)), 0


# --- select_and_scatter_add: each window's cotangent goes to its chosen element ------

select_and_scatter_add_p = Primitive("select_and_scatter_add")


@select_and_scatter_add_p.def_abstract_eval
def _scatter_abstract_eval(source, x, *, select, window_dimensions, window_strides,
                           padding, base_dilation):
    ones = (1,) * x.ndim
    _check_window("select_and_scatter_add", x, window_dimensions, window_strides, padding,
                  base_dilation, ones)
    expected = _window_shape(x.shape, window_dimensions, window_strides, padding,
                             base_dilation, ones)
    if source.shape != expected:
        raise TypeError(f"select_and_scatter_add: source shape {source.shape} does not "
                        f"match the window output shape {expected}")
    return ShapedArray(x.shape, source.dtype, source.weak_type)


@select_and_scatter_add_p.def_lowering
def _scatter_lowering(ctx, source, x, *, select, window_dimensions, window_strides, padding,
                      base_dilation):
    tiled = tiled_lowering("select_and_scatter_add", ctx, [source, x], dict(
        select=select, window_dimensions=window_dimensions, window_strides=window_strides,
        padding=padding, base_dilation=base_dilation), ctx.avals_in[1])
    if tiled is not None:
        return tiled
    # as JAX on CPU/GPU: pad (and dilate) the operand with the select identity first,
    # scatter without padding, then slice the original elements back out
    s_aval, x_aval = ctx.avals_in
    identity = _max_identity if select == "GE" else _min_identity
    padded_shape = tuple(d + lo + hi for d, (lo, hi) in
                         zip(_dilate_shape(x_aval.shape, base_dilation), padding))
    padded_aval = x_aval.update(shape=padded_shape)
    fill = ctx.constant(identity(x_aval.dtype), x_aval.dtype)
    padded = ctx.op("stablehlo.pad", [x, fill], [padded_aval], attrs={
        "edge_padding_low": i64_array([lo for lo, _ in padding]),
        "edge_padding_high": i64_array([hi for _, hi in padding]),
        "interior_padding": i64_array([b - 1 for b in base_dilation])})
    select_region = scalar_region(ctx, [x_aval.dtype] * 2,
                                  lambda c, a, b: [_compare(c, a, b, select)])
    add_region = scalar_region(ctx, [s_aval.dtype] * 2, lambda c, a, b: [
        c.op("stablehlo.add", [a, b], [ShapedArray((), s_aval.dtype)])])
    zero = ctx.constant(0, s_aval.dtype)
    scattered = ctx.op("stablehlo.select_and_scatter", [padded, source, zero],
                       [padded_aval.update(dtype=s_aval.dtype)],
                       regions=[select_region, add_region],
                       attrs=_window_attrs(window_dimensions, window_strides,
                                           [(0, 0)] * len(padding)))
    starts = [lo for lo, _ in padding]
    limits = [lo + d for lo, d in zip(starts, _dilate_shape(x_aval.shape, base_dilation))]
    return ctx.op("stablehlo.slice", [scattered], attrs={
        "start_indices": i64_array(starts), "limit_indices": i64_array(limits),
        "strides": i64_array(base_dilation)})


@select_and_scatter_add_p.def_jvp
def _scatter_jvp(primals, tangents, **params):
    (s, x), (gs, _) = primals, tangents
    out = select_and_scatter_add_p.bind(s, x, **params)
    if isinstance(gs, Zero):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, select_and_scatter_add_p.bind(gs, x, **params)


@select_and_scatter_add_p.def_transpose
def _scatter_transpose(ct, s, x, *, select, base_dilation, **params):
    assert is_undefined(s) and not is_undefined(x)
    return [select_and_gather_add_p.bind(ct, x, select=select, base_dilation=base_dilation,
                                         window_dilation=(1,) * len(base_dilation),
                                         **params), None]


@select_and_scatter_add_p.def_batching
def _scatter_batching(axis_data, vals, dims, **params):
    s, x = (bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims))
    return select_and_scatter_add_p.bind(s, x, **_insert_unit_window(params, 0)), 0


# --- the generic reduce_window ------------------------------------------------------

def _monoid_reducer(computation, init_value, dtype):
    """The reduce_window primitive wrapper for `computation` when it is add, max or min
    and `init_value` its identity (else None: the generic reduce_window applies)."""
    names = {_elementwise.add: "add", _elementwise.max: "max", _elementwise.min: "min"}
    name = names.get(computation) or getattr(computation, "__name__", None)
    name = {"add": "add", "max": "max", "maximum": "max", "min": "min",
            "minimum": "min"}.get(name)
    if name is None:
        return None
    try:
        value = np.asarray(init_value)
    except Exception:  # a traced init value
        return None
    identity = {"add": 0, "max": _max_identity(dtype), "min": _min_identity(dtype)}[name]
    if value.shape != () or value != identity:
        return None
    return {"add": reduce_window_sum, "max": reduce_window_max, "min": reduce_window_min}[name]


def reduce_window(operand, init_value, computation, window_dimensions, window_strides,
                  padding, base_dilation=None, window_dilation=None):
    """Reduce every window of `operand` (an array or a pytree of arrays) with
    `computation`, starting from `init_value`. `padding` is 'SAME', 'VALID' or (low,
    high) pairs; e.g. 2x2 max pooling of NHWC images:
    `reduce_window(x, -inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID')`. lax.add,
    lax.max and lax.min with their identities are the differentiable monoid reductions;
    any other computation is the generic `reduce_window` primitive."""
    leaves = tree_util.tree_leaves(operand)
    if len(leaves) == 1 and not isinstance(operand, (list, tuple, dict)):
        fn = _monoid_reducer(computation, init_value, get_aval(operand).dtype)
        if fn is not None:
            return fn(operand, window_dimensions, window_strides, padding, base_dilation,
                      window_dilation)
    from ._windowed_general import generic_reduce_window  # it imports this module
    return generic_reduce_window(operand, init_value, computation, window_dimensions,
                                 window_strides, padding, base_dilation, window_dilation)
