"""Which functorch_lite operation each JAX primitive becomes (for `interop.from_jax`).

Most JAX primitives share name and parameters with the `functorch_lite.lax` function
that binds ours; `translation(name, params)` returns a rule `(translator, eqn, *args)`
or None, and None sends the equation to the opaque `jax_call` fallback. A parameter we
do not understand (anything but the defaults listed in `_IGNORED`) also means None:
never a silently different computation.
"""
import inspect

from . import lax, random
from .lax import linalg
from .numpy import issubdtype, integer
from ._core import get_aval

# parameters JAX records that change nothing in what is computed when they hold these
_IGNORED = {"accuracy": None, "sharding": None, "out_sharding": None, "out_dtype": None}

# JAX primitive name -> functorch_lite.lax function name, where they differ
_RENAMED = {"add_any": "add", "and": "bitwise_and", "or": "bitwise_or",
            "xor": "bitwise_xor", "not": "bitwise_not", "scatter-add": "scatter_add",
            "scatter-mul": "scatter_mul", "scatter-min": "scatter_min",
            "scatter-max": "scatter_max"}

# parameters that are bookkeeping for JAX (its scatter combiners) or that ours meets
_DROPPED = {"scatter_add": ("update_jaxpr", "update_consts"),
            "scatter_mul": ("update_jaxpr", "update_consts"),
            "scatter_min": ("update_jaxpr", "update_consts"),
            "scatter_max": ("update_jaxpr", "update_consts"),
            "scatter": ("update_jaxpr", "update_consts"),
            "top_k": ("is_stable",)}  # ours is stable, which either setting allows


def _named_tuple(ours):
    return lambda theirs: ours(*theirs) if theirs is not None else None


_CONVERT = {"dimension_numbers": {
    "gather": _named_tuple(lax.GatherDimensionNumbers),
    "scatter": _named_tuple(lax.ScatterDimensionNumbers),
    "scatter_add": _named_tuple(lax.ScatterDimensionNumbers),
    "scatter_mul": _named_tuple(lax.ScatterDimensionNumbers),
    "scatter_min": _named_tuple(lax.ScatterDimensionNumbers),
    "scatter_max": _named_tuple(lax.ScatterDimensionNumbers),
    "conv_general_dilated": _named_tuple(lax.ConvDimensionNumbers)},
    "mode": lambda m: None if m is None else lax.GatherScatterMode[m.name],
}


def _generic(fn_name, kwargs_of):
    fn = getattr(lax, fn_name)

    def rule(tr, eqn, *args):
        return fn(*args, **kwargs_of(eqn.params))
    return rule


def _pow(tr, eqn, x, y):
    """JAX's pow takes an integer exponent with a float base; ours takes floats."""
    if issubdtype(get_aval(y).dtype, integer):
        y = lax.convert_element_type(y, get_aval(x).dtype)
    return lax.pow(x, y)


def _linalg(name, params):
    """JAX's linear-algebra primitives take no symmetrization (jnp does it before)."""
    if name == "cholesky" and not params:
        return lambda tr, eqn, x: linalg.cholesky(x, symmetrize_input=False)
    if name == "eigh" and params.get("subset_by_index") is None and \
            params.get("algorithm") is None:
        return lambda tr, eqn, x: linalg.eigh(
            x, lower=params["lower"], symmetrize_input=False,
            sort_eigenvalues=params["sort_eigenvalues"])
    if name == "svd" and params.get("algorithm") is None:
        def svd(tr, eqn, x):
            out = linalg.svd(x, full_matrices=params["full_matrices"],
                             compute_uv=params["compute_uv"],
                             subset_by_index=params["subset_by_index"])
            if not params["compute_uv"]:
                return [out]
            u, s, vh = out
            return [s, u, vh]  # JAX's primitive puts the singular values first
        return svd
    if name == "qr" and not params["pivoting"] and params.get("use_magma") is None:
        return lambda tr, eqn, x: linalg.qr(x, full_matrices=params["full_matrices"])
    if name in ("lu", "triangular_solve"):
        fn = getattr(linalg, name)
        return lambda tr, eqn, *args: fn(*args, **params)
    return None


