"""jet: Taylor-mode automatic differentiation, a new interpretation of the IR.

A `JetTracer` carries a primal x0 and the Taylor coefficients [x1, ..., xK] of a
curve x(t) = x0 + x1 t + x2 t^2 + ... ; a `JetTrace` propagates them through every
primitive with that primitive's rule in `JET_RULES`, which maps the coefficients of
the inputs to the coefficients of the output, all K orders in one pass (Griewank &
Walther, "Evaluating Derivatives", ch. 13; Bettencourt, Johnson & Duvenaud 2019). The
public `jet` takes and returns derivatives (coefficient k times k!), as JAX's.

Rules have the signature `rule(primitive, primals, series, **params) -> (primal_out,
series_out)` and run with the parent trace current; a zero series is the sentinel
`ZERO_SERIES` (never materialised when every input has one). Call-like primitives
(jit, custom_jvp/vjp calls, checkpoint) are inlined: their program is interpreted by
the jet trace itself, so their derivative rules are not used (as JAX's jet)."""
import functools
import math

import numpy as np

from .. import _core, lax
from .._core import MissingRuleError, Tracer, get_aval, new_trace, set_current_trace
from .._ir import eval_program
from .._jit import jit
from ..tree_util import tree_flatten, tree_structure, tree_unflatten


class _ZeroSeries:
    def __repr__(self):
        return "ZERO_SERIES"


ZERO_SERIES = _ZeroSeries()


class JetTracer(Tracer):
    """A value inside `jet`: its primal and its Taylor coefficients (or ZERO_SERIES)."""
    __slots__ = ("primal", "terms")

    def __init__(self, trace, primal, terms):
        self._trace = trace
        self.primal = primal
        self.terms = terms

    @property
    def aval(self):
        return get_aval(self.primal)


class JetTrace(_core.Trace):
    """The jet interpretation: propagates Taylor coefficients through each primitive
    with its rule in JET_RULES, binding in the parent trace."""

    def __init__(self, parent, order):
        super().__init__()
        self.parent = parent
        self.order = order
        self.description = f"jet(order={order})"

    def lift(self, x):
        if isinstance(x, JetTracer) and x._trace is self:
            return x.primal, x.terms
        if isinstance(x, Tracer):
            _core.check_tracer_alive(x)
        return x, ZERO_SERIES

    def process_primitive(self, primitive, args, params):
        primals, series = zip(*map(self.lift, args)) if args else ((), ())
        if all(s is ZERO_SERIES for s in series):
            with set_current_trace(self.parent):
                return primitive.bind(*primals, **params)
        if "program" in params and primitive.name in _INLINED_CALLS:
            outs = eval_program(params["program"], list(args))  # in this jet trace
            return outs if primitive.multiple_results else outs[0]
        rule = JET_RULES.get(primitive.name)
        if rule is None:
            raise MissingRuleError(f"no jet rule for '{primitive.name}': jet cannot "
                                   f"propagate Taylor series through it")
        with set_current_trace(self.parent):
            series = [_instantiate(p, s, self.order) for p, s in zip(primals, series)]
            out, out_series = rule(primitive, list(primals), series, **params)
        if primitive.multiple_results:
            return [self.wrap(p, s) for p, s in zip(out, out_series)]
        return self.wrap(out, out_series)

    def wrap(self, primal, terms):
        return primal if terms is ZERO_SERIES else JetTracer(self, primal, terms)


_INLINED_CALLS = {"jit", "custom_jvp_call", "custom_vjp_call", "checkpoint"}


def _instantiate(primal, terms, order):
    if terms is not ZERO_SERIES:
        return list(terms)
    aval = get_aval(primal)
    return [lax.full(aval.shape, 0, aval.dtype)] * order


def jet_coefficients(fun, primals, series):
    """Propagate Taylor coefficients (unscaled) through `fun` of flat arrays, in the
    current trace: returns (primals out, coefficient lists out)."""
    order = len(series[0]) if series else 0
    trace = JetTrace(_core.current_trace(), order)
    with new_trace(trace):
        outs = fun(*[trace.wrap(p, list(s)) for p, s in zip(primals, series)])
        lifted = [trace.lift(o) for o in outs]
    return [p for p, _ in lifted], [_instantiate(p, s, order) for p, s in lifted]


def _jet2(fun, primals, series):
    """Coefficients of fun(*primals) (one output) from those of its inputs."""
    (out,), (terms,) = jet_coefficients(lambda *xs: [fun(*xs)], primals, series)
    return out, terms


# --- the public transformation -----------------------------------------------------------

