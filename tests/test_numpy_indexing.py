"""NumPy indexing of traced arrays and `.at[...]` updates against jax.numpy: a table of
index expressions on a (4, 5, 6) array (eager and inside fl.jit), traced indices,
out-of-bounds behaviour, gradients, vmap, take / take_along_axis / put_along_axis."""
import functools

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close, run_both, with_nonfinite
import backend_expectations as backends

F32, I32 = np.float32, np.int32
X = np.random.RandomState(0).randn(4, 5, 6).astype(F32)
X_NONFINITE = with_nonfinite(X)                   # nan, inf and -inf among the values
EMPTY_SHAPES = [(0, 5, 6), (4, 0, 6), (4, 5, 0)]  # X with one zero-size axis
MASK4 = np.array([True, False, True, True])
MASK45 = np.random.RandomState(1).rand(4, 5) > 0.5

INDEX_TABLE = [
    1, -1, (1, 2), (1, -1, 3), (), Ellipsis,
    slice(None), slice(1, 3), slice(None, None, 2), slice(None, None, -1), slice(3, 0, -2),
    slice(-2, None), (slice(1, 3), slice(None, None, -2), 4), slice(2, 2), slice(10, 20),
    (Ellipsis, 1), (None, 1), (1, None, Ellipsis, None), (Ellipsis, None), (None,),
    np.array([0, 2, 1]), np.array([[0, 1], [3, 3]]), np.array([-1, -4]),
    (np.array([0, 2]), np.array([1, 4])),
    (np.array([0, 2]), slice(None), np.array([1, 5])),
    (slice(None), np.array([1, 3]), np.array([[0], [5]])),
    (1, slice(None), np.array([0, 2])),
    (slice(None), 1, np.array([[0, 2]])),
    (np.array([0, 1]), None, np.array([1, 2])),
    (Ellipsis, np.array([5, 0, 0])),
    (slice(None, None, -1), np.array([1, 3])),
    ([0, 2], [1, 3]),
    MASK4, MASK45, (slice(None), np.array([True, False, True, False, True])),
    (MASK4, Ellipsis, np.array([0, 1, 2])),
    True, (Ellipsis, True), (Ellipsis, False),
    np.array([], I32),
    7, (1, 9), np.array([7, -9]), (0, np.int32(2)), np.array(3),
]


def _ids(table):
    return [repr(i).replace("\n", "")[:60] for i in table]


@functools.lru_cache(maxsize=None)
def _jax_index_table(nonfinite):
    """jnp's x[idx] for the whole table, compiled once (compiles dominate the run time)."""
    return _JAX_TABLE(X_NONFINITE if nonfinite else X)


_JAX_TABLE = jax.jit(lambda x: [x[idx] for idx in INDEX_TABLE])


@pytest.mark.parametrize("k", range(len(INDEX_TABLE)), ids=_ids(INDEX_TABLE))
def test_index_table(k):
    idx = INDEX_TABLE[k]
    ours = fl.jit(lambda x: x[idx])
    for x, nonfinite in [(X, False), (X_NONFINITE, True)]:  # one compile for both
        want = _jax_index_table(nonfinite)[k]
        assert_close(ours(x), want, 0, 0, f"jit x[{idx!r}] (nonfinite={nonfinite})")
        got_eager = fnp._rewriting_take(jnp.asarray(x), idx)
        assert_close(got_eager, want, 0, 0, f"eager x[{idx!r}] (nonfinite={nonfinite})")


GRAD_TABLE = [1, (slice(1, 3), slice(None, None, -2), 4), np.array([[0, 1], [3, 3]]),
              (np.array([0, 2]), slice(None), np.array([1, 5])), MASK45, 7,
              (slice(None), 1, np.array([[0, 2, 2]]))]


