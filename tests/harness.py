"""Shared checks for op-record tests: our function against JAX's on the same inputs,
eager and under jit; JVP and VJP against JAX and finite differences; vmap against
jax.vmap. A test module lists records and parametrizes over them.

Each check also runs on input variants at the edges (`variant=`): "nonfinite" puts
nan, inf and -inf among the floats of the record's data arguments, "empty" gives them
a zero-size axis. Where JAX raises on a variant, ours must raise an error of the same
built-in class; otherwise the results must match, NaNs included (derivatives too)."""
import builtins
import dataclasses
from typing import Any, Callable, Optional, Sequence

import numpy as np
import jax
import jax.numpy as jnp_ref

import functorch_lite as fl

FLOAT = (np.float32,)
ALL_FLOAT = (np.float32, np.float16, jnp_ref.bfloat16)
INT = (np.int32,)


@dataclasses.dataclass
class Rec:
    """One op record: `ours(*args)` must equal `ref(*args)` (ref written with jax)."""
    name: str
    ours: Callable
    ref: Callable
    shapes: Sequence[Any]             # list of argument specs: (shape, dtype) or a value
    rtol: float = 1e-5
    atol: float = 1e-6
    grad_argnums: Sequence[int] = ()  # which args to differentiate (floats)
    grad_rtol: float = 1e-3
    batch: bool = True                # test vmap over every array argument
    domain: str = "normal"            # "normal", "positive", "unit" (-1..1), "int"
    edge_args: Optional[Sequence[int]] = None  # args given edge variants (None: arrays)
    empty_axis: int = -1              # the axis the "empty" variant makes size 0
    empty_ref: Optional[Callable] = None  # ref for "empty" where JAX versions disagree
    values_specified: bool = True     # False: compare shapes and dtypes only

    def __str__(self):
        return self.name


def make_args(rec, seed=0, variant="base"):
    """The record's arguments; `variant` "nonfinite" or "empty" changes its data
    arguments (`rec.edge_args`, by default every array of rank >= 1)."""
    args = _base_args(rec, seed)
    if variant == "base":
        return args
    positions = rec.edge_args if rec.edge_args is not None else [
        i for i in array_positions(args) if args[i].ndim]
    for i in positions:
        a = args[i]
        if variant == "nonfinite" and a.dtype.kind in "fc":
            args[i] = with_nonfinite(a)
        elif variant == "empty":
            args[i] = np.take(a, np.array([], np.int32), axis=rec.empty_axis)
    return args


def reference(rec, variant):
    """The JAX function `variant` is checked against: rec.ref, or for the "empty"
    variant rec.empty_ref when given (a record states why: JAX releases the project
    supports behave differently there)."""
    return rec.empty_ref if variant == "empty" and rec.empty_ref is not None else rec.ref


def with_nonfinite(a):
    """A copy of the float array `a` with nan, inf and -inf at every 7th position
    (offsets 1, 3 and 4 of the flattened array): some rows and columns keep none."""
    flat = np.array(a).reshape(-1)
    for offset, value in [(1, np.nan), (3, np.inf), (4, -np.inf)]:
        flat[offset::7] = value
    return flat.reshape(np.shape(a))


def has_variant(rec, variant):
    """Whether `variant` changes the record's arguments (ints have no non-finite)."""
    if variant == "base":
        return True
    base, edge = _base_args(rec, 0), make_args(rec, 0, variant)
    return any(isinstance(b, np.ndarray) and (b.shape != e.shape or
                                              not np.array_equal(b, e, equal_nan=True))
               for b, e in zip(base, edge))


def _base_args(rec, seed):
    rng = np.random.RandomState(seed)
    args = []
    for spec in rec.shapes:
        if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], tuple)):
            args.append(spec)  # a literal value (static or scalar argument)
            continue
        shape, dtype = spec
        dtype = np.dtype(dtype)
        if dtype == np.bool_:
            a = rng.rand(*shape) > 0.5
        elif np.issubdtype(dtype, np.integer):
            lo = 0 if np.issubdtype(dtype, np.unsignedinteger) else -5
            a = rng.randint(lo, 6, size=shape).astype(dtype)
        else:
            if rec.domain == "positive":
                a = rng.rand(*shape) * 2 + 0.1
            elif rec.domain == "unit":
                a = rng.rand(*shape) * 1.8 - 0.9
            else:
                a = rng.randn(*shape)
            a = np.asarray(a).astype(dtype)
        args.append(a)
    return args


