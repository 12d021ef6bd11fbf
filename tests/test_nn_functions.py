"""functorch_lite.nn activations and utilities against jax.nn: values (eager and jit),
jvp/vjp (derivatives at the kinks included), vmap, axis/keepdims/where/b options,
numerical stability, and result dtypes for Python scalars and low precision."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.nn as fnn
from harness import Rec, assert_close, check_edges, check_jvp_vjp, check_values, check_vmap

F32, F16, BF16, I32 = np.float32, np.float16, jnp.bfloat16, np.int32
S = (3, 4)
KINKS = np.array([[0.0, 6.0, -1.0, 1.0], [-0.5, 0.5, 3.0, -3.0], [7.0, 0.0, 1e-3, -2.0]], F32)
MASK = np.array([[True, False, True, True], [False, False, False, False],
                 [True, True, True, False]])
LARGE = np.array([[1000.0, 1001.0, 999.0, -1000.0], [-np.inf, 0.0, 1.0, 2.0],
                  [80.0, 90.0, 100.0, 110.0]], F32)


def rec(name, specs=((S, F32),), grad=(0,), suffix="", **kwargs):
    """Record for `nn.<name>(*arrays, **kwargs)`; keyword `tol` sets value tolerances."""
    ours, ref = getattr(fnn, name), getattr(jax.nn, name)
    tol = kwargs.pop("tol", 1e-5)
    grad_rtol = kwargs.pop("grad_rtol", 2e-3)
    axis = kwargs.get("axis")
    return Rec(name + suffix, lambda *a: ours(*a, **kwargs), lambda *a: ref(*a, **kwargs),
               list(specs), rtol=tol, atol=tol, grad_argnums=grad, grad_rtol=grad_rtol,
               empty_axis=-1 if axis is None else np.ravel(axis)[0])


def call(name, fn, specs, grad=(0,), **kw):
    """Record for `fn(nn_module, *arrays)` with both libraries' nn modules."""
    return Rec(name, lambda *a: fn(fnn, *a), lambda *a: fn(jax.nn, *a), specs,
               grad_argnums=grad, **kw)


# b with mixed signs and zeros: logsumexp's sign and NaN handling
B_SIGNS = np.array([[1.0, -2.0, 0.5, 0.0], [0.3, 0.2, 1.0, 2.0], [-1.0, -1.0, -2.0, 0.0]], F32)
POSITIVE_COLUMN = np.array([[0.5], [1.5], [2.0]], F32)

ACTIVATIONS = ["relu", "relu6", "silu", "swish", "elu", "selu", "celu", "leaky_relu",
               "softplus", "sigmoid", "log_sigmoid", "hard_tanh", "hard_sigmoid", "hard_silu",
               "hard_swish", "soft_sign", "mish", "squareplus", "sparse_plus",
               "sparse_sigmoid", "tanh", "identity"]

RECS = (
    [rec(n) for n in ACTIVATIONS] +
    [rec(n, [KINKS], suffix="_kinks") for n in ("relu", "relu6", "leaky_relu", "elu", "celu",
                                                "hard_tanh", "hard_sigmoid", "sparse_plus",
                                                "softplus", "sparse_sigmoid")] +
    [rec("gelu", approximate=True, suffix="_tanh"),
     rec("gelu", approximate=False, suffix="_erf"),
     rec("elu", alpha=0.5, suffix="_alpha"), rec("celu", alpha=2.0, suffix="_alpha"),
     rec("leaky_relu", negative_slope=0.2, suffix="_slope"),
     rec("glu", [((3, 6), F32)]), rec("glu", [((4, 3), F32)], axis=0, suffix="_axis0"),
     rec("relu", [((), F32)], suffix="_scalar"), rec("relu", [(S, I32)], grad=(), suffix="_int"),
     rec("gelu", [(S, F16)], tol=2e-3, grad_rtol=2e-2, suffix="_f16"),
     rec("silu", [(S, BF16)], tol=2e-2, grad_rtol=5e-2, suffix="_bf16"),
     rec("softplus", [(S, F16)], tol=2e-3, grad_rtol=2e-2, suffix="_f16")] +
    [rec("softmax", axis=a, suffix=f"_axis{a}") for a in (-1, 0, (0, 1))] +
    [rec("log_softmax", axis=a, suffix=f"_axis{a}") for a in (-1, 0, (0, 1))] +
    [rec("softmax", [LARGE], suffix="_large"), rec("log_softmax", [LARGE], suffix="_large"),
     rec("softmax", where=MASK, suffix="_where"), rec("log_softmax", where=MASK,
                                                      suffix="_where", grad=()),
     rec("logsumexp"), rec("logsumexp", axis=1, suffix="_axis1"),
     rec("logsumexp", axis=(0, 1), keepdims=True, suffix="_keepdims"),
     rec("logsumexp", axis=0, keepdims=True, suffix="_axis0_keepdims"),
     rec("logsumexp", [LARGE], axis=1, suffix="_large", grad=()),
     call("logsumexp_b", lambda nn, a, b: nn.logsumexp(a, axis=1, b=b), [(S, F32), B_SIGNS]),
     call("logsumexp_b_sign", lambda nn, a, b: nn.logsumexp(a, 1, b, return_sign=True),
          [(S, F32), B_SIGNS]),
     call("logsumexp_b_broadcast", lambda nn, a, b: nn.logsumexp(a, -1, b, keepdims=True),
          [(S, F32), ((4,), F32)], grad=(0, 1)),
     rec("logsumexp", axis=1, where=MASK, suffix="_where"),
     rec("standardize"), rec("standardize", axis=(0, 1), suffix="_all"),
     call("standardize_given_stats", lambda nn, x, m, v: nn.standardize(x, mean=m, variance=v),
          [(S, F32), ((3, 1), F32), POSITIVE_COLUMN], grad=(0, 1, 2)),
     rec("standardize", axis=0, epsilon=1e-3, suffix="_axis0"),
     rec("standardize", where=MASK, grad=(), suffix="_where")]
)