@pytest.mark.parametrize("idx", GRAD_TABLE, ids=_ids(GRAD_TABLE))
def test_grad_through_getitem(idx):
    w = np.random.RandomState(2).randn(*jnp.asarray(X)[idx].shape).astype(F32)
    got = fl.grad(lambda x: fnp.sum(x[idx] * w))(X)
    want = jax.grad(lambda x: jnp.sum(x[idx] * w))(X)
    assert_close(got, want, 1e-6, 1e-6, f"grad x[{idx!r}]")


# --- traced indices -------------------------------------------------------------------

@pytest.mark.parametrize("i", [2, -1, 9, -9])
def test_traced_scalar_index(i):
    i = np.asarray(i, I32)
    for f in (lambda x, i: x[i], lambda x, i: x[:, i, 1:3], lambda x, i: x[i, None, ::2],
              lambda x, i: x[1, i, np.array([0, 5])]):
        assert_close(fl.jit(f)(X, i), f(jnp.asarray(X), i), 0, 0, f"traced scalar {i}")


def test_traced_index_arrays_and_modes():
    idx = np.array([0, -1, 7, -9], I32)
    cases = [lambda x, i: x[i], lambda x, i: x[:, i],
             lambda x, i: x.at[i].get(mode="fill"),
             lambda x, i: x.at[:, i].get(mode="fill", fill_value=-1.0),
             lambda x, i: x.at[i].get(mode="clip"),
             lambda x, i: x.at[i, 0].get(mode="promise_in_bounds")]
    for k, f in enumerate(cases):
        assert_close(fl.jit(f)(X, idx), f(jnp.asarray(X), idx), 0, 0, f"case {k}")


def test_traced_slice_bounds_and_masks_give_clear_errors():
    with pytest.raises(IndexError, match="static"):
        fl.jit(lambda x, i: x[i:])(X, np.asarray(1, I32))
    with pytest.raises(IndexError, match="jnp.where"):
        fl.jit(lambda x: x[x > 0])(X)
    with pytest.raises(TypeError, match="non-tuple sequence"):
        fl.jit(lambda x: x[[0, 1]])(X)
    with pytest.raises(TypeError, match="integer"):
        fl.jit(lambda x: x[1.5])(X)
    with pytest.raises(IndexError, match="Too many indices"):
        fl.jit(lambda x: x[0, 0, 0, 0])(X)


def test_concrete_mask_under_jvp_and_vmap_of_indices():
    mask = X[:, 0, 0] > 0
    got = fl.jvp(lambda x: x[mask], (X,), (np.ones_like(X),))
    want = jax.jvp(lambda x: x[mask], (X,), (np.ones_like(X),))
    assert_close(got, want, 0, 0, "jvp with a concrete mask")
    idx = np.array([[0, 3], [1, 1], [-1, 2]], I32)
    got = fl.vmap(lambda i: fnp._rewriting_take(X, i))(idx)
    want = jax.vmap(lambda i: jnp.asarray(X)[i])(idx)
    assert_close(got, want, 0, 0, "vmap over index arrays")
    got = fl.vmap(lambda x, i: x[1:, i])(X[:3], idx[:, 0])
    want = jax.vmap(lambda x, i: x[1:, i])(X[:3], idx[:, 0])
    assert_close(got, want, 0, 0, "vmap over x and a scalar index")
    got = fl.vmap(lambda x: x[::-1, np.array([2, 0])], in_axes=2)(X)
    want = jax.vmap(lambda x: x[::-1, np.array([2, 0])], in_axes=2)(X)
    assert_close(got, want, 0, 0, "vmap over x at axis 2")


# --- .at updates -----------------------------------------------------------------------

UPDATE_INDICES = [1, (slice(1, 3), 2), np.array([0, 2, 0]), (np.array([0, 3]), 1,
                  np.array([[1], [4]])), MASK45, (Ellipsis, np.array([-1, 0, -1])),
                  (slice(None, None, -2), None, 0), np.array([7, -7, 1]), (1, 9)]
