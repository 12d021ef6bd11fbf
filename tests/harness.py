"""Shared checks for op-record tests: our function against JAX's on the same inputs,
eager and under jit; JVP and VJP against JAX and finite differences; vmap against
jax.vmap. A test module lists records and parametrizes over them."""
import dataclasses
from typing import Any, Callable, Sequence

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
    values_specified: bool = True     # False: compare shapes and dtypes only

    def __str__(self):
        return self.name


def make_args(rec, seed=0):
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
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64),
                                       rtol=rtol, atol=atol, err_msg=what)


def array_positions(args):
    return [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]


def _shapes_and_dtypes(tree):
    return jax.tree_util.tree_map(lambda x: (np.shape(x), np.asarray(x).dtype), tree)


def check_values(rec, jit=True):
    args = make_args(rec)
    want = rec.ref(*args)
    if not rec.values_specified:  # e.g. jnp.empty: uninitialised memory since JAX 0.11
        assert _shapes_and_dtypes(rec.ours(*args)) == _shapes_and_dtypes(want), rec.name
        got = fl.jit(lambda: rec.ours(*args))() if jit else rec.ours(*args)
        assert _shapes_and_dtypes(got) == _shapes_and_dtypes(want), rec.name
        return
    assert_close(rec.ours(*args), want, rec.rtol, rec.atol, f"{rec.name} eager")
    if jit:
        pos = array_positions(args)
        def ours_j(*arrs):
            full = list(args)
            for i, a in zip(pos, arrs):
                full[i] = a
            return rec.ours(*full)
        got = fl.jit(ours_j)(*[args[i] for i in pos])
        assert_close(got, want, rec.rtol, rec.atol, f"{rec.name} jit")


def _partial(fn, args, argnums):
    def f(*diff):
        full = list(args)
        for i, d in zip(argnums, diff):
            full[i] = d
        return fn(*full)
    return f


def check_jvp_vjp(rec):
    """Our jvp and vjp against jax.jvp / jax.vjp at the same point and directions."""
    args = make_args(rec)
    argnums = list(rec.grad_argnums)
    rng = np.random.RandomState(1)
    primals = [args[i] for i in argnums]
    tangents = [np.asarray(rng.randn(*np.shape(p))).astype(p.dtype) for p in primals]
    f_ours, f_ref = _partial(rec.ours, args, argnums), _partial(rec.ref, args, argnums)
    out, tout = fl.jvp(f_ours, primals, tangents)
    out_r, tout_r = jax.jvp(f_ref, primals, tangents)
    tol = dict(rtol=rec.grad_rtol, atol=rec.grad_rtol)
    assert_close(out, out_r, rec.rtol, rec.atol, f"{rec.name} jvp primal")
    assert_close(tout, tout_r, what=f"{rec.name} jvp tangent", **tol)
    out, pullback = fl.vjp(f_ours, *primals)
    out_r, pullback_r = jax.vjp(f_ref, *primals)
    ct = jax.tree_util.tree_map(
        lambda o: np.asarray(rng.randn(*np.shape(o))).astype(np.asarray(o).dtype), to_np(out_r))
    assert_close(pullback(ct), pullback_r(ct), what=f"{rec.name} vjp", **tol)


def check_vmap(rec, in_axis=0):
    """vmap over every array argument (batch of 3 at `in_axis`) against jax.vmap."""
    args = make_args(rec)
    rng = np.random.RandomState(2)
    pos = array_positions(args)
    batched = []
    for i in pos:
        a = args[i]
        stack = np.stack([a] + [make_args(rec, seed=s)[i] for s in (3, 4)], axis=0)
        batched.append(np.moveaxis(stack, 0, in_axis % (a.ndim + 1)))

    def wrap(fn):
        def g(*arrs):
            full = list(args)
            for i, a in zip(pos, arrs):
                full[i] = a
            return fn(*full)
        return g
    axes = tuple(in_axis % (args[i].ndim + 1) for i in pos)
    got = fl.vmap(wrap(rec.ours), in_axes=axes)(*batched)
    want = jax.vmap(wrap(rec.ref), in_axes=axes)(*batched)
    assert_close(got, want, rec.rtol, rec.atol, f"{rec.name} vmap")
    # one operand batched, the others not
    if len(pos) > 1:
        axes1 = (axes[0],) + (None,) * (len(pos) - 1)
        mixed = [batched[0]] + [args[i] for i in pos[1:]]
        got = fl.vmap(wrap(rec.ours), in_axes=axes1)(*mixed)
        want = jax.vmap(wrap(rec.ref), in_axes=axes1)(*mixed)
        assert_close(got, want, rec.rtol, rec.atol, f"{rec.name} vmap (first only)")


def numerical_jvp(f, primals, tangents, eps=1e-3):
    """Central finite difference in float64."""
    p64 = [np.asarray(p, np.float64) for p in primals]
    t64 = [np.asarray(t, np.float64) for t in tangents]
    plus = f(*[p + eps * t for p, t in zip(p64, t64)])
    minus = f(*[p - eps * t for p, t in zip(p64, t64)])
    return jax.tree_util.tree_map(lambda a, b: (np.asarray(a, np.float64) -
                                                np.asarray(b, np.float64)) / (2 * eps),
                                  plus, minus)
