"""Every primitive has its rules: abstract evaluation and lowering always; batching
unless it takes no array operand; JVP unless it is listed below with the reason."""
import gc

import functorch_lite  # noqa: F401  (registers every primitive)
import nn  # noqa: F401
from functorch_lite._core import Primitive

NO_OPERANDS = {"iota", "literal_array", "axis_index"}  # nothing to batch or perturb
NO_JVP = {
    "nextafter": "piecewise constant in floating point; JAX defines no derivative",
    "reduce_and": "boolean result", "reduce_or": "boolean result",
    "reduce_xor": "boolean result",
    "pmax": "JAX defines no derivative for pmax", "pmin": "as pmax",
    "scatter_apply": "applies an arbitrary function; not differentiable (as in JAX)",
    "reduce": "lax.reduce with an arbitrary computation or several operands; with "
              "add/mul/max/min it becomes the differentiable reduce_* primitives",
    "schur": "JAX defines no derivative for the Schur decomposition",
    "hessenberg": "JAX defines no derivative for the Hessenberg reduction",
    "householder_product": "JAX defines no derivative for householder_product",
    "linalg_kernel": "internal LAPACK/cuSOLVER call inside linalg lowerings; the "
                     "lax.linalg primitives carry the derivative rules",
    "scaled_dot": "block-scaled float8 products; JAX defines no derivative either",
    "select_and_scatter": "user select/scatter computations; JAX defines no derivative",
    "threefry2x32": "integer hash of PRNG keys and counters: nothing to differentiate",
    "cudnn_attention_fwd": "cuDNN's attention kernel; nn.dot_product_attention wraps it "
                           "in a custom_vjp whose backward is cudnn_attention_bwd",
    "cudnn_attention_bwd": "the backward kernel of cudnn_attention_fwd's custom_vjp",
}


def all_primitives():
    return sorted({p.name: p for p in gc.get_objects() if isinstance(p, Primitive)}.values(),
                  key=lambda p: p.name)


def test_every_primitive_has_abstract_eval_and_lowering():
    missing = [p.name for p in all_primitives()
               if p.abstract_eval_rule is None or p.lowering_rule is None]
    assert not missing


def test_every_primitive_with_operands_has_a_batching_rule():
    missing = [p.name for p in all_primitives() if p.batching_rule is None
               and p.name not in NO_OPERANDS | {"linalg_kernel"}]
    assert not missing


def test_jvp_rules_everywhere_but_the_documented_exceptions():
    missing = {p.name for p in all_primitives() if p.jvp_rule is None}
    assert missing <= NO_OPERANDS | set(NO_JVP), sorted(missing - NO_OPERANDS - set(NO_JVP))
