"""Host callbacks: Python functions called from traced and compiled code.

`pure_callback` (a function of its arguments, which the compiler may drop or repeat),
`io_callback` (impure: always runs) and, in `_debug_callback.py`, `debug_callback`
(side effects only; `debug.print` is one) are primitives. Eagerly
they call the Python function; lowered, they are a `stablehlo.custom_call` to jaxlib's
Python-callback FFI target, whose `index` attribute names the function in the list of
host callbacks the module is compiled with (`_lowering.ModuleBuilder.add_host_callback`,
`_runtime.compile`). The function receives jax.Arrays (as JAX's callbacks do) and its
results are checked against the declared shapes and dtypes.
"""
import functools

import jax
import numpy as np
from jax import tree_util

from . import _dtypes, _runtime, lax
from ._core import Primitive, ShapedArray, get_aval
from ._lowering import target_platform
from .lax._linalg_kernels import _layout as row_major_or_fortran, _layout_text
from ._batching import bdim_at_front

__all__ = ["pure_callback", "io_callback", "pure_callback_p", "io_callback_p",
           "effects_barrier"]

VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                "legacy_vectorized")


class FlatCallback:
    """`callback` called with flat array arguments rebuilt into its (args, kwargs)
    tree, around the static (non-array) leaves; returns the flat leaves of its result.
    Equal for the same function and argument structure, so programs cache."""
    __slots__ = ("callback", "in_tree", "static")

    def __init__(self, callback, in_tree, static):
        self.callback, self.in_tree, self.static = callback, in_tree, static

    def _key(self):
        return (self.callback, self.in_tree, tuple((i, id(v)) for i, v in self.static))

    def __eq__(self, other):
        return type(other) is FlatCallback and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    @property
    def __name__(self):
        return getattr(self.callback, "__name__", type(self.callback).__name__)

    def __call__(self, *arrays):
        leaves, static, arrays = [], dict(self.static), iter(arrays)
        for i in range(self.in_tree.num_leaves):
            leaves.append(static[i] if i in static else next(arrays))
        args, kwargs = tree_util.tree_unflatten(self.in_tree, leaves)
        return tree_util.tree_leaves(self.callback(*args, **kwargs))


def flatten_callback(callback, args, kwargs):
    """(FlatCallback, array leaves): leaves that are not arrays (strings, None, ...)
    are passed to `callback` unchanged, as JAX's debug callbacks do."""
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))
    static, arrays = [], []
    for i, leaf in enumerate(leaves):
        try:
            get_aval(leaf)
            arrays.append(leaf)
        except (TypeError, OverflowError):
            static.append((i, leaf))
    return FlatCallback(callback, in_tree, tuple(static)), arrays


def host_call(callback, arrays):
    """Run `callback` on host values given as jax.Arrays (as JAX passes them)."""
    return callback(*[x if _runtime.is_device_array(x) else
                      _runtime.to_device(x, getattr(x, "dtype", None)) for x in arrays])


def _checked_results(outs, result_avals):
    """The callback's results as NumPy arrays of the declared types (JAX's checks)."""
    if len(outs) != len(result_avals):
        raise RuntimeError(f"Mismatched number of outputs from callback. Expected: "
                           f"{len(result_avals)}, Actual: {len(outs)}")
    checked = []
    for i, (out, aval) in enumerate(zip(outs, result_avals)):
        out = np.asarray(out)
        out = out.astype(_dtypes.canonicalize_dtype(out.dtype), copy=False)
        if out.shape != aval.shape:
            raise RuntimeError(f"Incorrect output shape for return value #{i}: "
                               f"Expected: {aval.shape}, Actual: {out.shape}")
        if out.dtype != aval.dtype:
            raise RuntimeError(f"Incorrect output dtype for return value #{i}: "
                               f"Expected: {aval.dtype}, Actual: {out.dtype}")
        checked.append(np.require(out, requirements="C"))  # keeps 0-d arrays 0-d
    return tuple(checked)


def _layout(aval):
    return _layout_text(row_major_or_fortran(aval.ndim, column_major=False))


