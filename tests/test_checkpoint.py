"""checkpoint / remat: same values as jax.checkpoint under every transformation, and the
IR shows the backward pass recomputing the block (or not, per policy)."""
import re
from functools import partial

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp
import functorch_lite.lax as flax
from functorch_lite import checkpoint_policies
from harness import assert_close

W = (np.random.RandomState(0).randn(3, 3) * 0.5).astype(np.float32)
X = np.linspace(-0.5, 1.0, 3).astype(np.float32)
TOL = dict(rtol=1e-5, atol=1e-6)


def block(np_):
    return lambda w, x: np_.sin(w @ np_.sin(w @ x))


def loss(np_, ckpt, **kw):
    f = ckpt(block(np_), **kw)
    return lambda w, x: np_.sum(f(w, x) * x)


TRANSFORMS = {
    "grad": lambda api, f: api.grad(f, (0, 1)),
    "jit(grad)": lambda api, f: api.jit(api.grad(f, (0, 1))),
    "grad(jit)": lambda api, f: api.grad(api.jit(f), (0, 1)),
    "hessian": lambda api, f: api.hessian(f, 1),
    "jacfwd(grad)": lambda api, f: api.jacfwd(api.grad(f)),
    "vmap(grad)": lambda api, f: lambda w, x: api.vmap(api.grad(f), (None, 0))(
        w, np.stack([x, 2 * x])),
    "grad(vmap)": lambda api, f: api.grad(lambda w, x: api.vmap(f, (None, 0))(
        w, np.stack([x, 2 * x])).sum()),
    "jvp": lambda api, f: lambda w, x: api.jvp(f, (w, x), (w, x)),
}
POLICIES = {"nothing": None, "dots": checkpoint_policies.dots_saveable,
            "everything": checkpoint_policies.everything_saveable,
            "dots_no_batch": checkpoint_policies.dots_with_no_batch_dims_saveable}
REF_POLICIES = {"nothing": None, "dots": jax.checkpoint_policies.dots_saveable,
                "everything": jax.checkpoint_policies.everything_saveable,
                "dots_no_batch": jax.checkpoint_policies.dots_with_no_batch_dims_saveable}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_values_match_jax_checkpoint(name):
    make = TRANSFORMS[name]
    got = make(fl, loss(fnp, fl.checkpoint))(W, X)
    want = make(jax, loss(jnp, jax.checkpoint))(W, X)
    assert_close(got, want, **TOL)


@pytest.mark.parametrize("policy", POLICIES)
def test_policies_give_the_same_gradients(policy):
    got = fl.jit(fl.grad(loss(fnp, fl.checkpoint, policy=POLICIES[policy]), (0, 1)))(W, X)
    want = jax.grad(loss(jnp, jax.checkpoint, policy=REF_POLICIES[policy]), (0, 1))(W, X)
    assert_close(got, want, **TOL)


def _count(fn, op):
    """How many equations of primitive `op` the printed IR of `fn` has."""
    return len(re.findall(rf"= {op}[\[ ]", str(fl.make_jaxpr(fn)(W, X))))


def test_backward_pass_recomputes_the_forward_block():
    plain = fl.grad(lambda w, x: fnp.sum(block(fnp)(w, x) * x))
    remat = fl.grad(loss(fnp, fl.checkpoint))
    # plain: sin twice (forward). remat: the forward, then the block's first sin again
    # inside the checkpoint equation of the backward pass
    assert _count(plain, "sin") == 2
    assert _count(remat, "sin") == 3
    ir = str(fl.make_jaxpr(remat)(W, X))
    backward = ir[ir.index("checkpoint["):]
    assert backward.count(" sin ") == 1 and "differentiated=True" in backward
    # grad of a jitted function: the recomputation sits in the backward program
    ir_jit = str(fl.make_jaxpr(fl.grad(fl.jit(loss(fnp, fl.checkpoint))))(W, X))
    forward, backward = ir_jit.split("jit[program=")[1:]
    assert forward.count(" sin ") == 2 and backward.count(" sin ") == 1


