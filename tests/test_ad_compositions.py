"""The AD composition matrix against JAX: nested and mixed transformations, pytrees,
aux outputs, jit interplay (compiled once), perturbation confusion, closures, integer
inputs and the errors users meet; check_grads against finite differences."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import test_util
from harness import assert_close, run_both

X = np.linspace(-0.8, 1.2, 4).astype(np.float32)
A = (np.random.RandomState(0).randn(3, 4) * 0.5).astype(np.float32)
TOL = dict(rtol=2e-5, atol=2e-6)


def close(got, want, **tol):
    assert_close(got, want, **{**TOL, **tol})


def scalar_fn(np_):
    return lambda x: np_.sum(np_.sin(x) * np_.exp(x * 0.3) + x ** 3 * 0.1)


def vector_fn(np_):
    return lambda x: np_.tanh(A @ np_.sin(x)) * np_.sum(x ** 2)


MATRIX = {
    "grad(grad(grad))": lambda api, np_: api.grad(api.grad(api.grad(
        lambda s: scalar_fn(np_)(s * X))))(np.float32(0.7)),
    "jacfwd(jacrev)": lambda api, np_: api.jit(api.jacfwd(api.jacrev(vector_fn(np_))))(X),
    "jacrev(jacfwd)": lambda api, np_: api.jit(api.jacrev(api.jacfwd(vector_fn(np_))))(X),
    "jacrev(jacrev)": lambda api, np_: api.jacrev(api.jacrev(vector_fn(np_)))(X),
    "hessian": lambda api, np_: api.hessian(scalar_fn(np_))(X),
    "grad(jit)": lambda api, np_: api.grad(api.jit(scalar_fn(np_)))(X),
    "jit(grad)": lambda api, np_: api.jit(api.grad(scalar_fn(np_)))(X),
    "jit(grad(jit))": lambda api, np_: api.jit(api.grad(api.jit(scalar_fn(np_))))(X),
    "jvp(grad)": lambda api, np_: api.jvp(api.grad(scalar_fn(np_)), (X,), (X[::-1],)),
    "grad(jvp)": lambda api, np_: api.grad(lambda x: api.jvp(scalar_fn(np_), (x,),
                                                             (x * 2.0,))[1])(X),
    "vmap(grad)": lambda api, np_: api.vmap(api.grad(scalar_fn(np_)))(np.stack([X, -X])),
    "grad(vmap)": lambda api, np_: api.grad(lambda x: api.vmap(vector_fn(np_))(x).sum())(
        np.stack([X, -X])),
    "jit(vmap(grad))": lambda api, np_: api.jit(api.vmap(api.grad(scalar_fn(np_))))(
        np.stack([X, -X])),
    "jacfwd(jit(jacrev))": lambda api, np_: api.jacfwd(api.jit(api.jacrev(
        vector_fn(np_))))(X),
}


@pytest.mark.parametrize("name", MATRIX)
def test_composition_matrix(name):
    want = jax.jit(lambda: MATRIX[name](jax, jnp))()  # one compile for the reference
    close(MATRIX[name](fl, fnp), want, rtol=1e-4, atol=1e-5)


def test_hessian_of_a_pytree_function():
    def f(np_):
        return lambda p: np_.sum(np_.tanh(p["w"] @ p["x"]) ** 2) * np_.exp(p["b"][0])
    params = {"w": A, "x": X, "b": [np.float32(0.3)]}
    close(fl.jit(fl.hessian(f(fnp)))(params), jax.jit(jax.hessian(f(jnp)))(params),
          rtol=1e-4, atol=1e-5)
    close(fl.jacrev(f(fnp))(params), jax.jit(jax.jacrev(f(jnp)))(params))


def _count_jit_compiles(monkeypatch):
    compiled = []
    original = fl._runtime.compile

    def counting(text, *args, **kwargs):
        if text.startswith("module @jit_"):
            compiled.append(text.split()[1])
        return original(text, *args, **kwargs)
    monkeypatch.setattr(fl._runtime, "compile", counting)
    return compiled


def test_grad_of_jit_compiles_forward_and_backward_once(monkeypatch):
    f = fl.jit(lambda x: fnp.sum(fnp.cos(x) * x))
    compiled = _count_jit_compiles(monkeypatch)
    g1 = fl.grad(f)(X)
    assert len(compiled) == 2, compiled  # the known (forward) and transposed programs
    g2 = fl.grad(f)(X + 1.0)
    assert len(compiled) == 2, compiled
    close(g1, jax.grad(lambda x: jnp.sum(jnp.cos(x) * x))(X))
    close(g2, jax.grad(lambda x: jnp.sum(jnp.cos(x) * x))(X + 1.0))


def test_jit_of_grad_is_one_program(monkeypatch):
    g = fl.jit(fl.grad(lambda x: fnp.sum(fnp.cos(x) * x)))
    compiled = _count_jit_compiles(monkeypatch)
    g(X), g(X * 2.0)
    assert len(compiled) == 1, compiled
    close(g(X), jax.grad(lambda x: jnp.sum(jnp.cos(x) * x))(X))


def test_linearize_then_linear_transpose():
    f, f_ref = vector_fn(fnp), vector_fn(jnp)
    y, f_jvp = fl.linearize(f, X)
    y_r, f_jvp_r = jax.linearize(f_ref, X)
    close(y, y_r)
    close(f_jvp(X[::-1].copy()), f_jvp_r(X[::-1].copy()))
    ct = np.arange(3, dtype=np.float32)
    close(fl.linear_transpose(f_jvp, X)(ct), jax.linear_transpose(f_jvp_r, X)(ct))


def test_aux_argnums_and_pytree_arguments():
    def f(np_):
        def loss(p, x, scale):
            y = np_.tanh(p["w"] @ x) * scale
            return np_.sum(y ** 2) + np_.sum(p["layers"][0] * x), {"y": y, "n": 3}
        return loss
    params = {"w": A, "layers": [X * 0.5, np.float32(1.0)]}
    for api, np_ in ((fl, fnp), (jax, jnp)):
        out = api.value_and_grad(f(np_), argnums=(0, 2), has_aux=True)(params, X, 2.0)
        if api is fl:
            ours = out
        else:
            close(ours, out)
    out, pullback, aux = fl.vjp(lambda x: f(fnp)(params, x, 2.0), X, has_aux=True)
    out_r, pullback_r, aux_r = jax.vjp(lambda x: f(jnp)(params, x, 2.0), X, has_aux=True)
    close((out, aux), (out_r, aux_r))
    close(pullback(np.float32(1.5)), pullback_r(np.float32(1.5)))
    close(fl.grad(lambda ps: ps[0] * fnp.sum(ps[1]["a"] ** 2))([2.0, {"a": X}]),
          jax.grad(lambda ps: ps[0] * jnp.sum(ps[1]["a"] ** 2))([2.0, {"a": X}]))
    jac, aux = fl.jacrev(lambda x: (vector_fn(fnp)(x), x * 2), has_aux=True)(X)
    jac_r, aux_r = jax.jacrev(lambda x: (vector_fn(jnp)(x), x * 2), has_aux=True)(X)
    close((jac, aux), (jac_r, aux_r))


def test_perturbation_confusion_and_closures_inside_jit():
    assert float(fl.grad(lambda x: x * fl.grad(lambda y: x + y)(1.0))(3.0)) == 1.0
    assert float(fl.grad(lambda x: fl.jit(lambda y: x * y)(2.0))(3.0)) == 2.0
    # nested: the inner derivative closes over the outer tracer through jit and vmap
    f = lambda x: fl.grad(lambda y: fl.jit(lambda z: fnp.sin(x * z) * y)(y))(x)
    f_ref = lambda x: jax.grad(lambda y: jax.jit(lambda z: jnp.sin(x * z) * y)(y))(x)
    close(fl.grad(f)(0.4), jax.grad(f_ref)(0.4))
    close(fl.vmap(fl.grad(f))(X), jax.vmap(jax.grad(f_ref))(X))


def _scalar_cases(api, np_):
    """Derivatives at a scalar x: each transformation, and constants that keep or
    drop the weak type (a strong float32 constant, a float16 output)."""
    f = lambda x: np_.sin(x) * x ** 2  # noqa: E731
    strong = lambda x: (x * np.float32(2.0)) ** 2  # noqa: E731
    half = lambda x: (x * 3.0).astype(np.float16)  # noqa: E731
    return {
        "grad": lambda x: api.grad(f)(x),
        "grad_strong_constant": lambda x: api.grad(strong)(x),
        "grad_grad": lambda x: api.grad(api.grad(f))(x),
        "jit_grad": lambda x: api.jit(api.grad(f))(x),
        "value_and_grad": lambda x: api.value_and_grad(f)(x),
        "grad_has_aux": lambda x: api.grad(lambda v: (f(v), v * 2.0), has_aux=True)(x),
        "grad_argnums": lambda x: api.grad(lambda a, b: a * b + a, argnums=(0, 1))(
            x, np.float32(2.0)),
        "jacfwd": lambda x: api.jacfwd(f)(x),
        "jacfwd_strong": lambda x: api.jacfwd(strong)(x),
        "jacfwd_float16": lambda x: api.jacfwd(half)(x),
        "jacrev": lambda x: api.jacrev(f)(x),
        "jacrev_float16": lambda x: api.jacrev(half)(x),
        "hessian": lambda x: api.hessian(f)(x),
        "jvp": lambda x: api.jvp(f, (x,), (1.0,)),
        "jvp_strong_tangent": lambda x: api.jvp(f, (x,), (np.float32(1.0),)),
        "vjp": lambda x: api.vjp(f, x)[1](1.0),
    }


@pytest.mark.parametrize("x", [1.5, np.float32(1.5), 2], ids=["float", "float32", "int"])
def test_derivatives_at_python_scalars_have_jax_dtypes_and_weak_types(x):
    ours, ref = _scalar_cases(fl, fnp), _scalar_cases(jax, jnp)
    for name in ours:
        got, want, raised = run_both(lambda: ours[name](x), lambda: ref[name](x), name)
        if raised:  # (integer x: JAX's TypeError, asking for a float input)
            continue
        close(got, want, rtol=1e-5, atol=1e-6)
        got_weak, want_weak = [[bool(getattr(leaf, "weak_type", False))  # numpy: strong
                                for leaf in jax.tree_util.tree_leaves(tree)]
                               for tree in (got, want)]
        assert got_weak == want_weak, f"{name}({x!r}): weak types {got_weak}, JAX {want_weak}"


def _elementwise_fns(np_, nn):
    unary = ["sin", "tan", "exp", "log", "sqrt", "tanh", "arctan", "log1p", "expm1",
             "square", "abs", "reciprocal", "cbrt", "exp2", "arcsin", "arcsinh", "sign"]
    return [getattr(np_, n) for n in unary] + [
        # (not x ** x: JAX's weak type for it differs between eager and jit; not
        # maximum or clip: weak in JAX 0.10, strong in 0.12)
        lambda x: x ** 3, lambda x: x ** 0.5, lambda x: 2.0 ** x,
        lambda x: np_.where(x > 0, x, 0.0), lambda x: np_.logaddexp(x, 1.0),
        lambda x: np_.hypot(x, 1.0), lambda x: np_.arctan2(x, 1.0), nn.relu, nn.softplus,
        nn.gelu, lambda x: np_.sum(np_.stack([x, x * 2.0]))]


def test_gradients_at_a_python_float_have_jax_weak_types():
    def grads(api, np_, nn):
        return lambda x: [api.grad(f)(x) for f in _elementwise_fns(np_, nn)]
    got = fl.jit(grads(fl, fnp, fl.nn))(0.3)
    want = jax.jit(grads(jax, jnp, jax.nn))(0.3)
    close(got, want)
    assert [g.weak_type for g in got] == [w.weak_type for w in want]


def test_integer_inputs():
    with pytest.raises(TypeError, match=r"int32.*allow_int"):
        fl.grad(lambda x: x * 2.0)(np.int32(3))
    f = lambda x, n: x * n
    out, tangent = fl.jvp(f, (np.float32(2.0), np.int32(3)),
                          (np.float32(1.0), np.zeros((), jax.dtypes.float0)))
    out_r, tangent_r = jax.jvp(f, (np.float32(2.0), np.int32(3)),
                               (np.float32(1.0), np.zeros((), jax.dtypes.float0)))
    close((out, tangent), (out_r, tangent_r))
    _, pullback = fl.vjp(f, np.float32(2.0), np.int32(3))
    _, pullback_r = jax.vjp(f, np.float32(2.0), np.int32(3))
    cts, cts_r = pullback(np.float32(1.0)), pullback_r(np.float32(1.0))
    assert np.asarray(cts[1]).dtype == jax.dtypes.float0
    close(cts, cts_r)
    g = fl.grad(lambda x, n: x * n, allow_int=True, argnums=(0, 1))(np.float32(2.0),
                                                                    np.int32(3))
    assert np.asarray(g[1]).dtype == jax.dtypes.float0


def test_errors_for_non_scalar_outputs_and_traced_control_flow():
    with pytest.raises(TypeError, match="scalar-output"):
        fl.grad(fnp.sin)(X)

    def concrete_branch(x):  # under grad the forward values are concrete
        return fnp.sin(x) if x > 0 else fnp.cos(x)
    close(fl.grad(concrete_branch)(0.5), jax.grad(jnp.sin)(0.5))
    close(fl.grad(concrete_branch)(-0.5), jax.grad(jnp.cos)(-0.5))
    # float() would drop the derivative: JAX and we raise even though x is concrete
    with pytest.raises(jax.errors.ConcretizationTypeError, match="float"):
        fl.grad(lambda x: fnp.sin(x) * float(x))(0.5)

    def traced_branch(x):
        if x > 0:  # the line the error must name
            return x
        return -x
    with pytest.raises(fl.ConcretizationTypeError) as info:
        fl.jit(traced_branch)(1.0)
    assert "if x > 0:  # the line the error must name" in str(info.value)
    assert "test_ad_compositions.py" in str(info.value)


def test_check_grads_against_finite_differences():
    test_util.check_grads(scalar_fn(fnp), (X,), order=2)
    test_util.check_grads(vector_fn(fnp), (X,), order=2, modes=("rev",))
    test_util.check_grads(lambda p: {"a": p["x"] * fnp.exp(p["y"])},
                          ({"x": X, "y": np.float32(0.3)},), order=3, modes=("fwd",))
    wrong = fl.custom_jvp(fnp.sin)
    wrong.defjvp(lambda p, t: (fnp.sin(p[0]), 2.0 * fnp.cos(p[0]) * t[0]))
    for mode in ("fwd", "rev"):
        with pytest.raises(AssertionError):
            test_util.check_grads(wrong, (X,), order=1, modes=(mode,))
