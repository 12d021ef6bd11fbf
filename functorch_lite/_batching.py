"""Batching (vmap): every value carries the position of its batch dimension (or None
when it is the same for every example); each primitive's batching rule maps batched
inputs to batched outputs, so a batched function never loops in Python."""
from typing import Any, NamedTuple

from . import _core
from ._core import Tracer, get_aval, new_trace, set_current_trace
from ._ir import eval_program, memo
from ._staging import trace_closed


class BatchTracer(Tracer):
    __slots__ = ("val", "batch_dim")

    def __init__(self, trace, val, batch_dim):
        self._trace = trace
        self.val = val
        self.batch_dim = batch_dim

    @property
    def aval(self):
        aval = get_aval(self.val)
        if self.batch_dim is None:
            return aval
        shape = list(aval.shape)
        del shape[self.batch_dim]
        return aval.update(shape=shape)


class AxisData(NamedTuple):
    """What every batching rule `rule(axis_data, vals, dims, **params)` is told of the
    vmapped axis: its size, its name (for collectives), room for the SPMD axis name of
    sharded vmaps, and the batch trace itself (for rules that run user code under it,
    such as custom_jvp's)."""
    size: int
    name: Any = None
    spmd_name: Any = None
    trace: Any = None


class BatchTrace(_core.Trace):
    why_abstract = "under vmap it stands for a batch of values, one per example"

    def __init__(self, parent, axis_size, axis_name=None, description=None):
        super().__init__()
        self.parent = parent
        self.axis_size = axis_size
        self.axis_name = axis_name
        self.description = description or f"vmap(axis_size={axis_size})"
        self.axis_data = AxisData(axis_size, axis_name, None, self)

    def lift(self, x):
        if isinstance(x, BatchTracer) and x._trace is self:
            return x.val, x.batch_dim
        if isinstance(x, Tracer):
            _core.check_tracer_alive(x)
        return x, None

    def process_primitive(self, primitive, args, params):
        vals, dims = zip(*map(self.lift, args)) if args else ((), ())
        with set_current_trace(self.parent):
            if all(d is None for d in dims) and not (  # collectives over this axis
                    getattr(primitive, "is_collective", False)
                    and self.axis_name in params["axis_name"]):
                return primitive.bind(*vals, **params)
            rule = primitive.batching_rule
            if rule is None:
                raise _core.MissingRuleError(f"no batching rule for '{primitive.name}'")
            out, out_dim = rule(self.axis_data, list(vals), list(dims), **params)
        if primitive.multiple_results:
            return [self.wrap(o, d) for o, d in zip(out, out_dim)]
        return self.wrap(out, out_dim)

    def wrap(self, val, dim):
        return val if dim is None else BatchTracer(self, val, dim)


def find_axis_trace(axis_name):
    """The innermost live vmap trace named `axis_name` (for collectives)."""
    trace = _core.current_trace()
    while trace is not None:
        if isinstance(trace, BatchTrace) and trace.axis_name == axis_name:
            return trace
        trace = getattr(trace, "parent", None)
    for trace in _core.watched_traces():  # a custom rule's function run in the parent
        if isinstance(trace, BatchTrace) and trace.axis_name == axis_name:
            raise _core.TracerOfWatchedTrace(trace)
    raise NameError(f"unbound axis name: {axis_name!r}. Collectives need an enclosing "
                    f"vmap(..., axis_name={axis_name!r}).")


def vmap_traced(fun, args, in_dims, axis_size, axis_name=None, out_dims=None):
    """Run `fun` on batched args; returns outputs with batch dims moved to `out_dims`
    (an int or None per output; None there means "must be unbatched")."""
    trace = BatchTrace(_core.current_trace(), axis_size, axis_name)
    with new_trace(trace):
        ins = [trace.wrap(a, d) for a, d in zip(args, in_dims)]
        outs = fun(*ins)
        lifted = [trace.lift(o) for o in outs]
    if out_dims is None:
        out_dims = [0] * len(lifted)
    return [move_batch_axis(axis_size, v, d, od) for (v, d), od in zip(lifted, out_dims)]


