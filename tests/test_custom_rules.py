"""custom_jvp and custom_vjp against jax.custom_jvp / jax.custom_vjp with the same rules,
under grad, jvp, jit, vmap and their compositions; forward mode of custom_vjp (beyond
JAX) against the Jacobian its bwd rule implies."""
from functools import partial

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close

TOL = dict(rtol=1e-5, atol=1e-6)
X = np.linspace(-1.0, 1.5, 4).astype(np.float32)


def close(got, want, **tol):
    assert_close(got, want, **{**TOL, **tol}, what="")


# --- one custom_jvp function, written for both libraries ---------------------------

def make_scaled_sin(np_):
    """sin with a JVP rule that is deliberately 2x the true derivative."""
    custom = fl.custom_jvp if np_ is fnp else jax.custom_jvp

    @custom
    def f(x):
        return np_.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 2.0 * np_.cos(x) * t
    return f


F_JVP, F_JVP_REF = make_scaled_sin(fnp), make_scaled_sin(jnp)


def test_custom_jvp_eager_and_jit_values():
    close(F_JVP(X), F_JVP_REF(X))
    close(fl.jit(F_JVP)(X), F_JVP_REF(X))
    assert "custom_jvp_call" in str(fl.make_jaxpr(F_JVP)(X))


COMPOSITIONS = {
    "grad": lambda api, f: api.grad(lambda x: (f(x) * x).sum()),
    "jit(grad)": lambda api, f: api.jit(api.grad(lambda x: (f(x) * x).sum())),
    "grad(jit)": lambda api, f: api.grad(api.jit(lambda x: (f(x) * x).sum())),
    "jvp": lambda api, f: lambda x: api.jvp(f, (x,), (x + 1.0,)),
    "vmap(grad)": lambda api, f: api.vmap(api.grad(lambda x: f(x) * x)),
    "grad(vmap)": lambda api, f: api.grad(lambda x: api.vmap(f)(x).sum()),
    "jvp(vmap)": lambda api, f: lambda x: api.jvp(api.vmap(f), (x,), (x + 1.0,)),
    "grad(grad)": lambda api, f: api.vmap(api.grad(api.grad(f))),
    "jacfwd": lambda api, f: api.jacfwd(f),
    "jacrev": lambda api, f: api.jacrev(f),
    "hessian": lambda api, f: api.hessian(lambda x: (f(x) * x).sum()),
    "jit(vmap(grad))": lambda api, f: api.jit(api.vmap(api.grad(f))),
}


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_custom_jvp_compositions(name):
    make = COMPOSITIONS[name]
    close(make(fl, F_JVP)(X), make(jax, F_JVP_REF)(X))


def test_custom_jvp_fixes_a_nan_gradient():
    def make(np_, custom):
        @custom
        def log1pexp(x):
            return np_.log(1.0 + np_.exp(x))
        log1pexp.defjvps(lambda t, ans, x: t * (1.0 - 1.0 / (1.0 + np_.exp(x))))
        return log1pexp
    ours, ref = make(fnp, fl.custom_jvp), make(jnp, jax.custom_jvp)
    x = np.float32(100.0)
    assert np.isnan(fl.grad(lambda x: fnp.log(1.0 + fnp.exp(x)))(x))
    close(fl.grad(ours)(x), jax.grad(ref)(x))
    close(fl.jit(fl.vmap(fl.grad(ours)))(X), jax.vmap(jax.grad(ref))(X))