OPS = ["set", "add", "subtract", "multiply", "divide", "power", "min", "max"]


UPDATE_VALUES = [(np.random.RandomState(3).rand(*jax.eval_shape(lambda x: x[i], X).shape)
                  + 0.5).astype(F32) for i in UPDATE_INDICES]
X_POSITIVE = np.abs(X) + 0.5


def _all_updates(x, idx, values):
    return {op: getattr(x.at[idx], op)(values) for op in OPS}


@functools.lru_cache(maxsize=None)
def _jax_updates(nonfinite):
    """jnp's results for every (index, op) pair, compiled once."""
    return _JAX_UPDATES(*_update_operands(nonfinite))


_JAX_UPDATES = jax.jit(lambda x, vs: [_all_updates(x, i, v)
                                      for i, v in zip(UPDATE_INDICES, vs)])


def _update_operands(nonfinite):
    if not nonfinite:
        return X_POSITIVE, UPDATE_VALUES
    return with_nonfinite(X_POSITIVE), [with_nonfinite(v) for v in UPDATE_VALUES]


def _conflicts(k):
    """(duplicates, out_of_bounds) of update case k: several updates landing on one
    element, or updates out of bounds (`promise_in_bounds`, the default mode, leaves
    those unspecified)."""
    try:
        positions = np.arange(X.size).reshape(X.shape)[UPDATE_INDICES[k]]
    except IndexError:
        return False, True
    return len(np.unique(positions)) < positions.size, False


def _assert_set_lands_one_candidate(got, want, x, idx, values):
    """x.at[idx].set(values) with duplicate indices: where updates conflict, any one of
    them may land (JAX leaves the order unspecified); elsewhere the result is JAX's."""
    positions = np.broadcast_to(np.arange(x.size).reshape(x.shape)[idx], values.shape)
    got, want = np.asarray(got).reshape(-1), np.asarray(want).reshape(-1)
    values, positions = values.reshape(-1), positions.reshape(-1)
    conflicting = {p for p in positions if (positions == p).sum() > 1}
    same = lambda a, b: a == b or (np.isnan(a) and np.isnan(b))  # noqa: E731
    for p in range(x.size):
        if p in conflicting:
            assert any(same(got[p], v) for v in values[positions == p]), p
        else:
            assert same(got[p], want[p]), p


@pytest.mark.parametrize("k", range(len(UPDATE_INDICES)), ids=_ids(UPDATE_INDICES))
def test_at_updates(k):
    idx = UPDATE_INDICES[k]
    duplicates, out_of_bounds = _conflicts(k)
    for nonfinite in (False, True):
        x, values = _update_operands(nonfinite)
        what = f"(nonfinite={nonfinite})"
        if out_of_bounds and not backends.SCATTER_CONFLICTS_IN_ORDER:
            # unspecified under the default mode there: check the specified mode="drop"
            drop = lambda x, v: {op: getattr(x.at[idx], op)(v, mode="drop") for op in OPS}
            got = fl.jit(drop)(x, values[k])
            want = jax.jit(drop)(x, values[k])
        else:
            got = fl.jit(lambda x, v: _all_updates(x, idx, v))(x, values[k])
            want = _jax_updates(nonfinite)[k]
        for op in OPS:
            if op == "set" and duplicates and not backends.SCATTER_CONFLICTS_IN_ORDER:
                _assert_set_lands_one_candidate(got[op], want[op], x, idx, values[k])
            else:
                assert_close(got[op], want[op], 1e-6, 1e-6, f"x.at[{idx!r}].{op} {what}")