def _jet_impl(fun, order, factorial_scaled, primals, series):
    if factorial_scaled:
        series = [[t / math.factorial(k + 1) for k, t in enumerate(ts)] for ts in series]
    out_trees = []

    def flat_fun(*args):
        outs, tree = tree_flatten(fun(*args))
        out_trees.append(tree)
        return outs
    outs, out_series = jet_coefficients(flat_fun, primals, series)
    if factorial_scaled:
        out_series = [[t * math.factorial(k + 1) for k, t in enumerate(ts)]
                      for ts in out_series]
    return tree_unflatten(out_trees[0], outs), tree_unflatten(out_trees[0], out_series)


_jet_jit = jit(_jet_impl, static_argnames=("fun", "order", "factorial_scaled"),
               inline=True)


def jet(fun, primals, series, factorial_scaled=True):
    """Taylor-mode higher-order forward derivatives: given the derivatives
    series[i] = [x_i', x_i'', ...] of curves through `primals`, returns
    (fun(*primals), [y', y'', ...]) for y = fun(x(t)), all orders in one pass.
    With factorial_scaled=False the series are Taylor coefficients instead.

    >>> import functorch_lite.numpy as jnp
    >>> from functorch_lite.experimental.jet import jet
    >>> y, (d1, d2, d3) = jet(jnp.sin, (0.5,), ((1.0, 0.0, 0.0),))
    >>> [round(float(v), 4) for v in (y, d1, d2, d3)]   # sin, cos, -sin, -cos at 0.5
    [0.4794, 0.8776, -0.4794, -0.8776]
    """
    try:
        (order,) = set(map(len, series))
    except ValueError:
        raise ValueError("jet terms have inconsistent lengths for different "
                         "arguments") from None
    for i, (x, terms) in enumerate(zip(primals, series)):
        if tree_structure(x).num_leaves != 1 or tree_structure(x).num_nodes != 1:
            raise ValueError(f"primal value at position {i} is not an array")
        for j, t in enumerate(terms):
            if tree_structure(t).num_leaves != 1 or tree_structure(t).num_nodes != 1:
                raise ValueError(f"term {j} for argument {i} is not an array")
    return _jet_jit(fun, order, factorial_scaled, list(primals), [list(s) for s in series])


jet2 = functools.partial(jet, factorial_scaled=False)
jet2.__doc__ = "`jet` with Taylor coefficients (factorial_scaled=False) in and out."


# --- rules ---------------------------------------------------------------------------------

JET_RULES = {}


def _zero_rule(primitive, primals, series, **params):
    return primitive.bind(*primals, **params), ZERO_SERIES


for _name in ("eq ne lt le gt ge not and or xor floor ceil round sign stop_gradient "
              "is_finite shift_left shift_right_arithmetic shift_right_logical "
              "bitcast_convert_type argmax argmin population_count clz nextafter").split():
    JET_RULES[_name] = _zero_rule


def _linear_rule(primitive, primals, series, **params):
    out = primitive.bind(*primals, **params)
    return out, [primitive.bind(*terms, **params) for terms in zip(*series)]


for _name in ("neg real imag complex conj add add_any sub convert_element_type "
              "broadcast_in_dim concatenate pad reshape squeeze rev transpose slice "
              "reduce_sum reduce_window_sum copy cumsum").split():
    JET_RULES[_name] = _linear_rule


def _linear_in_leading(count):
    """Linear in the first `count` operands; the others (indices) are passed as is."""
    def rule(primitive, primals, series, **params):
        out = primitive.bind(*primals, **params)
        rest = primals[count:]
        return out, [primitive.bind(*terms[:count], *rest, **params)
                     for terms in zip(*series[:count])]
    return rule


JET_RULES["dynamic_slice"] = _linear_in_leading(1)
JET_RULES["gather"] = _linear_in_leading(1)
JET_RULES["dynamic_update_slice"] = _linear_in_leading(2)


def _scatter_add_rule(primitive, primals, series, **params):
    operand, indices, updates = primals
    out = primitive.bind(operand, indices, updates, **params)
    return out, [primitive.bind(d, indices, u, **params)
                 for d, u in zip(series[0], series[2])]


JET_RULES["scatter_add"] = _scatter_add_rule


def _bilinear_rule(primitive, primals, series, **params):
    """(sum_j u_j t^j) * (sum_j w_j t^j): v_k = sum_{j<=k} op(u_j, w_{k-j})."""
    u, w = [primals[0]] + series[0], [primals[1]] + series[1]
    v = [functools.reduce(lax.add, [primitive.bind(u[j], w[k - j], **params)
                                    for j in range(k + 1)]) for k in range(len(u))]
    return v[0], v[1:]


