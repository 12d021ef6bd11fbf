"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map,
associative_scan.

Each construct lives in its own module (`_cond`, `_loops`, `_scan`, `_associative_scan`)
with its primitive and all of its rules; `_cf_util` holds what they share."""
from ._cond import *  # noqa: F401,F403
from ._loops import *  # noqa: F401,F403
from ._scan import *  # noqa: F401,F403
from ._associative_scan import *  # noqa: F401,F403
from . import _cond, _loops, _scan, _associative_scan

__all__ = [*_cond.__all__, *_loops.__all__, *_scan.__all__, *_associative_scan.__all__]
