"""Recompilation explained as data: every trace of a jitted function is recorded
(`jit(f).cache_info()`), and each miss after the first says which argument changed and
how, by comparing the new signature with the closest one seen before (as JAX's
`jax_explain_cache_misses`, which this module also implements: it logs the explanation
at WARNING). After `functorch_lite_recompile_warning` retraces of one function
(counted over every function object defined at the same place) a `RecompilationWarning`
names the most frequent cause and its fix."""
import collections
import dataclasses
import inspect
import logging
import sys
import threading
import warnings
import weakref

from ._config import config
from ._traceback_util import _is_library

_logger = logging.getLogger(__name__)


class RecompilationWarning(UserWarning):
    """A jitted function keeps recompiling for the same reason (see `cache_info`)."""


@dataclasses.dataclass(frozen=True)
class CacheChange:
    """One difference between a new call signature and the closest one traced before.

    `path`: the argument (`x`, `batch['image']`, `args[2]`) or "the function" or
    "config"; `kind`: 'shape', 'dtype', 'weak type', 'static value', 'pytree
    structure', 'new function object', 'config', 'forgotten' (evicted or cleared) or
    'closes over tracers' (never kept); `before`/`now`: readable values."""
    path: str
    kind: str
    before: str
    now: str

    def __str__(self):
        if self.kind == "new function object":
            return f"{self.path} is a new function object ({self.now})"
        if self.kind in ("forgotten", "closes over tracers"):
            return f"this signature was traced before but {self.now}"
        return f"`{self.path}` changed {self.kind}: now {self.now}, before {self.before}"


@dataclasses.dataclass
class CacheEntry:
    """One trace of a jitted function: its signature (argument path -> type),
    what changed from the closest earlier signature (empty for the first trace),
    and the seconds spent tracing and compiling (None until compiled)."""
    signature: dict
    changes: tuple
    trace_seconds: float = 0.0
    cached: bool = True
    _program: object = dataclasses.field(default=None, repr=False)

    @property
    def compile_seconds(self):
        program = self._program() if self._program is not None else None
        return None if program is None else program.cache.get(("compile_seconds",))


@dataclasses.dataclass
class CacheInfo:
    """What `jit(f).cache_info()` returns: every trace of `f` under these jit options
    (oldest first, at most `functorch_lite_cache_size` kept), and how many
    signatures are cached now."""
    entries: list
    currsize: int

    @property
    def misses(self):
        return len(self.entries)

    def __str__(self):
        lines = [f"{self.misses} traces, {self.currsize} cached"]
        for i, e in enumerate(self.entries):
            compile_s = e.compile_seconds
            times = (f"trace {e.trace_seconds * 1e3:.1f} ms, compile "
                     + ("-" if compile_s is None else f"{compile_s * 1e3:.1f} ms"))
            sig = ", ".join(f"{k}: {v}" for k, v in e.signature.items())
            lines.append(f"  [{i}] ({sig}) {times}")
            lines.extend(f"      because {c}" for c in e.changes)
        return "\n".join(lines)


class History:
    """The traces of one function under one set of jit options (kept by its
    `_TraceCache`): their keys and `CacheEntry`s in order, the latest entry of each key,
    and the function's positional parameter names (found on the first miss)."""
    __slots__ = ("keys", "entries", "latest", "params", "lock")

    def __init__(self):
        self.keys, self.entries, self.latest = [], [], {}
        self.params, self.lock = None, threading.Lock()

    def add(self, key, entry):
        self.keys.append(key)
        self.entries.append(entry)
        self.latest[key] = entry
        excess = len(self.keys) - config.functorch_lite_cache_size
        if excess > 0:
            for old_key, old_entry in zip(self.keys[:excess], self.entries[:excess]):
                if self.latest.get(old_key) is old_entry:
                    del self.latest[old_key]
            del self.keys[:excess], self.entries[:excess]


