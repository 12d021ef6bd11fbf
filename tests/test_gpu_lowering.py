"""The StableHLO we emit for an NVIDIA GPU against what JAX emits there, checked on any
machine: both lower for 'cuda' without one (`jit(f).trace(...).lower(
lowering_platforms=("cuda",))`). Each test pins one cause of a GPU difference from
JAX (products, factorisation kernels, random bits) to the program text."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
import functorch_lite.random as fr
import backend_expectations as backends
from lowered import jax_text, op_counts, our_text, signatures

F32 = np.float32
DOT = "stablehlo.dot_general"


def test_lowering_for_an_absent_platform():
    x = np.ones((3, 3), F32)
    lowered = fl.jit(lambda a: a @ a).trace(x).lower(lowering_platforms=("cuda",))
    assert lowered.platform == "cuda" and DOT in lowered.as_text()
    with pytest.raises(ValueError, match="lowered for 'cuda'.*as_text"):
        lowered.compile()
    with pytest.raises(ValueError, match="unknown lowering platform 'gpu'"):
        fl.jit(lambda a: a).trace(x).lower(lowering_platforms=("gpu",))
    with pytest.raises(ValueError, match="one platform at a time"):
        fl.jit(lambda a: a).trace(x).lower(lowering_platforms=("cpu", "cuda"))


# --- f32 products: the precision config JAX writes, in every transformation ---------

def _products(mod):
    return {
        "dot_nd": (lambda a, b: mod.dot(a, b), [(2, 3, 4), (5, 4, 2)]),
        "matmul_broadcast": (lambda a, b: mod.matmul(a, b), [(2, 1, 3, 4), (5, 4, 2)]),
        "einsum_bqd_bkd": (lambda a, b: mod.einsum("bqd,bkd->bqk", a, b),
                           [(2, 5, 8), (2, 6, 8)]),
        "einsum_ijk_jil": (lambda a, b: mod.einsum("ijk,jil->kl", a, b),
                           [(3, 4, 5), (4, 3, 2)]),
    }


def _modes(transform, f):
    jvp, vjp = (fl.jvp, fl.vjp) if transform is fl else (jax.jvp, jax.vjp)
    return {"value": f,
            "jvp": lambda *a: jvp(f, a, a),
            "vjp": lambda *a: (lambda out, pullback: pullback(out))(*vjp(f, *a))}


@pytest.mark.parametrize("name", list(_products(jnp)))
def test_products_lower_as_jax(name):
    """Every dot_general of the value, jvp and vjp programs: dimension numbers, types
    and the precision config (written out as DEFAULT when unset, as JAX does)."""
    (fj, shapes), (fo, _) = _products(jnp)[name], _products(fnp)[name]
    args = [np.ones(s, F32) for s in shapes]
    ours, theirs = _modes(fl, fo), _modes(jax, fj)
    for mode in ours:
        assert signatures(our_text(ours[mode], *args), DOT) == \
            signatures(jax_text(theirs[mode], *args), DOT), mode


@pytest.mark.parametrize("setting", ["highest", "tensorfloat32", "bfloat16", "float32",
                                     "BF16_BF16_F32", "TF32_TF32_F32_X3"])
def test_default_matmul_precision_lowers_as_jax(setting):
    a, b = np.ones((2, 3, 4), F32), np.ones((5, 4, 2), F32)
    with jax.default_matmul_precision(setting):
        want = signatures(jax_text(jnp.dot, a, b), DOT)
    with fl.default_matmul_precision(setting):
        got = signatures(our_text(fnp.dot, a, b), DOT)
    assert got == want
    explicit = signatures(our_text(lambda a, b: fnp.dot(a, b, precision=setting), a, b),
                          DOT)
    assert explicit == want
    with pytest.raises(ValueError, match="ANY_F8_ANY_F8_F32.*not supported"):
        fnp.dot(a, b, precision="ANY_F8_ANY_F8_F32")
    with pytest.raises(NotImplementedError, match="F16_F16_F32 on float32 operands"):
        fnp.dot(a, b, precision="F16_F16_F32")


@pytest.mark.parametrize("preset,dtype", [("BF16_BF16_F32", "bfloat16"),
                                          ("F16_F16_F32", "float16")])
def test_dot_algorithm_presets_lower_as_jax(preset, dtype):
    """Presets on their own storage type (the mixed-precision attention products use
    them), through jvp and vjp."""
    a = np.ones((4, 8), dtype=jnp.dtype(dtype))
    dn = (((1,), (1,)), ((), ()))
    f = lambda m: lambda x, y: m.dot_general(x, y, dn, precision=preset,
                                             preferred_element_type=np.float32)
    for mode in ("value", "jvp"):
        got = our_text(_modes(fl, f(fl.lax))[mode], a, a)
        want = jax_text(_modes(jax, f(jax.lax))[mode], a, a)
        assert signatures(got, DOT) == signatures(want, DOT), mode
    if preset in backends.DOT_ALGORITHMS_WITHOUT_KERNEL:  # both refuse
        for m in (fl.lax, jax.lax):
            with pytest.raises(ValueError, match="not supported by dot_general on CPU"):
                fl.jit(f(m))(a, a) if m is fl.lax else jax.jit(f(m))(a, a)
    else:
        np.testing.assert_allclose(f(fl.lax)(a, a), f(jax.lax)(a, a))


def test_default_matmul_precision_retraces_jit():
    f = fl.jit(lambda a: a @ a)
    x = np.ones((2, 2), F32)
    f(x)
    with fl.default_matmul_precision("highest"):
        assert "HIGHEST" in f.lower(x).as_text()
        f(x)  # the cached DEFAULT program is not reused
    assert "HIGHEST" not in f.lower(x).as_text()


INT_AND_MIXED = {
    "int_dot": (lambda m: (lambda a, b: m.dot(a, b)), [(2, 3), (3,)], [np.int32, np.int32]),
    "int_matmul_float": (lambda m: (lambda a, b: m.matmul(a, b)), [(2, 3), (3, 2)],
                         [np.int32, F32]),
    "einsum_int_to_f32": (lambda m: (lambda a, b: m.einsum(
        "ij,jk->ik", a, b, preferred_element_type=np.float32)), [(2, 3), (3, 2)],
        [np.int32, np.int32]),
    "int8_to_int32": (lambda m: (lambda a, b: (jax.lax if m is jnp else fl.lax).dot_general(
        a, b, (((1,), (0,)), ((), ())), preferred_element_type=np.int32)),
        [(4, 8), (8, 2)], [np.int8, np.int8]),
    "bf16_to_f32": (lambda m: (lambda a, b: m.matmul(a, b, preferred_element_type=F32)),
                    [(4, 8), (8, 2)], [jnp.bfloat16, jnp.bfloat16]),
}


@pytest.mark.parametrize("name", list(INT_AND_MIXED))
def test_integer_and_mixed_products_lower_as_jax(name):
    """Operands of one dtype go to dot_general unconverted whatever the result type
    (i8 x i8 -> i32, bf16 x bf16 -> f32), mixed ones are converted first: the forms
    XLA's GPU compiler is built for."""
    make, shapes, dtypes = INT_AND_MIXED[name]
    args = [np.ones(s, d) for s, d in zip(shapes, dtypes)]
    want, got = jax_text(make(jnp), *args), our_text(make(fnp), *args)
    assert signatures(got, DOT) == signatures(want, DOT)
    conversions = lambda text: [s for s in signatures(text, "stablehlo.convert")
                                if s.split("(")[-1].split(")")[0] != s.split("-> ")[-1]]
    assert conversions(got) == conversions(want)