for _name in ("mul", "dot_general", "conv_general_dilated"):
    JET_RULES[_name] = _bilinear_rule


def _div_rule(primitive, primals, series, **params):
    u, w = [primals[0]] + series[0], [primals[1]] + series[1]
    v = []
    for k in range(len(u)):   # u = v w, solved for v_k
        conv = sum(v[j] * w[k - j] for j in range(k))
        v.append((u[k] - conv) / w[0])
    return v[0], v[1:]


JET_RULES["div"] = _div_rule


def _exp_rule(primitive, primals, series, **params):
    # v = exp(u): v' = v u', so k v_k = sum_j j u_j v_{k-j}
    u = [primals[0]] + series[0]
    v = [lax.exp(primals[0])]
    for k in range(1, len(u)):
        v.append(sum(j * v[k - j] * u[j] for j in range(1, k + 1)) / k)
    return v[0], v[1:]


JET_RULES["exp"] = _exp_rule


def _log_rule(primitive, primals, series, **params):
    # v = log(u): u v' = u', so v_k = (u_k - sum_{j<k} j v_j u_{k-j} / k) / u_0
    u = [primals[0]] + series[0]
    v = [lax.log(primals[0])]
    for k in range(1, len(u)):
        conv = sum(j * v[j] * u[k - j] for j in range(1, k))
        v.append((u[k] - conv / k) / u[0])
    return v[0], v[1:]


JET_RULES["log"] = _log_rule


def _from_derivative(derivative_series):
    """v' = c u' where `derivative_series(primal, u_series)` gives the coefficients of
    c (computed from v or from u), so k v_k = sum_j j c_{k-j} u_j."""
    def rule(primitive, primals, series, **params):
        u = [primals[0]] + series[0]
        v0 = primitive.bind(primals[0], **params)
        c = derivative_series(primals[0], series[0])
        v = [v0] + [sum(j * c[k - j] * u[j] for j in range(1, k + 1)) / k
                    for k in range(1, len(u))]
        return v[0], v[1:]
    return rule


def _erf_derivative_series(x, terms):
    c0, cs = _jet2(lambda y: (2 / np.sqrt(np.pi)) * lax.exp(-(y * y)), [x], [terms])
    return [c0] + cs


JET_RULES["erf"] = _from_derivative(_erf_derivative_series)


def _sinusoid(sign, functions, index):
    """sin/cos (sign -1) or sinh/cosh (sign +1): s' = c u', c' = sign s u'."""
    def rule(primitive, primals, series, **params):
        u = [primals[0]] + series[0]
        s, c = [functions[0](primals[0])], [functions[1](primals[0])]
        for k in range(1, len(u)):
            s.append(sum(j * u[j] * c[k - j] for j in range(1, k + 1)) / k)
            c.append(sign * sum(j * u[j] * s[k - j] for j in range(1, k + 1)) / k)
        out = (s, c)[index]
        return out[0], out[1:]
    return rule


JET_RULES["sin"] = _sinusoid(-1, (lax.sin, lax.cos), 0)
JET_RULES["cos"] = _sinusoid(-1, (lax.sin, lax.cos), 1)
JET_RULES["sinh"] = _sinusoid(1, (lax.sinh, lax.cosh), 0)
JET_RULES["cosh"] = _sinusoid(1, (lax.sinh, lax.cosh), 1)


def _logistic_coefficients(x, terms):
    # v = sigmoid(u): v' = e u' with e = v (1 - v)
    u = [x] + terms
    v = [lax.logistic(x)]
    e = [v[0] * (1 - v[0])]
    for k in range(1, len(u)):
        v.append(sum(j * e[k - j] * u[j] for j in range(1, k + 1)) / k)
        e.append((1 - v[0]) * v[k] - sum(v[j] * v[k - j] for j in range(1, k + 1)))
    return v


def _logistic_rule(primitive, primals, series, **params):
    v = _logistic_coefficients(primals[0], series[0])
    return v[0], v[1:]


def _tanh_rule(primitive, primals, series, **params):
    # tanh(u) = 2 sigmoid(2u) - 1
    v = _logistic_coefficients(2 * primals[0], [2 * t for t in series[0]])
    return 2 * v[0] - 1, [2 * t for t in v[1:]]


JET_RULES["logistic"] = _logistic_rule
JET_RULES["tanh"] = _tanh_rule


