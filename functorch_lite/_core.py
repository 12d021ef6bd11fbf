"""The core: abstract values, primitives, traces and tracers.

Dispatch is "stackless": a context-local *current trace* receives every `bind`. A
transformation's trace holds the trace that was current when it started (its parent);
its rules bind primitives again with the parent as current trace. A value that is not
one of a trace's own tracers is a constant to it, which is what keeps nested
transformations (and perturbations) apart.
"""
import contextlib
import itertools
import operator
import threading

import jax.core
import numpy as np

from . import _dtypes
# the errors are defined in _errors; the modules that raise them import them from here
from ._errors import (ConcretizationTypeError, TracerArrayConversionError,  # noqa: F401
                      TracerBoolConversionError, TracerIntegerConversionError,
                      UnexpectedTracerError, leak_hint as _leak_hint, user_frame_summary,
                      user_source_line, KeyArrayUseError, KEEP_ARRAY_FIX, CONTROL_FLOW_FIX, NUMPY_FIX,
                      JaxTracerError)


# --- abstract values --------------------------------------------------------------

class ShapedArray:
    """The abstract value of an array: shape, dtype and whether its type is weak."""
    __slots__ = ("shape", "dtype", "weak_type", "_hash")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = tuple(int(d) for d in shape)
        # a typed PRNG key array has JAX's key dtype (key<fry>), kept as it is
        self.dtype = dtype if _dtypes.is_key(dtype) else np.dtype(dtype)
        self.weak_type = bool(weak_type)
        self._hash = hash((self.shape, self.dtype, self.weak_type))

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def __eq__(self, other):
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return self._hash

    def update(self, shape=None, dtype=None, weak_type=None):
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def strip_weak_type(self):
        return self.update(weak_type=False) if self.weak_type else self

    def str_short(self):
        return f"{dtype_short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    def _str_long(self):  # JAX's str_short(): full dtype names, float32[3]
        dtype = (str(self.dtype) if _dtypes.is_key(self.dtype) else "float0"
                 if self.dtype == _dtypes.float0 else self.dtype.name)
        return f"{dtype}[{','.join(map(str, self.shape))}]"

    def __str__(self):  # as JAX's: float32[3], ~float32[] when weakly typed
        return f"{'~' if self.weak_type else ''}{self._str_long()}"

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self._str_long()}{weak})"


def canonicalize_shape(shape):
    """`shape` (an int or a sequence of ints) as a tuple of Python ints. Shapes must be
    known while a function is traced: a dimension computed from a traced value raises
    JAX's TypeError (eager forward and reverse mode know their values, as in JAX)."""
    if isinstance(shape, (tuple, list)):
        return tuple(_dimension(d, shape) for d in shape)
    if isinstance(shape, Tracer) and shape.ndim:
        return tuple(_dimension(d, shape) for d in _concrete_shape(shape))
    if isinstance(shape, Tracer) or np.ndim(shape) == 0:
        return (_dimension(shape, shape),)
    return tuple(_dimension(d, shape) for d in shape)


def _concrete_shape(shape):
    try:
        return np.asarray(shape.to_concrete("a shape"))
    except ConcretizationTypeError:
        raise _traced_shape_error(shape) from None


def _dimension(d, shape):
    if isinstance(d, Tracer):
        try:
            d = d.to_concrete("a shape")
        except ConcretizationTypeError:
            raise _traced_shape_error(shape) from None
    return operator.index(d)


def _traced_shape_error(shape):
    return TypeError(
        f"Shapes must be 1D sequences of concrete values of integer type, got {shape!r}.\n"
        f"  at {user_source_line()}\nA dimension computed from a traced value (an "
        f"argument of jit or vmap, or a value derived from it) is unknown while the "
        f"function is traced. Fix: compute shapes from static values (x.shape, "
        f"arguments marked static_argnums/static_argnames), or pad to a static size.")


_SHORT_NAMES = {"bool": "bool", "bfloat16": "bf16", "float0": "float0"}


