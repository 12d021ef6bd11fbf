"""`vmap`, the public entry point of batching: checks `in_axes`/`out_axes`/`axis_size`
as JAX does, flattens the arguments, runs `_batching.vmap_traced_dims` (or
`_chunking.chunked_vmap` under `chunk_size`) and moves each output's batch axis to its
`out_axes`."""
import functools

from jax import tree_util

from . import _batching
from ._core import get_aval, user_frame_summary
from ._traceback_util import api_boundary, check_callable
from ._chunking import chunked_vmap


def _broadcast_prefix(prefix, tree, what):
    """One entry of `prefix` (a pytree prefix of `tree`, None allowed) per leaf."""
    out = []
    try:
        tree_util.tree_map(
            lambda ax, sub: out.extend([ax] * len(tree_util.tree_leaves(sub))),
            prefix, tree, is_leaf=lambda x: x is None)
    except ValueError as e:
        raise ValueError(f"vmap {what} specification must be a tree prefix of the "
                         f"corresponding value: {prefix!r} does not match "
                         f"{tree_util.tree_structure(tree)}. ({e})") from None
    return out


def _check_axis_spec(spec, what):
    for leaf in tree_util.tree_leaves(spec):
        if not isinstance(leaf, int) or isinstance(leaf, bool):
            raise TypeError(f"vmap {what} must be an int, None, or a (nested) container "
                            f"with those types as leaves, but got {spec!r}.")


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, chunk_size=None,
         spmd_axis_name=None):
    """Vectorise `fun` over a batch axis of its inputs.

    Arguments:
      in_axes: an int, None, or a pytree prefix of the arguments giving each leaf's
        batch axis (None: not batched).
      out_axes: the same for outputs.
      axis_name: a name for collectives (psum, pmean, ...) inside `fun`.
      chunk_size: evaluate the batch in chunks of this size inside one program, bounding
        peak memory.
      spmd_axis_name: accepted for compatibility; it only affects sharding, which
        functorch_lite does not do (one device), so results are the same as JAX's.

    >>> import functorch_lite as fl, functorch_lite.numpy as jnp
    >>> fl.vmap(lambda x: x * 2)(jnp.arange(3)).tolist()
    [0, 2, 4]
    """
    check_callable(fun, "vmap")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not isinstance(in_axes, (int, tuple)) and in_axes is not None:
        raise TypeError(f"vmap in_axes must be an int, None, or a tuple of entries "
                        f"corresponding to the positional arguments passed to the "
                        f"function, but got {in_axes!r}.")
    _check_axis_spec(in_axes, "in_axes")
    _check_axis_spec(out_axes, "out_axes")
    name = getattr(fun, "__name__", type(fun).__name__)

    @api_boundary
    @functools.wraps(fun)
    def batched(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes has {len(in_axes)} entries but {name} was "
                             f"called with {len(args)} positional arguments; in_axes must "
                             f"have one entry per positional argument (or be an int/None)."
                             f"\n  at {user_frame_summary()}")
        leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        axes = _broadcast_prefix((in_axes, 0), (args, kwargs), "in_axes")
        dims = []
        sizes = {}  # leaf index -> size of its mapped axis

        def path(i):  # only computed for error messages
            keys = tree_util.tree_flatten_with_path((args, kwargs))[0][i][0]
            which, rest = keys[1], tree_util.keystr(keys[2:])
            if keys[0].idx == 0:
                return f"positional argument {which.idx}{rest}"
            return f"keyword argument {which.key!r}{rest}"

        for i, (leaf, ax) in enumerate(zip(leaves, axes)):
            if ax is None:
                dims.append(None)
                continue
            aval = get_aval(leaf)
            if not -aval.ndim <= ax < aval.ndim:
                raise ValueError(f"vmap was requested to map its argument along axis {ax}, "
                                 f"which implies that its rank should be at least "
                                 f"{ax + 1 if ax >= 0 else -ax}, but is only {aval.ndim} "
                                 f"(its shape is {aval.shape}): {path(i)} of {name}.\n  at "
                                 f"{user_frame_summary()}")
            dims.append(ax % aval.ndim)
            sizes[i] = aval.shape[ax]
        distinct = set(sizes.values())
        if axis_size is not None:
            distinct.add(axis_size)
        if not distinct:
            raise ValueError("vmap must have at least one non-None value in in_axes "
                             "(or give axis_size)")
        if len(distinct) > 1:
            detail = ", ".join(
                f"{path(i)} has size {s} (axis {dims[i]} of "
                f"{get_aval(leaves[i]).str_short()})" for i, s in sizes.items())
            raise ValueError(f"vmap got inconsistent sizes for the mapped axis: {detail}"
                             + (f"; axis_size={axis_size}" if axis_size else ""))
        size = distinct.pop()
        out_tree = []

        def flat_fun(*flat):
            a, k = tree_util.tree_unflatten(in_tree, flat)
            out = fun(*a, **k)
            flat_out, tree = tree_util.tree_flatten(out)
            out_tree.append(tree)
            return flat_out

        if chunk_size is not None and chunk_size < size:
            outs, out_dims = chunked_vmap(flat_fun, leaves, dims, size, axis_name, chunk_size)
        else:
            outs, out_dims = _batching.vmap_traced_dims(
                flat_fun, leaves, dims, size, axis_name, f"vmap({name}, axis_size={size})")
        tree = out_tree[0]
        o_axes = _broadcast_prefix(out_axes, tree_util.tree_unflatten(tree, outs),
                                   "out_axes")
        final = []
        for i, (o, d, od) in enumerate(zip(outs, out_dims, o_axes)):
            if od is None and d is not None:
                raise ValueError(f"vmap has out_axes=None for output {_out_path(tree, i)} "
                                 f"of {name}, which depends on the mapped inputs; only "
                                 f"unbatched outputs may use None.")
            rank = get_aval(o).ndim + (d is None)  # after batching
            if od is not None and not -rank <= od < rank:
                raise ValueError(
                    f"vmap out_axes={od} is out of bounds for output {_out_path(tree, i)} "
                    f"of {name}: it has rank {rank} after batching (per-example shape "
                    f"{_example_shape(o, d)}), so valid axes are {-rank}..{rank - 1}.")
            final.append(_batching.move_batch_axis(size, o, d, od))
        return tree_util.tree_unflatten(tree, final)
    return batched


def _out_path(tree, i):
    example = tree_util.tree_unflatten(tree, [0] * tree.num_leaves)
    paths = tree_util.tree_flatten_with_path(example)[0]
    return tree_util.keystr(paths[i][0]) or "(the output)"


def _example_shape(x, dim):
    shape = list(get_aval(x).shape)
    if dim is not None:
        del shape[dim]
    return tuple(shape)