def lower_host_callback(ctx, operands, host_fn, has_side_effect):
    """Emit the custom call that runs `host_fn(*numpy arrays) -> tuple of numpy
    arrays` on the host; returns its results."""
    platform = target_platform()
    target = _runtime.HOST_CALLBACK_TARGETS.get(platform)
    if target is None:
        raise NotImplementedError(f"host callbacks are lowered for CPU and GPU, not "
                                  f"{platform!r} (JAX uses send/recv channels there)")
    index = ctx.module.add_host_callback(host_fn)
    attrs = {
        "api_version": "1 : i32",  # typed FFI, configured through mhlo.backend_config
        "backend_config": '""',
        "call_target_name": f'"{target}"',
        "has_side_effect": "true" if has_side_effect else "false",
        "operand_layouts": "[" + ", ".join(map(_layout, ctx.avals_in)) + "]",
        "result_layouts": "[" + ", ".join(map(_layout, ctx.avals_out)) + "]",
        "mhlo.backend_config": f"{{index = {index} : ui64}}",
    }
    outs = ctx.op("stablehlo.custom_call", list(operands), attrs=attrs)
    return [outs] if len(ctx.avals_out) == 1 else list(outs)


# --- pure_callback --------------------------------------------------------------------

pure_callback_p = Primitive("pure_callback", multiple_results=True)


def _result_aval(x):
    dtype = np.dtype(x.dtype)
    if _dtypes.canonicalize_dtype(dtype) != dtype:
        raise ValueError("result_shape_dtypes cannot specify 64-bit types when "
                         "`jax_enable_x64` is disabled")
    return ShapedArray(tuple(x.shape), dtype)


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):
    """Call the Python function `callback(*args, **kwargs)` from traced code, as
    `jax.pure_callback`: it must be pure (the compiler may skip or repeat it) and
    return arrays shaped as `result_shape_dtypes` (a pytree of objects with `.shape`
    and `.dtype`, e.g. `jax.ShapeDtypeStruct`). It receives jax.Arrays on the host.
    Under `vmap`, `vmap_method` says how it is batched: "sequential" (one call per
    element), "sequential_unrolled", "expand_dims" (unbatched arguments get a leading
    axis of size 1), "broadcast_all" (of the batch size) or "legacy_vectorized".
    It has no derivative: wrap it in `custom_jvp` to differentiate."""
    if vmap_method not in (*VMAP_METHODS, None):
        raise ValueError(f"vmap_method must be on of the allowed methods "
                         f"{[*VMAP_METHODS, None]}, but got: {vmap_method}")
    return _bind_with_results(pure_callback_p, callback, result_shape_dtypes, args,
                              kwargs, sharding, vmap_method=vmap_method)


def _bind_with_results(primitive, callback, result_shape_dtypes, args, kwargs, sharding,
                       **params):
    if sharding is not None:
        raise NotImplementedError(f"{primitive.name}(sharding=...): functorch_lite runs "
                                  f"on one device; drop the sharding argument")
    flat_args, in_tree = tree_util.tree_flatten((args, kwargs))
    result_avals, out_tree = tree_util.tree_flatten(
        tree_util.tree_map(_result_aval, result_shape_dtypes))
    outs = primitive.bind(*flat_args, callback=FlatCallback(callback, in_tree, ()),
                          result_avals=tuple(result_avals), **params)
    return tree_util.tree_unflatten(out_tree, outs)


pure_callback_p.def_abstract_eval(lambda *avals, result_avals, **_: list(result_avals))


def _results_impl(*args, callback, result_avals, **params):
    outs = _checked_results(host_call(callback, args), result_avals)
    return [_runtime.to_device(o, o.dtype) for o in outs]


def _results_lowering(has_side_effect):
    def rule(ctx, *operands, callback, result_avals, **params):
        def host_fn(*arrays):
            return _checked_results(host_call(callback, arrays), result_avals)
        return lower_host_callback(ctx, operands, host_fn, has_side_effect)
    return rule


pure_callback_p.def_impl(_results_impl)
pure_callback_p.def_lowering(_results_lowering(has_side_effect=False))


@pure_callback_p.def_jvp
def _pure_callback_jvp(primals, tangents, **params):
    raise ValueError("Pure callbacks do not support JVP. Please use `jax.custom_jvp` "
                     "to use callbacks while taking gradients.")


@pure_callback_p.def_transpose
def _pure_callback_transpose(cts, *args, **params):
    raise ValueError("Pure callbacks do not support transpose. Please use "
                     "`jax.custom_vjp` to use callbacks while taking gradients.")