def test_policies_in_the_ir():
    def counts(policy):
        fn = fl.grad(loss(fnp, fl.checkpoint, policy=policy))
        return _count(fn, "dot_general"), _count(fn, "sin")
    nothing, dots, everything = (counts(None), counts(checkpoint_policies.dots_saveable),
                                 counts(checkpoint_policies.everything_saveable))
    assert nothing[0] == dots[0] + 2  # the two forward products are saved, not redone
    assert dots[1] == nothing[1] == 3  # sin(w @ x) is still recomputed from the product
    assert everything == (dots[0], 2)  # nothing recomputed at all


def test_policy_functions():
    dot = flax._linear.dot_general_p
    avals = (fl.ShapedArray((2, 3), np.float32), fl.ShapedArray((3,), np.float32))
    plain = dict(dimension_numbers=(((1,), (0,)), ((), ())))
    batched = dict(dimension_numbers=(((2,), (1,)), ((0,), (0,))))
    assert checkpoint_policies.dots_saveable(dot, *avals, **plain)
    assert checkpoint_policies.checkpoint_dots(dot, *avals, **batched)
    assert checkpoint_policies.dots_with_no_batch_dims_saveable(dot, *avals, **plain)
    assert not checkpoint_policies.dots_with_no_batch_dims_saveable(dot, *avals, **batched)
    assert not checkpoint_policies.nothing_saveable(dot, *avals, **plain)
    sin = flax._elementwise.sin_p if hasattr(flax._elementwise, "sin_p") else None
    if sin is not None:
        assert not checkpoint_policies.dots_saveable(sin, avals[1])
        assert checkpoint_policies.everything_saveable(sin, avals[1])


@pytest.mark.parametrize("prevent_cse", [True, False])
def test_prevent_cse_uses_an_optimization_barrier(prevent_cse):
    fn = fl.jit(fl.grad(loss(fnp, fl.checkpoint, prevent_cse=prevent_cse)))
    text = fn.lower(W, X).as_text()
    assert ("stablehlo.optimization_barrier" in text) == prevent_cse
    assert_close(fn(W, X), jax.grad(loss(jnp, jax.checkpoint))(W, X), **TOL)


def test_static_argnums_pytrees_remat_alias_and_decorator():
    @partial(fl.remat, static_argnums=(1,))
    def f(params, n):
        h = params["x"]
        for _ in range(n):
            h = fnp.tanh(params["w"] @ h)
        return {"h": h, "n2": h * 2.0}

    @partial(jax.checkpoint, static_argnums=(1,))
    def f_ref(params, n):
        h = params["x"]
        for _ in range(n):
            h = jnp.tanh(params["w"] @ h)
        return {"h": h, "n2": h * 2.0}
    params = {"w": W, "x": X}
    got = fl.grad(lambda p: fnp.sum(f(p, 3)["n2"]))(params)
    want = jax.grad(lambda p: jnp.sum(f_ref(p, 3)["n2"]))(params)
    assert_close(got, want, **TOL)
    assert fl.remat is fl.checkpoint
    assert_close(f(params, 2), f_ref(params, 2), **TOL)  # eager call


def test_nested_checkpoint_and_scan_body():
    inner = fl.checkpoint(lambda x: fnp.sin(W @ x))
    outer = fl.checkpoint(lambda x: fnp.cos(inner(inner(x))))
    inner_r = jax.checkpoint(lambda x: jnp.sin(W @ x))
    outer_r = jax.checkpoint(lambda x: jnp.cos(inner_r(inner_r(x))))
    assert_close(fl.grad(lambda x: outer(x).sum())(X),
                 jax.grad(lambda x: outer_r(x).sum())(X), **TOL)
    assert_close(fl.hessian(lambda x: outer(x).sum())(X),
                 jax.hessian(lambda x: outer_r(x).sum())(X), **TOL)

    def scan_loss(lax, ckpt, np_):
        body = ckpt(lambda c: np_.sin(W @ c))
        return lambda x: np_.sum(lax.scan(lambda c, _: (body(c), None), x, None,
                                          length=4)[0])
    got = fl.jit(fl.grad(scan_loss(flax, fl.checkpoint, fnp)))(X)
    assert_close(got, jax.grad(scan_loss(jax.lax, jax.checkpoint, jnp))(X), **TOL)
