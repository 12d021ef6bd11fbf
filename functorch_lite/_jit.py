"""`jit`: stage a function into a Program once per input signature and run it as one
XLA executable. `jit_p` is a primitive whose parameter is the program, so every
transformation sees a jitted call as one equation (its rules are at the end of this
module)."""
import functools
import threading
import time
import weakref

from jax import tree_util

from . import (_ad, _batching, _cache_explain, _core, _dispatch, _dtypes, _partial_eval,
               _runtime)
from ._ad import Zero, is_undefined
from ._config import Config, config, on_x64_change
from ._traceback_util import api_boundary, check_callable
from ._jit_args import check_placement, resolve_argnums, warn_unusable_donations
from ._ir import Program
from ._core import Primitive, Tracer, get_aval
from ._staging import StagingTrace, trace_to_program
from ._stages import Traced
from .lax._cf_util import clear_body_traces

jit_p = Primitive("jit", multiple_results=True)
jit_p.accepts_keys = True  # typed PRNG keys pass through
_partial_eval.register_call_primitive(jit_p)


@jit_p.def_abstract_eval
def _jit_abstract_eval(*avals, program, name, donated=()):
    return program.out_avals


@jit_p.def_impl
def _jit_impl(*args, program, name, donated=()):
    executable = _dispatch.compile_program(program, f"jit_{name}", donated)
    return executable(_dispatch.to_device_args(args, program.in_avals))


@jit_p.def_lowering
def _jit_lowering(ctx, *args, program, name, donated=()):
    return ctx.call(program, list(args), hint=name)


def define_program_call(primitive):
    """Type, evaluation and lowering of a primitive that calls its `program` parameter
    as `jit` does (the custom-rule calls: their differentiation and batching rules are
    their own, the rest is this)."""
    primitive.def_abstract_eval(lambda *avals, program, **params: program.out_avals)
    primitive.def_impl(lambda *args, program, name, **params: jit_p.bind(
        *args, program=program, name=name))
    primitive.def_lowering(lambda ctx, *args, program, name, **params: ctx.call(
        program, list(args), hint=name))


def flatten_fun(fun, in_tree, out_tree_store):
    """`fun` over pytrees as a function of flat leaves; records the output treedef."""
    def flat_fun(*leaves):
        args, kwargs = tree_util.tree_unflatten(in_tree, leaves)
        out = fun(*args, **kwargs)
        flat_out, out_tree = tree_util.tree_flatten(out)
        out_tree_store.append(out_tree)
        return flat_out
    return flat_fun