def test_eager_transformations_run_a_product_as_one_program():
    """Under eager jvp and vmap a jnp product stays one jitted call, as in JAX, so its
    derivative runs as one program (the kernels XLA picks, and on a GPU their TF32
    rounding, depend on the program, not only on each dot). (Under grad/vjp it is
    inlined into the linearized program, as before.)"""
    from functorch_lite import _dispatch
    a, b = np.ones((3, 4), F32), np.ones((4, 5), F32) * 2
    before = {k for k in _dispatch._executables.keys() if k[0].name == "dot_general"}
    fl.jvp(fnp.matmul, (a, b), (a, b))
    fl.jacfwd(lambda x: fl.vmap(lambda r: fnp.tanh(r @ b))(x))(a)
    after = {k for k in _dispatch._executables.keys() if k[0].name == "dot_general"}
    assert after == before


# --- factorisations: the cuSOLVER kernels JAX calls ---------------------------------

A = np.eye(4, dtype=F32) * 3 + 1
B = np.ones((4, 2), F32)
FACTORISATIONS = {
    "cholesky": (lambda m, L: m.linalg.cholesky, (A,)),
    "lu": (lambda m, L: L.linalg.lu, (A,)),
    "qr": (lambda m, L: m.linalg.qr, (A,)),
    "eigh": (lambda m, L: m.linalg.eigh, (A,)),
    "svd": (lambda m, L: m.linalg.svd, (A,)),
    "svd_wide_reduced": (lambda m, L: lambda a: m.linalg.svd(a, full_matrices=False),
                         (np.ones((3, 40), F32),)),
    "svd_large": (lambda m, L: m.linalg.svd, (np.ones((1030, 4), F32),)),
    "triangular_solve": (lambda m, L: lambda a, b: L.linalg.triangular_solve(
        a, b, left_side=True, lower=True), (A, B)),
    "solve": (lambda m, L: m.linalg.solve, (A, B)),
}