@pure_callback_p.def_batching
def _pure_callback_batching(axis_data, vals, dims, *, callback, result_avals, vmap_method):
    if vmap_method in ("sequential", "sequential_unrolled"):
        return _sequential_batching(pure_callback_p, axis_data.size, vals, dims,
                                    vmap_method == "sequential_unrolled",
                                    callback=callback, result_avals=result_avals,
                                    vmap_method=vmap_method)
    vals = [v if d is None else bdim_at_front(axis_data.size, v, d)
            for v, d in zip(vals, dims)]
    batched_avals = tuple(a.update(shape=(axis_data.size, *a.shape)) for a in result_avals)
    if vmap_method in ("expand_dims", "broadcast_all"):
        size = axis_data.size if vmap_method == "broadcast_all" else 1
        vals = [v if d is not None else
                lax.broadcast_in_dim(v, (size, *get_aval(v).shape),
                                     tuple(range(1, get_aval(v).ndim + 1)))
                for v, d in zip(vals, dims)]
        outs = pure_callback_p.bind(*vals, callback=callback, result_avals=batched_avals,
                                    vmap_method=vmap_method)
    elif vmap_method == "legacy_vectorized":
        outs = pure_callback_p.bind(*vals, callback=callback, result_avals=batched_avals,
                                    vmap_method=vmap_method)
    else:
        raise NotImplementedError(
            "vmap is only supported for the pure_callback primitive when vmap_method is "
            "one of 'sequential', 'sequential_unrolled', 'expand_dims', 'broadcast_all', "
            f"or 'legacy_vectorized'. Got vmap_method={vmap_method!r}.")
    return list(outs), [0] * len(result_avals)


def _sequential_batching(primitive, axis_size, vals, dims, unroll, **params):
    """One call per batch element: a scan over the batched operands, carrying the
    unbatched ones, so that its body (traced once per primitive, parameters and
    batching pattern) closes over nothing and eager calls reuse its executable."""
    batched = tuple(d is not None for d in dims)

    def one_element(fixed, xs):
        fixed_it, xs_it = iter(fixed), iter(xs)
        args = [next(xs_it) if b else next(fixed_it) for b in batched]
        return fixed, primitive.bind(*args, **params)
    fixed = [v for v, b in zip(vals, batched) if not b]
    xs = [bdim_at_front(axis_size, v, d) for v, d in zip(vals, dims) if d is not None]
    key = _scan_body_key(primitive, tuple(sorted(params.items())), batched)
    _, outs = lax.scan(one_element, fixed, xs, unroll=unroll, _cache_key=key)
    return list(outs), [0] * len(outs)


class _BodyKey:
    __slots__ = ("__weakref__",)


@functools.lru_cache(maxsize=256)  # keeps the keys (and so the cached traces) alive
def _scan_body_key(primitive, params, batched):
    return _BodyKey()


# --- io_callback ----------------------------------------------------------------------

io_callback_p = Primitive("io_callback", multiple_results=True)
io_callback_p.has_effects = True  # runs even when its results are unused


def io_callback(callback, result_shape_dtypes, *args, sharding=None, ordered=False,
                **kwargs):
    """Call an impure Python function from traced code, as
    `jax.experimental.io_callback`: like `pure_callback`, but it always runs (it is
    never dropped as dead code) and under `vmap` it is called once per element. It has
    no derivative. `ordered=True` is not supported (see `debug_callback`)."""
    if ordered:
        raise NotImplementedError(
            "io_callback(ordered=True) needs ordering tokens threaded through the "
            "compiled program, which functorch_lite does not emit yet; use "
            "ordered=False")
    return _bind_with_results(io_callback_p, callback, result_shape_dtypes, args, kwargs,
                              sharding)


io_callback_p.def_abstract_eval(lambda *avals, result_avals, **_: list(result_avals))
io_callback_p.def_impl(_results_impl)
io_callback_p.def_lowering(_results_lowering(has_side_effect=True))


@io_callback_p.def_jvp
def _io_callback_jvp(primals, tangents, **params):
    raise ValueError("IO callbacks do not support JVP.")


@io_callback_p.def_transpose
def _io_callback_transpose(cts, *args, **params):
    raise ValueError("IO callbacks do not support transpose.")


@io_callback_p.def_batching
def _io_callback_batching(axis_data, vals, dims, *, callback, result_avals):
    return _sequential_batching(io_callback_p, axis_data.size, vals, dims, False,
                                callback=callback, result_avals=result_avals)


def effects_barrier():
    """Wait until the effects (host callbacks) of every computation dispatched so far
    have run, as `jax.effects_barrier`. An executable of ours with host callbacks
    returns only after its callbacks ran, so this waits for nothing of ours; it also
    waits for JAX's own (JAX functions run by `interop`)."""
    jax.effects_barrier()
