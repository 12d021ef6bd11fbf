"""Random stacks (depth 1-4) of jit, grad, vmap, jvp, checkpoint, jacfwd, jacrev and
hessian over small functions (elementwise, reductions, indexing, control flow, custom
rules, linalg, dot), each written once for both libraries. Every case must either
match JAX (the same stack of jax.jit/jax.grad/... on the same function) or raise a
documented user-facing error (a TypeError or ValueError, as JAX does), never an
internal error, an assertion, a KeyError/AttributeError or a raw jaxlib exception.

A fixed seed and FUZZ_CASES cases here; more with FUNCTORCH_LITE_FUZZ_CASES=N (and
another seed with FUNCTORCH_LITE_FUZZ_SEED=S)."""
import os
import random

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close

FUZZ_CASES = int(os.environ.get("FUNCTORCH_LITE_FUZZ_CASES", "32"))
SEED = int(os.environ.get("FUNCTORCH_LITE_FUZZ_SEED", "0"))
APIS = {"ours": (fl, fnp), "jax": (jax, jnp)}


# --- custom rules, one per library ----------------------------------------------------

def _custom_rules(api, np_):
    @api.custom_jvp
    def softplus(x):
        return np_.log1p(np_.exp(x))
    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] / (1.0 + np_.exp(-p[0]))))

    @api.custom_vjp
    def sin(x):
        return np_.sin(x)
    sin.defvjp(lambda x: (sin(x), np_.cos(x)), lambda cos_x, g: (cos_x * g,))
    return softplus, sin


CUSTOM = {name: _custom_rules(api, np_) for name, (api, np_) in APIS.items()}
W = np.array([[0.5, -1.0, 0.3], [0.2, 0.1, -0.7], [1.1, 0.4, 0.6]], np.float32)


# --- the functions: f32[3] -> f32[] or f32[3], given (api, numpy module) ----------------

def _spd(np_, x):
    return np_.eye(3) * 3.0 + np_.outer(x, x) * 0.1


FUNCTIONS = {
    "elementwise": lambda a, np_, c: lambda x: np_.sin(x) * np_.exp(-x ** 2) + np_.tanh(x),
    "reductions": lambda a, np_, c: lambda x: np_.sum(x ** 2) * np_.max(x) + np_.mean(x),
    "logsumexp": lambda a, np_, c: lambda x: np_.log(np_.sum(np_.exp(x))),
    "indexing": lambda a, np_, c: lambda x: x[::-1] * x[np_.array([0, 2, 1])] + x[1],
    "index_update": lambda a, np_, c: lambda x: x.at[1].set(x[0] * 2.0) * x,
    "where_abs": lambda a, np_, c: lambda x: np_.where(x > 0, x, 0.1 * x) + np_.abs(x),
    "sort_cumsum": lambda a, np_, c: lambda x: np_.cumsum(np_.sort(x * x)),
    "cond": lambda a, np_, c: lambda x: a.lax.cond(np_.sum(x) > 0, np_.sin,
                                                   lambda v: v ** 2, x),
    "switch": lambda a, np_, c: lambda x: a.lax.switch(
        np_.argmax(x), [np_.sin, np_.cos, lambda v: v * 3.0], x),
    "scan": lambda a, np_, c: lambda x: a.lax.scan(
        lambda carry, xi: (carry * 0.9 + xi, carry * xi), 0.5, x)[1] + x,
    "fori_static": lambda a, np_, c: lambda x: a.lax.fori_loop(
        0, 3, lambda i, v: v * 0.5 + np_.sin(v), x),
    "fori_data_bound": lambda a, np_, c: lambda x: a.lax.fori_loop(
        0, (np_.sum(x) > 0).astype(np_.int32) + 2, lambda i, v: v * 0.9 + 0.1, x),
    "while_loop": lambda a, np_, c: lambda x: a.lax.while_loop(
        lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * 1.1 + 0.1), (0, x))[1],
    "custom_jvp": lambda a, np_, c: lambda x: c[0](x) * x,
    "custom_vjp": lambda a, np_, c: lambda x: c[1](x) + x ** 2,
    "solve": lambda a, np_, c: lambda x: np_.linalg.solve(_spd(np_, x), x),
    "cholesky": lambda a, np_, c: lambda x: np_.linalg.cholesky(_spd(np_, x)) @ x,
    "dot": lambda a, np_, c: lambda x: np_.dot(W, np_.tanh(x)) + np_.vdot(x, x),
    "map": lambda a, np_, c: lambda x: a.lax.map(lambda v: v * np_.sin(v), x),
    "associative_scan": lambda a, np_, c: lambda x: a.lax.associative_scan(np_.add, x * x),
    "inv_det": lambda a, np_, c: lambda x: np_.linalg.inv(_spd(np_, x)) @ x *
    np_.linalg.det(_spd(np_, x)),
    "eigvalsh": lambda a, np_, c: lambda x: np_.linalg.eigvalsh(_spd(np_, x) + np_.diag(x)),
    "softmax_clip": lambda a, np_, c: lambda x: np_.exp(x - np_.max(x)) / np_.sum(
        np_.exp(x - np_.max(x))) + np_.clip(x, -0.5, 0.5) * np_.minimum(x, 0.0),
    "concat_reshape": lambda a, np_, c: lambda x: np_.sum(
        np_.concatenate([x, x * 2.0]).reshape(2, 3) ** 2, axis=0),
    "dynamic_slice": lambda a, np_, c: lambda x: a.lax.dynamic_slice(
        np_.concatenate([x, x * x]), (np_.argmax(x),), (3,)),
    "cond_in_scan_custom": lambda a, np_, c: lambda x: a.lax.scan(
        lambda carry, xi: (a.lax.cond(xi > 0, c[0], np_.tanh, carry * xi), carry), 0.3,
        x)[1],
}
# forward mode of a custom_vjp function: JAX refuses, functorch_lite transposes bwd
# (documented); such cases are checked against JAX on the same math without the rule
PLAIN = {"custom_vjp": lambda a, np_, c: lambda x: np_.sin(x) + x ** 2}


