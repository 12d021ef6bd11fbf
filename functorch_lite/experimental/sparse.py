"""`functorch_lite.experimental.sparse`: BCOO sparse arrays (without batch or dense
dimensions) and `sparsify`, as jax.experimental.sparse."""
from ._sparse_bcoo import (BCOO, bcoo_fromdense, bcoo_todense, bcoo_extract,
                           bcoo_dot_general, bcoo_transpose, bcoo_reduce_sum,
                           bcoo_multiply_dense, todense)
from ._sparsify import sparsify, SparseTracer

__all__ = ["BCOO", "bcoo_fromdense", "bcoo_todense", "bcoo_extract", "bcoo_dot_general",
           "bcoo_transpose", "bcoo_reduce_sum", "bcoo_multiply_dense", "todense",
           "sparsify", "SparseTracer"]
