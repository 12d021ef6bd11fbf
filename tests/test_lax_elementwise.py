"""Elementwise lax primitives against jax.lax: values (eager and jit), jvp/vjp (JAX's
corner cases included: abs and sqrt at 0, max/min ties, pow at x = 0, clamp at its
bounds), vmap, float0 tangents of integer and boolean results, and the errors for
wrong dtypes and shapes."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.lax as flax
from harness import Rec, assert_close, check_jvp_vjp, check_values, check_vmap

F32, F16, BF16, I32, U8, BOOL = (np.float32, np.float16, jnp.bfloat16, np.int32, np.uint8,
                                 np.bool_)
S = (3, 4)  # one shape for (almost) every record: compiled programs are shared
_rng = np.random.RandomState(7)


def _lit(values, dtype=F32):
    return np.asarray(values, dtype)


ABOVE_ONE = _lit(_rng.rand(*S) * 2 + 1.1)                         # acosh
ZEROS_IN = _lit([[0.0, 1.0, -2.0, 0.0], [4.0, 0.0, 0.25, -1.5], [0.5, 2.0, 0.0, 3.0]])
NON_NEG = _lit([[0.0, 1.0, 2.0, 0.0], [4.0, 0.0, 0.25, 1.5], [0.5, 2.0, 0.0, 3.0]])
TIES_A = _lit([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 2.0, 2.0], [5.0, 5.0, -3.0, 1.0]])
TIES_B = _lit([[1.0, 0.0, 3.0, 5.0], [0.0, -2.0, 2.0, 1.0], [4.0, 5.0, -3.0, 2.0]])
HALVES = _lit([0.5, 1.5, 2.5, -0.5, -2.5, 3.7])
SPECIAL = _lit([[np.inf, -np.inf, np.nan, 0.0], [1.0, -1.0, 3e38, -0.0],
                [np.nan, 2.0, -5.0, np.inf]])
SHIFTS = _lit([[0, 1, 2, 3], [4, 5, 31, 0], [1, 1, 2, 7]], I32)
EXPONENTS = _lit([[0, 1, 2, 3], [-1, -2, 2, 0], [1, 3, 2, 4]], I32)
COMPLEX = (_rng.randn(*S) + 1j * _rng.randn(*S)).astype(np.complex64)


def unary(name, shape=S, dtype=F32, domain="normal", grad=True, lax_name=None, **kw):
    ours, ref = getattr(flax, lax_name or name), getattr(jax.lax, lax_name or name)
    spec = [(shape, dtype)] if not isinstance(shape, np.ndarray) else [shape]
    return Rec(f"{name}_{np.dtype(dtype).name}" if not kw.get("suffix") else kw["suffix"],
               ours, ref, spec, domain=domain, grad_argnums=(0,) if grad else (),
               rtol=kw.get("rtol", 1e-5), atol=kw.get("atol", 1e-6),
               grad_rtol=kw.get("grad_rtol", 1e-3))


def binary(name, x=(S, F32), y=(S, F32), grad=(0, 1), domain="normal", suffix="", **kw):
    ours, ref = getattr(flax, name), getattr(jax.lax, name)
    return Rec(f"{name}{suffix}", ours, ref, [x, y], domain=domain, grad_argnums=grad, **kw)


def call(name, ours, ref, specs, grad=(0,), **kw):
    return Rec(name, ours, ref, specs, grad_argnums=grad, **kw)


FLOAT_UNARY = [
    unary("neg"), unary("sign"), unary("floor"), unary("ceil"), unary("exp"), unary("exp2"),
    unary("log", domain="positive"), unary("log1p", domain="positive"), unary("expm1"),
    unary("tanh"), unary("logistic"), unary("sin"), unary("cos"), unary("tan", domain="unit"),
    unary("asin", domain="unit"), unary("acos", domain="unit"), unary("atan"),
    unary("sinh"), unary("cosh"), unary("asinh"), unary("acosh", ABOVE_ONE),
    unary("atanh", domain="unit"), unary("sqrt", domain="positive"),
    unary("rsqrt", domain="positive"), unary("cbrt", domain="positive"), unary("abs"),
    unary("erf"), unary("erfc"), unary("erf_inv", domain="unit", grad_rtol=3e-3),
    unary("lgamma", domain="positive", rtol=1e-4, atol=1e-5),
    unary("digamma", domain="positive", rtol=1e-4, atol=1e-5), unary("square"),
    unary("reciprocal", domain="positive"), unary("is_finite", SPECIAL, grad=False),
    unary("exp", shape=(), suffix="exp_scalar"), unary("sin", shape=(), suffix="sin_scalar"),
]

LOW_PRECISION = [
    unary("exp", dtype=F16, rtol=1e-3, atol=1e-3, grad_rtol=1e-2),
    unary("tanh", dtype=BF16, rtol=1e-2, atol=1e-2, grad_rtol=5e-2),
    unary("sqrt", dtype=BF16, domain="positive", rtol=1e-2, atol=1e-2, grad_rtol=5e-2),
    binary("mul", (S, F16), (S, F16), suffix="_f16", rtol=1e-3, atol=1e-3, grad_rtol=1e-2),
    binary("add", (S, BF16), (S, BF16), suffix="_bf16", rtol=1e-2, atol=1e-2,
           grad_rtol=5e-2),
]

FLOAT_BINARY = [
    binary("add"), binary("sub"), binary("mul"), binary("div", domain="positive"),
    binary("rem", domain="positive", grad_rtol=1e-2), binary("pow", domain="positive"),
    binary("max"), binary("min"), binary("atan2"), binary("nextafter", grad=()),
    binary("add", ((), F32), ((), F32), suffix="_scalar"),
    binary("add", (S, F32), ((), F32), suffix="_rank0_broadcast"),
    binary("mul", ((3, 1), F32), ((1, 4), F32), suffix="_size1_broadcast"),
    binary("max", TIES_A, TIES_B, suffix="_ties"), binary("min", TIES_A, TIES_B, suffix="_ties"),
    binary("pow", NON_NEG, TIES_A, suffix="_zero_base", grad=(1,)),
    binary("pow", NON_NEG, EXPONENTS, suffix="_int_exponent", grad=(0,)),
    call("polygamma", lambda x: flax.polygamma(jnp.ones(S, F32), x),
         lambda x: jax.lax.polygamma(jnp.ones(S, F32), x), [(S, F32)], domain="positive",
         rtol=1e-4, atol=1e-4, grad_rtol=1e-2),
]

CORNER_CASES = [
    call("abs_at_zero", flax.abs, jax.lax.abs, [ZEROS_IN]),
    call("sqrt_at_zero", flax.sqrt, jax.lax.sqrt, [NON_NEG]),
    call("sign_at_zero", flax.sign, jax.lax.sign, [ZEROS_IN]),
    call("round_away", flax.round, jax.lax.round, [HALVES], grad=()),
    call("round_even", lambda x: flax.round(x, flax.RoundingMethod.TO_NEAREST_EVEN),
         lambda x: jax.lax.round(x, jax.lax.RoundingMethod.TO_NEAREST_EVEN), [HALVES]),
    call("round_jax_enum", lambda x: flax.round(x, jax.lax.RoundingMethod.TO_NEAREST_EVEN),
         lambda x: jax.lax.round(x, jax.lax.RoundingMethod.TO_NEAREST_EVEN), [HALVES],
         grad=()),
] + [call(f"integer_pow_{n}", lambda x, n=n: flax.integer_pow(x, n),
          lambda x, n=n: jax.lax.integer_pow(x, n), [ZEROS_IN if n >= 0 else ABOVE_ONE])
     for n in (0, 1, 2, 3, -2)] + [
    call("integer_pow_int", lambda x: flax.integer_pow(x, 3),
         lambda x: jax.lax.integer_pow(x, 3), [(S, I32)], grad=()),
    call("clamp_scalar_bounds", lambda x: flax.clamp(-0.5, x, 0.5),
         lambda x: jax.lax.clamp(-0.5, x, 0.5), [(S, F32)]),
    call("clamp_at_bounds", lambda x: flax.clamp(0.0, x, 2.0),
         lambda x: jax.lax.clamp(0.0, x, 2.0), [NON_NEG]),
    call("clamp_array_bounds", flax.clamp, jax.lax.clamp,
         [_lit(np.full(S, -0.5)), (S, F32), _lit(np.full(S, 0.5))], grad=(0, 1, 2)),
    call("clamp_scalar_array_bound", lambda lo, x: flax.clamp(lo, x, np.float32(1.0)),
         lambda lo, x: jax.lax.clamp(lo, x, np.float32(1.0)), [((), F32), (S, F32)],
         grad=(1,)),
]

INTEGER_OPS = [
    unary("bitwise_not", dtype=I32, grad=False), unary("bitwise_not", dtype=BOOL, grad=False),
    unary("population_count", dtype=I32, grad=False), unary("clz", dtype=I32, grad=False),
    unary("neg", dtype=I32, grad=False), unary("abs", dtype=I32, grad=False),
    unary("sign", dtype=I32, grad=False), unary("sign", dtype=U8, grad=False),
    unary("square", dtype=I32, grad=False),
] + [binary(n, (S, I32), (S, I32), grad=(), suffix="_int32")
     for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "add", "sub", "mul", "max", "min")
     ] + [binary(n, (S, BOOL), (S, BOOL), grad=(), suffix="_bool")
          for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "max")
          ] + [binary(n, (S, I32), SHIFTS, grad=(), suffix="_int32")
               for n in ("shift_left", "shift_right_logical", "shift_right_arithmetic")] + [
    binary("div", (S, I32), _lit(SHIFTS + 1, I32), grad=(), suffix="_int32"),
    binary("rem", (S, I32), _lit(SHIFTS + 1, I32), grad=(), suffix="_int32"),
]

COMPARISONS = [binary(n, x, y, grad=(), suffix=f"_{np.dtype(x[1]).name}")
               for n in ("eq", "ne", "lt", "le", "gt", "ge")
               for x, y in (((S, F32), (S, F32)), ((S, I32), (S, I32)))] + [
    binary(n, TIES_A, TIES_B, grad=(), suffix="_ties") for n in ("eq", "le", "ge")] + [
    binary("lt", (S, BOOL), (S, BOOL), grad=(), suffix="_bool"),
    binary("lt", (S, U8), (S, U8), grad=(), suffix="_uint8"),
]

def _parts(fn, lax):
    """fn with a complex result returned as (real, imag), which the harness compares."""
    return lambda *a: (lax.real(fn(*a)), lax.imag(fn(*a)))


COMPLEX_PARTS = [
    call("real", flax.real, jax.lax.real, [COMPLEX]),
    call("imag", flax.imag, jax.lax.imag, [COMPLEX]),
    call("conj", _parts(flax.conj, flax), _parts(jax.lax.conj, jax.lax), [COMPLEX]),
    call("complex", _parts(flax.complex, flax), _parts(jax.lax.complex, jax.lax),
         [(S, F32), (S, F32)], grad=(0, 1)),
    call("conj_of_real", _parts(flax.conj, flax), _parts(jax.lax.conj, jax.lax), [(S, F32)]),
    call("abs_complex", flax.abs, jax.lax.abs, [COMPLEX]),
]

RECS = (FLOAT_UNARY + LOW_PRECISION + FLOAT_BINARY + CORNER_CASES + INTEGER_OPS +
        COMPARISONS + COMPLEX_PARTS)
for _r in RECS:  # (JAX 0.10 and 0.12 disagree on acosh's derivative at -inf: 0 / NaN)
    if _r.name == "acosh_float32":
        _r.edge_args = ()


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_values(rec):
    check_values(rec, variants=("base", "nonfinite"))


# The harness compares complex cotangents by their real parts (with a ComplexWarning);
# test_complex_part_cotangents compares them in full.
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("rec", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec, variants=("base", "nonfinite"))


# Unary records share one batching rule: a sample of them is enough. Every third record
# is batched along its last axis, the others along the first.
VMAP_RECS = [(r, -1 if i % 3 == 0 else 0) for i, r in enumerate(
    FLOAT_UNARY[::4] + LOW_PRECISION + FLOAT_BINARY + CORNER_CASES[-4:] + INTEGER_OPS[::3] +
    COMPARISONS[::3] + COMPLEX_PARTS[:4])]


@pytest.mark.parametrize("rec,in_axis", VMAP_RECS, ids=lambda v: str(v))
def test_vmap(rec, in_axis):
    check_vmap(rec, in_axis=in_axis)


# --- derivative corner cases, by value ----------------------------------------------

def test_corner_case_derivatives_match_jax():
    cases = [
        (flax.abs, jax.lax.abs, 0.0),            # JAX: slope 1 at 0
        (flax.sqrt, jax.lax.sqrt, 0.0),          # inf
        (flax.cbrt, jax.lax.cbrt, 1.0),
        (lambda x: flax.pow(x, np.float32(2.0)), lambda x: jax.lax.pow(x, np.float32(2.0)),
         0.0),
        (lambda y: flax.pow(np.float32(0.0), y), lambda y: jax.lax.pow(np.float32(0.0), y),
         2.0),                                   # d/dy at x == 0 is 0, not nan
        (lambda x: flax.max(x, np.float32(1.0)), lambda x: jax.lax.max(x, np.float32(1.0)),
         1.0),                                   # tie: 1/2
        (lambda x: flax.integer_pow(x, 3), lambda x: jax.lax.integer_pow(x, 3), 0.0),
        (lambda x: flax.clamp(0.0, x, 1.0), lambda x: jax.lax.clamp(0.0, x, 1.0), 1.0),
    ]
    for ours, ref, x in cases:
        x = np.float32(x)
        assert_close(fl.grad(ours)(x), jax.grad(ref)(x), 1e-6, 1e-6)
        assert_close(fl.grad(fl.grad(ours))(x), jax.grad(jax.grad(ref))(x), 1e-5, 1e-6)


def test_integer_and_boolean_results_have_float0_tangents():
    x = np.arange(12, dtype=F32).reshape(S) - 5
    for ours, ref in [(lambda v: flax.lt(v, np.float32(0)), lambda v: jax.lax.lt(v, 0.0)),
                      (lambda v: flax.lt(v, 0.0), lambda v: jax.lax.lt(v, 0.0)),
                      (flax.is_finite, jax.lax.is_finite),
                      (lambda v: flax.round(v), lambda v: jax.lax.round(v))]:
        out, t = fl.jvp(ours, (x,), (np.ones_like(x),))
        out_r, t_r = jax.jvp(ref, (x,), (np.ones_like(x),))
        assert_close(out, out_r, 0, 0)
        assert_close(t, t_r, 0, 0)
    i = np.arange(12, dtype=I32).reshape(S)
    zero_t = np.zeros(S, jax.dtypes.float0)
    out, t = fl.jvp(lambda v: flax.shift_left(v, v), (i,), (zero_t,))
    assert np.asarray(t).dtype == jax.dtypes.float0 and np.asarray(out).dtype == I32


def test_transposes_of_linear_ops():
    x, y = (np.arange(12, dtype=F32).reshape(S) + 1 for _ in range(2))
    ct = np.linspace(-1, 1, 12, dtype=F32).reshape(S)
    for ours, ref in [(flax.neg, jax.lax.neg), (lambda v: flax.mul(v, y), lambda v: v * y),
                      (lambda v: flax.div(v, y), lambda v: v / y),
                      (lambda v: flax.sub(y, v), lambda v: y - v),
                      (lambda v: flax.add(v, v), lambda v: v + v)]:
        (got,) = fl.linear_transpose(ours, x)(ct)
        (want,) = jax.linear_transpose(ref, x)(ct)
        assert_close(got, want, 1e-6, 1e-6)


def test_nextafter_has_no_derivative():
    with pytest.raises(NotImplementedError, match="nextafter"):
        fl.grad(lambda x: flax.nextafter(x, np.float32(1.0)))(np.float32(0.5))


# --- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("fn,name", [
    (lambda x: flax.bitwise_and(x, x), "bitwise_and"), (flax.bitwise_not, "bitwise_not"),
    (lambda x: flax.shift_left(x, x), "shift_left"), (flax.population_count,
                                                     "population_count")])
def test_integer_only_op_on_floats_raises(fn, name):
    x = np.ones(S, F32)
    for run in (fn, fl.jit(fn)):
        with pytest.raises(TypeError) as info:
            run(x)
        message = str(info.value)
        assert name in message and "float32" in message and "Fix" in message
        assert "test_lax_elementwise.py" in message  # the user's line


def test_float_only_op_on_integers_raises():
    with pytest.raises(TypeError, match=r"exp requires floating-point operands, got int32"):
        flax.exp(np.ones(S, I32))
    with pytest.raises(TypeError, match="integer_pow"):
        flax.integer_pow(np.ones(S, I32), -1)
    with pytest.raises(TypeError, match="population_count.*bool"):
        flax.population_count(np.ones(S, BOOL))


def test_incompatible_shapes_and_dtypes_raise():
    for run in (flax.add, fl.jit(flax.add)):
        with pytest.raises(TypeError, match=r"\(3,\) and \(4,\)"):
            run(np.ones(3, F32), np.ones(4, F32))
    with pytest.raises(TypeError, match="float32, int32"):
        flax.mul(np.ones(3, F32), np.ones(3, I32))
    with pytest.raises(TypeError, match="clamp"):
        flax.clamp(np.ones(2, F32), np.ones(3, F32), np.float32(1))


def test_python_scalar_operands_are_weak():
    x = np.ones(S, F16)
    out = flax.add(x, 1.0)
    assert out.dtype == F16 and not out.weak_type
    assert flax.exp(1.0).weak_type and flax.exp(1.0).dtype == F32


def test_complex_part_cotangents():
    ct = np.linspace(-1, 1, 12, dtype=F32).reshape(S)
    for ours, ref in [(flax.real, jax.lax.real), (flax.imag, jax.lax.imag),
                      (lambda z: flax.real(flax.conj(z)), lambda z: jax.lax.real(jax.lax.conj(z))),
                      (lambda z: flax.imag(flax.conj(z)), lambda z: jax.lax.imag(jax.lax.conj(z))),
                      (flax.abs, jax.lax.abs)]:
        (got,) = fl.vjp(ours, COMPLEX)[1](ct)
        (want,) = jax.vjp(ref, COMPLEX)[1](ct)
        assert np.asarray(got).dtype == np.complex64
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
