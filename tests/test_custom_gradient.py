"""`custom_gradient` and `closure_convert` against JAX: values, gradients under jit,
vmap and second order, JAX's documented closure_convert use in a custom_vjp, and the
errors."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp

LIBS = {"ours": (fl, fnp), "jax": (jax, jnp)}


def _f(lib):
    J, N = LIBS[lib]

    @J.custom_gradient
    def f(x, y):
        s = N.sin(x)
        return s * y, lambda g: (g * N.cos(x) * y * 3.0, g * s)  # deliberately not d/dx
    return J, N, f


TRANSFORMS = {
    "value": lambda J, f: f,
    "grad": lambda J, f: J.grad(f, argnums=(0, 1)),
    "jit_grad": lambda J, f: J.jit(J.grad(f, argnums=(0, 1))),
    "vmap_grad": lambda J, f: J.vmap(J.grad(f)),
    "jit_vmap_grad_jit": lambda J, f: J.jit(J.vmap(J.grad(J.jit(f)))),
    "grad_grad": lambda J, f: J.vmap(J.grad(J.grad(f))),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_custom_gradient_matches_jax(name):
    x = np.linspace(0.2, 1.4, 3, dtype=np.float32)
    y = np.float32(1.5) + x
    scalar = name in ("value", "grad", "jit_grad")
    args = (x[1], y[1]) if scalar else (x, y)
    got = TRANSFORMS[name](*_f("ours")[::2])(*args)
    want = TRANSFORMS[name](*_f("jax")[::2])(*args)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        assert np.shape(g) == np.shape(w) and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.parametrize("lib", ["ours", "jax"])
def test_custom_gradient_one_argument_and_pytree_output(lib):
    J, N = LIBS[lib]

    @J.custom_gradient
    def clip_gradient(x):
        return {"a": x, "b": 2 * x}, lambda g: N.clip(g["a"] + g["b"], -1.0, 1.0)

    loss = lambda x: N.sum(clip_gradient(x)["b"] * 10.0)
    got = J.jit(J.grad(loss))(fnp.arange(3.0) if lib == "ours" else jnp.arange(3.0))
    np.testing.assert_allclose(got, [1.0, 1.0, 1.0])


def _doc_example(lib):
    """JAX's closure_convert example: a fixed point solver with a custom VJP whose
    objective closes over a traced parameter."""
    J, N = LIBS[lib]

    @functools.partial(J.custom_vjp, nondiff_argnums=(0,))
    def fixed_point(f, x0, *args):
        x = x0
        for _ in range(60):
            x = f(x, *args)
        return x

    def fwd(f, x0, *args):
        x = fixed_point(f, x0, *args)
        return x, (x, args)

    def bwd(f, res, g):
        x, args = res
        _, vjp_x = J.vjp(lambda x: f(x, *args), x)
        _, vjp_args = J.vjp(lambda *a: f(x, *a), *args)
        # (I - df/dx)^-1 g by its Neumann series (df/dx is small here)
        w = g
        for _ in range(60):
            w = g + vjp_x(w)[0]
        return (None, *vjp_args(w))

    fixed_point.defvjp(fwd, bwd)

    def solve(a):
        f = lambda x: 0.5 * N.cos(x) * a  # closes over the traced `a`
        converted, hoisted = J.closure_convert(f, 0.3)
        return fixed_point(converted, 0.3, *hoisted)
    return J, solve


@pytest.mark.parametrize("transform", ["grad", "jit_grad"])
def test_closure_convert_in_custom_vjp_as_jax_docs(transform):
    results = []
    for lib in ("ours", "jax"):
        J, solve = _doc_example(lib)
        g = J.grad(solve) if transform == "grad" else J.jit(J.grad(solve))
        results.append(g(0.8))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
    eps = 1e-3
    solve = _doc_example("jax")[1]
    fd = (solve(np.float64(0.8 + eps)) - solve(np.float64(0.8 - eps))) / (2 * eps)
    np.testing.assert_allclose(results[0], fd, rtol=1e-2)


@pytest.mark.parametrize("lib", ["ours", "jax"])
def test_closure_convert_hoists_what_jax_hoists(lib):
    J, N = LIBS[lib]
    counts = {}

    def outer(a, n):
        f = lambda x: x * a + n + N.ones(2)  # float tracer a, int tracer n, a constant
        converted, hoisted = J.closure_convert(f, N.zeros(2))
        counts["hoisted"] = len(hoisted)
        return converted(N.arange(2.0), *hoisted)

    out = J.jit(outer)(2.0, 3)
    np.testing.assert_allclose(out, [4.0, 6.0])
    assert counts["hoisted"] == 1  # the int tracer stays closed over, as JAX
    converted, hoisted = J.closure_convert(lambda x: x * 2.0, 1.0)
    assert len(hoisted) == 0
    assert float(converted(4.0)) == 8.0


def test_closure_convert_structure_error_matches_jax():
    for J in (fl, jax):
        converted, _ = J.closure_convert(lambda p: p[0] + p[1], (1.0, 2.0))
        with pytest.raises(TypeError, match="same Pytree structure"):
            converted([1.0, 2.0])
