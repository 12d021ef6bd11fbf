"""`custom_batching.custom_vmap` / `sequential_vmap` against JAX: the rule's calls,
values under vmap/jit/jvp and grad of the batched function, vmap of jvp (the rule's
JVP), and JAX's errors (grad of the call itself, mismatched rule outputs)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp

LIBS = {"ours": (fl, fnp), "jax": (jax, jnp)}


def _f(lib, calls):
    J, N = LIBS[lib]

    @J.custom_batching.custom_vmap
    def f(x, y):
        return N.sin(x) * y

    @f.def_vmap
    def rule(axis_size, in_batched, x, y):
        calls.append((axis_size, list(in_batched)))
        xb, yb = in_batched
        return N.cos(x) * y, xb or yb  # deliberately not sin: shows the rule ran
    return J, N, f


X = np.linspace(0.1, 1.3, 3, dtype=np.float32)
CASES = {
    "plain": lambda J, f: f(X[1], 2.0),
    "vmap": lambda J, f: J.vmap(f)(X, X),
    "vmap_in_axes": lambda J, f: J.vmap(f, (0, None))(X, 2.0),
    "jit_vmap": lambda J, f: J.jit(J.vmap(f))(X, X),
    "jvp": lambda J, f: J.jvp(f, (X[1], 2.0), (1.0, 0.5)),
    "grad_of_vmap": lambda J, f: J.grad(lambda x: J.vmap(f)(x, x).sum())(X),
    "jvp_of_vmap": lambda J, f: J.jvp(lambda x: J.vmap(f)(x, x), (X,), (X,)),
    "vmap_of_jvp": lambda J, f: J.vmap(lambda x: J.jvp(f, (x, x), (x, 2 * x)))(X),
    "vmap_of_jvp_unbatched_tangent": lambda J, f: J.vmap(
        lambda x: J.jvp(f, (x, 2.0), (1.0, 0.0)))(X),
    "jit_vmap_of_jit": lambda J, f: J.jit(J.vmap(J.jit(f), (None, 0)))(0.5, X),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_custom_vmap_matches_jax(case):
    ours_calls, jax_calls = [], []
    got = CASES[case](*_f("ours", ours_calls)[::2])
    want = CASES[case](*_f("jax", jax_calls)[::2])
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        assert np.shape(g) == np.shape(w) and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6)
    assert bool(ours_calls) == bool(jax_calls)
    assert ours_calls == jax_calls


@pytest.mark.parametrize("case", ["grad", "vmap_grad"])
def test_reverse_mode_of_the_call_is_refused_as_jax(case):
    for lib in ("ours", "jax"):
        J, _, f = _f(lib, [])
        run = (lambda: J.grad(f)(1.0, 2.0)) if case == "grad" else (
            lambda: J.vmap(J.grad(f))(X, X))
        with pytest.raises(ValueError, match="Linearization failed"):
            run()


def test_unbatched_output_and_rule_errors_match_jax():
    for J, N in LIBS.values():
        @J.custom_batching.custom_vmap
        def g(x):
            return x

        @g.def_vmap
        def summed(axis_size, in_batched, x):
            return x.sum(), False
        np.testing.assert_allclose(J.vmap(g)(X), np.full(3, X.sum()), rtol=1e-6)

        @g.def_vmap
        def mismatched(axis_size, in_batched, x):
            return x, [True]
        with pytest.raises(ValueError, match="do not match"):
            J.vmap(g)(X)


def test_missing_rule_is_an_error():
    f = fl.custom_batching.custom_vmap(lambda x: x)
    with pytest.raises(AttributeError, match="def_vmap"):
        f(1.0)


def test_closing_over_a_batched_value_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="as an argument"):
        fl.vmap(lambda a: _closure(a, 1.0))(X)
    np.testing.assert_allclose(fl.vmap(lambda x: _closure(3.0, x))(X), 2 * X)


def _closure(a, x):
    g = fl.custom_batching.custom_vmap(lambda x: x * a)
    g.def_vmap(lambda n, b, x: (x * 2.0, b[0]))
    return g(x)


@pytest.mark.parametrize("lib", ["ours", "jax"])
def test_sequential_vmap(lib):
    J, N = LIBS[lib]
    h = J.custom_batching.sequential_vmap(lambda m, s: N.sum(m) * s)
    ms = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(J.jit(J.vmap(h, (0, None)))(ms, 2.0), ms.sum(1) * 2)
    np.testing.assert_allclose(J.vmap(h)(ms, X), ms.sum(1) * X, rtol=1e-6)


def test_mixed_batching_of_jvp_is_refused_not_silently_reshaped():
    """One argument batched in primal and tangent, another in its primal only: JAX
    0.10 returns a wrongly shaped (3, 3) result here; we raise instead."""
    J, _, f = _f("ours", [])
    with pytest.raises(ValueError, match=r"f32\[3,3\].*expected shape \(3,\)"):
        J.vmap(lambda x: J.jvp(f, (x, x), (x, 1.0)))(X)
