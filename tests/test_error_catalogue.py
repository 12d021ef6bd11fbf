"""The catalogue of user mistakes: each row makes one mistake and names the error it
must raise and the words its message must contain.

A row is `Case(mistake, make, error, words, jax=True, filtered=True)`:

- `make(j, n)` makes the mistake with the API `j` (functorch_lite, or jax) and its
  numpy `n`; rows with `jax=True` are also run with JAX, and our error must be an
  instance of JAX's class for the same mistake (ours subclass jax.errors' classes), or
  share its builtin base;
- `words`: every one must appear in the message (notes included);
- the innermost frame outside the library, JAX and NumPy is this file's (the user's
  line); with `filtered=True` the traceback holds no library frame at all (the
  mistake happened inside a transformation, and traceback filtering hid our frames).

Adding a case is adding one line.
"""
import os
import traceback
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pytest
import jax
import jax.numpy as jnp_ref

import functorch_lite as fl
import functorch_lite.numpy as fnp

X = np.arange(1.0, 4.0, dtype=np.float32)        # f32[3]
M = np.ones((2, 3), np.float32)                  # f32[2,3]
Z = np.array([1 + 2j, 3 - 1j], np.complex64)


class Case(NamedTuple):
    mistake: str
    make: Callable
    error: type
    words: Sequence[str]
    jax: bool = True
    filtered: bool = True


def _leak(j, n):
    box = []
    j.jit(lambda x: box.append(x) or x)(X)
    return n.sin(box[0])


def _custom_jvp(j, rule):
    f = j.custom_jvp(lambda x: x * 2.0)
    f.defjvp(rule)
    return f


def _custom_vjp(j, bwd):
    f = j.custom_vjp(lambda x: x * 2.0)
    f.defvjp(lambda x: (x * 2.0, None), bwd)
    return f


def _with_debug_nans(j, fn):
    j.config.update("jax_debug_nans", True)
    try:
        return fn()
    finally:
        j.config.update("jax_debug_nans", False)


def _doubling_while(x):
    while x < 9:
        x = x * 2
    return x


def _cond_types(j, n):
    def positive(x):
        return x, x
    def negative(x):
        return x, x[:2]
    return j.lax.cond(True, positive, negative, X)


