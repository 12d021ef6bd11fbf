"""Public transformations over pytrees: jvp, linearize, vjp, grad, value_and_grad,
linear_transpose (the Jacobians are in `_jacobians.py`, vmap in `_api_vmap.py`).

Each checks its arguments as JAX does (dtypes, tree structures, `has_aux` outputs) so
that a mistake raises at the user's line instead of computing something else."""
import functools

from jax import tree_util

from . import _ad, _core, _dtypes
from ._ad import Zero, instantiate
from ._core import get_aval
from ._ir import eval_program
from ._partial_eval import linearize_traced
from ._traceback_util import api_boundary, check_callable
from .lax import stop_gradient, convert_element_type, full
from ._staging import trace_to_program


def fun_name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _flat_fun(fun, in_tree, out_tree_store):
    def flat(*leaves):
        out = fun(*tree_util.tree_unflatten(in_tree, leaves))
        leaves_out, tree = tree_util.tree_flatten(out)
        out_tree_store.append(tree)
        return leaves_out
    return flat


def _where():
    return f"\n  at {_core.user_frame_summary()}"


def check_input_dtype(x, what, holomorphic=False, allow_int=False, real_only=False):
    """JAX's checks of a differentiated input: complex with `holomorphic`, else real or
    complex (`real_only`: real, as jacfwd), and integers only with `allow_int`."""
    dtype = get_aval(x).dtype
    if holomorphic:
        if not _dtypes.is_complex(dtype):
            raise TypeError(f"{what} with holomorphic=True requires inputs with complex "
                            f"dtype, but got {dtype.name}.{_where()}")
    elif real_only and not _dtypes.is_float(dtype):
        raise TypeError(
            f"{what} requires real-valued inputs (input dtype that is a sub-dtype of "
            f"np.floating), but got {dtype.name}. For holomorphic differentiation, pass "
            f"holomorphic=True. For differentiation of non-holomorphic functions involving "
            f"complex inputs or integer inputs, use jvp directly.{_where()}")
    elif not _dtypes.is_inexact(dtype) and not allow_int:
        raise TypeError(
            f"{what} requires real- or complex-valued inputs (input dtype that is a "
            f"sub-dtype of np.inexact), but got {dtype.name}. If you want to use Boolean- "
            f"or integer-valued inputs, use vjp or set allow_int to True.{_where()}")


def check_output_dtype(aval, what, holomorphic=False):
    """JAX's checks of a differentiated output: complex with `holomorphic`, else real."""
    if holomorphic:
        if not _dtypes.is_complex(aval.dtype):
            raise TypeError(f"{what} with holomorphic=True requires outputs with complex "
                            f"dtype, but got {aval.dtype.name}.{_where()}")
    elif not _dtypes.is_float(aval.dtype):
        raise TypeError(
            f"{what} requires real-valued outputs (output dtype that is a sub-dtype of "
            f"np.floating), but got {aval.dtype.name}. For holomorphic differentiation, "
            f"pass holomorphic=True. For differentiation of non-holomorphic functions "
            f"involving complex or integer outputs, use vjp directly.{_where()}")


def aux_wrap(fun, has_aux, what, name=None):
    """With has_aux, `fun` must return (output, aux); aux carries no derivative."""
    if not has_aux:
        return fun
    name = name or fun_name(fun)

    @functools.wraps(fun)
    def wrapped(*args):
        result = fun(*args)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            got = (f"a {type(result).__name__} of length {len(result)}"
                   if isinstance(result, (tuple, list)) else _describe(result))
            raise TypeError(
                f"{what}(..., has_aux=True) expects {name} to return a pair "
                f"(output, aux), but it returned {got}.{_where()}\nFix: return "
                f"`output, aux` from {name}, or drop has_aux=True.")
        out, aux = result
        return out, _ad_stop(aux)
    return wrapped


def _describe(value):
    if _core.is_array_like(value):
        return f"an array {get_aval(value).str_short()}"
    return f"a {type(value).__name__}"


def _ad_stop(tree):
    return tree_util.tree_map(stop_gradient, tree)


def _split_aux_tree(tree):
    children = tree_util.treedef_children(tree)
    return children[0], children[1]


# --- forward mode -----------------------------------------------------------------

