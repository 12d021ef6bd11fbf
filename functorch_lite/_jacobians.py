"""jacfwd, jacrev and hessian: one JVP per input element (or one VJP per output
element), batched with vmap.

As in JAX, each block of the Jacobian takes the dtype of the value it is laid out
like (jacfwd: the output leaf, jacrev: the input leaf), keeping the real part when
that value is real: an integer output's block under jacfwd, or an integer input's
block under jacrev (allow_int), is zeros of that integer dtype."""
import numpy as np
from jax import tree_util

from . import _dtypes, lax
from ._api import (argnums_partial, check_input_dtype, check_output_dtype, fun_name, jvp,
                   _vjp)
from ._api_vmap import vmap
from ._core import get_aval
from ._traceback_util import api_boundary, check_callable


def _std_basis(avals):
    """Rows of the identity over the concatenated, flattened values: one array per
    value of shape (total_size, *value.shape), of the value's dtype and weak type."""
    sizes = [a.size for a in avals]
    total = sum(sizes)
    dtype = np.result_type(*[a.dtype for a in avals]) if avals else np.float32
    eye = np.eye(total, dtype=dtype)
    out, start = [], 0
    for a, s in zip(avals, sizes):
        part = eye[:, start:start + s].reshape((total, *a.shape))
        out.append(_cast_like(part if _dtypes.is_complex(a.dtype) else part.real, a))
        start += s
    return out, sizes


def _dense(t, aval, what):
    """A float0 tangent (of an integer value) as zeros of that value's dtype; JAX's
    Jacobians lay integer blocks out this way and reject boolean ones."""
    if get_aval(t).dtype != _dtypes.float0:
        return t
    if aval.dtype == _dtypes.bool_:
        kind = "output" if what == "jacfwd" else "input"
        raise TypeError(f"{what} is not defined for boolean values (here a "
                        f"{aval.str_short()} {kind}). Fix: cast it to a float dtype, or use "
                        f"jvp/vjp directly.")
    return lax.full(aval.shape, 0, aval.dtype)


def _cast_like(block, aval):
    """JAX's `_possible_downcast`: the block in `aval`'s dtype and weak type (real
    part if real)."""
    if _dtypes.is_complex(get_aval(block).dtype) and not _dtypes.is_complex(aval.dtype):
        block = lax.real(block)
    return lax.convert_element_type(block, aval.dtype, aval.weak_type)


def _split(x, axis, sizes, shapes, lead, trail):
    """Cut `x` along `axis` into one block per value, each reshaped to
    (*lead, *value_shape, *trail)."""
    out, start = [], 0
    for s, shape in zip(sizes, shapes):
        part = lax.slice_in_dim(x, start, start + s, axis=axis)
        out.append(lax.reshape(part, (*lead, *shape, *trail)))
        start += s
    return out


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
           chunk_size=None):
    """Jacobian by reverse mode: one VJP per output element, batched with vmap."""
    check_callable(fun, "jacrev")
    @api_boundary
    def jac_fun(*args, **kwargs):
        f, diff_args, multiple = argnums_partial(fun, args, argnums, "jacrev")
        x_leaves, x_tree = tree_util.tree_flatten(diff_args)
        for x in x_leaves:
            check_input_dtype(x, "jacrev", holomorphic, allow_int)
        y, pullback, *aux = _vjp(lambda *d: f(*d, **kwargs), diff_args, has_aux,
                                 "jacrev", fun_name(fun))
        y_leaves, y_tree = tree_util.tree_flatten(y)
        y_avals = [get_aval(v) for v in y_leaves]
        for a in y_avals:
            check_output_dtype(a, "jacrev", holomorphic)
        basis, sizes = _std_basis(y_avals)
        x_avals = [get_aval(x) for x in x_leaves]

        def pull(*b):
            cts = tree_util.tree_leaves(pullback(tree_util.tree_unflatten(y_tree, b)))
            return [_dense(c, a, "jacrev") for c, a in zip(cts, x_avals)]

        rows = vmap(pull, chunk_size=chunk_size)(*basis)
        # per x leaf: (total_y, *x.shape) -> for each y leaf (*y.shape, *x.shape)
        per_x = []
        for r, x_aval in zip(rows, x_avals):
            per_x.append(_split(_cast_like(r, x_aval), 0, sizes,
                                [a.shape for a in y_avals], (), x_aval.shape))
        per_y = [tree_util.tree_unflatten(x_tree, [px[j] for px in per_x])
                 for j in range(len(y_leaves))]
        jac = tree_util.tree_unflatten(y_tree, [p if multiple else p[0] for p in per_y])
        return (jac, aux[0]) if has_aux else jac
    jac_fun.__name__ = f"jacrev({fun_name(fun)})"
    return jac_fun


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False, chunk_size=None):
    """Jacobian by forward mode: one JVP per input element, batched with vmap."""
    check_callable(fun, "jacfwd")
    @api_boundary
    def jac_fun(*args, **kwargs):
        f, diff_args, multiple = argnums_partial(fun, args, argnums, "jacfwd")
        x_leaves, x_tree = tree_util.tree_flatten(diff_args)
        x_avals = [get_aval(x) for x in x_leaves]
        for x in x_leaves:
            check_input_dtype(x, "jacfwd", holomorphic, real_only=True)
        basis, sizes = _std_basis(x_avals)
        y_avals = []

        def push(*b):
            tangents = tree_util.tree_unflatten(x_tree, b)
            g = lambda *d: f(*d, **kwargs)  # noqa: E731
            if has_aux:
                y, t, aux = jvp(g, diff_args, tangents, has_aux=True)
            else:
                (y, t), aux = jvp(g, diff_args, tangents), None
            y_avals[:] = [get_aval(v) for v in tree_util.tree_leaves(y)]
            t_leaves, t_tree = tree_util.tree_flatten(t)
            dense = [_dense(v, a, "jacfwd") for v, a in zip(t_leaves, y_avals)]
            return tree_util.tree_unflatten(t_tree, dense), aux

        cols, aux = vmap(push, out_axes=(-1, None), chunk_size=chunk_size)(*basis)
        y_leaves, y_tree = tree_util.tree_flatten(cols)
        result = []
        for c, y_aval in zip(y_leaves, y_avals):  # c: (*y.shape, total_x)
            if holomorphic:
                check_output_dtype(y_aval, "jacfwd", holomorphic)
            parts = _split(_cast_like(c, y_aval), y_aval.ndim, sizes,
                           [a.shape for a in x_avals], y_aval.shape, ())
            per = tree_util.tree_unflatten(x_tree, parts)
            result.append(per if multiple else per[0])
        jac = tree_util.tree_unflatten(y_tree, result)
        return (jac, aux) if has_aux else jac
    jac_fun.__name__ = f"jacfwd({fun_name(fun)})"
    return jac_fun


def hessian(fun, argnums=0, has_aux=False, holomorphic=False, chunk_size=None):
    """The Hessian, as jacfwd(jacrev(fun))."""
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic, chunk_size=chunk_size),
                  argnums, has_aux, holomorphic, chunk_size=chunk_size)