def dtype_short_name(dtype):
    if _dtypes.is_key(dtype):
        return str(dtype)
    dtype = np.dtype(dtype)
    if dtype == _dtypes.float0:
        return "float0"
    name = dtype.name
    if name in _SHORT_NAMES:
        return _SHORT_NAMES[name]
    if dtype.kind == "V":  # ml_dtypes' narrow types: f8_e4m3fn, i4, u2, ... as in JAX
        return ("f" + name[5:] if name.startswith("float") else
                "u" + name[4:] if name.startswith("uint") else "i" + name[3:])
    return {"f": "f", "i": "i", "u": "u", "c": "c"}[dtype.kind] + str(dtype.itemsize * 8)


_FROM_JAX_AVAL = {}
_JaxTracer = jax.core.Tracer  # the traced values of JAX's transformations


def get_aval(x):
    """The ShapedArray of any array-like value the library accepts (or a tracer)."""
    if isinstance(x, Tracer):
        return x.aval
    aval = getattr(x, "aval", None)  # jax.Array: its (hashable) aval interns ours
    if aval is not None:
        if isinstance(x, _JaxTracer):
            raise JaxTracerError(x)
        ours = _FROM_JAX_AVAL.get(aval)
        if ours is None:
            try:
                ours = ShapedArray(aval.shape, aval.dtype, aval.weak_type)
            except TypeError:
                raise TypeError(f"functorch_lite does not support arrays of dtype "
                                f"{aval.dtype}.") from None
            _FROM_JAX_AVAL[aval] = ours
        return ours
    if isinstance(x, (np.ndarray, np.generic)):  # before Python scalars: np.float64
        return ShapedArray(x.shape, _dtypes.canonicalize_dtype(x.dtype))  # is a float
    if isinstance(x, (bool, int, float, complex)):
        if type(x) is int and not (-2**63 <= x < 2**64):
            raise OverflowError(f"Python int {x} is too large for any integer type")
        # Python bools are never weakly typed in JAX (only int, float and complex are)
        return ShapedArray((), _dtypes.python_scalar_dtype(x),
                           weak_type=not isinstance(x, bool))
    if type(x).__name__ == "ShapeDtypeStruct":  # jax.ShapeDtypeStruct (eval_shape)
        return ShapedArray(x.shape, _dtypes.canonicalize_dtype(x.dtype),
                           getattr(x, "weak_type", False))
    if hasattr(x, "__jax_array__"):
        return get_aval(x.__jax_array__())
    raise TypeError(f"Value {x!r} of type {type(x).__name__} is not a valid array type "
                    f"(expected an array, a NumPy array or a Python scalar).")


def typeof(x):
    """The abstract value (ShapedArray: shape, dtype, weak type) of an array, a Python
    scalar, a `jax.ShapeDtypeStruct` or a traced value, as `jax.typeof`.

    >>> import functorch_lite as fl, numpy as np
    >>> print(fl.typeof(np.ones((2, 3), np.float32)), fl.typeof(1.0))
    float32[2,3] ~float32[]
    """
    return get_aval(x)


def is_array_like(x):
    return isinstance(x, (Tracer, np.ndarray, np.generic, bool, int, float, complex)) or \
        hasattr(x, "aval")


# --- primitives -------------------------------------------------------------------

class MissingRuleError(NotImplementedError):
    pass


