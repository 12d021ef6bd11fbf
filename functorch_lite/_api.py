"""Public transformations over pytrees: jvp, linearize, vjp, grad, value_and_grad,
jacfwd, jacrev, hessian, linear_transpose, vmap."""
import functools

import numpy as np
from jax import tree_util

from . import _ad, _core, _dtypes
from ._ad import Zero, instantiate
from ._core import get_aval
from ._ir import eval_program
from ._partial_eval import linearize_traced


def _flat_fun(fun, in_tree, out_tree_store):
    def flat(*leaves):
        out = fun(*tree_util.tree_unflatten(in_tree, leaves))
        leaves_out, tree = tree_util.tree_flatten(out)
        out_tree_store.append(tree)
        return leaves_out
    return flat


def _check_float_input(x, what):
    dtype = get_aval(x).dtype
    if not _dtypes.is_inexact(dtype):
        raise TypeError(
            f"{what} requires real- or complex-valued inputs (input dtype that is a "
            f"sub-dtype of np.inexact), but got {dtype.name}. If you want to use "
            f"integer-valued inputs, use vjp or set allow_int to True.\n"
            f"  at {_core.user_frame_summary()}")


# --- forward mode -----------------------------------------------------------------

def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: returns (fun(*primals), J(primals) @ tangents)."""
    primals, tangents = tuple(primals), tuple(tangents)
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    t_leaves, t_tree = tree_util.tree_flatten(tangents)
    if in_tree != t_tree:
        raise TypeError(f"jvp: primal and tangent arguments must have the same tree "
                        f"structure, got {in_tree} and {t_tree}")
    for p, t in zip(p_leaves, t_leaves):
        pa, ta = get_aval(p), get_aval(t)
        if pa.shape != ta.shape:
            raise ValueError(f"jvp: primal shape {pa.shape} and tangent shape {ta.shape} "
                             f"differ")
        expected = _dtypes.tangent_dtype(pa.dtype)
        if ta.dtype != expected:
            raise TypeError(
                f"jvp: primal and tangent arguments do not match: a primal of dtype "
                f"{pa.dtype.name} needs a tangent of dtype {np.dtype(expected).name}, got "
                f"{ta.dtype.name}. Fix: cast the tangent (integer and boolean primals take "
                f"float0 tangents, e.g. np.zeros(shape, jax.dtypes.float0)).\n"
                f"  at {_core.user_frame_summary()}")
    out_tree = []
    tangent_in = [Zero(_ad.tangent_aval(get_aval(p))) if
                  not _dtypes.is_inexact(get_aval(p).dtype) else _weak_like(t, get_aval(p))
                  for p, t in zip(p_leaves, t_leaves)]
    outs, touts = _ad.jvp_traced(_flat_fun(_aux_wrap(fun, has_aux), in_tree, out_tree),
                                 p_leaves, tangent_in)
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
    from .lax import convert_element_type
    return convert_element_type(tangent, primal_aval.dtype, primal_aval.weak_type)


def _aux_wrap(fun, has_aux):
    if not has_aux:
        return fun

    def wrapped(*args):
        out, aux = fun(*args)
        return out, _ad_stop(aux)
    return wrapped


def _ad_stop(tree):
    from .lax import stop_gradient
    return tree_util.tree_map(stop_gradient, tree)


def linearize(fun, *primals, has_aux=False):
    """Returns (fun(*primals), f_jvp) where f_jvp evaluates the linear map."""
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    out_tree = []
    flat = _flat_fun(_aux_wrap(fun, has_aux), in_tree, out_tree)
    outs, program, residuals = linearize_traced(flat, p_leaves)
    tree = out_tree[0]
    if has_aux:
        out_tree_only, aux_tree = _split_aux_tree(tree)
        n = out_tree_only.num_leaves
        aux = tree_util.tree_unflatten(aux_tree, outs[n:])
        outs = outs[:n]
    else:
        out_tree_only, n = tree, len(outs)

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_util.tree_flatten(tangents)
        if t_tree != in_tree:
            raise TypeError(f"linearized function expects tangents structured like "
                            f"{in_tree}, got {t_tree}")
        touts = eval_program(program, [*residuals, *t_leaves])[:n]
        return tree_util.tree_unflatten(out_tree_only, touts)

    out = tree_util.tree_unflatten(out_tree_only, outs)
    return (out, f_jvp, aux) if has_aux else (out, f_jvp)


def _split_aux_tree(tree):
    children = tree_util.treedef_children(tree)
    return children[0], children[1]


# --- reverse mode -----------------------------------------------------------------

def vjp(fun, *primals, has_aux=False):
    """Returns (fun(*primals), vjp_fn[, aux]); vjp_fn(cotangent) gives one cotangent
    per primal."""
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    out_tree = []
    flat = _flat_fun(_aux_wrap(fun, has_aux), in_tree, out_tree)
    outs, program, residuals = linearize_traced(flat, p_leaves)
    tree = out_tree[0]
    if has_aux:
        out_tree_only, aux_tree = _split_aux_tree(tree)
        n = out_tree_only.num_leaves
        aux = tree_util.tree_unflatten(aux_tree, outs[n:])
    else:
        out_tree_only, n = tree, len(outs)
    out_avals = [get_aval(o) for o in outs[:n]]
    p_avals = [get_aval(p) for p in p_leaves]

    def vjp_fn(cotangent):
        ct_leaves, ct_tree = tree_util.tree_flatten(cotangent)
        if ct_tree != out_tree_only:
            raise TypeError(f"vjp_fn expects a cotangent structured like the output "
                            f"{out_tree_only}, got {ct_tree}")
        for c, a in zip(ct_leaves, out_avals):
            if get_aval(c).shape != a.shape:
                raise ValueError(f"cotangent shape {get_aval(c).shape} does not match the "
                                 f"output shape {a.shape}")
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


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """Returns a function computing (fun(*args), gradient w.r.t. args[argnums])."""
    @functools.wraps(fun)
    def value_and_grad_fun(*args, **kwargs):
        multiple = isinstance(argnums, (tuple, list))
        nums = tuple(argnums) if multiple else (argnums,)
        for i in nums:
            if not -len(args) <= i < len(args):
                raise ValueError(f"argnums={argnums} is out of range for a function called "
                                 f"with {len(args)} positional arguments")
        nums = tuple(i % len(args) for i in nums)
        diff_args = tuple(args[i] for i in nums)
        if not allow_int:
            for leaf in tree_util.tree_leaves(diff_args):
                _check_float_input(leaf, "grad")

        def f_of_diff(*d):
            full = list(args)
            for i, x in zip(nums, d):
                full[i] = x
            return fun(*full, **kwargs)

        if has_aux:
            out, pullback, aux = vjp(f_of_diff, *diff_args, has_aux=True)
        else:
            out, pullback = vjp(f_of_diff, *diff_args)
        aval = get_aval(out) if _core.is_array_like(out) else None
        if aval is None or aval.shape != ():
            raise TypeError(
                f"Gradient only defined for scalar-output functions. Output was "
                f"{aval.str_short() if aval else type(out).__name__}. Fix: reduce the "
                f"output (e.g. jnp.sum) or use jacrev/vjp for non-scalar outputs.")
        if not _dtypes.is_inexact(aval.dtype):
            raise TypeError(f"grad requires real-valued outputs, got {aval.dtype.name}")
        from .lax import full
        grads = pullback(full((), 1.0, aval.dtype, weak_type=aval.weak_type))
        grads = grads if multiple else grads[0]
        return ((out, aux), grads) if has_aux else (out, grads)
    return value_and_grad_fun


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """The gradient of a scalar-valued `fun` with respect to args[argnums].

    >>> import functorch_lite as fl
    >>> float(fl.grad(lambda x: x ** 3)(2.0))
    12.0
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def grad_fun(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]
    return grad_fun