def test_custom_jvp_nondiff_argnums_and_pytrees():
    def make(np_, custom):
        @partial(custom, nondiff_argnums=(0,))
        def apply(fn, params, x):
            return {"y": fn(params["w"] * x), "z": params["b"] + x}

        @apply.defjvp
        def apply_jvp(fn, primals, tangents):
            (params, x), (dp, dx) = primals, tangents
            out = apply(fn, params, x)
            dy = 3.0 * (dp["w"] * x + params["w"] * dx)  # not the true derivative
            return out, {"y": dy, "z": dp["b"] + dx}
        return apply
    ours, ref = make(fnp, fl.custom_jvp), make(jnp, jax.custom_jvp)
    params = {"w": np.float32(0.5), "b": np.float32(2.0)}

    def loss(apply, np_, fn):
        return lambda p, x: np_.sum(apply(fn, p, x)["y"] * apply(fn, p, x)["z"])
    got = fl.grad(loss(ours, fnp, fnp.tanh), argnums=(0, 1))(params, X)
    want = jax.grad(loss(ref, jnp, jnp.tanh), argnums=(0, 1))(params, X)
    close(got, want)
    got = fl.jit(fl.grad(loss(ours, fnp, fnp.tanh)))(params, X)
    close(got, jax.grad(loss(ref, jnp, jnp.tanh))(params, X))


def test_custom_jvp_defjvps_several_arguments():
    def make(np_, custom):
        f = custom(lambda x, y: x * np_.sin(y))
        f.defjvps(lambda tx, ans, x, y: tx * np_.sin(y),
                  lambda ty, ans, x, y: 10.0 * x * np_.cos(y) * ty)
        return f
    ours, ref = make(fnp, fl.custom_jvp), make(jnp, jax.custom_jvp)
    y = X[::-1].copy()
    close(fl.grad(lambda a, b: ours(a, b).sum(), (0, 1))(X, y),
          jax.grad(lambda a, b: ref(a, b).sum(), (0, 1))(X, y))
    close(fl.jvp(ours, (X, y), (y, X)), jax.jvp(ref, (X, y), (y, X)))


def test_custom_jvp_closure_over_a_differentiated_value():
    """Beyond JAX (which raises): a closed-over value is differentiated through the
    rule's primal computation; the arguments through the rule."""
    def outer(c):
        @fl.custom_jvp
        def f(x):
            return c * fnp.sin(x)
        f.defjvp(lambda p, t: (f(p[0]), c * fnp.cos(p[0]) * t[0] * 10.0))
        return f(c * 2.0)
    c = 0.7
    # d/dc [c sin(2c)] with the argument's derivative scaled 10x by the rule
    want = np.sin(2 * c) + c * np.cos(2 * c) * 2.0 * 10.0
    close(fl.grad(outer)(c), np.float32(want), rtol=1e-5)
    close(fl.jvp(outer, (c,), (1.0,))[1], np.float32(want), rtol=1e-5)


def test_custom_jvp_errors():
    f = fl.custom_jvp(fnp.sin)
    with pytest.raises(AttributeError, match="No JVP defined"):
        fl.grad(f)(1.0)
    f.defjvp(lambda p, t: fnp.sin(p[0]))
    with pytest.raises(TypeError, match="must produce a pair"):
        fl.grad(f)(1.0)
    f.defjvp(lambda p, t: (fnp.sin(p[0]), fnp.ones(3)))
    with pytest.raises(TypeError, match="corresponding shapes"):
        fl.grad(f)(1.0)
    f.defjvp(lambda p, t: ((fnp.sin(p[0]),), (t[0],)))
    with pytest.raises(TypeError, match="scalar-output"):  # as JAX: f itself never ran
        fl.grad(f)(1.0)
    with pytest.raises(TypeError, match="container"):  # f traced (vmap): checked against f
        fl.jvp(fl.vmap(f), (X,), (X,))


def test_custom_jvp_integer_argument_gets_float0_tangent():
    def make(np_, custom):
        f = custom(lambda x, n: x * n)
        f.defjvp(lambda p, t: (f(*p), t[0] * p[1] * 2.0))
        return f
    ours, ref = make(fnp, fl.custom_jvp), make(jnp, jax.custom_jvp)
    n = np.int32(3)
    close(fl.grad(ours)(X[1], n), jax.grad(ref)(X[1], n))
    _, pullback = fl.vjp(ours, X[1], n)
    _, pullback_r = jax.vjp(ref, X[1], n)
    close(pullback(np.float32(1.0)), pullback_r(np.float32(1.0)))