class jit:
    """Compile `fun` with XLA: `jit(f)(*args)` traces once per input signature
    (pytree structure, shapes, dtypes, weak types, static argument values). As in JAX,
    the traces belong to the function and the jit options, not to the `jit` object:
    `jit(f)(x)` written inline reuses the previous call's trace and executable.

    Arguments:
      fun: a pure function of arrays and pytrees of arrays.
      static_argnums / static_argnames: arguments that are Python values baked into
        the program (must be hashable); a new value retraces.
      donate_argnums / donate_argnames: arguments whose buffers XLA may reuse for
        outputs (a donation no output can use is warned about, as in JAX).
      keep_unused: accepted; unused inputs are always kept (the same results).
      device / backend: deprecated in JAX; may only name where we run anyway.
    Positions and names are checked against `fun`'s signature, as in JAX.

    >>> import functorch_lite as fl
    >>> float(fl.jit(lambda x: x * 2.0)(3.0))
    6.0
    """

    @api_boundary
    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(),
                 donate_argnames=(), inline=False, keep_unused=False, device=None,
                 backend=None):
        check_callable(fun, "jit")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._name = getattr(fun, "__name__", "fun")
        (self.static_argnums, self.static_argnames,
         self.donate_argnums) = resolve_argnums(fun, self._name, static_argnums,
                                                 static_argnames, donate_argnums,
                                                 donate_argnames)
        check_placement(self._name, keep_unused, device, backend)
        self.inline = inline
        self._traces = _trace_cache(fun, (
            self.static_argnums, tuple(sorted(self.static_argnames)), self.donate_argnums,
            inline, keep_unused, device, backend))

    def __get__(self, instance, owner):  # used as a method decorator
        return self if instance is None else functools.partial(self, instance)

    def _split_static(self, args, kwargs):
        n = len(args)
        static_pos = {i % n for i in self.static_argnums if -n <= i < n}
        statics = []
        for i in sorted(static_pos):
            statics.append(("pos", i, _hashable(args[i], f"argument {i}", self._name)))
        for k in sorted(kwargs):
            if k in self.static_argnames:
                statics.append(("kw", k, _hashable(kwargs[k], f"argument {k!r}", self._name)))
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        return dyn_args, dyn_kwargs, tuple(statics), static_pos

    def _program(self, args, kwargs):
        dyn_args, dyn_kwargs, statics, static_pos = self._split_static(args, kwargs)
        leaves, in_tree = tree_util.tree_flatten((dyn_args, dyn_kwargs))
        avals = tuple(map(get_aval, leaves))
        key = (in_tree, avals, statics, config.trace_context)
        programs = self._traces.programs
        entry = programs.get(key)
        if entry is None:  # traced once, also when several threads call at once
            def build():
                record = _cache_explain.record_miss(self, self._traces.history, key, args,
                                                    kwargs, static_pos)
                start = time.perf_counter()
                entry = self._trace(args, kwargs, static_pos, in_tree, avals, statics)
                keep = not any(isinstance(c, Tracer) for c in entry[1])
                _cache_explain.traced(record, entry[0], time.perf_counter() - start, keep)
                if keep:
                    programs.put(key, entry)  # closures over tracers: retraced each call
                return entry
            entry = self._traces.locks.build_once(programs, key, build)
        return entry, leaves

    def _trace(self, args, kwargs, static_pos, in_tree, avals, statics):
        static_kwargs = {k: v for k, v in kwargs.items() if k in self.static_argnames}

        def with_statics(*dyn_args, **dyn_kwargs):
            it = iter(dyn_args)
            full = [args[i] if i in static_pos else next(it) for i in range(len(args))]
            return self.fun(*full, **dyn_kwargs, **static_kwargs)

        out_tree = []
        program, consts = trace_to_program(flatten_fun(with_statics, in_tree, out_tree),
                                           avals, description=f"jit({self._name})")
        program, consts, outputs = _strip_float0(program, consts, out_tree[0])
        # captured host arrays are snapshotted now (as JAX does), not re-read per call
        consts = [c if isinstance(c, Tracer) else _runtime.to_device(c, v.aval.dtype)
                  for c, v in zip(consts, program.in_vars)]
        donated = self._donated_indices(args, static_pos, len(consts))
        if donated:
            warn_unusable_donations(self._name, program, donated)
        return program, consts, outputs, donated

    def _donated_indices(self, args, static_pos, num_consts):
        if not self.donate_argnums:
            return ()
        donated, offset = [], num_consts
        for i, a in enumerate(args):
            if i in static_pos:
                continue
            n = len(tree_util.tree_leaves(a))
            if i in self.donate_argnums:
                donated.extend(range(offset, offset + n))
            offset += n
        return tuple(donated)

    @api_boundary
    def __call__(self, *args, **kwargs):
        if config.jax_disable_jit:  # as JAX: the Python function runs op by op
            return self.fun(*args, **kwargs)
        try:
            return self._call(*args, **kwargs)
        except FloatingPointError:
            if not ((config.jax_debug_nans or config.jax_debug_infs)
                    and _core._state.trace is _core.eval_trace):
                raise
            # as JAX: run the function op by op, so that the error names the primitive
            # that made the NaN or inf and points at the user's line
            try:
                self.fun(*args, **kwargs)
            except FloatingPointError as op_by_op:
                raise op_by_op from None
            raise  # the op-by-op run made no NaN: report the compiled one

    def _call(self, *args, **kwargs):
        eager = _core._state.trace is _core.eval_trace
        if not eager and self.inline and _staging():
            return self.fun(*args, **kwargs)
        key = None
        if eager:  # fast path: a signature seen before runs its executable directly
            if kwargs or self.static_argnums or self.static_argnames:
                key, leaves = self._fast_key(args, kwargs)
            else:  # the common case, inlined: device arrays only, no statics
                leaves, in_tree = tree_util.tree_flatten(args)
                try:
                    key = (in_tree, *[x.aval for x in leaves])
                except AttributeError:
                    key, leaves = self._fast_key(args, kwargs)
            context = config.trace_context
            if key is not None and context != _DEFAULT_TRACE_CONTEXT:
                key = (context, *key)  # traced per setting
            entry = self._traces.fast.get(key) if key is not None else None
            if entry is not None:
                try:
                    return entry(leaves)
                except TypeError:  # e.g. a JAX tracer, whose aval keys like an array's
                    for leaf in leaves:
                        _core.get_aval(leaf)  # raises JaxTracerError naming to_jax
                    raise
        (program, consts, out_tree, donated), leaves = self._program(args, kwargs)
        extra = {"donated": donated} if eager and donated else {}
        outs = jit_p.bind(*consts, *leaves, program=program, name=self._name, **extra)
        if key is not None and not any(isinstance(c, Tracer) for c in consts):
            convert = any(t in _SCALAR_TYPES for t in key if isinstance(t, type))
            self._traces.fast.put(key, _fast_runner(program, consts, out_tree, donated,
                                                    convert))
        return out_tree(outs)

    def _fast_key(self, args, kwargs):
        """(key, dynamic leaves) for the fast path, or (None, None) if not applicable:
        the key is the pytree structure, static values and each leaf's type."""
        prefix = ()
        if self.static_argnums or self.static_argnames or kwargs:
            dyn_args, kwargs, statics, _ = self._split_static(args, kwargs)
            prefix = (bool(kwargs), statics)
        else:
            dyn_args = args
        leaves, in_tree = tree_util.tree_flatten((dyn_args, kwargs) if kwargs else dyn_args)
        try:
            sig = [x.aval for x in leaves]
        except AttributeError:  # Python scalars are keyed by their type
            sig = []
            for x in leaves:
                kind = type(x)
                if kind in _SCALAR_TYPES:
                    sig.append(kind)
                elif isinstance(x, _runtime.Array):
                    sig.append(x.aval)
                else:
                    return None, None
        return (in_tree, *prefix, *sig), leaves

    def cache_info(self):
        """Every trace of this function under these jit options, as a `CacheInfo`:
        `.entries[i]` has the `signature` (argument path -> type), `changes` (what
        differed from the closest earlier signature: argument path and kind: shape,
        dtype, weak type, static value, pytree structure, new function object),
        `trace_seconds` and `compile_seconds`; `currsize` is how many are cached now.
        `print(jit(f).cache_info())` shows them as a table."""
        return _cache_explain.cache_info(self._traces.history, len(self._traces.programs))

    @api_boundary
    def lower(self, *args, **kwargs):
        return self.trace(*args, **kwargs).lower()

    @api_boundary
    def trace(self, *args, **kwargs):
        """Stage `fun` for these arguments; `.lower(lowering_platforms=("cuda",))` on
        the result lowers for a platform that need not be present (as in JAX)."""
        (program, consts, out_tree, donated), _ = self._program(args, kwargs)
        dyn_args, dyn_kwargs, _, _ = self._split_static(args, kwargs)
        in_tree = tree_util.tree_structure((dyn_args, dyn_kwargs))
        return Traced(program, consts, in_tree, out_tree, self._name, donated)


