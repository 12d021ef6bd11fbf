"""vmap's API (axes as pytree prefixes, None, negative axes, kwargs, nesting, errors) and
its compositions with grad and jit, against jax.vmap."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
from harness import assert_close

rng = np.random.RandomState(0)
X = rng.randn(4, 3).astype(np.float32)
Y = rng.randn(3, 4).astype(np.float32)
W = rng.randn(3).astype(np.float32)


def both(make):
    """make(np_module, grad, vmap, jit) -> function; returns (ours, jax's)."""
    return make(fnp, fl.grad, fl.vmap, fl.jit), make(jnp, jax.grad, jax.vmap, jax.jit)


def test_in_axes_prefix_none_negative_and_out_axes():
    def make(np_, grad, vmap, jit):
        f = lambda d, w: np_.sum(d["a"] * w) + d["b"]
        return vmap(f, in_axes=({"a": -1, "b": 0}, None), out_axes=-1)
    ours, ref = both(make)
    args = ({"a": Y, "b": np.arange(4, dtype=np.float32)}, W)
    assert_close(ours(*args), ref(*args), 1e-6, 1e-6)


def test_kwargs_are_batched_on_axis_0():
    f = lambda x, *, scale: x * scale
    got = fl.vmap(f)(X, scale=np.arange(4, dtype=np.float32)[:, None])
    want = jax.vmap(f)(X, scale=np.arange(4, dtype=np.float32)[:, None])
    assert_close(got, want, 1e-6, 1e-6)


def test_nested_vmap_over_different_axes():
    f = lambda x, y: x * y
    got = fl.vmap(fl.vmap(f, in_axes=(0, None)), in_axes=(None, 1))(W, Y)
    want = jax.vmap(jax.vmap(f, in_axes=(0, None)), in_axes=(None, 1))(W, Y)
    assert_close(got, want, 1e-6, 1e-6)


def test_unbatched_output_and_out_axes_none():
    got = fl.vmap(lambda x: (x * 2, 3.0 * np.ones(2, np.float32)), out_axes=(0, None))(X)
    assert got[0].shape == (4, 3) and got[1].shape == (2,)


def test_mismatched_sizes_error_names_arguments():
    with pytest.raises(ValueError, match=r"inconsistent sizes.*argument 0 has size 4.*"
                                         r"argument 1 has size 3"):
        fl.vmap(lambda a, b: a + b)(X, Y)


def test_in_axes_structure_mismatch_error():
    with pytest.raises(ValueError, match="in_axes"):
        fl.vmap(lambda a, b: a + b, in_axes=(0, 0, 0))(X, X)
    with pytest.raises(ValueError, match="tree prefix"):
        fl.vmap(lambda d: d["a"], in_axes=({"b": 0},))({"a": X})


def test_axis_out_of_range_error():
    with pytest.raises(ValueError, match="axis 2"):
        fl.vmap(lambda a: a, in_axes=2)(X)


def mlp_loss(np_):
    def loss(params, x, y):
        h = np_.tanh(x @ params["w1"] + params["b1"])
        return np_.sum((h @ params["w2"] - y) ** 2)
    return loss


PARAMS = {"w1": rng.randn(3, 5).astype(np.float32) * 0.5,
          "b1": np.zeros(5, np.float32), "w2": rng.randn(5, 2).astype(np.float32)}
XS = rng.randn(8, 3).astype(np.float32)
YS = rng.randn(8, 2).astype(np.float32)


@pytest.mark.parametrize("compose", ["vmap(grad)", "jit(vmap(grad))", "grad(sum vmap)",
                                     "vmap(jit)", "vmap(vmap)", "vmap(jacrev)",
                                     "jacfwd(vmap)"])
def test_compositions_match_jax(compose):
    def make(np_, grad, vmap, jit):
        loss = mlp_loss(np_)
        if compose == "vmap(grad)":
            return vmap(grad(loss), in_axes=(None, 0, 0))
        if compose == "jit(vmap(grad))":
            return jit(vmap(grad(loss), in_axes=(None, 0, 0)))
        if compose == "grad(sum vmap)":
            return grad(lambda p, x, y: np_.sum(vmap(loss, in_axes=(None, 0, 0))(p, x, y)))
        if compose == "vmap(jit)":
            return vmap(jit(loss), in_axes=(None, 0, 0))
        if compose == "vmap(vmap)":
            return vmap(vmap(loss, in_axes=(None, 0, 0)), in_axes=(None, 0, 0))
        mod = fl if np_ is fnp else jax
        if compose == "vmap(jacrev)":
            return vmap(mod.jacrev(lambda x, p, y: np_.tanh(x @ p["w1"])),
                        in_axes=(0, None, None))
        if compose == "jacfwd(vmap)":
            return mod.jacfwd(lambda x, p, y: vmap(lambda r: np_.tanh(r @ p["w1"]))(x))
    ours, ref = both(make)
    if compose == "vmap(vmap)":
        args = (PARAMS, XS.reshape(2, 4, 3), YS.reshape(2, 4, 2))
    elif compose in ("vmap(jacrev)", "jacfwd(vmap)"):
        args = (XS[:3], PARAMS, YS)
    else:
        args = (PARAMS, XS, YS)
    assert_close(ours(*args), ref(*args), 2e-5, 2e-5, compose)


def test_per_example_gradients_equal_stacked_grads():
    loss = mlp_loss(fnp)
    batched = fl.jit(fl.vmap(fl.grad(loss), in_axes=(None, 0, 0)))(PARAMS, XS, YS)
    for i in range(3):
        single = fl.grad(loss)(PARAMS, XS[i], YS[i])
        for k in PARAMS:
            np.testing.assert_allclose(batched[k][i], single[k], rtol=2e-5, atol=2e-6)


def test_vmap_of_jit_compiles_one_batched_program(monkeypatch):
    from functorch_lite import _runtime
    calls = []
    real = _runtime.compile
    monkeypatch.setattr(_runtime, "compile", lambda t, *a: calls.append(t) or real(t, *a))
    f = fl.jit(lambda x: fnp.sin(x) * 2.0)
    out = fl.jit(fl.vmap(f))(X)
    np.testing.assert_allclose(out, np.sin(X) * 2, rtol=1e-6)
    assert len(calls) == 1


def test_chunk_size_with_unbatched_outputs_and_collectives():
    f = lambda x: (fnp.sin(x), x.sum())
    jac, aux = fl.jacfwd(f, has_aux=True, chunk_size=2)(fnp.ones(4))
    assert float(aux) == 4.0 and jac.shape == (4, 4)
    with pytest.raises(ValueError, match="chunk_size cannot use axis_name"):
        fl.vmap(lambda x: x / fl.lax.psum(x, "i"), axis_name="i", chunk_size=2)(
            np.arange(1.0, 5.0, dtype=np.float32))