class _Site:
    """Every function object defined at one place in the source, and why the jitted
    functions defined there were retraced."""
    __slots__ = ("functions", "seen", "causes", "recompiles", "warned")

    def __init__(self):
        self.functions = weakref.WeakSet()  # the live ones
        self.seen = False
        self.causes = collections.Counter()
        self.recompiles = 0
        self.warned = False


_COMPARED = 16  # a miss is compared with this many of the latest signatures
_sites = {}
_sites_lock = threading.Lock()

_FIXES = {
    "shape": "changes shape: pad it to one shape (or a few buckets) or mark it static",
    "dtype": "changes dtype: cast it to one dtype before the call",
    "weak type": ("is sometimes a Python scalar and sometimes an array: pass "
                  "numpy.asarray(x, dtype) every time"),
    "static value": ("is static and takes a new value: make it a traced argument if it "
                     "takes many values"),
    "pytree structure": "changes its pytree structure: pass the same containers every call",
    "new function object": ("is a new function object each time: define and jit it once, "
                            "outside the loop"),
    "config": "is traced under changing config flags",
    "forgotten": ("was forgotten by the cache: raise functorch_lite_cache_size or avoid "
                  "clear_caches()"),
    "closes over tracers": ("closes over values of an enclosing transformation, so its "
                            "traces are not kept: pass those values as arguments"),
}


def record_miss(jitted, history, key, args, kwargs, static_pos):
    """Called before `jitted` traces the signature `key` = (in_tree, avals, statics,
    trace context): explain the miss (log it under `jax_explain_cache_misses`, warn
    after repeated recompilations) and return the new `CacheEntry`."""
    fun = jitted.fun
    if history.params is None:
        history.params = _positional_parameters(fun)
    names = _ArgNames(history.params, len(args), static_pos)
    signature = _signature(key, names)
    site = _site_of(fun)
    with history.lock:
        previous = history.latest.get(key)
        new_function = not history.keys and site is not None and _is_new_function(site, fun)
        if not history.keys:
            changes = ((CacheChange("the function", "new function object", "",
                                    f"defined at {_where(fun)}"),) if new_function else ())
        elif previous is not None:
            if previous.cached:
                changes = (CacheChange("", "forgotten", "", "was evicted (cache size "
                                       "limit) or cleared"),)
            else:
                changes = (CacheChange("the function", "closes over tracers", "",
                                       "its trace was not kept: the function closes over "
                                       "values traced by an enclosing transformation"),)
        else:  # the closest of the latest signatures (the latest on ties)
            closest = min(reversed(history.keys[-_COMPARED:]),
                          key=lambda old: _distance(old, key))
            changes = _diff(closest, key, names)
        entry = CacheEntry(signature, changes)
        history.add(key, entry)
        first = len(history.keys) == 1
    if config.jax_explain_cache_misses:
        _logger.warning(_log_message(jitted, fun, changes, first, new_function))
    if site is not None and changes:
        _count(site, fun, changes)
    return entry


def cache_info(history, currsize):
    with history.lock:
        return CacheInfo(list(history.entries), currsize)


def traced(entry, program, seconds, cached):
    """Record the trace time of `entry`, the program whose compile time it reports and
    whether the trace is kept (not when it closes over an outer transformation's
    tracers)."""
    entry.trace_seconds, entry.cached = seconds, cached
    entry._program = weakref.ref(program)


# --- what changed --------------------------------------------------------------------

class _ArgNames:
    """Names the dynamic arguments the way the user wrote them: parameter names of
    `fun` where it has them, `args[i]` otherwise."""

    def __init__(self, params, num_args, static_pos):
        self.params = params
        self.positions = [i for i in range(num_args) if i not in static_pos]

    def positional(self, i):
        return self.params[i] if i < len(self.params) else f"args[{i}]"

    def dynamic(self, i):
        """The name of the i-th dynamic positional argument."""
        return self.positional(self.positions[i] if i < len(self.positions) else i)


def _positional_parameters(fun):
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in positional]