E = jax.errors
CASES = [
    # --- traced values meeting NumPy, Python and JAX --------------------------------
    Case("np.asarray inside grad", lambda j, n: j.grad(lambda x: np.asarray(x).sum())(1.0),
         E.TracerArrayConversionError, ["__array__", "functorch_lite.numpy", "from_jax"]),
    Case("NumPy function inside vmap", lambda j, n: j.vmap(lambda x: np.sin(x))(X),
         E.TracerArrayConversionError, ["np.sin(x)", "vmap"]),
    Case("np.array inside jit", lambda j, n: j.jit(lambda x: np.array(x))(X),
         E.TracerArrayConversionError, ["__array__", "jit"]),
    Case("float() inside grad", lambda j, n: j.grad(lambda x: float(x) * x)(1.0),
         E.ConcretizationTypeError, ["float()", "astype"]),
    Case("complex() inside jit", lambda j, n: j.jit(lambda x: complex(x))(1.0),
         E.ConcretizationTypeError, ["complex()"]),
    Case("int() inside jit", lambda j, n: j.jit(lambda x: int(x))(1.0),
         E.ConcretizationTypeError, ["int()", "static_argnums"]),
    Case("Python if on a traced value under jit",
         lambda j, n: j.jit(lambda x: x if x > 0 else -x)(1.0),
         E.TracerBoolConversionError, ["if", "lax.cond", "x if x > 0 else -x"]),
    Case("Python while on a traced value under jit",
         lambda j, n: j.jit(_doubling_while)(1.0), E.TracerBoolConversionError,
         ["while_loop", "while x < 9"]),
    Case("Python if under vmap", lambda j, n: j.vmap(lambda x: x if x > 0 else -x)(X),
         E.TracerBoolConversionError, ["vmap", "jnp.where"]),
    Case("`and` on traced values", lambda j, n: j.jit(lambda x: (x > 0) and (x < 2))(1.0),
         E.TracerBoolConversionError, ["and"]),
    Case("range() of a traced value", lambda j, n: j.jit(
        lambda k: sum(range(k)))(np.int32(3)), E.TracerIntegerConversionError,
        ["__index__", "fori_loop"]),
    Case("list indexed by a traced value", lambda j, n: j.jit(
        lambda k: [1.0, 2.0, 3.0][k])(np.int32(1)), E.TracerIntegerConversionError,
        ["__index__"]),
    Case("tolist() inside grad", lambda j, n: j.grad(lambda x: sum(x.tolist()))(X),
         E.ConcretizationTypeError, ["tolist()"]),
    Case("item() under jit", lambda j, n: j.jit(lambda x: x.sum().item())(X),
         E.ConcretizationTypeError, ["item()"]),
    Case("boolean mask under jit", lambda j, n: j.jit(lambda x: x[x > 1])(X),
         E.NonConcreteBooleanIndexError, ["boolean", "jnp.where", "size="]),
    Case("jnp.arange of a traced bound", lambda j, n: j.jit(lambda k: n.arange(k))(3),
         E.ConcretizationTypeError, ["arange", "static"]),
    Case("jnp.nonzero without size under jit", lambda j, n: j.jit(n.nonzero)(X),
         E.ConcretizationTypeError, ["size"]),
    Case("jnp.unique without size under jit", lambda j, n: j.jit(n.unique)(X),
         E.ConcretizationTypeError, ["size"]),
    Case("traced slice bound", lambda j, n: j.jit(lambda x, k: x[:k])(X, 2),
         IndexError, ["Slice entries must be static", "dynamic_slice"]),
    Case("a jax.numpy function given our traced value",
         lambda j, n: j.grad(lambda x: jnp_ref.sin(x))(1.0),
         TypeError, ["not a valid JAX type", "functorch_lite.numpy", "from_jax"], jax=False),
    Case("leaked tracer", _leak, E.UnexpectedTracerError, ["leaked", "jit(<lambda>)",
                                                           "return the value"],
         filtered=False),
    # --- immutability ---------------------------------------------------------------
    Case("item assignment on a traced array",
         lambda j, n: j.jit(lambda x: x.__setitem__(0, 1.0))(X), TypeError,
         ["immutable", "x.at[idx].set(y)"]),
    Case("item assignment on a concrete array",
         lambda j, n: n.ones(3).__setitem__(0, 1.0), TypeError,
         ["immutable", ".at[idx].set"], filtered=False),
    # --- differentiation ------------------------------------------------------------
    Case("grad of a non-scalar output", lambda j, n: j.grad(lambda x: x * 2)(X), TypeError,
         ["scalar-output", "f32[3]", "jnp.sum"]),
    Case("grad of a (loss, aux) tuple without has_aux",
         lambda j, n: j.grad(lambda x: (x.sum(), x))(X), TypeError,
         ["scalar-output", "has_aux=True"]),
    Case("has_aux with a non-tuple output",
         lambda j, n: j.grad(lambda x: x.sum(), has_aux=True)(X), TypeError,
         ["has_aux=True", "pair", "(output, aux)"]),
    Case("has_aux with a 3-tuple", lambda j, n: j.value_and_grad(
        lambda x: (x.sum(), 1, 2), has_aux=True)(X), TypeError, ["pair", "length 3"]),
    Case("grad with respect to an integer", lambda j, n: j.grad(lambda i: i * 2.0)(3),
         TypeError, ["int32", "allow_int"]),
    Case("grad of an integer output", lambda j, n: j.grad(
        lambda x: x.sum().astype(n.int32))(X), TypeError, ["real-valued outputs", "int32"]),
    Case("grad of a complex output", lambda j, n: j.grad(lambda z: (z * z).sum())(Z),
         TypeError, ["complex64", "holomorphic=True"]),
    Case("holomorphic grad of a real input", lambda j, n: j.grad(
        lambda x: x.sum(), holomorphic=True)(X), TypeError, ["holomorphic=True", "complex"]),
    Case("jacrev of an integer output", lambda j, n: j.jacrev(
        lambda x: x.astype(n.int32))(X), TypeError, ["jacrev", "real-valued outputs"]),
    Case("jacfwd of a complex input", lambda j, n: j.jacfwd(lambda z: z * z)(Z),
         TypeError, ["jacfwd", "holomorphic"]),
    Case("grad argnums out of range", lambda j, n: j.grad(
        lambda a, b: (a * b).sum(), argnums=2)(X, X), TypeError, ["argnums=2"]),
    Case("jacrev argnums out of range", lambda j, n: j.jacrev(
        lambda a, b: a * b, argnums=5)(X, X), ValueError, ["argnums"]),
    Case("jvp primals not in a tuple", lambda j, n: j.jvp(lambda x: x, X, X), TypeError,
         ["tuples or lists", "(x,)"]),
    Case("jvp tangent dtype", lambda j, n: j.jvp(lambda x: x, (X,), (np.ones(3, np.int32),)),
         TypeError, ["float32", "int32", "tangent dtype"]),
    Case("jvp tangent shape", lambda j, n: j.jvp(lambda x: x, (X,), (X[:2],)), ValueError,
         ["f32[3]", "f32[2]"]),
    Case("vjp cotangent of the wrong shape", lambda j, n: j.vjp(lambda x: x, X)[1](X[:2]),
         ValueError, ["f32[2]", "f32[3]"]),
    Case("vjp cotangent of the wrong structure", lambda j, n: j.vjp(lambda x: x, X)[1]((X,)),
         ValueError, ["structured like", "PyTreeDef"]),
    Case("custom_jvp without defjvp", lambda j, n: j.custom_jvp(lambda x: x)(X),
         AttributeError, ["defjvp"]),
    Case("custom_jvp rule with a wrongly shaped tangent",
         lambda j, n: j.jvp(_custom_jvp(j, lambda p, t: (p[0] * 2.0, t[0][:2])), (X,), (X,)),
         TypeError, ["tangent", "f32[2]"]),
    Case("custom_vjp bwd returning a bare array",
         lambda j, n: j.grad(lambda x: _custom_vjp(j, lambda r, g: g * 2.0)(x).sum())(X),
         TypeError, ["bwd", "tuple"]),
    Case("reverse mode through a while_loop",
         lambda j, n: j.grad(lambda x: j.lax.while_loop(lambda c: c < 10.0,
                                                        lambda c: c * 2.0, x))(1.0),
         ValueError, ["Reverse-mode", "while_loop"]),
    # --- jit --------------------------------------------------------------------------
    Case("unhashable static argument", lambda j, n: j.jit(
        lambda x, s: x, static_argnums=1)(X, [1, 2]), ValueError,
        ["Non-hashable static", "list", "tuple"]),
    Case("static_argnums out of range", lambda j, n: j.jit(
        lambda x: x, static_argnums=2)(X), ValueError, ["static_argnums", "1 positional"]),
    Case("static_argnames naming no parameter", lambda j, n: j.jit(
        lambda x: x, static_argnames="y")(X), ValueError, ["static_argnames", "'y'"]),
    Case("donating a static argument", lambda j, n: j.jit(
        lambda x, k: x, static_argnums=1, donate_argnums=1)(X, 2), ValueError,
        ["static", "donate"]),
    Case("jit of something that is not a function", lambda j, n: j.jit(3), TypeError,
         ["callable"], filtered=False),
    Case("vmap of something that is not a function", lambda j, n: j.vmap(X), TypeError,
         ["callable"], filtered=False),
    Case("a jitted function returning a string", lambda j, n: j.jit(lambda x: "done")(X),
         TypeError, ["str", "not a valid"]),
    Case("a Python int too big for int32", lambda j, n: j.jit(lambda x: x + 2 ** 40)(1),
         OverflowError, ["1099511627776", "int32"]),
    # --- vmap ---------------------------------------------------------------------------
    Case("vmap over arguments of different sizes", lambda j, n: j.vmap(
        lambda a, b: a + b)(X, M), ValueError,
        ["inconsistent sizes", "argument 0 has size 3", "argument 1 has size 2"]),
    Case("in_axes with the wrong number of entries", lambda j, n: j.vmap(
        lambda a, b: a, in_axes=(0,))(X, X), ValueError, ["in_axes", "2 positional"]),
    Case("in_axes not a prefix of the arguments", lambda j, n: j.vmap(
        lambda d: d["a"], in_axes=({"b": 0},))({"a": X}), ValueError, ["in_axes", "prefix"]),
    Case("in_axes beyond the rank", lambda j, n: j.vmap(lambda x: x, in_axes=1)(X),
         ValueError, ["axis 1", "rank should be at least 2", "positional argument 0"]),
    Case("negative in_axes beyond the rank", lambda j, n: j.vmap(lambda x: x, in_axes=-2)(X),
         ValueError, ["axis -2", "rank"]),
    Case("out_axes beyond the output's rank", lambda j, n: j.vmap(
        lambda x: x * 2, out_axes=2)(M), ValueError, ["out_axes=2", "out of bounds"]),
    Case("out_axes=None for a batched output", lambda j, n: j.vmap(
        lambda x: x, out_axes=None)(X), ValueError, ["out_axes", "None"]),
    Case("in_axes that is not an int", lambda j, n: j.vmap(lambda x: x, in_axes=(0.5,))(X),
         TypeError, ["in_axes", "int, None"], filtered=False),
    Case("vmap with nothing to map", lambda j, n: j.vmap(lambda x: x, in_axes=None)(X),
         ValueError, ["in_axes", "axis_size"]),
    Case("a collective without its axis", lambda j, n: j.vmap(
        lambda x: j.lax.psum(x, "j"), axis_name="i")(X), NameError, ["unbound axis name"]),
    # --- shapes and dtypes --------------------------------------------------------------
    Case("dot of mismatched shapes", lambda j, n: j.jit(n.dot)(X, np.ones(4, np.float32)),
         TypeError, ["dot_general", "(3,)", "(4,)"]),
    Case("matmul of mismatched shapes", lambda j, n: j.jit(n.matmul)(M, M), TypeError,
         ["(2, 3)", "contracting"]),
    Case("adding arrays that do not broadcast (equal rank)", lambda j, n: j.jit(
        lambda a, b: a + b)(X, np.ones(4, np.float32)), TypeError, ["(3,)", "(4,)"]),
    Case("adding arrays that do not broadcast", lambda j, n: j.jit(
        lambda a, b: a + b)(M, np.ones(4, np.float32)), ValueError, ["(2, 3)", "(4,)"]),
    Case("reshape to the wrong size", lambda j, n: j.jit(lambda x: x.reshape(4))(X),
         TypeError, ["reshape", "(3,)", "(4,)"]),
    Case("concatenate mismatched shapes", lambda j, n: j.jit(
        lambda a, b: n.concatenate([a, b]))(M, np.ones((2, 4), np.float32)), TypeError,
        ["2,3", "2,4"]),
    Case("too many indices", lambda j, n: j.jit(lambda x: x[0, 0])(X), IndexError,
         ["Too many indices"]),
    Case("reduction over an axis that does not exist", lambda j, n: j.jit(
        lambda x: x.sum(axis=2))(X), ValueError, ["axis 2", "out of bounds"]),
    Case("lax op on mixed dtypes", lambda j, n: j.jit(j.lax.add)(X, np.ones(3, np.int32)),
         TypeError, ["same dtypes", "astype"]),
    Case("negative dimension", lambda j, n: n.zeros((2, -1)), TypeError, ["negative"],
         filtered=False),
    Case("einsum with mismatched label sizes", lambda j, n: j.jit(
        lambda a, b: n.einsum("ij,jk->ik", a, b))(M, M), ValueError, ["einsum", "j"]),
    Case("out= on a reduction", lambda j, n: n.sum(X, out=np.zeros(())),
         NotImplementedError, ["'out' argument"], filtered=False),
    # --- control flow -------------------------------------------------------------------
    Case("cond branches with different shapes", _cond_types, TypeError,
         ["true_fun is positive at", "false_fun is negative at", "test_error_catalogue.py",
          "path [1]", "f32[3]", "f32[2]", "shapes"]),
    Case("cond branches with different dtypes", lambda j, n: j.lax.cond(
        True, lambda x: {"a": x}, lambda x: {"a": x.astype(n.int32)}, X), TypeError,
        ["path ['a']", "i32[3]", "dtypes"]),
    Case("cond branches with different structures", lambda j, n: j.lax.cond(
        True, lambda x: (x, x), lambda x: [x, x], X), TypeError,
        ["pytree structure", "true_fun is", "false_fun is"]),
    Case("switch branches with different types", lambda j, n: j.lax.switch(
        0, [lambda x: x, lambda x: x.sum()], X), TypeError, ["branch 0", "branch 1"]),
    Case("cond on a non-scalar predicate", lambda j, n: j.lax.cond(
        X > 0, lambda x: x, lambda x: x, X), TypeError, ["Pred must be a scalar"]),
    Case("switch on a float index", lambda j, n: j.lax.switch(
        1.0, [lambda x: x], X), TypeError, ["ndex", "integer"]),
    Case("scan carry changes shape", lambda j, n: j.lax.scan(
        lambda c, x: (c.sum(), x), X, X), TypeError, ["carry", "f32[3]", "f32[]",
                                                       "shapes"]),
    Case("scan carry changes dtype", lambda j, n: j.lax.scan(
        lambda c, x: (c.astype(n.int32), x), X, X), TypeError, ["carry", "dtypes"]),
    Case("scan carry changes structure", lambda j, n: j.lax.scan(
        lambda c, x: ((c, c), x), X, X), TypeError, ["pytree structure", "carry"]),
    Case("scan body not returning a pair", lambda j, n: j.lax.scan(lambda c, x: c, X, X),
         TypeError, ["pair", "f32[3]"]),
    Case("scan over xs of different lengths", lambda j, n: j.lax.scan(
        lambda c, x: (c, x), 0.0, (X, np.ones(4, np.float32))), ValueError,
        ["leading axis sizes", "3", "4"]),
    Case("while_loop carry changes shape", lambda j, n: j.lax.while_loop(
        lambda c: c.sum() < 10, lambda c: c.sum(), X), TypeError, ["while_loop", "carry"]),
    Case("while_loop cond_fun not scalar", lambda j, n: j.lax.while_loop(
        lambda c: c < 10, lambda c: c + 1, X), TypeError, ["cond_fun", "bool[3]"]),
    Case("fori_loop carry changes dtype", lambda j, n: j.lax.fori_loop(
        0, 3, lambda i, c: c.astype(n.int32), X), TypeError, ["carry", "dtypes"]),
    # --- numerics, random, config, nn ---------------------------------------------------
    Case("debug_nans under jit", lambda j, n: _with_debug_nans(
        j, lambda: j.jit(lambda x: n.log(x - 5.0))(X)), FloatingPointError,
        ["invalid value (nan)", "log"]),
    Case("a float array used as a PRNG key", lambda j, n: j.random.normal(
        np.float32(0.0), (2,)), TypeError, ["key"], filtered=False),
    Case("unknown config flag", lambda j, n: j.config.update("jax_no_such_flag", 1),
         AttributeError, ["jax_no_such_flag"], filtered=False),
    Case("unknown traceback filtering mode", lambda j, n: fl.config.update(
        "jax_traceback_filtering", "sometimes"), ValueError, ["off"], jax=False,
        filtered=False),
    Case("nn layer applied to inputs of the wrong width", lambda j, n: _dense_mistake(),
         ValueError, ["kernel", "(3, 2)", "(4, 2)"], jax=False),
]