def _flat_jacobian(np_, jac):
    return np_.sum(np_.reshape(jac, (-1, 3)), axis=0)


TRANSFORMS = {
    "jit": lambda a, np_, g: a.jit(g),
    "grad": lambda a, np_, g: a.grad(lambda x: np_.sum(g(x))),
    "vmap": lambda a, np_, g: lambda x: np_.sum(a.vmap(g)(np_.stack([x, x * 0.5 + 0.1])),
                                                axis=0),
    "jvp": lambda a, np_, g: lambda x: a.jvp(g, (x,), (np_.ones_like(x) * 0.3,))[1],
    "checkpoint": lambda a, np_, g: a.checkpoint(g),
    "jacfwd": lambda a, np_, g: lambda x: _flat_jacobian(np_, a.jacfwd(g)(x)),
    "jacrev": lambda a, np_, g: lambda x: _flat_jacobian(np_, a.jacrev(g)(x)),
    "hessian": lambda a, np_, g: lambda x: _flat_jacobian(
        np_, a.hessian(lambda y: np_.sum(g(y)))(x)),
}
WEIGHTS = {"jit": 3, "grad": 3, "vmap": 2, "jvp": 2, "checkpoint": 2, "jacfwd": 1,
           "jacrev": 1, "hessian": 1}
FORWARD_MODE = ("jvp", "jacfwd", "hessian")


def _cases(n, seed):
    rng = random.Random(seed)
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    functions = sorted(FUNCTIONS)
    cases = []
    for i in range(n):
        depth = rng.randint(1, 4)
        stack = rng.choices(names, weights, k=depth)
        while stack.count("hessian") + stack.count("jacfwd") + stack.count("jacrev") > 2:
            stack = rng.choices(names, weights, k=depth)
        cases.append((functions[i % len(functions)] if i < len(functions) else
                      rng.choice(functions), tuple(stack), rng.randrange(1 << 16)))
    return cases


def build(api_name, fn_name, stack, functions=FUNCTIONS):
    api, np_ = APIS[api_name]
    g = functions[fn_name](api, np_, CUSTOM[api_name])
    for t in reversed(stack):  # stack[0] is the outermost transformation
        g = TRANSFORMS[t](api, np_, g)
    return g


USER_FACING = (TypeError, ValueError)
INTERNAL = (AssertionError, KeyError, AttributeError, IndexError, NotImplementedError,
            RuntimeError)  # RuntimeError includes jaxlib's XlaRuntimeError/JaxRuntimeError


def _run(fun, x):
    try:
        return fun(x), None
    except Exception as e:  # classified by the caller
        return None, e


def _family(err):
    """TypeError or ValueError: the kind of mistake (JAX's subclasses differ from ours)."""
    return next((kind for kind in USER_FACING if isinstance(err, kind)), type(err))


def _raw_jaxlib(err):
    return type(err).__module__.startswith(("jaxlib", "jax"))


@pytest.mark.parametrize("fn_name,stack,seed", _cases(FUZZ_CASES, SEED),
                         ids=lambda v: v if isinstance(v, str) else
                         "(".join(v) if isinstance(v, tuple) else str(v))
def test_composition(fn_name, stack, seed):
    x = np.random.RandomState(seed).randn(3).astype(np.float32)
    got, err = _run(build("ours", fn_name, stack), x)
    want, want_err = _run(build("jax", fn_name, stack), x)
    where = f"{'('.join(stack)}({fn_name}) at x={x.tolist()}"
    if want_err is not None and fn_name in PLAIN and any(t in FORWARD_MODE for t in stack):
        want, want_err = _run(build("jax", fn_name, stack, PLAIN), x)
    if err is not None:
        assert not isinstance(err, INTERNAL) and not _raw_jaxlib(err), \
            f"{where}: internal error {type(err).__name__}: {err}"
        assert isinstance(err, USER_FACING), f"{where}: {type(err).__name__}: {err}"
        assert want_err is not None, \
            f"{where}: JAX computes {want}, we raise {type(err).__name__}: {err}"
        assert _family(err) is _family(want_err), \
            f"{where}: JAX raises {type(want_err).__name__}, we {type(err).__name__}: {err}"
        return
    assert want_err is None, \
        f"{where}: JAX raises {type(want_err).__name__}: {want_err}, we return {got}"
    tol = 2e-3 if len(stack) > 2 or fn_name in ("solve", "cholesky") else 2e-4
    assert_close(got, want, rtol=tol, atol=tol, what=where)
