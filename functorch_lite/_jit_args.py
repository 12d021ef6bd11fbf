"""jit's argument specifications, checked as JAX checks them: static and donated
positions and names against the function's signature, donations no output can use,
and the placement arguments (keep_unused, device, backend)."""
import inspect
import warnings

from . import _runtime
from ._device import check_device


def _as_tuple(value, kind, what):
    """static_argnums=1 / static_argnames="n" style arguments as a tuple of `kind`."""
    values = (value,) if isinstance(value, kind) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, kind) and not isinstance(v, bool)
                                 for v in values):
        raise TypeError(f"jit {what} must be {'an int' if kind is int else 'a str'} or a "
                        f"sequence of them, got {value!r}")
    return values


def resolve_argnums(fun, name, static_argnums, static_argnames, donate_argnums,
                     donate_argnames):
    """Validate the static/donated argument specs against `fun`'s signature (as JAX
    does: a position or name the function cannot take is an error) and complete them:
    returns (static positions, static names, donated positions)."""
    static_argnums = _as_tuple(static_argnums, int, "static_argnums")
    static_argnames = _as_tuple(static_argnames, str, "static_argnames")
    donate_argnums = _as_tuple(donate_argnums, int, "donate_argnums")
    donate_argnames = _as_tuple(donate_argnames, str, "donate_argnames")
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # no signature (a builtin): nothing to check
        params = None
    positional, names, varargs, varkw = [], set(), False, False
    for p in params or ():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional.append(p.name)
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.add(p.name)
        varargs |= p.kind == p.VAR_POSITIONAL
        varkw |= p.kind == p.VAR_KEYWORD
    if params is not None:
        for what, nums in (("static_argnums", static_argnums),
                           ("donate_argnums", donate_argnums)):
            bad = [i for i in nums if not -len(positional) <= i < len(positional)]
            if bad and not varargs:
                raise ValueError(f"jit({name}) has {what}={nums}, but {name} only accepts "
                                 f"{len(positional)} positional arguments "
                                 f"({', '.join(positional) or 'none'}).")
        for what, given in (("static_argnames", static_argnames),
                            ("donate_argnames", donate_argnames)):
            bad = sorted(set(given) - names)
            if bad and not varkw:
                raise ValueError(f"jit({name}) has invalid argnames {bad} in {what}: "
                                 f"{name} does not take these arguments (its parameters: "
                                 f"{', '.join(sorted(names)) or 'none'}).")
    n = len(positional)
    statics = set(static_argnames) | {positional[i] for i in static_argnums if -n <= i < n}
    static_argnums += tuple(positional.index(k) for k in static_argnames if k in positional)
    donated = set(donate_argnames) | {positional[i] for i in donate_argnums if -n <= i < n}
    if statics & donated:
        raise ValueError(f"jit({name}): static and donated arguments cannot intersect; "
                         f"{sorted(statics & donated)} appear in both. A static argument "
                         f"is a Python value, not a buffer that could be donated.")
    donate_argnums += tuple(positional.index(k) for k in donate_argnames if k in positional)

    def normalized(nums):  # with *args, a negative position counts from the call's end
        return tuple(sorted({i % n if n and not varargs and -n <= i < n else i
                             for i in nums}))
    return normalized(static_argnums), statics, normalized(donate_argnums)


def warn_unusable_donations(name, program, donated):
    """As JAX: a donated buffer no output can reuse (no output of its shape and dtype)
    is reported, since donating it only deletes the caller's array."""
    free = [a.strip_weak_type() for a in program.out_avals]
    unusable = []
    for i in donated:
        aval = program.in_avals[i].strip_weak_type()
        if aval in free:
            free.remove(aval)
        else:
            unusable.append(aval.str_short())
    if unusable:
            warnings.warn(f"Some donated buffers of jit({name}) were not usable: "
                      f"{', '.join(unusable)} (no output has that shape and dtype).",
                      UserWarning, stacklevel=4)


def check_placement(name, keep_unused, device, backend):
    """keep_unused only decides whether XLA may drop unused inputs (we always keep
    them: the same results); device/backend may only name where we run anyway."""
    if not isinstance(keep_unused, bool):
        raise TypeError(f"jit keep_unused must be a bool, got {keep_unused!r}")
    if device is None and backend is None:
        return
    warnings.warn("backend and device argument on jit is deprecated (as in JAX); "
                  "functorch_lite runs every computation on the default device.",
                  DeprecationWarning, stacklevel=4)
    if backend is not None and backend != _runtime.platform():
        raise ValueError(f"jit({name}, backend={backend!r}): functorch_lite runs on its "
                         f"one backend, {_runtime.platform()!r}.")
    check_device(device, f"jit({name})")
