"""`functorch_lite.lax`: the primitives' user-facing wrappers, mirroring `jax.lax`.

Each private module holds a family of primitives (wrapper and every rule together) and
lists its public names in `__all__`. Every primitive is also exported as `<name>_p`
under its JAX name (`add_p`, `and_p`, `while_p`, ...), so code that inspects programs
by primitive works."""
from ._elementwise import *  # noqa: F401,F403
from ._elementwise_extra import *  # noqa: F401,F403
from ._bit_ops import *  # noqa: F401,F403
from ._special import *  # noqa: F401,F403
from ._structural import *  # noqa: F401,F403
from ._values import *  # noqa: F401,F403
from ._slicing import *  # noqa: F401,F403
from ._stacking import *  # noqa: F401,F403
from ._reductions import *  # noqa: F401,F403
from ._linear import *  # noqa: F401,F403
from ._composites import *  # noqa: F401,F403
from ._ragged_dot import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._windowed import *  # noqa: F401,F403
from ._windowed_general import *  # noqa: F401,F403
from ._sort import *  # noqa: F401,F403
from ._approx_top_k import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._control_flow import *  # noqa: F401,F403
from ._custom_solves import *  # noqa: F401,F403
from ._platform import *  # noqa: F401,F403
from ._barriers import *  # noqa: F401,F403
from ._rng import *  # noqa: F401,F403
from ._collectives import *  # noqa: F401,F403
from ._fft import *  # noqa: F401,F403
from . import _linalg as linalg  # noqa: F401
from ._primitive_names import export_primitives as _export_primitives
from .. import _ad, _batching

_export_primitives(globals())
# the interpreters below lax use these primitives (registration, not upward imports)
_ad.register_tangent_ops(full=full, add_any=add_any)  # noqa: F405
_batching.register_axis_ops(broadcast_in_dim=broadcast_in_dim,  # noqa: F405
                            transpose=transpose)  # noqa: F405
