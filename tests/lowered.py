"""Compare the StableHLO we emit with JAX's for the same function, on any target
platform (JAX and we both lower for a platform that is not present, e.g. 'cuda' on a
CPU-only machine). Both texts are parsed by jaxlib's MLIR and printed in the generic
form, so ops are compared by name, attributes and types, not by spelling."""
import collections
import re

import jax

import functorch_lite as fl
from functorch_lite import _runtime

_OP = re.compile(r'^\s*(?:%[\w#:]+(?:, %[\w#:]+)* = )?"([\w.]+)"\((.*)$')
_SSA = re.compile(r"%[\w#]+")
_LOC = re.compile(r" loc\([^)]*\)")
# attributes that do not change the program: defaults some writers spell out, and
# Shardy's sharding rule (JAX adds it for multi-device partitioning)
_NEUTRAL = re.compile(r"(api_version = 1 : i32|called_computations = \[\]|"
                      r"has_side_effect = false|output_operand_aliases = \[\])(, )?")
_SHARDY = re.compile(r",? ?sdy\.sharding_rule = #sdy\.op_sharding_rule<.*?>(?=\} :)")


def jax_text(fun, *args, platform="cuda"):
    return jax.jit(fun).trace(*args).lower(lowering_platforms=(platform,)).as_text()


def our_text(fun, *args, platform="cuda"):
    return fl.jit(fun).trace(*args).lower(lowering_platforms=(platform,)).as_text()


def ops(text):
    """[(op name, signature)] of every operation in the module, in order; the signature
    is the generic-form line without SSA names (attributes and types)."""
    out = []
    for line in _runtime.parse_module(text).splitlines():
        m = _OP.match(line)
        if m and m.group(1) not in ("func.func", "builtin.module"):
            sig = _NEUTRAL.sub("", _SHARDY.sub("", _LOC.sub("", _SSA.sub("%", m.group(2)))))
            out.append((m.group(1), re.sub(r"(, )?\}", "}", sig).strip()))
    return out


def op_counts(text, ignore=("func.call", "func.return", "stablehlo.return")):
    return collections.Counter(name for name, _ in ops(text) if name not in ignore)


def signatures(text, name):
    """Sorted signatures of the ops called `name` (e.g. 'stablehlo.dot_general')."""
    return sorted(sig for n, sig in ops(text) if n == name)
