"""experimental.jet against jax.experimental.jet and against repeated jvp, through the
common primitives, jit, and under vmap and grad."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
from jax.experimental.jet import jet as jax_jet

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite.experimental.jet import jet
from harness import assert_close

F32 = np.float32
RNG = np.random.RandomState(0)
X = (RNG.rand(3) + 0.5).astype(F32)
TERMS = [RNG.randn(3).astype(F32) for _ in range(4)]
W = RNG.randn(3, 3).astype(F32)


def programs(np_, lib):
    """Functions of one vector exercising the primitives jet has rules for."""
    return {
        "sin": np_.sin, "cos": np_.cos, "exp": np_.exp, "log": np_.log, "tanh": np_.tanh,
        "logistic": lib.nn.sigmoid, "sqrt": np_.sqrt, "pow": lambda v: v ** 2.5,
        "integer_pow": lambda v: v ** 3 - v ** -2, "div": lambda v: np_.sin(v) / (v + 1),
        "dot_general": lambda v: np_.tanh(W @ v) @ v,
        "broadcast_reduce_sum": lambda v: np_.sum(v[:, None] * v[None, :] * 2.0 - 1.0),
        "reshape_transpose": lambda v: np_.sum(np_.reshape(np_.outer(v, v).T, (9,)) ** 2),
        "reduce_max": lambda v: np_.max(v * v), "abs": lambda v: np_.abs(v - 1),
        "select_n": lambda v: np_.where(v > 1, v ** 2, np_.sin(v)),
        "expm1_log1p": lambda v: np_.expm1(v) + np_.log1p(v),
        "sinh_cosh": lambda v: np_.sinh(v) * np_.cosh(v), "rsqrt": lib.lax.rsqrt,
        "atan2": lambda v: np_.arctan2(v, v + 2), "maximum": lambda v: np_.maximum(v, 1.0),
        "jit": lib.jit(lambda v: np_.sin(v) * v),
        "concatenate_slice": lambda v: np_.concatenate([v, v[::-1] ** 2])[1:4],
        "neg_sub": lambda v: -v - np_.square(v),
    }


OURS, REF = programs(fnp, fl), programs(jnp, jax)


@pytest.mark.parametrize("name", sorted(OURS))
def test_matches_jax_jet(name):
    got = jet(OURS[name], (X,), (TERMS,))
    want = jax_jet(REF[name], (X,), (TERMS,))
    assert_close(got[0], want[0], 1e-5, 1e-5, f"{name} primal")
    for k, (g, w) in enumerate(zip(got[1], want[1])):
        scale = 1 + np.abs(np.asarray(w)).max()
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=f"{name} order {k + 1}")


def repeated_jvp(f, x, v, order):
    """The derivatives of t -> f(x + t v) at 0, by nesting jvp."""
    derivatives, g = [], f
    for _ in range(order):
        g = (lambda h: lambda y: fl.jvp(h, (y,), (v,))[1])(g)
        derivatives.append(g(x))
    return derivatives


@pytest.mark.parametrize("name", ["sin", "exp", "tanh", "logistic", "div", "dot_general",
                                  "integer_pow", "log"])
def test_matches_repeated_jvp_along_a_line(name):
    v = TERMS[0]
    _, series = jet(OURS[name], (X,), ([v, 0 * v, 0 * v, 0 * v],))
    for k, (got, want) in enumerate(zip(series, repeated_jvp(OURS[name], X, v, 4))):
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3,
                                   err_msg=f"{name} derivative {k + 1}")


def test_unscaled_coefficients_pytrees_and_several_arguments():
    f = lambda np_: lambda x, y: {"a": np_.sin(x) * y, "b": [np_.exp(x + y)]}
    x, y = F32(0.3), F32(1.2)
    series = ([F32(1.0), F32(0.5)], [F32(-1.0), F32(0.25)])
    for scaled in (True, False):
        got = jet(f(fnp), (x, y), series, factorial_scaled=scaled)
        want = jax_jet(f(jnp), (x, y), series, factorial_scaled=scaled)
        assert_close(got, want, 1e-5, 1e-5, f"factorial_scaled={scaled}")


def test_composes_with_vmap_grad_and_jit():
    f, ref = OURS["dot_general"], REF["dot_general"]
    xs = RNG.randn(4, 3).astype(F32)
    got = fl.vmap(lambda x: jet(f, (x,), (TERMS[:2],)))(xs)
    want = jax.vmap(lambda x: jax_jet(ref, (x,), (TERMS[:2],)))(xs)
    assert_close(got, want, 1e-4, 1e-4, "vmap(jet)")
    second = lambda jet_fn, fun: lambda x: jet_fn(fun, (x,), (TERMS[:2],))[1][1].sum()
    assert_close(fl.grad(second(jet, f))(X), jax.grad(second(jax_jet, ref))(X), 1e-4,
                 1e-4, "grad(jet)")
    assert_close(fl.jit(lambda x: jet(f, (x,), (TERMS[:2],)))(X),
                 jax_jet(ref, (X,), (TERMS[:2],)), 1e-5, 1e-5, "jit(jet)")


def test_errors():
    with pytest.raises(ValueError, match="inconsistent"):
        jet(fnp.sin, (X, X), ([X], [X, X]))
    with pytest.raises(NotImplementedError, match="no jet rule for 'cumprod'"):
        jet(lambda v: fnp.cumprod(v), (X,), ([X],))