class Primitive:
    """An operation of the IR together with all of its rules.

    Typed PRNG key arrays are accepted only by primitives with `accepts_keys` (the
    wrap/unwrap of key data, shape-only operations, calls and control flow); any other
    primitive given a key raises a TypeError. `key_lowering_rule`, when set, lowers the
    primitive on key operands, which are uint32 arrays with trailing key dimensions
    once lowered.

    Rules (each optional until a transformation needs it):
      abstract_eval_rule(*avals, **params) -> aval or list of avals
      lowering_rule(ctx, *in_values, **params) -> value or list of values
      jvp_rule(primals, tangents, **params) -> (primal_out, tangent_out)
      transpose_rule(cotangent, *inputs, **params) -> list of cotangents (None: no ct)
      batching_rule(axis_data, values, dims, **params) -> (out, out_dim), where
        axis_data is `_batching.AxisData` (size, name, spmd_name, trace)
      partial_eval_rule(trace, tracers, **params) -> outputs (for call-like primitives)
      impl(*args, **params): eager evaluation; default compiles the one-equation program.

    `has_effects` marks a primitive whose equations matter beyond their results (a
    debug callback prints): dead-code elimination keeps them (`_ir.has_effects`).
    """

    def __init__(self, name, multiple_results=False):
        self.name = name
        self.multiple_results = multiple_results
        self.abstract_eval_rule = None
        self.lowering_rule = None
        self.jvp_rule = None
        self.transpose_rule = None
        self.batching_rule = None
        self.partial_eval_rule = None
        self.impl = None
        self.accepts_keys = False
        self.key_lowering_rule = None
        self.has_effects = False

    def __repr__(self):
        return self.name

    def bind(self, *args, **params):
        state = _state
        if state.watched:
            _check_watched(args, state.watched)
        return state.trace.process_primitive(self, args, params)

    def abstract_eval(self, *avals, **params):
        if self.abstract_eval_rule is None:
            raise MissingRuleError(f"no abstract evaluation rule for '{self.name}'")
        if not self.accepts_keys:
            for a in avals:
                if not isinstance(a.dtype, np.dtype):
                    raise KeyArrayUseError(self.name, a)
        out = self.abstract_eval_rule(*avals, **params)
        return list(out) if self.multiple_results else [out]

    def rule(self, kind):
        rule = getattr(self, kind + "_rule")
        if rule is None:
            raise MissingRuleError(f"no {kind.replace('_', ' ')} rule for '{self.name}'")
        return rule

    # decorators that register a rule right below its definition
    def def_abstract_eval(self, f):
        self.abstract_eval_rule = f
        return f

    def def_lowering(self, f):
        self.lowering_rule = f
        return f

    def def_jvp(self, f):
        self.jvp_rule = f
        return f

    def def_transpose(self, f):
        self.transpose_rule = f
        return f

    def def_batching(self, f):
        self.batching_rule = f
        return f

    def def_impl(self, f):
        self.impl = f
        return f

    def def_key_lowering(self, f):
        self.key_lowering_rule = f
        return f


# --- traces and tracers -----------------------------------------------------------

_tag_counter = itertools.count()


class Trace:
    """A transformation in progress. Subclasses implement `process_primitive`."""
    # for error messages: why a tracer of this trace has no concrete value
    why_abstract = "its value is not known while the function is traced"

    def __init__(self):
        self.tag = next(_tag_counter)
        self.live = True
        self.description = type(self).__name__

    def process_primitive(self, primitive, args, params):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(tag={self.tag})"


class EvalTrace(Trace):
    """The bottom trace: runs primitives eagerly on concrete arrays, those without an
    `impl` through the backend's compiled dispatch (registered by `_dispatch`, a higher
    layer: `register_eager_apply`)."""
    _eager_apply = None

    def process_primitive(self, primitive, args, params):
        for x in args:
            if isinstance(x, Tracer):
                check_tracer_alive(x)
                raise UnexpectedTracerError(
                    f"A tracer from {x._trace.description} was used in eager code "
                    f"({primitive.name}) after its transformation finished." + _leak_hint(x))
        if primitive.impl is not None:
            return primitive.impl(*args, **params)
        return EvalTrace._eager_apply(primitive, args, params)


def register_eager_apply(apply_primitive):
    """`apply_primitive(primitive, args, params)` runs a primitive eagerly."""
    EvalTrace._eager_apply = staticmethod(apply_primitive)


eval_trace = EvalTrace()


class _TraceState(threading.local):
    def __init__(self):
        self.trace = eval_trace
        self.watched = ()  # traces whose tracers must not reach a primitive (`watching`)


_state = _TraceState()


def current_trace():
    return _state.trace


@contextlib.contextmanager
def set_current_trace(trace):
    prev = _state.trace
    _state.trace = trace
    try:
        yield
    finally:
        _state.trace = prev


class TracerOfWatchedTrace(BaseException):
    """A tracer of a trace under `watching` reached a primitive: the code run there
    closes over a value of that transformation. A BaseException, so that user code's
    `except Exception` cannot swallow it; the caller of `watching` catches it."""

    def __init__(self, trace):
        super().__init__(trace)
        self.trace = trace


@contextlib.contextmanager
def watching(trace):
    """Raise TracerOfWatchedTrace when a tracer of `trace` reaches a primitive in the
    body (used to run a custom-rule function in the enclosing transformation, as JAX
    does, while detecting that it closes over a value of `trace`)."""
    prev = _state.watched
    _state.watched = (*prev, trace)
    try:
        yield
    finally:
        _state.watched = prev


