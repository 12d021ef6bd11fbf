"""`vmap(..., chunk_size=n)`: evaluate the batch n examples at a time inside one
program, bounding peak memory.

The batched inputs are reshaped to (num_chunks, n, ...) and a `scan` runs the
vmapped function on one chunk per step; a final partial chunk (when n does not divide
the batch) is one more vmapped call, and the results are concatenated."""
from . import _batching
from ._core import get_aval
from .lax._scan import chunked_map
from .lax import index_in_dim


def chunked_vmap(flat_fun, leaves, dims, size, axis_name, chunk_size):
    """Like `_batching.vmap_traced_dims(flat_fun, leaves, dims, size, axis_name)`, in
    chunks of `chunk_size` examples. Returns (outputs, out_dims): batched outputs at
    0, outputs that do not depend on the batch unbatched (None)."""
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"vmap chunk_size must be a positive integer, got {chunk_size}")
    batched = [i for i, d in enumerate(dims) if d is not None]
    if not batched or chunk_size >= size:
        return _batching.vmap_traced_dims(flat_fun, leaves, dims, size, axis_name)
    if axis_name is not None:
        raise ValueError("vmap with chunk_size cannot use axis_name: collectives would "
                         "see one chunk at a time. Drop chunk_size or the collectives.")
    fronts = [_batching.move_batch_axis(size, leaves[i], dims[i], 0) for i in batched]
    out_dims = []

    def run_chunk(*chunk_leaves):
        n = get_aval(chunk_leaves[0]).shape[0]
        args, chunk_dims = list(leaves), list(dims)
        for i, x in zip(batched, chunk_leaves):
            args[i], chunk_dims[i] = x, 0
        outs, odims = _batching.vmap_traced_dims(flat_fun, args, chunk_dims, n, axis_name)
        if not out_dims:
            out_dims.extend(odims)
        return [_batching.move_batch_axis(n, o, d, 0) for o, d in zip(outs, odims)]

    outs = chunked_map(run_chunk, fronts, size, chunk_size)
    # an output that did not depend on the batch was broadcast per chunk: take one copy
    return ([o if d is not None else index_in_dim(o, 0, keepdims=False)
             for o, d in zip(outs, out_dims)],
            [0 if d is not None else None for d in out_dims])