@pytest.mark.filterwarnings("ignore:scatter inputs have incompatible types")
def test_at_update_details():
    """Each case is f(at, x) with at(x) = x.at; run under fl.jit, eagerly on a jax.Array
    through our AtIndexer, and with jax.numpy."""
    x, xi = jnp.asarray(X), jnp.arange(10)
    cases = [
        (lambda at, x: at(x)[np.array([1, 1, 1])].add(1.5), x),                # accumulate
        (lambda at, x: at(x)[0].set(2), x),                                     # int into float
        (lambda at, x: at(x)[np.array([2, 2, 5])].add(1.7), xi),                # float into int
        (lambda at, x: at(x)[np.array([2, 2, 5])].mul(3), xi),
        (lambda at, x: at(x)[:3].set(np.array([7, 8, 9])), xi),
        (lambda at, x: at(x)[np.array([1, 12, -3])].set(99, mode="clip"), xi),  # clamped
        (lambda at, x: at(x)[np.array([1, 12, -13])].add(5, mode="drop"), xi),
        (lambda at, x: at(x)[np.array([1, 3, 1])].apply(lambda v: v * 2 + 1), x),
        (lambda at, x: at(x)[np.array([-1, 3])].set(0, wrap_negative_indices=False), xi),
        (lambda at, x: at(x)[True].set(0.0), x),
        (lambda at, x: at(x)[np.array([4, 0])].get(mode="fill", fill_value=-2), xi),
    ]
    for k, (f, arg) in enumerate(cases):
        want = f(lambda a: a.at, arg)
        got = fl.jit(lambda a: f(lambda b: b.at, a))(np.asarray(arg))
        assert_close(got, want, 1e-6, 1e-6, f"case {k} jit")
        got = f(fnp._indexing.AtIndexer, arg)
        assert_close(got, want, 1e-6, 1e-6, f"case {k} eager on a jax.Array")


SET_GRAD_INDICES = [(1, slice(0, 3)), np.array([3, 0]), np.array([2, 2, 0]), MASK45,
                    (np.array([0, 1]), slice(None), np.array([4, 4]))]


def _assert_set_grad_goes_to_one_candidate(got_v, want_v, idx):
    """d/dv of sum(x.at[idx].set(v) * w) with duplicate indices: the update that landed
    gets w there, the others 0, and which one lands is unspecified off the CPU."""
    positions = np.broadcast_to(np.arange(X.size).reshape(X.shape)[idx], got_v.shape)
    got_v, want_v = np.asarray(got_v), np.asarray(want_v)
    for p in np.unique(positions):
        group = positions == p
        np.testing.assert_allclose(got_v[group].sum(), want_v[group].sum(), 1e-5, 1e-5)
        assert (got_v[group] != 0).sum() <= 1, p


@pytest.mark.parametrize("idx", SET_GRAD_INDICES, ids=_ids(SET_GRAD_INDICES))
def test_grad_through_at_set_and_add(idx):
    shape = jnp.asarray(X)[idx].shape
    v = np.random.RandomState(4).randn(*shape).astype(F32)
    w = np.random.RandomState(5).randn(*X.shape).astype(F32)
    positions = np.arange(X.size).reshape(X.shape)[idx]
    duplicates = len(np.unique(positions)) < positions.size
    for op in ("set", "add", "mul"):
        def ours(x, v):
            return fnp.sum(getattr(x.at[idx], op)(v) * w)

        def ref(x, v):
            return jnp.sum(getattr(x.at[idx], op)(v) * w)
        if op == "mul" and idx is not SET_GRAD_INDICES[0]:
            continue  # mul gradients need unique indices (basic indexing), as in JAX
        got = fl.grad(ours, argnums=(0, 1))(X, v)
        want = jax.grad(ref, argnums=(0, 1))(X, v)
        if op == "set" and duplicates and not backends.SCATTER_CONFLICTS_IN_ORDER:
            assert_close(got[0], want[0], 1e-5, 1e-5, f"grad x of x.at[{idx!r}].set")
            _assert_set_grad_goes_to_one_candidate(got[1], want[1], idx)
        else:
            assert_close(got, want, 1e-5, 1e-5, f"grad x.at[{idx!r}].{op}")