EDGES = ("base", "nonfinite")
REDUCING = [r for r in RECS if r.name.startswith(("softmax", "log_softmax", "logsumexp",
                                                   "standardize"))]


@pytest.mark.parametrize("r", RECS, ids=str)
def test_values(r):
    check_values(r, variants=EDGES)


@pytest.mark.parametrize("r", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(r):
    check_jvp_vjp(r, variants=EDGES)


@pytest.mark.parametrize("r", REDUCING, ids=str)
def test_zero_size(r):
    check_edges(r)


@pytest.mark.parametrize("r", RECS[::4], ids=str)
def test_vmap(r):
    check_vmap(r, in_axis=0)


# --- derivatives at the kinks (JAX's custom rules for relu and relu6) ----------------

@pytest.mark.parametrize("name", ["relu", "relu6", "hard_sigmoid", "softplus", "leaky_relu",
                                  "hard_tanh", "celu"])
def test_derivatives_at_kinks(name):
    x = np.array([0.0, 6.0, -1.0, 1.0, -3.0, 3.0], F32)
    got = fl.jit(fl.vmap(fl.grad(getattr(fnn, name))))(x)
    want = jax.vmap(jax.grad(getattr(jax.nn, name)))(x)
    assert_close(got, want, 1e-6, 1e-6, name)


def test_softmax_gradient_has_no_max_shift_term():
    x = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]], F32)
    for ours, ref in [(fnn.softmax, jax.nn.softmax), (fnn.log_softmax, jax.nn.log_softmax)]:
        f = lambda fn: (lambda v: (fn(v) * np.arange(3, dtype=F32)).sum())  # noqa: E731
        assert_close(fl.grad(f(ours))(x), jax.grad(f(ref))(x), 1e-6, 1e-6)
    # second derivative through the stop_gradient max, as in JAX
    h = fl.hessian(lambda v: fnn.logsumexp(v))(x[0])
    assert_close(h, jax.hessian(lambda v: jax.nn.logsumexp(v))(x[0]), 1e-5, 1e-6)


# --- one_hot ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"dtype": I32}, {"axis": 1, "dtype": F16}])
def test_one_hot(kwargs):
    labels = np.array([[0, 2, 5], [1, -1, 3]], I32)  # 5 and -1 are out of range: all zeros
    got = fnn.one_hot(labels, 4, **kwargs)
    assert_close(got, jax.nn.one_hot(labels, 4, **kwargs), 0, 0)
    got_jit = fl.jit(lambda v: fnn.one_hot(v, 4, **kwargs))(labels)
    assert_close(got_jit, jax.nn.one_hot(labels, 4, **kwargs), 0, 0)
    batched = fl.vmap(lambda v: fnn.one_hot(v, 4, **kwargs))(labels)
    assert_close(batched, jax.vmap(lambda v: jax.nn.one_hot(v, 4, **kwargs))(labels), 0, 0)


# --- dtypes and scalars -------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # JAX casts -inf to int for int input
@pytest.mark.parametrize("name", ACTIVATIONS + ["gelu", "softmax", "log_softmax",
                                                "logsumexp", "standardize"])
def test_result_types_match_jax(name):
    for x in (np.ones(3, F32), np.ones(3, F16), 1.5, np.arange(3, dtype=I32)):
        try:
            want = jax.eval_shape(getattr(jax.nn, name), x)
            want = (want.shape, np.dtype(want.dtype), want.weak_type)
        except (TypeError, ValueError, IndexError):
            want = "error"
        try:
            got = fl.make_jaxpr(getattr(fnn, name))(x).out_avals[0]
            got = (got.shape, got.dtype, got.weak_type)
        except (TypeError, ValueError, IndexError):
            got = "error"
        assert got == want, f"{name}({x!r}): got {got}, JAX gives {want}"


def test_logsumexp_all_masked_and_infinite_rows():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [0.0, 0.0]], F32)
    assert_close(fnn.logsumexp(x, axis=1), jax.nn.logsumexp(x, axis=1), 1e-6, 1e-6)
    mask = np.array([[False, False], [True, True], [True, False]])
    assert_close(fnn.logsumexp(x, axis=1, where=mask),
                 jax.nn.logsumexp(x, axis=1, where=mask), 1e-6, 1e-6)
