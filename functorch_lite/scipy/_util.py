"""Helpers shared by the scipy modules: inexact promotion of array arguments and
vectorising a function of core (trailing) dimensions over broadcast batch dimensions."""
from .._api_vmap import vmap
from .._jit import jit
from .._core import get_aval
from ..numpy._util import asarray, broadcast_shapes, broadcast_to_shape, promote_to_inexact


def inexact_arrays(*xs):
    """The arguments as arrays of one common inexact dtype (ints become the default
    float)."""
    return promote_to_inexact(*[asarray(x) for x in xs])


def vectorize_core(fn, core_ranks):
    """`fn(*args)` written for arguments of ranks `core_ranks`, applied over the
    broadcast leading (batch) dimensions of the arguments with vmap (as
    `jnp.vectorize` with a signature)."""
    def vectorized(*args):
        shapes = [get_aval(a).shape for a in args]
        for s, r in zip(shapes, core_ranks):
            if len(s) < r:
                raise ValueError(f"{getattr(fn, '__name__', 'function')}: an argument of "
                                 f"shape {s} has fewer than the {r} core dimensions needed")
        batch = broadcast_shapes(*[s[:len(s) - r] for s, r in zip(shapes, core_ranks)])
        args = [broadcast_to_shape(a, (*batch, *s[len(s) - r:]))
                for a, s, r in zip(args, shapes, core_ranks)]
        f = fn
        for _ in batch:
            f = vmap(f)
        return f(*args)
    return vectorized


def inline_jit(*static_argnames):
    """Decorator: `jit(fn, static_argnames=..., inline=True)`, so an eager call runs as
    one compiled program and a call under a transformation is traced in place."""
    def wrap(fn):
        return jit(fn, static_argnames=static_argnames, inline=True)
    return wrap