def test_checks_of_unspecified_scatter_orders_accept_jax(monkeypatch):
    """The weaker checks used where conflicting updates land in no specified order
    (a GPU) hold for the order this backend applies."""
    monkeypatch.setattr(backends, "SCATTER_CONFLICTS_IN_ORDER", False)
    for k in range(len(UPDATE_INDICES)):
        if any(_conflicts(k)):
            test_at_updates(k)
    test_grad_through_at_set_and_add(np.array([2, 2, 0]))


def test_jvp_and_vmap_of_at_updates():
    idx = np.array([2, 0, 2])
    v = np.ones((3, 5, 6), F32)
    for op in ("set", "add", "max"):
        got = fl.jvp(lambda x, v: getattr(x.at[idx], op)(v), (X, v), (X * 0 + 1, v * 2))
        want = jax.jvp(lambda x, v: getattr(x.at[idx], op)(v), (X, v), (X * 0 + 1, v * 2))
        assert_close(got, want, 1e-6, 1e-6, f"jvp {op}")
    ii = np.array([[0, 1], [3, 3], [2, 0]], I32)
    vv = np.random.RandomState(6).randn(3, 2).astype(F32)
    xs = X[:3, :, 0]
    got = fl.vmap(lambda x, i, v: x.at[i].add(v))(xs, ii, vv)
    want = jax.vmap(lambda x, i, v: x.at[i].add(v))(xs, ii, vv)
    assert_close(got, want, 1e-6, 1e-6, "vmap at.add")
    # fnp.zeros gives a concrete jax.Array, whose own .at is jax's: use our AtIndexer
    got = fl.vmap(lambda i, v: fnp._indexing.AtIndexer(fnp.zeros(5))[i].set(v))(ii, vv)
    want = jax.vmap(lambda i, v: jnp.zeros(5).at[i].set(v))(ii, vv)
    assert_close(got, want, 1e-6, 1e-6, "vmap at.set")


# --- take, take_along_axis, put_along_axis ---------------------------------------------

def test_take():
    idx = np.array([[0, 4], [-1, 9]], I32)
    for kw in [dict(), dict(axis=1), dict(axis=-1, mode="clip"), dict(axis=0, mode="wrap"),
               dict(axis=2, mode="fill", fill_value=0.0)]:
        want = jnp.take(jnp.asarray(X), idx, **kw)
        assert_close(fl.jit(lambda x: fnp.take(x, idx, **kw))(X), want, 0, 0, f"take {kw}")
        assert_close(fnp.take(jnp.asarray(X), jnp.asarray(idx), **kw), want, 0, 0,
                     f"take {kw} on jax.Arrays")
    got = fl.grad(lambda x: fnp.sum(fnp.take(x, idx, axis=1)))(X)
    want = jax.grad(lambda x: jnp.sum(jnp.take(x, idx, axis=1)))(X)
    assert_close(got, want, 0, 0, "grad take")


def test_take_along_axis_and_put_along_axis():
    order = np.argsort(X, axis=1).astype(I32)
    cases = [(order, 1), (order[:, :2], 1), (order[:, :, :1] - 6, 2), (order[:1], 0),
             (np.array([3, -1, 0, 30], I32), None), (order[:, :1, :] % 4, 0)]
    for idx, axis in cases:
        want = jnp.take_along_axis(jnp.asarray(X), idx, axis=axis)
        got = fl.jit(lambda x, i: fnp.take_along_axis(x, i, axis=axis))(X, idx)
        assert_close(got, want, 0, 0, f"take_along_axis {idx.shape} axis={axis}")
    got = fnp.take_along_axis(jnp.asarray(X), order, axis=1, mode="clip")
    assert_close(got, jnp.take_along_axis(X, order, axis=1, mode="clip"), 0, 0, "clip")
    gx = fl.grad(lambda x: fnp.sum(fnp.take_along_axis(x, order[:, :2], 1) ** 2))(X)
    gj = jax.grad(lambda x: jnp.sum(jnp.take_along_axis(x, order[:, :2], 1) ** 2))(X)
    assert_close(gx, gj, 1e-6, 1e-6, "grad take_along_axis")
    vals = np.arange(4 * 2 * 6, dtype=F32).reshape(4, 2, 6)
    for axis, idx, v in [(1, order[:, :2], vals), (None, np.array([1, 7]), 5.0)]:
        want = jnp.put_along_axis(jnp.asarray(X), idx, v, axis, inplace=False)
        got = fl.jit(lambda x: fnp.put_along_axis(x, idx, v, axis, inplace=False))(X)
        assert_close(got, want, 0, 0, f"put_along_axis axis={axis}")
    with pytest.raises(ValueError, match="inplace"):
        fnp.put_along_axis(X, order, vals, 1)


