"""`functorch_lite.test_util`: gradient checks against finite differences, as
`jax.test_util.check_grads`.

Forward mode is checked by comparing `jvp` with a central difference along a random
tangent; reverse mode by the dot-product test <J t, c> == <t, J^T c> with random `t`
and `c`. Higher orders repeat the checks on the derivative functions themselves.
Finite differences are formed in float64 on the host from the function's outputs.
"""
import functools

import numpy as np
from jax import tree_util

from . import _dtypes
from ._api import jvp, vjp

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp"]

EPS = 1e-4

_DEFAULT_TOLERANCE = {
    np.dtype(np.float16): 1e-2, np.dtype(_dtypes.bfloat16): 1e-1,
    np.dtype(np.float32): 2e-3, np.dtype(np.float64): 1e-5,
    np.dtype(np.complex64): 1e-3, np.dtype(np.complex128): 1e-5,
}


def _tolerance(dtypes, given):
    if given is not None:
        return given
    return max([_DEFAULT_TOLERANCE.get(np.dtype(d), 1e-5) for d in dtypes] or [1e-5])


def _rand_like(rng, x):
    """A random tangent/cotangent of x's type (float0 zeros for non-float x)."""
    x = np.asarray(x)
    if not _dtypes.is_inexact(x.dtype):
        return np.zeros(x.shape, _dtypes.float0)
    r = rng.randn(*x.shape)
    if np.iscomplexobj(x):
        r = r + 1j * rng.randn(*x.shape)
    return np.asarray(r, dtype=x.dtype)


def _host(x):
    a = np.asarray(x)
    if a.dtype == _dtypes.float0:
        return np.zeros(a.shape)
    return a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)


def _shift(args, tangents, step):
    """args + step * tangents, computed in float64 and cast back to each arg's dtype."""
    def one(x, t):
        a = np.asarray(x)
        if not _dtypes.is_inexact(a.dtype):
            return x
        return np.asarray(_host(a) + step * _host(t)).astype(a.dtype)
    return tree_util.tree_map(one, args, tangents)


def numerical_jvp(f, primals, tangents, eps=EPS):
    """Central difference (f(x + eps t) - f(x - eps t)) / 2 eps, in float64."""
    plus = f(*_shift(primals, tangents, eps))
    minus = f(*_shift(primals, tangents, -eps))
    return tree_util.tree_map(lambda p, m: (_host(p) - _host(m)) / (2 * eps), plus, minus)


def _conj(x):
    return x if np.asarray(x).dtype == _dtypes.float0 else np.conj(x)


def _inner(xs, ys):
    total = 0.0
    for x, y in zip(tree_util.tree_leaves(xs), tree_util.tree_leaves(ys)):
        total = total + np.vdot(_host(x), _host(y))
    return np.real(total)


def _dtypes_of(tree):
    return [np.asarray(x).dtype for x in tree_util.tree_leaves(tree)
            if _dtypes.is_inexact(np.asarray(x).dtype)]


def _check_close(got, want, atol, rtol, err_msg):
    got_leaves, got_tree = tree_util.tree_flatten(got)
    want_leaves, want_tree = tree_util.tree_flatten(want)
    if got_tree != want_tree:
        raise AssertionError(f"{err_msg}: tree structure {got_tree} != {want_tree}")
    for g, w in zip(got_leaves, want_leaves):
        g_arr = np.asarray(g)
        if g_arr.dtype == _dtypes.float0:
            continue
        tol = _tolerance([g_arr.dtype], None)
        np.testing.assert_allclose(_host(g), _host(w), atol=tol if atol is None else atol,
                                   rtol=tol if rtol is None else rtol, err_msg=err_msg)


def check_jvp(f, f_jvp, args, atol=None, rtol=None, eps=EPS, err_msg=""):
    """`f_jvp(args, tangents)` against `f` and central differences."""
    rng = np.random.RandomState(0)
    tangents = tree_util.tree_map(functools.partial(_rand_like, rng), args)
    v_out, t_out = f_jvp(args, tangents)
    _check_close(v_out, f(*args), atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    t_expected = numerical_jvp(f, args, tangents, eps=eps)
    _check_close(t_out, t_expected, atol, rtol, err_msg or "JVP")


def check_vjp(f, f_vjp, args, atol=None, rtol=None, eps=EPS, err_msg=""):
    """`f_vjp(*args) -> (out, vjp_fn)` against `f` by the dot-product test."""
    rng = np.random.RandomState(0)
    v_out, vjp_fn = f_vjp(*args)
    _check_close(v_out, f(*args), atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    tangents = tree_util.tree_map(functools.partial(_rand_like, rng), args)
    t_out = numerical_jvp(f, args, tangents, eps=eps)
    cotangents = tree_util.tree_map(functools.partial(_rand_like, rng), v_out)
    ct_out = vjp_fn(tree_util.tree_map(_conj, cotangents))
    got = _inner(tangents, tree_util.tree_map(lambda c: _conj(_host(c)), ct_out))
    want = _inner(t_out, cotangents)
    dtypes = _dtypes_of(args) + _dtypes_of(v_out)
    tol_a, tol_r = _tolerance(dtypes, atol), _tolerance(dtypes, rtol)
    np.testing.assert_allclose(got, want, atol=tol_a, rtol=tol_r,
                               err_msg=f"{err_msg or 'VJP'}: <t, J^T c> != <J t, c>")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
    """Check `f`'s derivatives up to `order` against finite differences.

    Arguments:
      f: a function of the positional `args` (pytrees of arrays).
      order: 1 checks first derivatives; 2 also checks the derivatives of `jvp(f)` /
        `vjp(f)`; and so on.
      modes: "fwd" (jvp vs central differences) and/or "rev" (vjp, dot-product test).
      atol, rtol: tolerances (default: per dtype, as JAX: 2e-3 for float32).
      eps: the finite-difference step (default 1e-4).

    Raises AssertionError on a mismatch.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> from functorch_lite.test_util import check_grads
    >>> check_grads(jnp.sin, (0.5,), order=2)
    """
    args = tuple(args)
    eps = eps or EPS
    jvp_check = functools.partial(check_jvp, atol=atol, rtol=rtol, eps=eps)
    vjp_check = functools.partial(check_vjp, atol=atol, rtol=rtol, eps=eps)

    def recurse(f, args, order, err_msg=""):
        if "fwd" in modes:
            msg = f"JVP of {err_msg}" if err_msg else "JVP"
            jvp_check(f, functools.partial(jvp, f), args, err_msg=msg)
            if order > 1:
                recurse(functools.partial(jvp, f), (args, args), order - 1, msg)
        if "rev" in modes:
            msg = f"VJP of {err_msg}" if err_msg else "VJP"
            vjp_check(f, functools.partial(vjp, f), args, err_msg=msg)
            if order > 1:
                def f_vjp(*primals):
                    out, vjp_fn = vjp(f, *primals)
                    return vjp_fn(out)
                recurse(f_vjp, args, order - 1, msg)

    recurse(f, args, order)