_SCALAR_TYPES = (float, int, bool)
_DEFAULT_TRACE_CONTEXT = Config().trace_context


def _staging():
    """Whether a program is being staged: some enclosing trace is a jit's, a control
    flow body's or a linearization's (grad, vjp). `inline=True` inlines only then: under
    eager jvp/vmap an inline jit stays one call, as in JAX, so it runs as one program
    (its jvp or batched program), which keeps the kernels XLA picks, and their rounding,
    those of JAX's program."""
    trace = _core.current_trace()
    while trace is not None:
        if isinstance(trace, StagingTrace):
            return True
        trace = getattr(trace, "parent", None)
    return False


class _Outputs:
    """Builds a jitted function's output pytree from the executable's results,
    putting back the float0 outputs (zero tangents of integers), which carry no data
    and are not part of the compiled program."""
    __slots__ = ("treedef", "float0")

    def __init__(self, treedef, float0):
        self.treedef, self.float0 = treedef, float0

    def __call__(self, outs):
        if self.float0:
            outs = list(outs)
            for i, shape in self.float0:
                outs.insert(i, _runtime.float0_zeros(shape))
        return tree_util.tree_unflatten(self.treedef, outs)


def _strip_float0(program, consts, treedef):
    """Remove float0 outputs (and captured float0 constants) from the program."""
    float0 = tuple((i, a.shape) for i, a in enumerate(program.out_avals)
                   if a.dtype == _dtypes.float0)
    if float0:
        n = len(consts)
        kept = [(v, c) for v, c in zip(program.in_vars, consts) if v.aval.dtype != _dtypes.float0]
        outs = [o for o in program.outs if o.aval.dtype != _dtypes.float0]
        program = Program([v for v, _ in kept] + program.in_vars[n:], program.equations, outs)
        consts = [c for _, c in kept]
    return program, consts, _Outputs(treedef, float0)