def test_transformations_compose():
    x = X[:, :, 0]
    idx = np.array([0, 2, 2])

    def f(np_mod, x):
        return np_mod.sum(np_mod.sin(x[idx, 1:]) * x.at[idx].add(x[1] ** 2)[1:3].sum())
    ours, ref = (lambda x: f(fnp, x)), (lambda x: f(jnp, x))
    xs = np.stack([x, 2 * x])
    cases = [(fl.grad(fl.jit(ours)), jax.grad(ref), x),
             (fl.jit(fl.grad(ours)), jax.grad(ref), x),
             (lambda x: fl.jvp(fl.grad(ours), (x,), (x,))[1],
              lambda x: jax.jvp(jax.grad(ref), (x,), (x,))[1], x),
             (fl.vmap(fl.grad(ours)), jax.vmap(jax.grad(ref)), xs)]
    for k, (got_fn, want_fn, arg) in enumerate(cases):
        assert_close(got_fn(arg), want_fn(arg), 1e-4, 1e-4, f"composition {k}")


def test_cheapest_strategy_is_used():
    def ops_of(f, *args):
        text = fl.jit(f).lower(*args).as_text()
        return {op for op in ("gather", "dynamic_slice", "slice", "reverse", "scatter")
                if f'"stablehlo.{op}"' in text}
    i = np.asarray(2, I32)
    assert ops_of(lambda x: x[1:3, ::-2, None, 4], X) == {"slice", "reverse"}
    assert ops_of(lambda x, i: x[i, 1:3], X, i) == {"dynamic_slice"}
    assert ops_of(lambda x: x[np.array([0, 3])], X) == {"gather"}
    assert ops_of(lambda x: x.at[1:3].add(1.0), X) == {"scatter"}


# --- zero-size arrays -----------------------------------------------------------------
# Every index expression of the tables on X with an empty axis: where JAX raises (an
# integer index into the empty axis, a mask of the wrong shape), ours raises the same
# class; the others, and their gradients and batched versions, match in one program.

OURS, JAX = (fnp, fl.grad, fl.vmap), (jnp, jax.grad, jax.vmap)


def _passing(table, check, x):
    """The entries for which JAX's `check(JAX, x, entry)` does not raise (traced only),
    after checking that ours raises the same class of error on the others."""
    ok = []
    for entry in table:
        _, _, raised = run_both(lambda: fl.eval_shape(lambda v: check(OURS, v, entry), x),
                                lambda: jax.eval_shape(lambda v: check(JAX, v, entry), x),
                                f"{entry!r} on shape {x.shape}")
        if not raised:
            ok.append(entry)
    return ok


def _index_and_grad(lib, x, idx):
    np_mod, grad, _ = lib
    return x[idx], grad(lambda v: np_mod.sum(v[idx]))(x)