def _leaf_paths(treedef, prefix):
    """Paths of the leaves of `treedef`, in flattening order."""
    children = treedef.children()
    if not children:
        return [prefix] if treedef.num_leaves == 1 else []
    keys = _child_keys(treedef, len(children))
    return [p for k, c in zip(keys, children) for p in _leaf_paths(c, prefix + k)]


def _child_keys(treedef, n):
    kind, data = treedef.node_data()
    if kind is dict:
        return [f"[{k!r}]" for k in data]
    if hasattr(kind, "_fields"):  # namedtuple
        return [f".{f}" for f in kind._fields]
    return [f"[{i}]" for i in range(n)]


def _top_paths(in_tree, names):
    """Leaf paths of the jit's (dynamic args, dynamic kwargs) tree, named by argument."""
    args_tree, kwargs_tree = in_tree.children()
    paths = [p for i, c in enumerate(args_tree.children())
             for p in _leaf_paths(c, names.dynamic(i))]
    kw_names = kwargs_tree.node_data()[1] or []
    return paths + [p for k, c in zip(kw_names, kwargs_tree.children())
                    for p in _leaf_paths(c, k)]


def _signature(key, names):
    in_tree, avals, statics, _ = key
    signature = dict(zip(_top_paths(in_tree, names), map(str, avals)))
    for where, index, value in statics:
        name = names.positional(index) if where == "pos" else index
        signature[name] = f"static {value!r:.60}"
    return signature


def _distance(old, new):
    """How many things differ between two signatures (cheap: no names, no paths)."""
    old_tree, old_avals, old_statics, old_context = old
    tree, avals, statics, context = new
    changed_statics = set(old_statics).symmetric_difference(statics)
    count = (old_context != context) + (len(changed_statics) + 1) // 2
    if old_tree != tree:
        return count + 1
    return count + sum((a.shape != b.shape) + (a.dtype != b.dtype)
                       + (a.weak_type != b.weak_type)
                       for a, b in zip(old_avals, avals) if a is not b)


def _diff(old, new, names):
    old_tree, old_avals, old_statics, old_context = old
    tree, avals, statics, context = new
    changes = []
    if old_context != context:
        changes.append(CacheChange("config", "config", repr(old_context), repr(context)))
    old_static = {(w, i): v for w, i, v in old_statics}
    for where, index, value in statics:
        name = names.positional(index) if where == "pos" else index
        before = old_static.pop((where, index), _MISSING)
        if before is _MISSING or before != value:
            changes.append(CacheChange(
                name, "static value", "not given" if before is _MISSING else
                f"{before!r:.60}", f"{value!r:.60}"))
    for where, index in old_static:  # static before, absent now
        name = names.positional(index) if where == "pos" else index
        changes.append(CacheChange(name, "static value", "given", "not given"))
    if old_tree != tree:
        changes.append(_tree_change(old_tree, tree, names))
    else:
        for path, a, b in zip(_top_paths(tree, names), old_avals, avals):
            for kind, differs in (("shape", a.shape != b.shape),
                                  ("dtype", a.dtype != b.dtype),
                                  ("weak type", a.weak_type != b.weak_type)):
                if differs:
                    changes.append(CacheChange(path, kind, str(a), str(b)))
    return tuple(changes)


_MISSING = object()


def _tree_change(old, new, names):
    """The first node where the two (args, kwargs) trees differ, as a CacheChange."""
    def walk(a, b, path):
        ca, cb = a.children(), b.children()
        if a.node_data() != b.node_data() or len(ca) != len(cb) or not ca:
            return path, a, b
        keys = _child_keys(b, len(cb))
        for k, x, y in zip(keys, ca, cb):
            if x != y:
                return walk(x, y, path + k)
        return path, a, b

    (old_args, old_kw), (args, kw) = old.children(), new.children()
    if old_args != args:
        n_old, n_new = len(old_args.children()), len(args.children())
        if n_old != n_new:  # named by the first argument given or dropped
            return CacheChange(names.dynamic(min(n_old, n_new)), "pytree structure",
                               "given" if n_old > n_new else "not given",
                               "given" if n_new > n_old else "not given")
        i = next(i for i, (x, y) in enumerate(zip(old_args.children(), args.children()))
                 if x != y)
        path, a, b = walk(old_args.children()[i], args.children()[i], names.dynamic(i))
    else:
        path, a, b = walk(old_kw, kw, "")
        path = path.removeprefix("[").removesuffix("]").strip("'") or "keyword arguments"
    return CacheChange(path, "pytree structure", _node(a), _node(b))