def to_np(x):
    return jax.tree_util.tree_map(lambda v: np.asarray(v), x)


def assert_close(got, want, rtol, atol, what=""):
    """Same trees, shapes, dtypes and values (NaNs and infinities in the same places)."""
    got_l, got_t = jax.tree_util.tree_flatten(got)
    want_l, want_t = jax.tree_util.tree_flatten(want)
    assert got_t == want_t, f"{what}: tree {got_t} != {want_t}"
    for g, w in zip(got_l, want_l):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype} != {w.dtype}"
        if g.dtype == jax.dtypes.float0:
            continue
        if g.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=what)
        else:
            wide = np.complex128 if g.dtype.kind == "c" else np.float64  # keep imag
            np.testing.assert_allclose(g.astype(wide), w.astype(wide),
                                       rtol=rtol, atol=atol, err_msg=what)


def array_positions(args):
    return [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]


def _builtin_class(err):
    """The nearest built-in exception class of `err` (JAX's own errors subclass them)."""
    return next(c for c in type(err).__mro__ if getattr(builtins, c.__name__, None) is c)


def run_both(ours, ref, what):
    """ours() and ref(): ref's result, after checking that ours raises an error of the
    same built-in class when ref raises. Returns (ours_result, ref_result, raised)."""
    try:
        want = ref()
    except Exception as err:  # noqa: BLE001 - any error JAX raises, ours must match
        cls = _builtin_class(err)
        try:
            ours()
        except cls:
            return None, None, True
        except Exception as got:  # noqa: BLE001
            raise AssertionError(f"{what}: raised {type(got).__name__}: {got}; JAX raises "
                                 f"{type(err).__name__}: {err}") from got
        raise AssertionError(f"{what}: no error; JAX raises {type(err).__name__}: {err}")
    return ours(), want, False


def _shapes_and_dtypes(tree):
    return jax.tree_util.tree_map(lambda x: (np.shape(x), np.asarray(x).dtype), tree)


def check_values(rec, jit=True, variants=("base",)):
    """Values eager and under jit for each variant; one jitted function serves all
    variants (same shapes: one compile)."""
    if not rec.values_specified:  # e.g. jnp.empty: uninitialised memory since JAX 0.11
        args = make_args(rec)
        want = _shapes_and_dtypes(rec.ref(*args))
        assert _shapes_and_dtypes(rec.ours(*args)) == want, rec.name
        if jit:
            assert _shapes_and_dtypes(fl.jit(lambda: rec.ours(*args))()) == want, rec.name
        return
    ours_j = None
    for variant in variants:
        if not has_variant(rec, variant):
            continue
        args = make_args(rec, variant=variant)
        what = f"{rec.name} ({variant})"
        ref = reference(rec, variant)
        got, want, raised = run_both(lambda: rec.ours(*args), lambda: ref(*args),
                                     f"{what} eager")
        if not raised:
            assert_close(got, want, rec.rtol, rec.atol, f"{what} eager")
        if not jit:
            continue
        pos = array_positions(args)
        if ours_j is None:
            ours_j = fl.jit(_with_arrays(rec.ours, args, pos))
        got, want, raised = run_both(lambda: ours_j(*[args[i] for i in pos]),
                                     lambda: ref(*args), f"{what} jit")
        if not raised:
            assert_close(got, want, rec.rtol, rec.atol, f"{what} jit")


def _with_arrays(fn, args, pos):
    """fn with the arguments at `pos` taken from the call (the rest from `args`)."""
    def g(*arrs):
        full = list(args)
        for i, a in zip(pos, arrs):
            full[i] = a
        return fn(*full)
    return g


def _partial(fn, args, argnums):
    def f(*diff):
        full = list(args)
        for i, d in zip(argnums, diff):
            full[i] = d
        return fn(*full)
    return f


def check_jvp_vjp(rec, variants=("base",)):
    """Our jvp and vjp against jax.jvp / jax.vjp at the same point and directions."""
    for variant in variants:
        if has_variant(rec, variant):
            _check_jvp_vjp(rec, variant)


