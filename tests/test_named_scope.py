"""`named_scope` / `named_call` against JAX: the names reach the equations and the
StableHLO locations (`as_text(debug_info=True)`), survive transformations of staged
programs, and leave values unchanged."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp

LIBS = {"ours": (fl, fnp), "jax": (jax, jnp)}


def _program(lib):
    J, np_ = LIBS[lib]

    def f(x):
        with J.named_scope("outer"):
            y = np_.sin(x)
            with J.named_scope("inner"):
                y = y * x
        return J.named_call(np_.cos, name="mycos")(y)
    return f


def _name_locations(text):
    return set(re.findall(r'loc\("(jit\([^"]*)"', text))


def test_locations_match_jax():
    ours = fl.jit(_program("ours")).lower(1.5).as_text(debug_info=True)
    theirs = jax.jit(_program("jax")).lower(1.5).as_text(debug_info=True)
    expected = {"jit(f)/outer/sin", "jit(f)/outer/inner/mul", "jit(f)/mycos/cos"}
    assert expected <= _name_locations(theirs)  # the oracle names them so
    assert expected <= _name_locations(ours)
    assert "loc(" not in fl.jit(_program("ours")).lower(1.5).as_text()


def test_values_and_transformations_match_jax():
    x = np.linspace(0.1, 1.0, 4, dtype=np.float32)
    for transform in (lambda J, f: J.jit(f), lambda J, f: J.vmap(J.grad(f)),
                      lambda J, f: J.jit(J.vmap(J.grad(J.jit(f))))):
        got = transform(fl, _program("ours"))(x)
        want = transform(jax, _program("jax"))(x)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_names_survive_retracing_a_staged_program():
    """grad of an inner jit re-traces the staged program: its equations keep their
    names (the forward pass of `vmap(grad(jit(f)))` is named as in f)."""
    text = fl.jit(fl.vmap(fl.grad(fl.jit(_program("ours"))))).lower(
        np.ones(3, np.float32)).as_text(debug_info=True)
    assert {"jit(f)/outer/sin", "jit(f)/outer/inner/mul", "jit(f)/mycos/cos"} <= \
        _name_locations(text)


def test_name_stack_recorded_on_equations():
    program = fl.make_jaxpr(_program("ours"))(1.0)
    stacks = {e.primitive.name: e.name_stack for e in program.equations}
    assert stacks == {"sin": ("outer",), "mul": ("outer", "inner"), "cos": ("mycos",)}


def test_decorator_form_and_default_name():
    @fl.named_scope("block")
    def g(x):
        return fnp.exp(x)

    def h(x):
        return fnp.tanh(x)

    locs = _name_locations(fl.jit(lambda x: fl.named_call(h)(g(x))).lower(1.0)
                           .as_text(debug_info=True))
    assert {"jit(<lambda>)/block/exp", "jit(<lambda>)/h/tanh"} <= locs
    assert float(g(0.0)) == 1.0


def test_location_text_is_escaped_and_compiles():
    def f(x):
        with fl.named_scope('we"ird\\name'):
            return fnp.sin(x)
    lowered = fl.jit(f).lower(1.0)
    assert 'loc("jit(f)/we\\"ird\\\\name/sin")' in lowered.as_text(debug_info=True)
    assert float(lowered.compile()(0.5)) == pytest.approx(np.sin(0.5))


def test_bad_name_is_a_type_error_as_jax():
    with pytest.raises(TypeError):
        jax.named_scope(3)
    with pytest.raises(TypeError, match="must be a string"):
        fl.named_scope(3)


def _control_flow(lib):
    J, np_ = LIBS[lib]

    def f(x):
        def body(c, _):
            with J.named_scope("step"):
                return c * 0.5 + np_.sin(c), None
        with J.named_scope("loop"):
            c, _ = J.lax.scan(body, x, None, length=3)
        return J.lax.cond(c.sum() > 0, lambda: J.named_call(np_.cos)(c), lambda: c)
    return f


def test_names_inside_control_flow_bodies():
    """Bodies keep the enclosing scopes (JAX adds its own `while/body` components,
    which we do not); the module with locations compiles and matches JAX's values."""
    x = np.array([0.5, 1.5], np.float32)
    lowered = fl.jit(_control_flow("ours")).lower(x)
    locs = _name_locations(lowered.as_text(debug_info=True))
    assert {"jit(f)/loop/step/sin", "jit(f)/loop/step/mul", "jit(f)/cos/cos"} <= locs
    np.testing.assert_allclose(lowered.compile()(x), jax.jit(_control_flow("jax"))(x),
                               rtol=1e-6)


def test_backward_pass_names_match_jax():
    """Transposed equations are named `transpose(jvp(outer))/inner/...` as JAX's (the
    forward pass keeps `outer/inner/...`, where JAX writes `jvp(outer)/inner/...`)."""
    def f(J, np_):
        def g(x):
            with J.named_scope("outer"):
                with J.named_scope("inner"):
                    return np_.sin(x) * x
        return g
    ours = _name_locations(fl.jit(fl.grad(f(fl, fnp))).lower(1.0).as_text(debug_info=True))
    theirs = _name_locations(jax.jit(jax.grad(f(jax, jnp))).lower(1.0)
                             .as_text(debug_info=True))
    backward = {"jit(g)/transpose(jvp(outer))/inner/mul"}
    assert backward <= theirs and backward <= ours
    assert "jit(g)/outer/inner/sin" in ours and "jit(g)/jvp(outer)/inner/sin" in theirs