def _node(treedef):
    if not treedef.children():
        return "a leaf" if treedef.num_leaves == 1 else "None"
    kind, data = treedef.node_data()
    keys = f" keys {list(data)}" if kind is dict else ""
    return f"{kind.__name__} of {len(treedef.children())}{keys}"


# --- reporting -----------------------------------------------------------------------

def _where(fun):
    code = getattr(fun, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else repr(fun)


def _caller():
    frame = sys._getframe(1)
    while frame is not None and _is_library(frame):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} ({frame.f_code.co_name})"


def _log_message(jitted, fun, changes, first, new_function):
    name = jitted._name
    lines = [f"TRACING CACHE MISS at {_caller()}:"]
    if first:
        lines += ["  never seen function:", f"    {name} id={id(fun)} defined at "
                  f"{_where(fun)}"]
        if new_function:
            lines += ["  but seen another function defined on the same line; maybe the "
                      "function is being re-defined repeatedly, preventing caching?"]
    else:
        lines += [f"  for {name} defined at {_where(fun)}",
                  "  all previously seen cache keys differ. For the closest previous key:"]
        lines += [f"  * {c}" for c in changes]
    return "\n".join(lines)


def _site_of(fun):
    code = getattr(fun, "__code__", None)
    if code is None:
        return None
    key = (code.co_filename, code.co_firstlineno, code.co_name)
    with _sites_lock:
        site = _sites.get(key)
        if site is None:
            site = _sites[key] = _Site()
    return site


def _is_new_function(site, fun):
    """Whether `fun` is another function object from a place seen before."""
    with _sites_lock:
        try:
            seen, known = site.seen, fun in site.functions
            site.functions.add(fun)
        except TypeError:  # not weakly referenceable
            return False
        site.seen = True
    return seen and not known


def _count(site, fun, changes):
    """Count this recompilation at the function's definition site; warn once when the
    site was retraced `functorch_lite_recompile_warning` times (not for the library's
    own functions)."""
    threshold = config.functorch_lite_recompile_warning
    with _sites_lock:
        site.recompiles += 1
        for c in changes:
            site.causes[(c.path, c.kind)] += 1
        recompiles = site.recompiles
        if site.warned or not threshold or recompiles < threshold or _is_library(
                _code_frame(fun)):
            return
        site.warned = True
        (path, kind), count = site.causes.most_common(1)[0]
    what = ("the function" if kind in ("new function object", "closes over tracers")
            else f"`{path}`")
    if kind == "forgotten":
        what = "a signature"
    warnings.warn(
        f"jit({getattr(fun, '__name__', 'fun')}) defined at {_where(fun)} was retraced "
        f"{recompiles} times; most often ({count} of {recompiles}) because {what} "
        f"{_FIXES[kind]}. jit(f).cache_info() lists every trace and why it happened; "
        f"functorch_lite_recompile_warning sets this threshold (0: never warn).",
        RecompilationWarning, stacklevel=_stacklevel())


class _code_frame:
    """A stand-in frame for `_is_library`: the file where `fun` is defined."""

    def __init__(self, fun):
        self.f_code = getattr(fun, "__code__", None) or sys._getframe().f_code


def _stacklevel():
    """The stack level of the first frame outside the library (the user's call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and _is_library(frame):
        frame, level = frame.f_back, level + 1
    return level