def _check_jvp_vjp(rec, variant):
    args = make_args(rec, variant=variant)
    argnums = list(rec.grad_argnums)
    rng = np.random.RandomState(1)
    primals = [args[i] for i in argnums]
    tangents = [np.asarray(rng.randn(*np.shape(p))).astype(p.dtype) for p in primals]
    f_ours = _partial(rec.ours, args, argnums)
    f_ref = _partial(reference(rec, variant), args, argnums)
    what = f"{rec.name} ({variant})"
    got, want, raised = run_both(lambda: fl.jvp(f_ours, primals, tangents),
                                 lambda: jax.jvp(f_ref, primals, tangents), f"{what} jvp")
    if raised:
        return
    (out, tout), (out_r, tout_r) = got, want
    tol = dict(rtol=rec.grad_rtol, atol=rec.grad_rtol)
    assert_close(out, out_r, rec.rtol, rec.atol, f"{what} jvp primal")
    assert_close(tout, tout_r, what=f"{what} jvp tangent", **tol)
    out, pullback = fl.vjp(f_ours, *primals)
    out_r, pullback_r = jax.vjp(f_ref, *primals)
    ct = jax.tree_util.tree_map(
        lambda o: np.asarray(rng.randn(*np.shape(o))).astype(np.asarray(o).dtype), to_np(out_r))
    got, want, raised = run_both(lambda: pullback(ct), lambda: pullback_r(ct), f"{what} vjp")
    if not raised:
        assert_close(got, want, what=f"{what} vjp", **tol)


def check_vmap(rec, in_axis=0, variants=("base",)):
    """vmap over every array argument (batch of 3 at `in_axis`) against jax.vmap."""
    for variant in variants:
        if has_variant(rec, variant):
            _check_vmap(rec, in_axis, variant)


def _check_vmap(rec, in_axis, variant):
    args = make_args(rec, variant=variant)
    pos = array_positions(args)
    batched = []
    for i in pos:
        a = args[i]
        stack = np.stack([a] + [make_args(rec, s, variant)[i] for s in (3, 4)], axis=0)
        batched.append(np.moveaxis(stack, 0, in_axis % (a.ndim + 1)))
    axes = tuple(in_axis % (args[i].ndim + 1) for i in pos)
    ours = _with_arrays(rec.ours, args, pos)
    ref = _with_arrays(reference(rec, variant), args, pos)
    what = f"{rec.name} ({variant}) vmap"
    got, want, raised = run_both(lambda: fl.vmap(ours, in_axes=axes)(*batched),
                                 lambda: jax.vmap(ref, in_axes=axes)(*batched), what)
    if raised:
        return
    assert_close(got, want, rec.rtol, rec.atol, what)
    # one operand batched, the others not
    if len(pos) > 1:
        axes1 = (axes[0],) + (None,) * (len(pos) - 1)
        mixed = [batched[0]] + [args[i] for i in pos[1:]]
        got = fl.vmap(ours, in_axes=axes1)(*mixed)
        want = jax.vmap(ref, in_axes=axes1)(*mixed)
        assert_close(got, want, rec.rtol, rec.atol, f"{what} (first only)")


def check_edges(rec, in_axis=0):
    """The "empty" variant through every check (values eager and jit, jvp/vjp when the
    record has gradients, vmap when it batches)."""
    check_values(rec, variants=("empty",))
    if rec.grad_argnums:
        check_jvp_vjp(rec, variants=("empty",))
    if rec.batch:
        check_vmap(rec, in_axis, variants=("empty",))


def numerical_jvp(f, primals, tangents, eps=1e-3):
    """Central finite difference in float64."""
    p64 = [np.asarray(p, np.float64) for p in primals]
    t64 = [np.asarray(t, np.float64) for t in tangents]
    plus = f(*[p + eps * t for p, t in zip(p64, t64)])
    minus = f(*[p - eps * t for p, t in zip(p64, t64)])
    return jax.tree_util.tree_map(lambda a, b: (np.asarray(a, np.float64) -
                                                np.asarray(b, np.float64)) / (2 * eps),
                                  plus, minus)