def _variadic(name, params):
    """Primitives that take their operands as separate arguments where our functions
    take a sequence."""
    if name == "concatenate":
        return lambda tr, eqn, *xs: lax.concatenate(xs, params["dimension"])
    if name == "sort":
        return lambda tr, eqn, *xs: lax.sort(xs, **params) if len(xs) > 1 else \
            [lax.sort(xs[0], **params)]
    if name == "dynamic_slice":
        return lambda tr, eqn, x, *idx: lax.dynamic_slice(x, idx, params["slice_sizes"])
    if name == "dynamic_update_slice":
        return lambda tr, eqn, x, update, *idx: lax.dynamic_update_slice(x, update, idx)
    if name in ("argmax", "argmin") and len(params["axes"]) == 1:
        return lambda tr, eqn, x: getattr(lax, name)(x, params["axes"][0],
                                                     params["index_dtype"])
    if name == "scatter-sub":  # x - u is x + (-u), bit for bit
        dn = lax.ScatterDimensionNumbers(*params["dimension_numbers"])
        return lambda tr, eqn, x, idx, upd: lax.scatter_add(
            x, idx, lax.neg(upd), dn, indices_are_sorted=params["indices_are_sorted"],
            unique_indices=params["unique_indices"], mode=_CONVERT["mode"](params["mode"]))
    if name == "sharding_constraint":  # one device: a constraint never changes values
        return lambda tr, eqn, x: x
    return None


# Call-like and control-flow rules recurse into the translator: _from_jax registers them
SUB_PROGRAM_RULES = {}


def _special(name, params):
    rules = {
        **SUB_PROGRAM_RULES,
        "regularized_incomplete_beta": lambda tr, eqn, a, b, x: lax.betainc(a, b, x),
        "iota": lambda tr, eqn: lax.broadcasted_iota(
            eqn.params["dtype"], eqn.params["shape"], eqn.params["dimension"]),
        "copy": lambda tr, eqn, x: lax.copy_p.bind(x),
        "copy_p": lambda tr, eqn, x: lax.copy_p.bind(x),
        "pow": _pow,
        "random_wrap": lambda tr, eqn, data: random.wrap_key_data(data),
        "random_unwrap": lambda tr, eqn, key: random.key_data(key),
        "random_bits": lambda tr, eqn, key: random.bits(
            key, eqn.params["shape"], f"uint{eqn.params['bit_width']}"),
        "random_seed": lambda tr, eqn, seed: random.key(seed),
        "random_clone": lambda tr, eqn, key: key,
        "random_fold_in": lambda tr, eqn, key, msg: random.fold_in(key, msg),
        "random_split": lambda tr, eqn, key: random.split(key, eqn.params["shape"]),
    }
    rule = rules.get(name)
    if name == "iota" and params.get("sharding") is not None:
        return None
    if name in ("random_wrap", "random_seed") and getattr(params.get("impl"), "name", None) != \
            "threefry2x32":
        return None
    return rule


def translation(name, params):
    """The rule translating a `name` equation with `params`, or None (opaque)."""
    rule = _special(name, params) or _variadic(name, params) or _linalg(name, params)
    if rule is not None:
        return rule
    fn_name = _RENAMED.get(name, name)
    fn = getattr(lax, fn_name, None)
    if fn is None or not callable(fn) or isinstance(fn, type):
        return None
    try:
        accepted = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    kept = {}
    for k, v in params.items():
        if k in _DROPPED.get(fn_name, ()) or (k in _IGNORED and v is _IGNORED[k]):
            continue
        if k not in accepted:
            return None
        kept[k] = v
    converters = {k: _CONVERT[k][fn_name] if isinstance(_CONVERT[k], dict) else _CONVERT[k]
                  for k in kept if k in _CONVERT and
                  (not isinstance(_CONVERT[k], dict) or fn_name in _CONVERT[k])}
    return _generic(fn_name, lambda p: {k: converters[k](p[k]) if k in converters else p[k]
                                        for k in kept})