def vmap_traced_dims(fun, args, in_dims, axis_size, axis_name=None, description=None):
    """Like vmap_traced but keeps each output's batch dim as produced (None allowed)."""
    trace = BatchTrace(_core.current_trace(), axis_size, axis_name, description)
    with new_trace(trace):
        ins = [trace.wrap(a, d) for a, d in zip(args, in_dims)]
        outs = fun(*ins)
        lifted = [trace.lift(o) for o in outs]
    return [v for v, _ in lifted], [d for _, d in lifted]


# --- helpers for batching rules ---------------------------------------------------

def batched_avals(avals, dims, axis_size):
    """The avals of values batched at `dims` (None: unbatched) with `axis_size`."""
    out = []
    for a, d in zip(avals, dims):
        shape = list(a.shape)
        if d is not None:
            shape.insert(d, axis_size)
        out.append(a.update(shape=shape))
    return out


# Moving a batch axis needs two lax primitives; lax, a higher layer, registers them
# here at import.
_axis_ops = {}


def register_axis_ops(*, broadcast_in_dim, transpose):
    _axis_ops.update(broadcast_in_dim=broadcast_in_dim, transpose=transpose)


def move_batch_axis(axis_size, x, src, dst):
    """Move batch dim `src` of x to `dst`, broadcasting if x is unbatched (src None)."""
    if dst is None:
        if src is not None:
            raise ValueError("vmap out_axes=None requires an output that does not depend "
                             "on the batched inputs")
        return x
    if src is None:
        aval = get_aval(x)
        shape = list(aval.shape)
        dst = dst % (len(shape) + 1)
        shape.insert(dst, axis_size)
        dims = [i for i in range(len(shape)) if i != dst]
        return _axis_ops["broadcast_in_dim"](x, tuple(shape), tuple(dims))
    ndim = get_aval(x).ndim
    dst = dst % ndim
    if src == dst:
        return x
    perm = [i for i in range(ndim) if i != src]
    perm.insert(dst, src)
    return _axis_ops["transpose"](x, tuple(perm))


def bdim_at_front(axis_size, x, d):
    return move_batch_axis(axis_size, x, d, 0)


def broadcast_batcher(primitive):
    """Batching for elementwise primitives whose operands share one shape."""
    def rule(axis_data, vals, dims, **params):
        shapes = {get_aval(v).shape for v, d in zip(vals, dims) if d is not None}
        ndims = {get_aval(v).ndim for v in vals}
        if len(shapes) == 1 and len(set(d for d in dims)) == 1 and len(ndims) == 1:
            d = dims[0]  # all batched at the same place with the same shape
            return primitive.bind(*vals, **params), d
        vals = [bdim_at_front(axis_data.size, v, d) for v, d in zip(vals, dims)]
        return primitive.bind(*vals, **params), 0
    primitive.batching_rule = rule
    return rule


def batch_program(program, in_dims, axis_size, axis_name, force_out=None):
    """Program over inputs batched at `in_dims` (int or None) -> outputs batched at 0,
    or unbatched where no batch reaches them and `force_out` (default: none) does not
    ask for one. Returns (program, out_batched). Memoised on the program: jit, control
    flow, custom rules and checkpoint all batch their sub-programs here."""
    if force_out is None:
        force_out = [False] * len(program.outs)

    def build():
        avals = batched_avals(program.in_avals, in_dims, axis_size)
        out_batched = []

        def fun(*args):
            outs, dims = vmap_traced_dims(lambda *xs: eval_program(program, xs), args,
                                          in_dims, axis_size, axis_name)
            out_batched.extend(d is not None or force for d, force in zip(dims, force_out))
            return [move_batch_axis(axis_size, o, d, 0) if batched else o
                    for o, d, batched in zip(outs, dims, out_batched)]
        return trace_closed(fun, avals, "vmap"), out_batched
    return memo(program, (batch_program, tuple(in_dims), axis_size, axis_name,
                          tuple(force_out)), build)