@pytest.mark.parametrize("shape", EMPTY_SHAPES, ids=str)
def test_index_table_on_zero_size_arrays(shape):
    x = np.zeros(shape, F32)
    ok = _passing(INDEX_TABLE, _index_and_grad, x)

    def all_of(lib):
        return lambda v, vs: ([_index_and_grad(lib, v, idx) for idx in ok],
                              lib[2](lambda w: [w[idx] for idx in ok])(vs))
    xs = np.stack([x, x])
    got = fl.jit(all_of(OURS))(x, xs)
    want = jax.jit(all_of(JAX))(x, xs)
    assert_close(got, want, 0, 0, f"indexing an array of shape {shape}")
    for idx in ok:
        assert_close(fnp._rewriting_take(jnp.asarray(x), idx), jnp.asarray(x)[idx], 0, 0,
                     f"eager x[{idx!r}] of shape {shape}")


def _update(x, entry):
    idx, op, value = entry
    return getattr(x.at[idx], op)(value) if op != "get" else x.at[idx].get(mode="fill")


def _update_and_grad(lib, x, entry):
    return _update(x, entry), lib[1](lambda v: _update(v, entry).sum())(x)


def _value_for(x, idx):
    """Ones shaped like x[idx] (JAX's answer), or a scalar where x[idx] raises."""
    try:
        return np.ones(jnp.asarray(x)[idx].shape, F32)
    except (IndexError, TypeError):
        return F32(1)


@pytest.mark.parametrize("shape", EMPTY_SHAPES, ids=str)
def test_at_updates_on_zero_size_arrays(shape):
    x = np.zeros(shape, F32)
    table = [(idx, op, _value_for(x, idx)) for idx in UPDATE_INDICES + [np.array([], I32)]
             for op in ("set", "add", "max", "get")]
    ok = _passing(table, _update_and_grad, x)

    def all_of(lib):
        return lambda v, vs: ([_update_and_grad(lib, v, e) for e in ok],
                              lib[2](lambda w: [_update(w, e) for e in ok])(vs))
    xs = np.stack([x, x])
    assert_close(fl.jit(all_of(OURS))(x, xs), jax.jit(all_of(JAX))(x, xs), 0, 0,
                 f"updates of an array of shape {shape}")


TAKE_CASES = [(idx, kw) for idx in [np.array([], I32), np.array([0, 2]), np.array([[7, -9], [1, 0]]),
                                    np.zeros((0, 2), I32)]
              for kw in [dict(axis=0), dict(axis=1, mode="clip"), dict(axis=0, mode="wrap"),
                         dict(axis=1, mode="fill", fill_value=-1.0), dict()]]
ALONG_CASES = [(np.zeros((0, 5), I32), 0), (np.zeros((4, 0), I32), 1),
               (np.full((4, 3), 7, I32), 1), (np.full((4, 3), -9, I32), 1),
               (np.array([], I32), None), (np.array([0, -1, 30]), None)]


def _takes_and_grads(lib, x, case):
    np_mod, grad, _ = lib
    if isinstance(case[1], dict):
        f = lambda v: np_mod.take(v, case[0], **case[1])  # noqa: E731
    else:
        f = lambda v: np_mod.take_along_axis(v, case[0], case[1], mode="fill")  # noqa: E731
    return f(x), grad(lambda v: np_mod.sum(f(v)))(x)


@pytest.mark.parametrize("shape", [(0, 5), (4, 0), (4, 5)], ids=str)
def test_take_with_zero_size_and_out_of_range_indices(shape):
    x = with_nonfinite(np.random.RandomState(7).randn(*shape).astype(F32))
    ok = _passing(TAKE_CASES + ALONG_CASES, _takes_and_grads, x)

    def all_of(lib):
        return lambda v, vs: ([_takes_and_grads(lib, v, case) for case in ok],
                              lib[2](lambda w: [_takes_and_grads(lib, w, case)[0]
                                                for case in ok])(vs))
    xs = np.stack([x, -x])
    assert_close(fl.jit(all_of(OURS))(x, xs), jax.jit(all_of(JAX))(x, xs), 0, 0,
                 f"take {shape}")