# --- custom_vjp ----------------------------------------------------------------------

def make_vjp_fn(np_, custom):
    """f(x, y) = sin(x) * y with a bwd rule that scales x's cotangent by 3."""
    @custom
    def f(x, y):
        return np_.sin(x) * y

    def fwd(x, y):  # not calling f: JAX's forward-over-reverse would reject it
        return np_.sin(x) * y, (np_.cos(x), np_.sin(x), y)

    def bwd(res, g):
        cos_x, sin_x, y = res
        return 3.0 * cos_x * y * g, sin_x * g
    f.defvjp(fwd, bwd)
    return f


G, G_REF = make_vjp_fn(fnp, fl.custom_vjp), make_vjp_fn(jnp, jax.custom_vjp)
Y = np.linspace(0.5, 2.0, 4).astype(np.float32)

REVERSE = {
    "grad": lambda api, f: api.grad(lambda x, y: f(x, y).sum(), (0, 1)),
    "jit(grad)": lambda api, f: api.jit(api.grad(lambda x, y: f(x, y).sum(), (0, 1))),
    "grad(jit)": lambda api, f: api.grad(api.jit(lambda x, y: f(x, y).sum()), (0, 1)),
    "vmap(grad)": lambda api, f: api.vmap(api.grad(f, (0, 1))),
    "grad(vmap)": lambda api, f: api.grad(lambda x, y: api.vmap(f)(x, y).sum(), (0, 1)),
    "jacrev": lambda api, f: api.jacrev(f, (0, 1)),
    "hessian": lambda api, f: api.hessian(lambda x, y: f(x, y).sum(), (0, 1)),
    "jit(hessian)": lambda api, f: api.jit(api.hessian(lambda x, y: (f(x, y) ** 2).sum())),
    "grad(grad)": lambda api, f: api.vmap(api.grad(api.grad(f))),
}


@pytest.mark.parametrize("name", REVERSE)
def test_custom_vjp_reverse_mode_and_forward_over_reverse(name):
    make = REVERSE[name]
    close(make(fl, G)(X, Y), make(jax, G_REF)(X, Y))


def _jvp_from_jacrev(f):
    """The JVP J_x @ tx + J_y @ ty (tangents (y, x)) from JAX's reverse mode."""
    def jvp_ref(x, y):
        jx, jy = jax.jacrev(f, (0, 1))(x, y)
        return jx @ y + jy @ x
    return jvp_ref


FORWARD = {  # JAX raises for these; the reference is the reverse-mode equivalent
    "jvp": (lambda f: lambda x, y: fl.jvp(f, (x, y), (y, x))[1], _jvp_from_jacrev),
    "jacfwd": (lambda f: fl.jacfwd(f, (0, 1)), lambda f: jax.jacrev(f, (0, 1))),
    "jit(jacfwd)": (lambda f: fl.jit(fl.jacfwd(f, (0, 1))), lambda f: jax.jacrev(f, (0, 1))),
    "jacfwd(jacfwd)": (lambda f: fl.jacfwd(fl.jacfwd(lambda x, y: f(x, y).sum())),
                       lambda f: jax.hessian(lambda x, y: f(x, y).sum())),
    "jvp(vmap)": (lambda f: lambda x, y: fl.jvp(fl.vmap(f), (x, y), (y, x))[1],
                  _jvp_from_jacrev),
    "vmap(jvp)": (lambda f: fl.vmap(lambda x, y: fl.jvp(f, (x, y), (y, x))[1]),
                  _jvp_from_jacrev),
}


@pytest.mark.parametrize("name", FORWARD)
def test_custom_vjp_forward_mode_transposes_bwd(name):
    ours, ref = FORWARD[name]
    close(ours(G)(X, Y), ref(G_REF)(X, Y))


