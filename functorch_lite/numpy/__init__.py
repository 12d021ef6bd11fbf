"""`functorch_lite.numpy`: the `jax.numpy` API over functorch_lite primitives.

Each private module lists its public names in `__all__`; array methods and operators
of traced arrays are attached in `_array_methods`."""
import numpy as _np

from ._util import *  # noqa: F401,F403
from ._ufuncs import *  # noqa: F401,F403
from ._ufuncs_by_version import *  # noqa: F401,F403
from ._reductions import *  # noqa: F401,F403
from ._creation import *  # noqa: F401,F403
from ._shape import *  # noqa: F401,F403
from ._sorting import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._linalg_basic import *  # noqa: F401,F403
from ._einsum import *  # noqa: F401,F403
from ._sets_and_differences import *  # noqa: F401,F403
from ._statistics import *  # noqa: F401,F403
from ._dtypes_api import *  # noqa: F401,F403
from ._math_extra import *  # noqa: F401,F403
from ._selection import *  # noqa: F401,F403
from ._index_tricks import *  # noqa: F401,F403
from ._setops import *  # noqa: F401,F403
from ._vectorize import *  # noqa: F401,F403
from ._polynomial import *  # noqa: F401,F403
from ._signal import *  # noqa: F401,F403
from ._io import *  # noqa: F401,F403
from . import linalg, fft  # noqa: F401
from . import _array_methods, _arraylike, _eager

_eager.wrap(globals())
_arraylike.wrap(globals())
_array_methods.install()
