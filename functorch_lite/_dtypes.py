"""Dtypes: canonicalisation (32- vs 64-bit), weak types and JAX's promotion lattice."""
import numpy as np
import ml_dtypes
from jax import dtypes as _jax_dtypes

from ._config import config

bfloat16 = np.dtype(ml_dtypes.bfloat16)
float0 = np.dtype([("float0", np.void, 0)])  # the tangent type of integer values, as in JAX
bool_ = np.dtype(np.bool_)
float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)

# ml_dtypes' narrow floats (float8, float6, float4) and sub-byte integers, where the
# installed ml_dtypes has them. As in JAX they never promote implicitly: only weak
# Python scalars join them (a float8 array times 2.0 stays float8).
NARROW_FLOATS = tuple(np.dtype(getattr(ml_dtypes, n)) for n in (
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
    "float8_e4m3b11fnuz", "float8_e4m3", "float8_e3m4", "float8_e8m0fnu", "float6_e2m3fn",
    "float6_e3m2fn", "float4_e2m1fn") if hasattr(ml_dtypes, n))
NARROW_SIGNED = tuple(np.dtype(getattr(ml_dtypes, n)) for n in ("int1", "int2", "int4")
                      if hasattr(ml_dtypes, n))
NARROW_UNSIGNED = tuple(np.dtype(getattr(ml_dtypes, n)) for n in ("uint1", "uint2", "uint4")
                        if hasattr(ml_dtypes, n))

_TO_32 = {float64: float32, int64: int32, uint64: uint32, complex128: complex64}


def canonicalize_dtype(dtype):
    """The dtype an array of `dtype` gets here: 64-bit types shrink unless x64 is on."""
    dtype = np.dtype(dtype)
    if not config.jax_enable_x64:
        return _TO_32.get(dtype, dtype)
    return dtype


def default_int():
    return int64 if config.jax_enable_x64 else int32


def default_float():
    return float64 if config.jax_enable_x64 else float32


def default_complex():
    return complex128 if config.jax_enable_x64 else complex64


def _ml_dtypes(names):
    return {np.dtype(getattr(ml_dtypes, n)) for n in names if hasattr(ml_dtypes, n)}


# ml_dtypes' extra scalar types, filed under the NumPy abstract types as JAX files them
_ML_FLOATS = _ml_dtypes(["bfloat16"] + [n for n in dir(ml_dtypes) if n.startswith("float")])
_ML_SIGNED = _ml_dtypes(["int1", "int2", "int4"])
_ML_UNSIGNED = _ml_dtypes(["uint1", "uint2", "uint4"])


def issubdtype(a, b):
    """`np.issubdtype`, with ml_dtypes' types (bfloat16, float8_*, int4, ...) filed
    under `np.floating` / `np.signedinteger` / `np.unsignedinteger` as JAX files them,
    and key dtypes under `dtypes.prng_key` / `dtypes.extended`."""
    if is_key(a) or b in (_jax_dtypes.prng_key, _jax_dtypes.extended):
        return _jax_dtypes.issubdtype(a, b)
    try:
        a_dtype = np.dtype(a)
    except TypeError:
        return np.issubdtype(a, b)
    for extras, parent in ((_ML_FLOATS, np.floating), (_ML_SIGNED, np.signedinteger),
                           (_ML_UNSIGNED, np.unsignedinteger)):
        if a_dtype in extras:
            if isinstance(b, type) and issubclass(b, np.generic) and issubclass(parent, b):
                return True  # an abstract type above ours: floating, inexact, number
            try:
                return a_dtype == np.dtype(b)
            except TypeError:
                return False
    return np.issubdtype(a, b)


def is_float(dtype):
    return not is_key(dtype) and (issubdtype(dtype, np.floating) or dtype in NARROW_FLOATS)


def is_complex(dtype):
    return not is_key(dtype) and np.issubdtype(dtype, np.complexfloating)


def is_inexact(dtype):
    return is_float(dtype) or is_complex(dtype)


def is_integer(dtype):
    return not is_key(dtype) and (np.issubdtype(dtype, np.integer)
                                  or dtype in NARROW_SIGNED + NARROW_UNSIGNED)


def is_unsigned(dtype):
    return not is_key(dtype) and (np.issubdtype(dtype, np.unsignedinteger)
                                  or dtype in NARROW_UNSIGNED)