# --- Jacobians --------------------------------------------------------------------

def _std_basis(leaves):
    """Rows of the identity over the concatenated, flattened leaves: one array per
    leaf of shape (total_size, *leaf.shape), of the leaf's dtype and weak type."""
    avals = [get_aval(x) for x in leaves]
    sizes = [a.size for a in avals]
    total = sum(sizes)
    dtype = np.result_type(*[a.dtype for a in avals]) if avals else np.float32
    eye = np.eye(total, dtype=dtype)
    out, start = [], 0
    for a, s in zip(avals, sizes):
        part = eye[:, start:start + s].reshape((total, *a.shape))
        out.append(_like(part.real if not _dtypes.is_complex(a.dtype) else part, a))
        start += s
    return out, sizes


def _like(x, example_aval):
    """x cast to the dtype and weak type of `example_aval`, as JAX casts Jacobian
    blocks to the dtype of the input (jacrev) or output (jacfwd) they belong to."""
    from .lax import convert_element_type, real
    if _dtypes.is_complex(get_aval(x).dtype) and not _dtypes.is_complex(example_aval.dtype):
        x = real(x)
    return convert_element_type(x, example_aval.dtype, example_aval.weak_type)


def _split_rows(x, sizes, shapes, trailing, example_aval):
    """Split axis `0`... of x (rows for each leaf) and reshape into leaf shapes."""
    from . import lax
    out, start = [], 0
    for s, shape in zip(sizes, shapes):
        part = lax.slice_in_dim(x, start, start + s, axis=0)
        out.append(_like(lax.reshape(part, (*shape, *trailing)), example_aval))
        start += s
    return out


