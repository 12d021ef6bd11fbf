"""Traced values never leak into NumPy or JAX silently, error classes are JAX's, and
tracebacks of errors raised inside transformations show the user's code.

Every conversion (np.asarray, float(), bool(), __index__ ...) is run under every
transformation with JAX and with us on the same program: where JAX raises, we raise a
subclass of JAX's error class; where JAX converts, we give the same value."""
import operator
import traceback

import numpy as np
import pytest
import jax
import jax.numpy as jnp_ref

import functorch_lite as fl
import functorch_lite.numpy as fnp
from functorch_lite import errors

# --- the error classes ------------------------------------------------------------


@pytest.mark.parametrize("name", ["ConcretizationTypeError", "TracerArrayConversionError",
                                  "TracerIntegerConversionError",
                                  "TracerBoolConversionError", "UnexpectedTracerError",
                                  "NonConcreteBooleanIndexError"])
def test_error_classes_subclass_jax(name):
    ours, theirs = getattr(errors, name), getattr(jax.errors, name)
    assert issubclass(ours, theirs)
    builtin = IndexError if name == "NonConcreteBooleanIndexError" else TypeError
    assert issubclass(ours, builtin)


def test_bool_conversion_error_is_a_concretization_error():
    assert issubclass(errors.TracerBoolConversionError, errors.ConcretizationTypeError)
    assert fl.ConcretizationTypeError is errors.ConcretizationTypeError
    assert fl.UnexpectedTracerError is errors.UnexpectedTracerError


def test_errors_pickle_with_their_message():
    import pickle
    with pytest.raises(errors.TracerBoolConversionError) as info:
        fl.jit(lambda x: 1 if x > 0 else 2)(1.0)
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is type(info.value) and str(again) == str(info.value)


# --- conversions under every transformation, against JAX ---------------------------

CONVERSIONS = {
    "np.asarray": lambda x: np.asarray(x),
    "np.array": lambda x: np.array(x),
    "np.sin": lambda x: np.sin(x),
    "__array__": lambda x: x.__array__(),
    "float": lambda x: float(x),
    "complex": lambda x: complex(x),
    "int": lambda x: int(x),
    "bool": lambda x: bool(x > 0),
    "if": lambda x: 1 if x > 0 else 0,
    "__index__": lambda x: operator.index(x.astype("int32")),
    "range": lambda x: len(range(x.astype("int32"))),
    "tolist": lambda x: x.tolist(),
    "item": lambda x: x.item(),
}


def _transforms(api, np_mod):
    def run(f):  # f's result is returned as aux-like data next to the traced value
        return lambda y: (f(y), y)[1] * 1.0
    return {
        "grad": lambda f, x: api.grad(run(f))(x),
        "jvp": lambda f, x: api.jvp(run(f), (x,), (x,)),
        "vjp": lambda f, x: api.vjp(run(f), x)[0],
        "linearize": lambda f, x: api.linearize(run(f), x)[0],
        "vmap": lambda f, x: api.vmap(run(f))(np_mod.stack([x, x])),
        "jit": lambda f, x: api.jit(run(f))(x),
        "grad(grad)": lambda f, x: api.grad(api.grad(lambda y: run(f)(y) * y))(x),
        "grad(vmap)": lambda f, x: api.grad(
            lambda z: api.vmap(run(f))(np_mod.stack([z, z])).sum())(x),
        "vmap(grad)": lambda f, x: api.vmap(api.grad(run(f)))(np_mod.stack([x, x])),
        "jit(grad)": lambda f, x: api.jit(api.grad(run(f)))(x),
        "grad(jit)": lambda f, x: api.grad(api.jit(run(f)))(x),
    }


def _outcome(transform, conversion, x):
    try:
        return "ok", transform(conversion, x)
    except Exception as e:  # noqa: BLE001 (the outcome is what we compare)
        return "raise", e


