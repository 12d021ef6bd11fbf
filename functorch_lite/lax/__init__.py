"""`functorch_lite.lax`: the primitives' user-facing wrappers, mirroring `jax.lax`."""
from ._elementwise import (neg, add, sub, mul, div, max, min, exp, log, sin, cos, tanh,
                           logistic, sqrt, rsqrt, abs, sign, eq, ne, lt, le, gt, ge, add_any)
from ._structural import (broadcast_in_dim, reshape, transpose, convert_element_type,
                          select_n, full, expand_dims, slice, slice_in_dim, stop_gradient)
from ._reductions import reduce_sum, reduce_max, reduce_min
from ._linear import dot_general