def _argnums_partial(fun, args, argnums):
    multiple = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if multiple else (argnums,)
    nums = tuple(i % len(args) for i in nums)

    def f(*d):
        full = list(args)
        for i, x in zip(nums, d):
            full[i] = x
        return fun(*full)
    return f, tuple(args[i] for i in nums), multiple


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
           chunk_size=None):
    """Jacobian by reverse mode: one VJP per output element, batched with vmap."""
    from ._api_vmap import vmap

    def jac_fun(*args):
        f, diff_args, multiple = _argnums_partial(fun, args, argnums)
        if not allow_int:
            for leaf in tree_util.tree_leaves(diff_args):
                _check_float_input(leaf, "jacrev")
        if has_aux:
            y, pullback, aux = vjp(f, *diff_args, has_aux=True)
        else:
            y, pullback = vjp(f, *diff_args)
        y_leaves, y_tree = tree_util.tree_flatten(y)
        basis, sizes = _std_basis(y_leaves)
        rows = vmap(lambda *b: pullback(tree_util.tree_unflatten(y_tree, b)),
                    chunk_size=chunk_size)(*basis)
        x_leaves, x_tree = tree_util.tree_flatten(rows)
        x_avals = [get_aval(x) for x in tree_util.tree_leaves(diff_args)]
        # per x leaf: (total_y, *x.shape) -> for each y leaf (*y.shape, *x.shape)
        per_x = [_split_rows(r, sizes, [get_aval(y).shape for y in y_leaves],
                             get_aval(r).shape[1:], a) for r, a in zip(x_leaves, x_avals)]
        per_y = [tree_util.tree_unflatten(x_tree, [px[j] for px in per_x])
                 for j in range(len(y_leaves))]
        jac = tree_util.tree_unflatten(y_tree, [p if multiple else p[0] for p in per_y])
        return (jac, aux) if has_aux else jac
    return jac_fun


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False, chunk_size=None):
    """Jacobian by forward mode: one JVP per input element, batched with vmap."""
    from ._api_vmap import vmap
    from . import lax

    def jac_fun(*args):
        f, diff_args, multiple = _argnums_partial(fun, args, argnums)
        x_leaves, x_tree = tree_util.tree_flatten(diff_args)
        for x in x_leaves:
            _check_float_input(x, "jacfwd")
        basis, sizes = _std_basis(x_leaves)

        y_avals = []  # the output's avals (per example), recorded while tracing

        def push(*b):
            tangents = tree_util.tree_unflatten(x_tree, b)
            if has_aux:
                y, t, aux = jvp(f, diff_args, tangents, has_aux=True)
            else:
                (y, t), aux = jvp(f, diff_args, tangents), None
            y_avals[:] = [get_aval(leaf) for leaf in tree_util.tree_leaves(y)]
            return t, aux

        cols, aux = vmap(push, out_axes=(-1, None), chunk_size=chunk_size)(*basis)
        y_leaves, y_tree = tree_util.tree_flatten(cols)
        x_shapes = [get_aval(x).shape for x in x_leaves]
        result = []
        for c, y_aval in zip(y_leaves, y_avals):  # (*y.shape, total_x)
            y_shape = get_aval(c).shape[:-1]
            parts, start = [], 0
            for s, shape in zip(sizes, x_shapes):
                part = lax.slice_in_dim(c, start, start + s, axis=len(y_shape))
                parts.append(_like(lax.reshape(part, (*y_shape, *shape)), y_aval))
                start += s
            per = tree_util.tree_unflatten(x_tree, parts)
            result.append(per if multiple else per[0])
        jac = tree_util.tree_unflatten(y_tree, result)
        if has_aux:
            return jac, aux
        return jac
    return jac_fun


def hessian(fun, argnums=0, has_aux=False, holomorphic=False, chunk_size=None):
    """The Hessian, as jacfwd(jacrev(fun))."""
    return jacfwd(jacrev(fun, argnums, has_aux, chunk_size=chunk_size), argnums, has_aux,
                  chunk_size=chunk_size)


def linear_transpose(fun, *primals, reduce_axes=()):
    """Transpose of the linear function `fun` at example inputs `primals`."""
    p_leaves, in_tree = tree_util.tree_flatten(primals)
    out_tree = []
    flat = _flat_fun(fun, in_tree, out_tree)
    from ._staging import trace_to_program
    program, consts = trace_to_program(flat, [get_aval(p) for p in p_leaves], "linear_transpose")
    tree = out_tree[0]

    def transposed(cotangent):
        ct_leaves, ct_tree = tree_util.tree_flatten(cotangent)
        if ct_tree != tree:
            raise TypeError(f"linear_transpose expects a cotangent structured like "
                            f"{tree}, got {ct_tree}")
        args = [*consts, *[_ad.UndefinedPrimal(get_aval(p)) for p in p_leaves]]
        cts = _ad.backward_pass(program, args, ct_leaves)
        cts = [_ad.zeros_like_aval(c.aval) if isinstance(c, Zero) else c for c in cts]
        return tree_util.tree_unflatten(in_tree, cts)
    return transposed