def _pow_rule(primitive, primals, series, **params):
    # v = x^r = exp(r log x): k v_k = sum_j j v_{k-j} (r log x)_j
    x0, r_log_x = _jet2(lambda x, r: r * lax.log(x), primals, series)
    u = [x0] + r_log_x
    v = [primitive.bind(*primals, **params)]
    for k in range(1, len(u)):
        v.append(sum(j * v[k - j] * u[j] for j in range(1, k + 1)) / k)
    return v[0], v[1:]


JET_RULES["pow"] = _pow_rule


def _power_by_squaring(x, n):
    if n < 0:
        return _power_by_squaring(1 / x, -n)
    if n == 0:
        return lax.full_like(x, 1)
    if n % 2 == 0:
        return _power_by_squaring(x * x, n // 2)
    return x * _power_by_squaring(x * x, (n - 1) // 2)


def _integer_pow_rule(primitive, primals, series, *, y):
    return _jet2(lambda x: _power_by_squaring(x, y), primals, series)


JET_RULES["integer_pow"] = _integer_pow_rule


def _composite(fun):
    """A rule from a function of primitives that already have rules."""
    return lambda primitive, primals, series, **params: _jet2(fun, primals, series)


JET_RULES.update({
    "sqrt": _composite(lambda x: x ** 0.5),
    "rsqrt": _composite(lambda x: x ** -0.5),
    "square": _composite(lambda x: x * x),
    "expm1": _composite(lambda x: lax.exp(x) - 1),
    "log1p": _composite(lambda x: lax.log(1 + x)),
    "asinh": _composite(lambda x: lax.log(x + lax.sqrt(x * x + 1))),
    "acosh": _composite(lambda x: lax.log(x + lax.sqrt(x * x - 1))),
    "atanh": _composite(lambda x: 0.5 * lax.log((1 + x) / (1 - x))),
    "erfc": _composite(lambda x: 1 - lax.erf(x)),
    "rem": _composite(lambda x, y: x - y * lax.floor(x / y)),
    "clamp": _composite(lambda lo, x, hi: lax.min(lax.max(lo, x), hi)),
})


def _abs_rule(primitive, primals, series, **params):
    (x,) = primals
    sign = lax.select_n(lax.lt(x, lax.full_like(x, 0)), lax.full_like(x, 1),
                        lax.full_like(x, -1))
    return primitive.bind(x, **params), [sign * t for t in series[0]]


JET_RULES["abs"] = _abs_rule


def _select_n_rule(primitive, primals, series, **params):
    which, *cases = primals
    out = primitive.bind(which, *cases, **params)
    return out, [primitive.bind(which, *terms) for terms in zip(*series[1:])]


JET_RULES["select_n"] = _select_n_rule


def _max_min_rule(compare):
    """max/min: the coefficients of the chosen operand, averaged where they tie."""
    def rule(primitive, primals, series, **params):
        x, y = primals
        chosen, tie = compare(x, y), lax.eq(x, y)
        out = primitive.bind(x, y, **params)
        pick = lambda a, b: lax.select_n(tie, lax.select_n(chosen, b, a), (a + b) / 2)
        return out, [pick(a, b) for a, b in zip(*series)]
    return rule


JET_RULES["max"] = _max_min_rule(lax.gt)
JET_RULES["min"] = _max_min_rule(lax.lt)


def _reduce_chooser_rule(primitive, primals, series, *, axes, **params):
    """reduce_max/min: the coefficients at the extremum (averaged over ties)."""
    (x,) = primals
    out = primitive.bind(x, axes=axes, **params)
    shape = [1 if i in axes else d for i, d in enumerate(get_aval(x).shape)]
    at_extremum = lax.convert_element_type(lax.eq(x, lax.reshape(out, shape)),
                                           get_aval(series[0][0]).dtype)
    counts = lax.reduce_sum(at_extremum, axes)
    return out, [lax.reduce_sum(t * at_extremum, axes) / counts for t in series[0]]


JET_RULES["reduce_max"] = _reduce_chooser_rule
JET_RULES["reduce_min"] = _reduce_chooser_rule


def _atan2_rule(primitive, primals, series, **params):
    # atan2(x, y) = atan(x / y): v' = u' / (1 + u^2) with u = x / y
    u0, u_terms = _jet2(lax.div, primals, series)
    c0, cs = _jet2(lambda u: 1 / (1 + u * u), [u0], [u_terms])
    c, u = [c0] + cs, [u0] + u_terms
    v = [primitive.bind(*primals, **params)]
    for k in range(1, len(u)):
        v.append(sum(j * c[k - j] * u[j] for j in range(1, k + 1)) / k)
    return v[0], v[1:]


JET_RULES["atan2"] = _atan2_rule