@pytest.mark.parametrize("name", list(FACTORISATIONS))
@pytest.mark.parametrize("platform", ["cuda", "cpu"])
def test_factorisation_kernels_lower_as_jax(name, platform):
    make, args = FACTORISATIONS[name]
    want = jax_text(make(jnp, jax.lax), *args, platform=platform)
    got = our_text(make(fnp, fl.lax), *args, platform=platform)
    assert signatures(got, "stablehlo.custom_call") == \
        signatures(want, "stablehlo.custom_call")
    if platform == "cuda":
        assert "cusolver" in got or name == "triangular_solve"


# --- random bits: the same float computation after the same hash -------------------

def _float_arithmetic(text):
    """The floating-point arithmetic with its types (data movement such as reshape and
    broadcast_in_dim, which never changes a value, and JAX's spelling of it, left
    out)."""
    from lowered import ops
    skip = ("func.call", "func.return", "stablehlo.constant", "stablehlo.reshape",
            "stablehlo.broadcast_in_dim")
    return sorted(f"{name} {sig.split(' : ')[-1]}" for name, sig in ops(text)
                  if "f32" in sig and name not in skip)


@pytest.mark.parametrize("sampler", ["normal", "truncated_normal", "uniform"])
def test_random_samplers_lower_as_jax(sampler):
    call = {"normal": lambda r, k: r.normal(k, (4, 3)),
            "truncated_normal": lambda r, k: r.truncated_normal(k, -1.5, 2.0, (4, 3)),
            "uniform": lambda r, k: r.uniform(k, (4, 3))}[sampler]
    k = np.array([0, 3], np.uint32)
    keys = np.array([[0, 3], [1, 2]], np.uint32)
    for platform in ("cuda", "cpu"):
        got = our_text(lambda k: call(fr, k), k, platform=platform)
        want = jax_text(lambda k: call(jax.random, k), k, platform=platform)
        assert _float_arithmetic(got) == _float_arithmetic(want), platform
        assert ("stablehlo.while" in got) == ("stablehlo.while" in want), platform
    got = our_text(fl.vmap(lambda k: call(fr, k)), keys)
    want = jax_text(jax.vmap(lambda k: call(jax.random, k)), keys)
    assert _float_arithmetic(got) == _float_arithmetic(want)


# --- the MLP training step of the GPU table ------------------------------------------

def test_mlp_step_compiles_to_the_program_jax_compiles():
    """784-512-512-10, batch 128, SGD: the same products for 'cuda' and, after XLA's
    optimisation on this machine, the same kernels, dots, parameters and outputs, and
    no transposes, copies or f64 values (benchmarks/compare_programs.py prints all)."""
    import compare_programs as cp
    rows = {what: (ours, theirs) for what, ours, theirs in cp.compare()}
    assert rows["StableHLO (cuda): dot_generals identical"] == (True, True)
    optimised = {w: v for w, v in rows.items() if w.startswith("optimised HLO")}
    assert optimised and all(ours == theirs for ours, theirs in optimised.values()), \
        optimised
