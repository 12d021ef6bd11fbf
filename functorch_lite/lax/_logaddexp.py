"""logaddexp and logaddexp2: log(exp(x) + exp(y)) (and base 2) without overflow, as
primitives with JAX's derivative, which JAX attaches as a custom JVP:

    d out = t_x * exp(x' - out') + t_y * exp(y' - out'),   v' = 0 where v == +inf

(2**(...) for base 2). Differentiating the formula instead leaks NaN from the branch
not taken at equal infinities and gives other numbers at infinite operands. The
numpy functions (jnp.logaddexp, softplus, ...) and cumlogsumexp's JVP use these."""

__all__ = []
import numpy as np

from .._ad import instantiate
from .._core import Primitive, ShapedArray, get_aval
from .._batching import broadcast_batcher
from . import _elementwise as ew
from ._linalg_kernels import composite_lowering
from ._values import full, full_like, select_n
from ._util import check_same_dtypes


def _formula(x, y, *, base2):
    # max(x, y) + log1p(b**-|x - y|) (/ log 2); x - y is NaN for NaNs and for the same
    # infinity twice, where x + y is the answer
    delta = ew.sub(x, y)
    tail = ew.log1p((ew.exp2 if base2 else ew.exp)(ew.neg(ew.abs(delta))))
    if base2:
        tail = ew.mul(full((), 1 / np.log(2), get_aval(tail).dtype), tail)
    return select_n(ew.ne(delta, delta), ew.add(ew.max(x, y), tail), ew.add(x, y))


def _finite_or_zero(v):
    """v with +inf replaced by 0 (JAX's _replace_inf)."""
    aval = get_aval(v)
    return select_n(ew.eq(v, full(aval.shape, np.inf, aval.dtype)), v, full_like(v, 0))


def _make(name, base2):
    prim = Primitive(name)

    @prim.def_abstract_eval
    def abstract_eval(x, y):
        check_same_dtypes(name, x, y)
        ew.check_kind(name, x.dtype, ew.REAL_FLOAT)
        ew._check_same_shapes(name, x, y)
        # (JAX's base-2 formula multiplies by 1/log(2), strongly typed unless the
        # operands are weakly typed scalars)
        weak = x.weak_type and y.weak_type and (not base2 or x.ndim == 0)
        return ShapedArray(x.shape, x.dtype, weak)

    prim.lowering_rule = composite_lowering(lambda x, y: _formula(x, y, base2=base2), name,
                                            multiple_results=False)
    broadcast_batcher(prim)

    @prim.def_jvp
    def jvp(primals, tangents):
        (x, y), (t, u) = primals, [instantiate(t) for t in tangents]
        out = prim.bind(x, y)
        power = ew.exp2 if base2 else ew.exp

        def weight(v):
            return power(ew.sub(_finite_or_zero(v), _finite_or_zero(out)))
        return out, ew.add(ew.mul(t, weight(x)), ew.mul(u, weight(y)))

    def wrapper(x, y):
        return prim.bind(*ew.broadcast_operands(x, y))
    wrapper.__name__ = name
    wrapper.__doc__ = f"Elementwise log{'2' if base2 else ''}({'2' if base2 else 'e'}**x + " \
                      f"{'2' if base2 else 'e'}**y), stable for large |x|, |y|."
    return prim, wrapper


logaddexp_p, logaddexp = _make("logaddexp", base2=False)
logaddexp2_p, logaddexp2 = _make("logaddexp2", base2=True)