def _fast_runner(program, consts, out_tree, donated, convert):
    """Run the compiled program straight on device arrays (no tracing, no bind);
    `convert`: some leaves are Python scalars to put on the device first."""
    executable = program.cache[("executable", donated)]
    consts = _dispatch.to_device_args(consts, program.in_avals[:len(consts)])
    arg_avals = program.in_avals[len(consts):]
    if convert:
        return lambda leaves: out_tree(executable(
            [*consts, *_dispatch.to_device_args(leaves, arg_avals)]))
    return lambda leaves: out_tree(executable([*consts, *leaves]))


class _TraceCache:
    """What jit keeps for one function and one set of jit options: the traced program
    of each input signature, and for eager calls a runner per call signature (both
    bounded LRU caches), with the locks that make a new signature trace once, and the
    history of its traces (`cache_info`)."""
    __slots__ = ("programs", "fast", "locks", "history", "__weakref__")

    def __init__(self):
        self.programs, self.fast = _dispatch.LRUCache(), _dispatch.LRUCache()
        self.locks = _dispatch.KeyLocks()
        self.history = _cache_explain.History()


_TRACE_CACHES = weakref.WeakKeyDictionary()  # function -> {jit options: _TraceCache}
_ALL_TRACE_CACHES = weakref.WeakSet()
_trace_caches_lock = threading.Lock()


def _trace_cache(fun, options):
    """The cache of `fun` under `options`, shared by every jit of the same function
    with the same options (keyed weakly on the function, as JAX's is)."""
    with _trace_caches_lock:
        try:
            per_fun = _TRACE_CACHES.get(fun)
            if per_fun is None:
                per_fun = _TRACE_CACHES[fun] = {}
            cache = per_fun.get(options)
        except TypeError:  # an unhashable function or option: this jit's own cache
            per_fun, options, cache = {}, None, None
        if cache is None:
            cache = per_fun[options] = _TraceCache()
            _ALL_TRACE_CACHES.add(cache)
    return cache


def clear_traces():
    """Forget every jitted function's traced programs (e.g. after the x64 setting
    changed)."""
    for cache in list(_ALL_TRACE_CACHES):
        cache.programs.clear()
        cache.fast.clear()


on_x64_change(clear_traces)


def clear_caches():
    """Forget every traced program and compiled executable: jitted functions', the
    control-flow bodies' and the eager ones of each primitive, as `jax.clear_caches`
    (the next call retraces and recompiles)."""
    clear_traces()
    clear_body_traces()
    _dispatch.clear_executables()