def test_custom_vjp_nondiff_argnums_pytrees_and_none_cotangent():
    def make(np_, custom):
        @partial(custom, nondiff_argnums=(0,))
        def f(scale, params, x):
            return {"out": np_.tanh(params["w"] * x) * scale, "aux": x * 2.0}

        def fwd(scale, params, x):
            y = np_.tanh(params["w"] * x)
            return f(scale, params, x), {"y": y, "x": x, "w": params["w"]}

        def bwd(scale, res, g):
            dy = g["out"] * scale * (1.0 - res["y"] ** 2)
            return {"w": np_.sum(dy * res["x"]), "b": None}, dy * res["w"] + 5.0 * g["aux"]
        f.defvjp(fwd, bwd)
        return f
    ours, ref = make(fnp, fl.custom_vjp), make(jnp, jax.custom_vjp)
    params = {"w": np.float32(0.8), "b": np.float32(1.0)}

    def loss(f, np_):
        return lambda p, x: np_.sum(f(1.5, p, x)["out"] ** 2) + np_.sum(f(1.5, p, x)["aux"])
    close(fl.grad(loss(ours, fnp), (0, 1))(params, X), jax.grad(loss(ref, jnp), (0, 1))(params, X))
    close(fl.jit(fl.grad(loss(ours, fnp)))(params, X), jax.grad(loss(ref, jnp))(params, X))
    jac_ours = fl.jacfwd(lambda x: ours(1.5, params, x)["out"])(X)
    close(jac_ours, jax.jacrev(lambda x: ref(1.5, params, x)["out"])(X))


def test_custom_rules_nest():
    """custom_jvp inside a custom_vjp fwd, and a custom_vjp inside a custom_jvp body."""
    def make(np_, api):
        inner = make_scaled_sin(np_)

        @api.custom_vjp
        def outer(x):
            return inner(x) * x

        def fwd(x):
            return outer(x), (x, api.grad(lambda v: (inner(v) * v).sum())(x))
        outer.defvjp(fwd, lambda res, g: (res[1] * g,))

        @api.custom_jvp
        def wrapper(x):
            return make_vjp_fn(np_, api.custom_vjp)(x, x)
        wrapper.defjvp(lambda p, t: (wrapper(p[0]), api.jvp(outer, p, t)[1]))
        return outer, wrapper
    (o, w), (o_ref, w_ref) = make(fnp, fl), make(jnp, jax)
    close(fl.grad(lambda x: o(x).sum())(X), jax.grad(lambda x: o_ref(x).sum())(X))
    close(fl.vmap(fl.grad(w))(X), jax.vmap(jax.grad(w_ref))(X))
    close(fl.jit(fl.grad(lambda x: w(x).sum()))(X), jax.grad(lambda x: w_ref(x).sum())(X))


def test_custom_vjp_integer_argument_and_output():
    def make(np_, custom):
        f = custom(lambda x, n: (np_.multiply(x, n), np_.add(n, 1)))
        f.defvjp(lambda x, n: (f(x, n), n), lambda n, g: (np_.multiply(g[0], n) * 2.0, None))
        return f
    ours, ref = make(fnp, fl.custom_vjp), make(jnp, jax.custom_vjp)
    n = np.int32(3)
    close(fl.grad(lambda x: ours(x, n)[0])(X[1]), jax.grad(lambda x: ref(x, n)[0])(X[1]))
    out, pullback = fl.vjp(ours, X[1], n)
    out_r, pullback_r = jax.vjp(ref, X[1], n)
    ct = (np.float32(1.0), np.zeros((), jax.dtypes.float0))
    close(out, out_r)
    close(pullback(ct), pullback_r(ct))
    close(fl.jvp(lambda x: ours(x, n)[0], (X[1],), (np.float32(1.0),))[1], np.float32(6.0))