def _dense_mistake():
    import nn
    layer = nn.Dense(2)
    params, _ = layer.init(fl.random.PRNGKey(0), np.ones((1, 3), np.float32))
    return layer(params, np.ones((1, 4), np.float32))


def test_catalogue_size():
    assert len(CASES) >= 60
    assert len({c.mistake for c in CASES}) == len(CASES)


_LIBRARY = (os.path.dirname(fl.__file__), os.path.dirname(os.path.dirname(fl.__file__))
            + os.sep + "nn" + os.sep)
_OTHERS = (os.path.dirname(jax.__file__), os.path.dirname(np.__file__), "<frozen")


def _raised(make, api, numpy_module):
    try:
        make(api, numpy_module)
    except Exception as e:  # noqa: BLE001 (the error is what the row checks)
        return e
    return None


@pytest.fixture(scope="module", autouse=True)
def default_filtering():
    old = fl.config.jax_traceback_filtering
    fl.config.update("jax_traceback_filtering", "auto")
    yield
    fl.config.update("jax_traceback_filtering", old)


@pytest.mark.parametrize("case", CASES, ids=[c.mistake for c in CASES])
def test_mistake(case):
    error = _raised(case.make, fl, fnp)
    assert error is not None, "the mistake raised nothing"
    assert isinstance(error, case.error), f"{type(error).__name__}: {error}"
    text = "".join(traceback.format_exception_only(type(error), error))
    for word in case.words:
        assert word in text, f"{word!r} not in:\n{text}"
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if not f.filename.startswith(_LIBRARY + _OTHERS)]
    assert user and user[-1].filename == __file__, [f.filename for f in frames]
    if case.filtered:
        assert not any(f.filename.startswith(_LIBRARY) for f in frames), \
            [f.filename for f in frames]
    if case.jax:
        theirs = _raised(case.make, jax, jnp_ref)
        assert theirs is not None, "JAX accepts this: the row is not a mistake"
        same_builtin = next(c for c in type(theirs).__mro__ if c.__module__ == "builtins")
        assert isinstance(error, (type(theirs), same_builtin)), (error, theirs)
