"""`functorch_lite.numpy`: the `jax.numpy` API over functorch_lite primitives."""
import numpy as _np

from ._util import asarray, result_type, broadcast_shapes
from ._ufuncs import (add, subtract, multiply, divide, true_divide, maximum, minimum, equal,
                      not_equal, less, less_equal, greater, greater_equal, negative, exp,
                      log, sin, cos, tanh, sqrt, absolute, abs, sign, power, square, where)
from ._reductions import sum, mean, max, min
from . import _array_methods

_array_methods.install()

float32, float64, int32, int64, bool_ = (_np.float32, _np.float64, _np.int32, _np.int64,
                                         _np.bool_)
pi, e, inf, nan = _np.pi, _np.e, _np.inf, _np.nan
array = asarray
