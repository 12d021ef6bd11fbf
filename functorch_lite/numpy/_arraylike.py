"""Array arguments must be arrays: as in jax.numpy, a list or tuple passed where an
array is expected (`jnp.sum([1, 2])`) raises TypeError instead of being converted,
because converting a Python sequence element by element is slow and, under a
transformation, hides where the array came from. `wrap()` checks the array parameters
of every public function of a namespace (found by name, as jax.numpy names them); the
functions that do take sequences (`jnp.array`, `jnp.stack`, ...) are left alone."""
import functools
import inspect

from .._core import user_source_line

_ARRAY_PARAMETERS = frozenset("""a b x y x1 x2 m v z arr ary ar array val q A indices
    condition element test_elements prototype fill_value xp fp start stop repeats
    weights fweights aweights values where mean prepend append to_begin to_end left
    right sorter bins sample seq_of_zeros a1 a2 p filt ar1 ar2""".split())
_ARRAY_VARARGS = frozenset("arys args operands xi".split())
_ELEMENTS_ARE_ARRAYS = {  # parameters that take a list of arrays
    "concatenate": "arrays", "concat": "arrays", "stack": "arrays", "hstack": "tup",
    "vstack": "tup", "dstack": "tup", "column_stack": "tup", "lexsort": "keys"}
_TAKE_SEQUENCES = frozenset("""array asarray ndim shape size result_type issubdtype isdtype
    promote_types can_cast iinfo finfo dtype iscomplexobj isrealobj isscalar
    iterable array_equal array_equiv""".split())  # and dtype functions: not arrays
_TAKE_SEQUENCE_AT = {"nonzero": "fill_value", "argwhere": "fill_value",  # one per axis
                     "histogram2d": "bins", "histogramdd": "bins"}


def wrap(namespace, prefix=""):
    """Replace the public functions of `namespace` (a module's globals) in place."""
    for name, fn in list(namespace.items()):
        if name.startswith("_") or name in _TAKE_SEQUENCES or not inspect.isfunction(
                inspect.unwrap(fn)):
            continue
        checked = _checked(fn, prefix + name)
        if checked is not None:
            namespace[name] = checked


def _checked(fn, name):
    params = list(inspect.signature(fn).parameters.values())
    positions, names, varargs_at = [], set(), None
    for i, p in enumerate(params):
        if p.kind == p.VAR_POSITIONAL:
            if p.name in _ARRAY_VARARGS:
                varargs_at = i
        elif p.name == _TAKE_SEQUENCE_AT.get(name):
            continue
        elif p.name in _ARRAY_PARAMETERS or p.name == _ELEMENTS_ARE_ARRAYS.get(name):
            names.add(p.name)
            if p.kind != p.KEYWORD_ONLY:
                positions.append(i)
    if not names and varargs_at is None:
        return None
    elements = _ELEMENTS_ARE_ARRAYS.get(name)

    def check(value, param, where):
        if not isinstance(value, (list, tuple)):
            return
        if param is None or param != elements:
            _reject(name, value, where)
        for e in value:  # a sequence of arrays: its elements must be arrays
            if isinstance(e, (list, tuple)):
                _reject(name, e, where)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        for i in positions:
            if i < len(args):
                check(args[i], params[i].name, i)
        if varargs_at is not None and not (args and name.startswith("einsum") and
                                           not isinstance(args[0], str)):
            # (einsum's interleaved form takes index lists between the operands)
            for i in range(varargs_at, len(args)):
                check(args[i], None, i)
        for k, value in kwargs.items():
            if k in names:
                check(value, k, k)
        return fn(*args, **kwargs)
    return call


def _reject(name, value, where):
    what = f"at position {where}" if isinstance(where, int) else f"for argument {where!r}"
    raise TypeError(
        f"{name} requires ndarray or scalar arguments, got {type(value).__name__} "
        f"{what}.\n  at {user_source_line()}\nFix: convert it explicitly, e.g. "
        f"jnp.asarray({value!r:.40}), as jax.numpy requires (it does not convert Python "
        f"sequences implicitly).")