@pytest.mark.parametrize("transform", list(_transforms(fl, fnp)))
@pytest.mark.parametrize("conversion", list(CONVERSIONS))
def test_conversion_matches_jax(transform, conversion):
    x = 1.5
    kind_j, jax_out = _outcome(_transforms(jax, jnp_ref)[transform], CONVERSIONS[conversion],
                               jnp_ref.asarray(x))
    kind_o, our_out = _outcome(_transforms(fl, fnp)[transform], CONVERSIONS[conversion],
                               fnp.asarray(x))
    if kind_j == "raise":
        assert kind_o == "raise", f"JAX raises {type(jax_out).__name__}; we returned {our_out}"
        assert isinstance(our_out, type(jax_out)), (type(our_out), type(jax_out))
        message = str(our_out)
        assert "test_errors.py" in message  # the user's line
        assert "Fix:" in message
    else:
        assert kind_o == "ok", f"JAX converts; we raised {our_out!r}"
        for a, b in zip(jax.tree_util.tree_leaves(our_out), jax.tree_util.tree_leaves(jax_out)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def test_grad_through_numpy_is_an_error_not_zeros():
    """The motivating case: a NumPy routine inside grad used to return a zero gradient."""
    def loss(w):
        return fnp.sum(np.tanh(w) * 2.0)
    with pytest.raises(errors.TracerArrayConversionError) as info:
        fl.grad(loss)(fnp.ones(3))
    message = str(info.value)
    assert "np.tanh(w)" in message and "functorch_lite.numpy" in message
    assert "interop.from_jax" in message and "grad(loss)" in message


@pytest.mark.parametrize("call", [
    lambda x: jnp_ref.sin(x),
    lambda x: jnp_ref.asarray(x) * 2,
    lambda x: jax.nn.relu(x),
    lambda x: jnp_ref.dot(x, x),
])
@pytest.mark.parametrize("transform", ["grad", "vmap", "jit"])
def test_jax_functions_given_our_tracer_raise_with_the_fix(call, transform):
    f = lambda x: fnp.sum(call(x))  # noqa: E731
    x = fnp.ones(3)
    wrapped = {"grad": fl.grad(f), "vmap": fl.vmap(f), "jit": fl.jit(f)}[transform]
    with pytest.raises(TypeError) as info:
        wrapped(x if transform != "vmap" else fnp.ones((2, 3)))
    text = "".join(traceback.format_exception_only(info.type, info.value))
    assert "functorch_lite.numpy" in text and "interop.from_jax" in text


def test_jax_function_through_from_jax_is_differentiated():
    """The fix the errors name works: from_jax runs JAX code under our transformations."""
    f = fl.interop.from_jax(jnp_ref.sin)
    _, t = fl.jvp(f, (fnp.asarray(0.3),), (fnp.asarray(1.0),))
    np.testing.assert_allclose(t, np.cos(0.3), rtol=1e-6)
    np.testing.assert_allclose(fl.grad(f)(fnp.asarray(0.3)), np.cos(0.3), rtol=1e-6)


def test_error_names_the_jax_function_and_the_wrapper():
    """optax code given our tracer: the message names the JAX function the user's line
    called and the wrapper that fixes it (interop.optax for an optimizer)."""
    import optax
    opt = optax.adam(0.1)
    params = {"w": fnp.ones(3)}
    with pytest.raises(errors.TracerArrayConversionError) as info:
        fl.jit(lambda p: optax.apply_updates(p, p))(params)
    message = str(info.value)
    assert "optax._src.update.apply_updates" in message and "test_errors.py" in message
    assert "functorch_lite.interop.from_jax(apply_updates)" in message
    with pytest.raises(errors.TracerArrayConversionError) as info:
        fl.jit(lambda p, s: opt.update(p, s, p))(params, opt.init(params))
    assert "functorch_lite.interop.optax(tx)" in str(info.value)


def test_jax_array_constants_still_combine_with_tracers():
    """`jax_array + tracer` defers to us (JAX sees no __jax_array__ on our tracers)."""
    w = jnp_ref.arange(3.0)
    g = fl.grad(lambda x: fnp.sum(w * x + x * w - w))(fnp.ones(3))
    np.testing.assert_allclose(g, 2 * np.arange(3.0))
    with pytest.raises(AttributeError, match="from_jax"):
        fl.grad(lambda x: x.__jax_array__())(1.0)


def test_concrete_values_still_convert():
    """Outside every transformation, and for closed-over jax.Array constants, NumPy
    conversion works."""
    c = jnp_ref.arange(3.0)
    assert np.asarray(fnp.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    out = fl.grad(lambda x: x * float(np.asarray(c).sum()))(2.0)
    assert float(out) == 3.0


def test_boolean_mask_under_jit_is_jax_error_class():
    with pytest.raises(jax.errors.NonConcreteBooleanIndexError) as info:
        fl.jit(lambda x: x[x > 0])(fnp.arange(3.0))
    assert "jnp.where" in str(info.value) and "test_errors.py" in str(info.value)


def test_non_scalar_conversions_match_jax_messages():
    with pytest.raises(TypeError, match="Only scalar arrays"):
        fl.jit(lambda x: float(x))(fnp.ones(3))
    with pytest.raises(TypeError, match="integer scalar"):
        fl.vmap(lambda x: operator.index(x))(fnp.ones(3))
    with pytest.raises(ValueError, match="ambiguous"):
        fl.jit(lambda x: bool(x))(fnp.ones(3))


# --- traceback filtering -----------------------------------------------------------

_LIBRARY = ("functorch_lite/", "/nn/")


def _frames(exc):
    return [f.filename for f in traceback.extract_tb(exc.__traceback__)]


def _raise_inside_grad():
    def f(x):
        return fnp.dot(x, fnp.ones(4))  # the line the traceback must end at
    fl.grad(lambda x: fnp.sum(f(x)))(fnp.ones(3))


@pytest.fixture
def filtering():
    old = fl.config.jax_traceback_filtering
    yield lambda mode: fl.config.update("jax_traceback_filtering", mode)
    fl.config.update("jax_traceback_filtering", old)


def test_tracebacks_hide_library_frames_by_default(filtering):
    filtering("auto")
    with pytest.raises(TypeError) as info:
        _raise_inside_grad()
    frames = _frames(info.value)
    assert not any(part in f for f in frames for part in _LIBRARY), frames
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert last.filename == __file__ and "the line the traceback must end at" in last.line
    assert any('"jax_traceback_filtering", "off"' in n for n in info.value.__notes__)


def test_traceback_filtering_off_keeps_library_frames(filtering):
    filtering("off")
    with pytest.raises(TypeError) as info:
        _raise_inside_grad()
    assert any("functorch_lite/" in f for f in _frames(info.value))
    assert not getattr(info.value, "__notes__", [])


def test_remove_frames_keeps_the_full_traceback_as_cause(filtering):
    filtering("remove_frames")
    with pytest.raises(TypeError) as info:
        _raise_inside_grad()
    assert not any("functorch_lite/" in f for f in _frames(info.value))
    cause = info.value.__cause__
    assert type(cause).__name__ == "UnfilteredStackTrace"
    assert any("functorch_lite/" in f for f in _frames(cause))


def test_filtering_mode_is_validated():
    with pytest.raises(ValueError, match="jax_traceback_filtering"):
        fl.config.update("jax_traceback_filtering", "sometimes")


def test_nested_boundaries_filter_once(filtering):
    filtering("auto")
    inner = fl.jit(lambda x: fnp.dot(x, fnp.ones(4)))
    with pytest.raises(TypeError) as info:
        fl.vmap(fl.grad(lambda x: fnp.sum(inner(x))))(fnp.ones((2, 3)))
    assert len(info.value.__notes__) == 1
    assert not any("functorch_lite/" in f for f in _frames(info.value))


def test_nn_frames_are_hidden_too(filtering):
    import nn
    filtering("auto")
    layer = nn.Dense(2)
    params, _ = layer.init(fl.random.PRNGKey(0), fnp.ones((1, 3)))
    with pytest.raises(ValueError) as info:
        layer(params, fnp.ones((1, 4)))
    assert not any(part in f for f in _frames(info.value) for part in _LIBRARY)


# --- debug_nans ---------------------------------------------------------------------

@pytest.fixture
def debug_nans():
    fl.config.update("jax_debug_nans", True)
    yield
    fl.config.update("jax_debug_nans", False)


def test_debug_nans_names_the_primitive_and_line_under_jit(debug_nans):
    def f(x):
        y = x * 2.0
        return fnp.log(y)  # the NaN is made here
    with pytest.raises(FloatingPointError) as info:
        fl.jit(f)(-1.0)
    assert "encountered in log" in str(info.value)
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert "the NaN is made here" in last.line
    assert info.value.__suppress_context__  # the compiled run's error is not shown


def test_debug_nans_eager_names_the_primitive(debug_nans):
    with pytest.raises(FloatingPointError, match="encountered in sqrt"):
        fl.grad(lambda x: fnp.sum(fnp.sqrt(x)))(fnp.array([-1.0]))