def python_scalar_dtype(x):
    """Dtype of a Python scalar (weakly typed): bool, default int, float or complex."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return default_int()
    if isinstance(x, float):
        return default_float()
    if isinstance(x, complex):
        return default_complex()
    raise TypeError(f"not a Python scalar: {x!r}")


def is_key(dtype):
    """Whether `dtype` is a PRNG key dtype (`key<fry>`): JAX's extended dtype of typed
    key arrays, the only dtype of our abstract values that is not a NumPy dtype."""
    return not isinstance(dtype, (np.dtype, type, str)) and _jax_dtypes.issubdtype(
        dtype, _jax_dtypes.prng_key)


def tangent_dtype(dtype):
    """Tangents of inexact values share their dtype; integers, bools and keys get
    float0."""
    return float0 if is_key(dtype) or not is_inexact(dtype) else dtype


def finfo(dtype):
    return ml_dtypes.finfo(dtype)


def iinfo(dtype):
    return np.iinfo(dtype)


# --- JAX's type promotion lattice -------------------------------------------------
# Nodes are dtypes plus the weak kinds "i*", "f*", "c*" (Python int/float/complex).
# The result type of several operands is the least upper bound in this lattice.
_LATTICE = {
    "b": ["i*"], "i*": ["u8", "i8"],
    "u8": ["u16", "i16"], "u16": ["u32", "i32"], "u32": ["u64", "i64"], "u64": ["f*"],
    "i8": ["i16"], "i16": ["i32"], "i32": ["i64"], "i64": ["f*"],
    "f*": ["bf16", "f16", "c*"], "bf16": ["f32"], "f16": ["f32"], "f32": ["f64", "c64"],
    "f64": ["c128"], "c*": ["c64"], "c64": ["c128"], "c128": [],
}
_NODE_OF = {bool_: "b", uint8: "u8", uint16: "u16", uint32: "u32", uint64: "u64",
            int8: "i8", int16: "i16", int32: "i32", int64: "i64", bfloat16: "bf16",
            float16: "f16", float32: "f32", float64: "f64", complex64: "c64",
            complex128: "c128"}
_DTYPE_OF = {v: k for k, v in _NODE_OF.items()}


def _upper_sets(lattice):
    ups = {}

    def visit(n):
        if n not in ups:
            s = {n}
            for m in lattice[n]:
                s |= visit(m)
            ups[n] = s
        return ups[n]

    for n in lattice:
        visit(n)
    return ups


for _narrow in NARROW_FLOATS + NARROW_SIGNED + NARROW_UNSIGNED:  # leaves of the lattice
    _NODE_OF[_narrow] = _narrow.name
    _DTYPE_OF[_narrow.name] = _narrow
    _LATTICE[_narrow.name] = []
    _LATTICE["f*" if _narrow in NARROW_FLOATS else "i*"].append(_narrow.name)
_UPPER = _upper_sets(_LATTICE)


def _strict_lattice():
    """JAX's lattice under jax_numpy_dtype_promotion='strict': only weakly typed
    Python scalars promote (an int to any integer or float type, a float to any float
    or complex type); two different array dtypes never do."""
    ints = [n for n, d in _DTYPE_OF.items() if np.dtype(d).kind in "iu" or
            d in NARROW_SIGNED + NARROW_UNSIGNED]
    floats = [n for n, d in _DTYPE_OF.items() if np.dtype(d).kind == "f" or
              d == bfloat16 or d in NARROW_FLOATS]
    return {**{n: [] for n in _LATTICE}, "i*": ["f*", *ints], "f*": ["c*", *floats],
            "c*": ["c64", "c128"]}


_STRICT_UPPER = _upper_sets(_strict_lattice())
_WEAK_NODE = {"b": "b", "i": "i*", "u": "i*", "f": "f*", "c": "c*"}


def _node(dtype, weak):
    dtype = np.dtype(dtype)
    if weak and dtype != bool_:
        if dtype == bfloat16 or dtype in NARROW_FLOATS:
            return "f*"
        return "i*" if dtype in NARROW_SIGNED + NARROW_UNSIGNED else _WEAK_NODE[dtype.kind]
    return _NODE_OF[dtype]


def _join(nodes):
    strict = config.jax_numpy_dtype_promotion == "strict"
    upper = _STRICT_UPPER if strict else _UPPER
    common = set.intersection(*(upper[n] for n in nodes))
    # the least element: the one whose upper set holds all of `common`
    for n in common:
        if upper[n] >= common:
            return n
    if strict:
        raise _jax_dtypes.TypePromotionError(  # JAX's class (a ValueError)
            f"Input dtypes {tuple(nodes)} have no available implicit dtype promotion "
            f"path when jax_numpy_dtype_promotion=strict. Fix: cast the inputs to the "
            f"type you want explicitly (x.astype(...)), or set "
            f"jax_numpy_dtype_promotion='standard'.")
    raise TypeError(f"Input dtypes {tuple(nodes)} have no available implicit dtype "
                    f"promotion path (narrow floats and sub-byte integers never promote "
                    f"implicitly). Convert one explicitly, e.g. x.astype('float32').")


def promote_types(a, b):
    """Strong-typed promotion of two dtypes, as `jnp.promote_types`."""
    return result_type_of([(a, False), (b, False)])[0]


def result_type_of(dtypes_and_weak):
    """Join of (dtype, weak_type) pairs: returns (dtype, weak_type) of the result.
    Typed PRNG keys join only with keys of their own dtype (stacking keys is fine,
    arithmetic on them is not)."""
    keys = {d for d, _ in dtypes_and_weak if is_key(d)}
    if keys:
        if len(keys) == 1 and len(keys) == len({d for d, _ in dtypes_and_weak}):
            return keys.pop(), False
        others = ", ".join(str(d) for d, _ in dtypes_and_weak if d not in keys)
        raise TypeError(f"PRNG key arrays ({', '.join(map(str, keys))}) are not numbers "
                        f"and do not combine with {others or 'other key types'}. Fix: "
                        f"pass keys only to functorch_lite.random functions; "
                        f"random.key_data(key) gives their uint32 bits.")
    nodes = [_node(d, w) for d, w in dtypes_and_weak]
    n = _join(nodes)
    if n.endswith("*"):
        kind = n[0]
        dtype = {"i": default_int(), "f": default_float(), "c": default_complex()}[kind]
        return canonicalize_dtype(dtype), True
    return canonicalize_dtype(_DTYPE_OF[n]), False
