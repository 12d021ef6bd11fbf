"""`functorch_lite.lax`: the primitives' user-facing wrappers, mirroring `jax.lax`.

Each private module holds a family of primitives (wrapper and every rule together) and
lists its public names in `__all__`."""
from ._elementwise import *  # noqa: F401,F403
from ._special import *  # noqa: F401,F403
from ._structural import *  # noqa: F401,F403
from ._reductions import *  # noqa: F401,F403
from ._linear import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._windowed import *  # noqa: F401,F403
from ._sort import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._control_flow import *  # noqa: F401,F403
from ._collectives import *  # noqa: F401,F403
from . import _linalg as linalg  # noqa: F401