@api_boundary
def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: returns (fun(*primals), J(primals) @ tangents)."""
    check_callable(fun, "jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"primal and tangent arguments to jvp must be tuples or lists; "
                        f"found {type(primals).__name__} and {type(tangents).__name__}. "
                        f"Fix: jvp(f, (x,), (t,)).{_where()}")
    primals, tangents = tuple(primals), tuple(tangents)
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    t_leaves, t_tree = tree_util.tree_flatten(tangents)
    if in_tree != t_tree:
        raise TypeError(f"jvp: primal and tangent arguments must have the same tree "
                        f"structure, got {in_tree} and {t_tree}{_where()}")
    for p, t in zip(p_leaves, t_leaves):
        pa, ta = get_aval(p), get_aval(t)
        if pa.shape != ta.shape:
            raise ValueError(f"jvp called with different primal and tangent shapes: primal "
                             f"{pa.str_short()}, tangent {ta.str_short()}{_where()}")
        expected = _dtypes.tangent_dtype(pa.dtype)
        if ta.dtype != expected and not (ta.weak_type and _dtypes.is_inexact(expected)):
            raise TypeError(
                f"primal and tangent arguments to jvp do not match: dtypes must be equal, "
                f"or for an int/bool primal the tangent dtype must be float0. Got primal "
                f"dtype {pa.dtype.name}, so expected tangent dtype {expected.name}, but "
                f"got {ta.dtype.name}.{_where()}")
    out_tree = []
    tangent_in = [Zero(_ad.tangent_aval(get_aval(p))) if
                  not _dtypes.is_inexact(get_aval(p).dtype) else _weak_like(t, get_aval(p))
                  for p, t in zip(p_leaves, t_leaves)]
    flat = _flat_fun(aux_wrap(fun, has_aux, "jvp"), in_tree, out_tree)
    outs, touts = _ad.jvp_traced(flat, p_leaves, tangent_in, f"jvp({fun_name(fun)})")
    touts = [instantiate(t) for t in touts]
    tree = out_tree[0]
    if has_aux:
        (out, aux), (tout, _) = (tree_util.tree_unflatten(tree, outs),
                                 tree_util.tree_unflatten(tree, touts))
        return out, tout, aux
    return tree_util.tree_unflatten(tree, outs), tree_util.tree_unflatten(tree, touts)


def _weak_like(tangent, primal_aval):
    """The tangent with the primal's weak type (as JAX: a Python float tangent of a
    float32 primal is strong, a float32 tangent of a Python float primal weak)."""
    if get_aval(tangent).weak_type == primal_aval.weak_type:
        return tangent
    return convert_element_type(tangent, primal_aval.dtype, primal_aval.weak_type)


@api_boundary
def linearize(fun, *primals, has_aux=False):
    """Returns (fun(*primals), f_jvp) where f_jvp evaluates the linear map."""
    check_callable(fun, "linearize")
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    out_tree = []
    flat = _flat_fun(aux_wrap(fun, has_aux, "linearize"), in_tree, out_tree)
    outs, program, residuals = linearize_traced(flat, p_leaves,
                                                f"linearize({fun_name(fun)})")
    tree = out_tree[0]
    if has_aux:
        out_tree_only, aux_tree = _split_aux_tree(tree)
        n = out_tree_only.num_leaves
        aux = tree_util.tree_unflatten(aux_tree, outs[n:])
        outs = outs[:n]
    else:
        out_tree_only, n = tree, len(outs)

    @api_boundary
    def f_jvp(*tangents):
        t_leaves, t_tree = tree_util.tree_flatten(tangents)
        if t_tree != in_tree:
            raise TypeError(f"linearized function expects tangents structured like "
                            f"{in_tree}, got {t_tree}{_where()}")
        touts = eval_program(program, [*residuals, *t_leaves])[:n]
        return tree_util.tree_unflatten(out_tree_only, touts)

    out = tree_util.tree_unflatten(out_tree_only, outs)
    return (out, f_jvp, aux) if has_aux else (out, f_jvp)


# --- reverse mode -----------------------------------------------------------------

@api_boundary
def vjp(fun, *primals, has_aux=False):
    """Returns (fun(*primals), vjp_fn[, aux]); vjp_fn(cotangent) gives one cotangent
    per primal."""
    check_callable(fun, "vjp")
    return _vjp(fun, primals, has_aux, "vjp")


def _vjp(fun, primals, has_aux, what, name=None):
    name = name or fun_name(fun)
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    out_tree = []
    flat = _flat_fun(aux_wrap(fun, has_aux, what, name), in_tree, out_tree)
    outs, program, residuals = linearize_traced(flat, p_leaves, f"{what}({name})")
    tree = out_tree[0]
    if has_aux:
        out_tree_only, aux_tree = _split_aux_tree(tree)
        n = out_tree_only.num_leaves
        aux = tree_util.tree_unflatten(aux_tree, outs[n:])
    else:
        out_tree_only, n = tree, len(outs)
    out_avals = [get_aval(o) for o in outs[:n]]
    p_avals = [get_aval(p) for p in p_leaves]

    @api_boundary
    def vjp_fn(cotangent):
        ct_leaves, ct_tree = tree_util.tree_flatten(cotangent)
        if ct_tree != out_tree_only:
            raise ValueError(f"vjp_fn expects a cotangent structured like the output of "
                            f"{name}, {out_tree_only}, got {ct_tree}{_where()}")
        for c, a in zip(ct_leaves, out_avals):
            ca = get_aval(c)
            dtype_ok = ca.weak_type or ca.dtype in (a.dtype, _dtypes.tangent_dtype(a.dtype))
            if ca.shape != a.shape or not dtype_ok:
                raise ValueError(f"the cotangent given to vjp_fn is {ca.str_short()}, but "
                                 f"the corresponding output of {name} is "
                                 f"{a.str_short()}: shapes and dtypes must match."
                                 f"{_where()}")
        cts = [*ct_leaves, *[Zero(_ad.tangent_aval(get_aval(o))) for o in outs[n:]]]
        args = [*residuals, *[_ad.UndefinedPrimal(v.aval)
                              for v in program.in_vars[len(residuals):]]]
        cts_in = _ad.backward_pass(program, args, cts)
        cts_in = [_ad.zeros_like_aval(c.aval) if isinstance(c, Zero) else c for c in cts_in]
        cts_in = [c if _dtypes.is_inexact(a.dtype) else _ad.zeros_like_aval(
            _ad.tangent_aval(a)) for c, a in zip(cts_in, p_avals)]
        return tree_util.tree_unflatten(in_tree, cts_in)

    out = tree_util.tree_unflatten(out_tree_only, outs[:n])
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def argnums_partial(fun, args, argnums, what):
    """(f of the differentiated args only, those args, whether argnums is a sequence)."""
    multiple = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if multiple else (argnums,)
    error = TypeError if what in ("grad", "value_and_grad") else ValueError  # as JAX
    for i in nums:
        if not isinstance(i, int) or not -len(args) <= i < len(args):
            raise error(f"{what}: argnums={argnums!r} is out of range for a call of "
                             f"{fun_name(fun)} with {len(args)} positional arguments."
                             f"{_where()}")
    nums = tuple(i % len(args) for i in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{what}: argnums={argnums!r} names an argument twice.{_where()}")

    def f(*d, **kwargs):
        full = list(args)
        for i, x in zip(nums, d):
            full[i] = x
        return fun(*full, **kwargs)
    return f, tuple(args[i] for i in nums), multiple


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
                   reduce_axes=()):
    """Returns a function computing (fun(*args), gradient w.r.t. args[argnums])."""
    _no_reduce_axes(reduce_axes, "value_and_grad")
    return _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "value_and_grad")


def _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, what):
    check_callable(fun, what)
    @api_boundary
    @functools.wraps(fun)
    def value_and_grad_fun(*args, **kwargs):
        f, diff_args, multiple = argnums_partial(fun, args, argnums, what)
        for leaf in tree_util.tree_leaves(diff_args):
            check_input_dtype(leaf, what, holomorphic, allow_int)
        out, pullback, *aux = _vjp(functools.partial(f, **kwargs), diff_args, has_aux,
                                   what, fun_name(fun))
        aval = get_aval(out) if _core.is_array_like(out) else None
        if aval is None or aval.shape != ():
            raise TypeError(
                f"Gradient only defined for scalar-output functions. {fun_name(fun)} "
                f"returned {aval.str_short() if aval else _describe(out)}.{_where()}\n"
                f"Fix: reduce the output (e.g. jnp.sum), or use jacrev/vjp for non-scalar "
                f"outputs" + (", or has_aux=True to return (loss, aux)" if
                              isinstance(out, (tuple, list)) else "") + ".")
        check_output_dtype(aval, what, holomorphic)
        grads = pullback(full((), 1.0, aval.dtype, weak_type=aval.weak_type))
        grads = grads if multiple else grads[0]
        return ((out, aux[0]), grads) if has_aux else (out, grads)
    return value_and_grad_fun


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
         reduce_axes=()):
    """The gradient of a scalar-valued `fun` with respect to args[argnums].

    >>> import functorch_lite as fl
    >>> float(fl.grad(lambda x: x ** 3)(2.0))
    12.0
    """
    _no_reduce_axes(reduce_axes, "grad")
    vg = _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "grad")

    @api_boundary
    @functools.wraps(fun)
    def grad_fun(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]
    return grad_fun


def _no_reduce_axes(reduce_axes, what):
    if reduce_axes:
        raise NotImplementedError(f"the reduce_axes argument of {what} is deprecated in "
                                  f"JAX and not supported; reduce explicitly (lax.psum) "
                                  f"instead.")


@api_boundary
def linear_transpose(fun, *primals, reduce_axes=()):
    """Transpose of the linear function `fun` at example inputs `primals`."""
    _no_reduce_axes(reduce_axes, "linear_transpose")
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    out_tree = []
    flat = _flat_fun(fun, in_tree, out_tree)
    program, consts = trace_to_program(flat, [get_aval(p) for p in p_leaves],
                                       f"linear_transpose({fun_name(fun)})")
    tree = out_tree[0]

    @api_boundary
    def transposed(cotangent):
        ct_leaves, ct_tree = tree_util.tree_flatten(cotangent)
        if ct_tree != tree:
            raise TypeError(f"linear_transpose expects a cotangent structured like "
                            f"{tree}, got {ct_tree}{_where()}")
        args = [*consts, *[_ad.UndefinedPrimal(get_aval(p)) for p in p_leaves]]
        cts = _ad.backward_pass(program, args, ct_leaves)
        cts = [_ad.zeros_like_aval(c.aval) if isinstance(c, Zero) else c for c in cts]
        return tree_util.tree_unflatten(in_tree, cts)
    return transposed
