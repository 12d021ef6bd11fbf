"""`named_scope` / `named_call`: names for the operations a block of code stages.

The current name stack (a tuple of strings, per thread) is recorded on every equation
the staging trace creates (`Equation.name_stack`), kept when a staged program is
re-traced by a transformation (`_ir.eval_program` re-enters each equation's stack), and
lowered to StableHLO as a `loc("outer/inner/op")` location on each operation, as JAX's
name locations. `make_jaxpr` printing does not show it.
"""
import contextlib
import functools
import threading


class _NameStack(threading.local):
    names = ()


_state = _NameStack()


def current_name_stack():
    """The names of the enclosing `named_scope`s, outermost first."""
    return _state.names


@contextlib.contextmanager
def extended_name_stack(names):
    """Append `names` (a tuple) to the current name stack inside this block."""
    previous = _state.names
    _state.names = previous + tuple(names)
    try:
        yield
    finally:
        _state.names = previous


def transposed_name_stack(names):
    """The names of the transpose of an equation staged under `names`, as JAX's:
    ("outer", "inner") -> ("transpose(jvp(outer))", "inner")."""
    return (f"transpose(jvp({names[0]}))", *names[1:]) if names else ()


def named_scope(name):
    """`with named_scope("block"):` (or `@named_scope("block")` on a function): the
    operations staged inside are named `block/...` in the lowered StableHLO's
    locations, as `jax.named_scope`."""
    if not isinstance(name, str):
        raise TypeError(f"named_scope name must be a string, got {name!r}; pass e.g. "
                        f"named_scope('layer1')")
    return extended_name_stack((name,))


def named_call(fun, *, name=None):
    """`fun`, with the operations it stages named `name/...` (default: `fun.__name__`)
    in the lowered StableHLO, as `jax.named_call`."""
    scope = name if name is not None else getattr(fun, "__name__", type(fun).__name__)

    @functools.wraps(fun)
    def named(*args, **kwargs):
        with named_scope(scope):
            return fun(*args, **kwargs)
    return named