def test_custom_vjp_errors():
    f = fl.custom_vjp(fnp.sin)
    with pytest.raises(AttributeError, match="No VJP defined"):
        fl.grad(f)(1.0)
    f.defvjp(lambda x: fnp.sin(x), lambda r, g: (g,))
    with pytest.raises(TypeError, match="must produce a pair"):
        fl.grad(f)(1.0)
    f.defvjp(lambda x: (fnp.sin(x), x), lambda r, g: g)
    with pytest.raises(TypeError, match="one cotangent per"):
        fl.grad(f)(1.0)
    f.defvjp(lambda x: (fnp.sin(x), x), lambda r, g: (fnp.ones(3),))
    with pytest.raises(ValueError, match="shape"):
        fl.grad(f)(1.0)

    def closes_over(c):
        g = fl.custom_vjp(lambda x: x * c)
        g.defvjp(lambda x: (x * c, None), lambda r, ct: (ct,))
        return g(2.0)
    with pytest.raises(TypeError, match="closes over a value that is being differentiated"):
        fl.grad(closes_over)(1.0)

    h = fl.custom_vjp(fnp.sin)
    h.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (fnp.sin(g),))  # not linear in g
    assert float(fl.grad(h)(0.3)) == pytest.approx(np.sin(1.0), rel=1e-6)
    with pytest.raises(TypeError, match="linear in the cotangent"):
        fl.jvp(h, (0.3,), (1.0,))


def test_forward_mode_through_a_bwd_rule_that_calls_a_custom_vjp_function():
    """Transposing bwd meets a custom_vjp call on the linear path: it is transposed by
    its own VJP (as in implicit differentiation, whose bwd solves another fixed point)."""
    inner = fl.custom_vjp(lambda c, v: c * v)  # linear in v
    inner.defvjp(lambda c, v: (c * v, (c, v)), lambda res, g: (g * res[1], g * res[0]))
    outer = fl.custom_vjp(fnp.sin)
    outer.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)), lambda cos_x, g: (inner(cos_x, g),))
    close(fl.jvp(outer, (X,), (Y,))[1], jnp.cos(X) * Y)
    close(fl.jit(fl.jacfwd(outer))(X), jnp.diag(jnp.cos(X)))
    close(fl.grad(lambda x: outer(x).sum())(X), jnp.cos(X))


def test_custom_jvp_rule_closing_over_a_value_batched_by_an_enclosing_vmap():
    def per_c(c):
        f = fl.custom_jvp(lambda x: c * fnp.sin(x))
        f.defjvp(lambda p, t: (f(p[0]), 10.0 * c * fnp.cos(p[0]) * t[0]))
        return f
    grad = fl.grad(lambda x: fl.vmap(lambda c: per_c(c)(x))(Y).sum())(0.5)
    close(grad, np.float32(10.0 * Y.sum() * np.cos(0.5)))
    close(fl.vmap(lambda c: fl.grad(per_c(c))(0.5))(Y), 10.0 * Y * np.float32(np.cos(0.5)))


def test_rules_creating_array_constants_under_transformed_jit():
    """User rules run while a jitted program is differentiated or batched; arrays they
    create become constants of the transformed program."""
    scale = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    f = fl.custom_jvp(lambda x: fnp.sin(x) * scale)
    f.defjvp(lambda p, t: (f(p[0]), fnp.cos(p[0]) * np.float32(2.0) * scale * t[0]))
    g = fl.custom_vjp(lambda x: fnp.sin(x) * scale)
    g.defvjp(lambda x: (fnp.sin(x) * scale, fnp.cos(x)),
             lambda cos_x, ct: (cos_x * ct * scale * np.float32(3.0),))
    for fn, factor in ((f, 2.0), (g, 3.0)):
        want = np.float32(factor) * jnp.cos(X) * scale
        close(fl.grad(fl.jit(lambda x: fn(x).sum()))(X), want)
        xs = np.stack([X, 2 * X])  # d/dx sum(fn(x) x) = fn'(x) x + fn(x)
        close(fl.vmap(fl.grad(fl.jit(lambda x: (fn(x) * x).sum())))(xs),
              np.float32(factor) * jnp.cos(xs) * scale * xs + jnp.sin(xs) * scale)
    close(fl.jvp(fl.jit(g), (X,), (Y,))[1], np.float32(3.0) * jnp.cos(X) * scale * Y)