def watched_traces():
    return _state.watched


def _check_watched(args, watched):
    for x in args:
        if isinstance(x, Tracer) and x._trace in watched:
            raise TracerOfWatchedTrace(x._trace)


@contextlib.contextmanager
def new_trace(trace):
    """Make `trace` current for the body; afterwards its tracers count as leaked."""
    prev = _state.trace
    _state.trace = trace
    try:
        yield trace
    finally:
        _state.trace = prev
        trace.live = False


class Tracer:
    """A value inside a transformation. Array methods and operators are attached by
    `functorch_lite.numpy` so that tracers behave like arrays."""
    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self):
        raise NotImplementedError

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    # Converting to a Python or NumPy value follows JAX: bool(), int(), __index__ and
    # item() work when the value is concrete (forward mode over concrete primals: no
    # derivative can flow through an integer or a branch); float(), complex(),
    # np.asarray() and tolist() always raise, because they would silently drop the
    # derivative or the batch.

    def concrete_value(self):
        """The concrete value behind this tracer, or None if it has none."""
        return None

    def to_concrete(self, context):
        """A concrete value for Python control flow, or a ConcretizationTypeError."""
        value = self.concrete_value()
        if value is None:
            raise ConcretizationTypeError(self, context)
        return value

    def _check_scalar(self, what):
        if self.ndim:
            raise TypeError(f"Only scalar arrays can be converted to Python scalars "
                            f"({what} of a traced array {self.aval.str_short()}).")

    def __bool__(self):
        value = self.concrete_value()
        if value is not None:
            return bool(value)
        if self.size != 1:
            raise ValueError(f"The truth value of an array with {self.size} elements is "
                             f"ambiguous. Use a.any() or a.all().")
        raise TracerBoolConversionError(self)

    def __int__(self):
        value = self.concrete_value()
        if value is not None:
            return int(value)
        self._check_scalar("int()")
        raise ConcretizationTypeError(self, "int()", "x.astype(jnp.int32) converts the "
                                      "dtype and keeps an array; for Python control flow, "
                                      + CONTROL_FLOW_FIX)

    def __index__(self):
        value = self.concrete_value()
        if value is not None:
            return operator.index(value)
        if self.shape or not _dtypes.is_integer(self.dtype):
            raise TypeError(f"Only integer scalar arrays can be converted to a scalar "
                            f"index (got a traced {self.aval.str_short()}).")
        raise TracerIntegerConversionError(self)

    def __float__(self):
        self._check_scalar("float()")
        raise ConcretizationTypeError(self, "float()", KEEP_ARRAY_FIX)

    def __complex__(self):
        self._check_scalar("complex()")
        raise ConcretizationTypeError(self, "complex()", KEEP_ARRAY_FIX)

    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(self)

    def __setitem__(self, index, value):
        raise TypeError(f"JAX arrays (and traced values) are immutable and do not support "
                        f"in-place item assignment x[idx] = y.\n  at {user_source_line()}\n"
                        f"Fix: x = x.at[idx].set(y) (or .add, .multiply, .min, .max).")

    def tolist(self):
        raise ConcretizationTypeError(self, "tolist()", KEEP_ARRAY_FIX)

    def item(self, *args):
        value = self.concrete_value()
        if value is None:
            raise ConcretizationTypeError(self, "item()", KEEP_ARRAY_FIX)
        return value.item(*args) if hasattr(value, "item") else value

    @property
    def __jax_array__(self):
        # JAX probes `getattr(x, "__jax_array__", None)` before deferring an operator to
        # us (jax_array + tracer), so the attribute must look absent to JAX
        raise AttributeError("functorch_lite traced values do not convert to jax.Array: "
                             + NUMPY_FIX)

    def __hash__(self):
        raise TypeError(f"A traced array ({self.aval.str_short()}) is not hashable; use it "
                        f"as an array, or pass the value as a static argument.")

    def __repr__(self):
        return f"Traced<{self.aval.str_short()}>with<{self._trace.description}>"


# --- leaked tracers ----------------------------------------------------------------

def check_tracer_alive(x):
    if not x._trace.live:
        raise UnexpectedTracerError(
            f"Encountered a leaked tracer {x.aval.str_short()} at {user_frame_summary()}."
            + _leak_hint(x))
