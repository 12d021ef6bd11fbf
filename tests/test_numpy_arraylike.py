"""jnp functions reject a list or tuple where JAX's do (`jnp.sum([1, 2])` is a
TypeError in jax.numpy), and accept them where JAX's do (`jnp.array`, `jnp.stack`)."""
import inspect
import re
import warnings

import numpy as np
import pytest
import jax.numpy as jnp

import functorch_lite.numpy as fnp

LIST = [1.0, 2.0]
X, I, C = np.ones(3, np.float32), np.array([0, 1, 2]), np.array([True, False])


def rejects(fn, *args, **kwargs):
    """True if fn rejects a Python sequence argument the way jax.numpy does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args, **kwargs)
        except TypeError as e:
            return bool(re.search(r"requires ndarray(, scalar,)? or (scalar|None)", str(e)))
        except Exception:  # other arguments were not valid: not about the sequence
            return False
    return False


def _public_functions():
    names = []
    for name in sorted(dir(fnp)):
        ours, theirs = getattr(fnp, name), getattr(jnp, name, None)
        if name.startswith("_") or theirs is None or not callable(ours) or \
                isinstance(theirs, type):
            continue
        try:
            inspect.signature(theirs)
        except (TypeError, ValueError):
            continue
        names.append(name)
    return names


def _all_list_call(fn):
    """Call fn with a list for each required positional parameter (at least one)."""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    n = max(1, sum(p.default is p.empty for p in params))
    return rejects(fn, *[LIST] * n)


def test_every_function_rejects_lists_as_jax_does():
    differ = []
    for name in _public_functions():
        want = _all_list_call(getattr(jnp, name))
        if want or name in ("array", "asarray", "block", "array_equal"):
            got = _all_list_call(getattr(fnp, name))
            if got != want:
                differ.append((name, "JAX rejects" if want else "JAX accepts"))
    assert not differ, differ
    assert sum(_all_list_call(getattr(jnp, n)) for n in _public_functions()) > 200


CASES = {
    "sum": lambda np_: np_.sum(LIST),
    "sum(a=)": lambda np_: np_.sum(a=LIST),
    "sum(where=)": lambda np_: np_.sum(X, where=[True] * 3),
    "where(c, list, list)": lambda np_: np_.where(C, LIST, LIST),
    "einsum operands": lambda np_: np_.einsum("i,i", LIST, LIST),
    "arange": lambda np_: np_.arange([1]),
    "linalg.inv": lambda np_: np_.linalg.inv([[1.0, 2.0], [3.0, 4.0]]),
    "concatenate of lists": lambda np_: np_.concatenate([[1.0], [2.0]]),
    "stack of lists": lambda np_: np_.stack([[1.0], [2.0]]),
    "hstack of lists": lambda np_: np_.hstack([[1.0], [2.0]]),
    "take indices": lambda np_: np_.take(X, [0, 1]),
    "average weights": lambda np_: np_.average(X, weights=[1.0, 1.0, 1.0]),
    "append values": lambda np_: np_.append(X, [1.0]),
    "diff prepend": lambda np_: np_.diff(X, prepend=[0.0]),
    "ediff1d to_end": lambda np_: np_.ediff1d(X, to_end=[7.0, 8.0]),
    "interp left": lambda np_: np_.interp(X, X, X, left=[0.0]),
    "searchsorted sorter": lambda np_: np_.searchsorted(X, X, sorter=[0, 1, 2]),
    "std mean": lambda np_: np_.std(X, mean=[1.0]),
    "atleast_2d": lambda np_: np_.atleast_2d(LIST),
    "meshgrid": lambda np_: np_.meshgrid(LIST, LIST),
    "einsum(subscripts, lists)": lambda np_: np_.einsum("i,i", LIST, LIST),
}
ACCEPTED = {
    "array": lambda np_: np_.array(LIST),
    "stack of arrays": lambda np_: np_.stack([X, X]),
    "vstack of arrays": lambda np_: np_.vstack((X, X)),
    "concatenate of arrays": lambda np_: np_.concatenate([X, X]),
    "pad_width": lambda np_: np_.pad(X, [1, 1]),
    "einsum's interleaved index lists": lambda np_: np_.einsum(X, [0], X, [0]),
    "roll shift": lambda np_: np_.roll(X, [1]),
    "reshape to a list shape": lambda np_: np_.reshape(X, [3, 1]),
    "zeros of a list shape": lambda np_: np_.zeros([2, 2]),
    "sum over a list of axes": lambda np_: np_.sum(np.ones((2, 2)), axis=[0, 1]),
    "transpose axes": lambda np_: np_.transpose(np.ones((2, 2)), [1, 0]),
}


@pytest.mark.parametrize("case", CASES)
def test_rejected_arguments(case):
    assert rejects(CASES[case], jnp)
    assert rejects(CASES[case], fnp)


@pytest.mark.parametrize("case", ACCEPTED)
def test_accepted_sequences(case):
    np.testing.assert_array_equal(ACCEPTED[case](fnp), ACCEPTED[case](jnp))


def test_message_names_function_position_line_and_fix():
    with pytest.raises(TypeError) as err:
        fnp.sum([1, 2])
    msg = str(err.value)
    assert "sum requires ndarray or scalar arguments, got list at position 0" in msg
    assert "test_numpy_arraylike.py" in msg and "jnp.asarray([1, 2])" in msg
    assert float(fnp.sum(fnp.asarray([1, 2]))) == 3.0