def _hashable(value, what, fun_name):
    try:
        hash(value)
    except TypeError:
        raise ValueError(  # JAX's class for this mistake
            f"Non-hashable static {what} of jit({fun_name}): {type(value).__name__} "
            f"{value!r:.80}. Static arguments are compared by value and must be hashable; "
            f"pass a tuple instead of a list, or make the argument non-static.") from None
    return value


def make_jaxpr(fun, static_argnums=(), return_shape=False):
    """`make_jaxpr(f)(*args)` returns the Program `f` traces to (prints one equation per
    line with types; sub-programs indented); with `return_shape=True`, the pair
    (program, output shapes as a pytree of `jax.ShapeDtypeStruct`), as JAX's."""
    @api_boundary
    @functools.wraps(fun)
    def traced(*args, **kwargs):
        staged = jit(fun, static_argnums=static_argnums).trace(*args, **kwargs)
        return (staged.program, staged.out_info) if return_shape else staged.program
    return traced


@api_boundary
def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes of `fun(*args, **kwargs)` as a pytree of
    `jax.ShapeDtypeStruct`, found by tracing alone (nothing is computed). Arguments may
    be arrays or `jax.ShapeDtypeStruct`s.

    >>> import jax, functorch_lite as fl
    >>> fl.eval_shape(lambda x: x.sum(0), jax.ShapeDtypeStruct((3, 4), "float32"))
    ShapeDtypeStruct(shape=(4,), dtype=float32)
    """
    return jit(fun).trace(*args, **kwargs).out_info


# --- jit_p's transformation rules: each transforms the sub-program once (memoised on
# the program), so grad(jit(f)) compiles one forward and one backward program. ------



@jit_p.def_jvp
def _jit_jvp(primals, tangents, *, program, name, donated=()):
    nonzero = [not isinstance(t, Zero) for t in tangents]
    new_program, out_nonzero = _ad.jvp_program(program, nonzero)
    outs = jit_p.bind(*primals, *[t for t in tangents if not isinstance(t, Zero)],
                      program=new_program, name=f"jvp_{name}")
    n = len(program.outs)
    it = iter(outs[n:])
    touts = [next(it) if nz else Zero(_ad.tangent_aval(a))
             for a, nz in zip(program.out_avals, out_nonzero)]
    return outs[:n], touts


def _jit_partial_eval(trace, args, *, program, name, donated=()):
    unknown = [trace.is_unknown(x) for x in args]
    known_prog, unknown_prog, out_unknown, num_res = _partial_eval.partial_eval_program(
        program, unknown)
    known_args = [x for x, u in zip(args, unknown) if not u]
    with _core.set_current_trace(trace.parent):
        known_outs = jit_p.bind(*known_args, program=known_prog, name=name)
    residuals = known_outs[len(known_outs) - num_res:]
    known_outs = iter(known_outs[:len(known_outs) - num_res])
    unknown_args = [x for x, u in zip(args, unknown) if u]
    unknown_outs = iter(trace.stage(jit_p, [*residuals, *unknown_args],
                                    dict(program=unknown_prog, name=f"{name}_linear")))
    return [next(unknown_outs) if u else next(known_outs) for u in out_unknown]


jit_p.partial_eval_rule = _jit_partial_eval
jit_p.partial_eval_equation_rule = _partial_eval.partial_eval_call_equation


@jit_p.def_transpose
def _jit_transpose(cts, *args, program, name, donated=()):
    linear = [is_undefined(x) for x in args]
    nonzero = [not isinstance(c, Zero) for c in cts]
    new_program = _ad.transpose_program(program, linear, nonzero)
    outs = iter(jit_p.bind(*[x for x in args if not is_undefined(x)],
                           *[c for c in cts if not isinstance(c, Zero)],
                           program=new_program, name=f"transpose_{name}"))
    return [next(outs) if lin else None for lin in linear]


def _jit_batching(axis_data, vals, dims, *, program, name, donated=()):
    new_program, out_batched = _batching.batch_program(program, dims, axis_data.size,
                                                       axis_data.name)
    return (jit_p.bind(*vals, program=new_program, name=f"vmap_{name}"),
            [0 if b else None for b in out_batched])


jit_p.batching_rule = _jit_batching
