"""`jnp.einsum`, computed as JAX computes it: opt_einsum chooses the pairwise
contraction order, and each step is one `lax.dot_general` whose operand order and
dimension numbers follow JAX's `_einsum` (so the products, and the kernels XLA picks
for them, are JAX's)."""

__all__ = ["einsum", "einsum_path"]
import collections
import string

import numpy as np
import opt_einsum

from .. import _dtypes, lax
from .._core import get_aval
from ._util import _result_type_weak, asarray


def _parse_subscripts(subscripts, shapes):
    """Explicit letter-only subscripts ('ab,bc->ac') for `subscripts` with '...' and
    implicit output expanded."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {len(inputs)} input subscripts for {len(shapes)} "
                         f"operands in {subscripts!r}")
    used = set(c for c in subscripts if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    n_ellipsis = 0
    for term, shape in zip(inputs, shapes):
        letters = len(term.replace("...", ""))
        if "..." in term:
            n_ellipsis = max(n_ellipsis, len(shape) - letters)
        elif letters != len(shape):
            raise ValueError(f"einsum: subscript {term!r} does not match operand of shape "
                             f"{tuple(shape)}")
    ell = "".join(spare[:n_ellipsis])
    # right-align each operand's ellipsis dims with the broadcast ellipsis
    expanded = []
    for term, shape in zip(inputs, shapes):
        if "..." in term:
            k = len(shape) - len(term.replace("...", ""))
            if k < 0:
                raise ValueError(f"einsum: subscript {term!r} has more labels than the "
                                 f"operand of shape {tuple(shape)} has axes")
            term = term.replace("...", ell[n_ellipsis - k:])
        expanded.append(term)
    if arrow:
        output = output.replace("...", ell)
    else:
        counts = collections.Counter("".join(expanded))
        output = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    for c in output:
        if not any(c in t for t in expanded):
            raise ValueError(f"einsum: output subscript {c!r} appears in no input")
    return expanded, output


def _interleaved_to_subscripts(args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', [a, b])."""
    operands, terms = list(args[0::2]), list(args[1::2])
    output = None
    if len(args) % 2:
        output = args[-1]
        operands = operands[:-1] if len(operands) > len(terms) else operands
    def letters(term):
        return "".join("..." if t is Ellipsis else string.ascii_letters[t] for t in term)
    subscripts = ",".join(letters(t) for t in terms)
    if output is not None:
        subscripts += "->" + letters(output)
    return subscripts, operands


def einsum_path(subscripts, *operands, optimize="auto"):
    """`(path, info)`: opt_einsum's contraction order for operands of these shapes, as
    `jnp.einsum_path` returns it."""
    shapes = [np.shape(o) if not hasattr(o, "aval") else get_aval(o).shape for o in operands]
    optimize = "optimal" if optimize is True else _Unoptimized() if optimize is False \
        else optimize
    return opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=optimize)


def einsum(subscripts, *operands, out=None, optimize="auto", precision=None,
           preferred_element_type=None, _dot_general=None):
    """`jnp.einsum`: Einstein summation with '...' broadcasting and implicit output."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.einsum is not supported.")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_to_subscripts((subscripts, *operands))
    operands = [asarray(o) for o in operands]
    shapes = [tuple(get_aval(o).shape) for o in operands]
    _check_sizes(subscripts, *_parse_subscripts(subscripts, shapes)[:1], shapes)
    path = "optimal" if optimize is True else _Unoptimized() if optimize is False \
        else optimize
    _, contractions = opt_einsum.contract_path(subscripts, *shapes, shapes=True,
                                               einsum_call=True, use_blas=True,
                                               optimize=path)
    return _einsum(operands, [(tuple(c[0]), frozenset(c[1]), c[2]) for c in contractions],
                   precision, preferred_element_type, _dot_general or lax.dot_general)


def _check_sizes(subscripts, inputs, shapes):
    sizes = {}
    for term, shape in zip(inputs, shapes):
        for c, d in zip(term, shape):
            if sizes.get(c, 1) != 1 and d != 1 and sizes[c] != d:
                raise ValueError(f"einsum: size of label {c!r} differs between operands "
                                 f"({sizes[c]} vs {d}) in {subscripts!r} for shapes "
                                 f"{shapes}")
            sizes[c] = d if sizes.get(c, 1) == 1 else sizes[c]


class _Unoptimized(opt_einsum.paths.PathOptimizer):
    """Left to right (JAX's `optimize=False`)."""

    def __call__(self, inputs, output, size_dict, memory_limit=None):
        return [(0, 1)] * (len(inputs) - 1)


def _einsum(operands, contractions, precision, preferred_element_type, dot_general):
    dtype = lambda x: get_aval(x).dtype
    if preferred_element_type is None:
        preferred_element_type, output_weak = _result_type_weak(*operands)
    else:
        preferred_element_type, output_weak = \
            _dtypes.canonicalize_dtype(preferred_element_type), False

    def total(x, axes):
        if _dtypes.promote_types(dtype(x), preferred_element_type) != dtype(x):
            x = lax.convert_element_type(x, preferred_element_type)
        if dtype(x) == _dtypes.bool_:
            return lax.reduce_or(x, tuple(axes))
        return lax.reduce_sum(x, tuple(axes))

    def sum_uniques(x, names, uniques):
        if uniques:
            x = total(x, [names.index(n) for n in uniques])
            names = "".join(c for c in names if c not in uniques)
        return x, names

    def sum_repeats(x, names, counts, keep_names):
        for name, count in counts.items():
            if count > 1:
                axes = [i for i, n in enumerate(names) if n == name]
                x = lax.select(_delta(get_aval(x).shape, axes), x, lax.full_like(x, 0))
                if name not in keep_names:
                    x, names = total(x, axes), names.replace(name, "")
                else:
                    x, names = total(x, axes[:-1]), names.replace(name, "", count - 1)
        return x, names

    def filter_singleton_dims(x, names, other_shape, other_names):
        shape = get_aval(x).shape
        squeeze = [i for i, n in enumerate(names) if shape[i] == 1 and
                   other_names.find(n) != -1 and other_shape[other_names.find(n)] != 1]
        return lax.squeeze(x, squeeze), "".join(n for i, n in enumerate(names)
                                                if i not in squeeze)

    operands = list(operands)
    for indices, contracted, einstr in contractions:
        contracted = sorted(contracted)
        input_str, result_names = einstr.split("->")
        input_names = input_str.split(",")
        if len(indices) == 1:
            x = operands.pop(indices[0])
            names, = input_names
            counts = collections.Counter(names)
            x, names = sum_uniques(x, names, [n for n in contracted if counts[n] == 1])
            x, names = sum_repeats(x, names, counts, result_names)
        elif len(indices) == 2:
            lhs, rhs = map(operands.pop, indices)
            lhs_names, rhs_names = input_names
            lhs, lhs_names = filter_singleton_dims(lhs, lhs_names, get_aval(rhs).shape,
                                                   rhs_names)
            rhs, rhs_names = filter_singleton_dims(rhs, rhs_names, get_aval(lhs).shape,
                                                   lhs_names)
            lc, rc = collections.Counter(lhs_names), collections.Counter(rhs_names)
            lhs, lhs_names = sum_uniques(lhs, lhs_names, [n for n in contracted
                                                          if lc[n] == 1 and rc[n] == 0])
            rhs, rhs_names = sum_uniques(rhs, rhs_names, [n for n in contracted
                                                          if rc[n] == 1 and lc[n] == 0])
            lhs, lhs_names = sum_repeats(lhs, lhs_names, lc, result_names + rhs_names)
            rhs, rhs_names = sum_repeats(rhs, rhs_names, rc, result_names + lhs_names)
            contracted = [n for n in contracted if n in set(lhs_names) | set(rhs_names)]
            batch = [n for n in result_names if n in set(lhs_names) & set(rhs_names)]
            lhs_batch = tuple(lhs_names.find(n) for n in batch)
            rhs_batch = tuple(rhs_names.find(n) for n in batch)
            lhs_cont = tuple(lhs_names.index(n) for n in contracted)
            rhs_cont = tuple(rhs_names.index(n) for n in contracted)
            deleted = "".join(batch) + "".join(contracted)
            lhs_rest = "".join(c for c in lhs_names if c not in deleted)
            rhs_rest = "".join(c for c in rhs_names if c not in deleted)
            # rhs first when that needs no transpose (opt_einsum likes right to left)
            names = "".join(batch) + rhs_rest + lhs_rest
            if names == result_names:
                x = dot_general(rhs, lhs, ((rhs_cont, lhs_cont), (rhs_batch, lhs_batch)),
                                precision, preferred_element_type=preferred_element_type)
            else:
                names = "".join(batch) + lhs_rest + rhs_rest
                x = dot_general(lhs, rhs, ((lhs_cont, rhs_cont), (lhs_batch, rhs_batch)),
                                precision, preferred_element_type=preferred_element_type)
        else:
            raise NotImplementedError("einsum does not contract 3 or more operands at "
                                      "once; pass a pairwise path as `optimize`")
        if names != result_names:
            x = lax.transpose(x, tuple(names.index(n) for n in result_names))
        operands.append(x)
    return lax.convert_element_type(operands[0], preferred_element_type, output_weak)


def _delta(shape, axes):
    """True where the coordinates along `axes` are all equal (an identity mask)."""
    base = tuple(shape[a] for a in axes)
    iotas = [lax.broadcasted_iota(np.uint32, base, i) for i in range(len(base))]
    eye = lax.eq(iotas[0], iotas[1])
    for a, b in zip(iotas[1:-1], iotas[2:]):
        eye = lax.bitwise_and(eye, lax.eq(a, b))
    return lax.broadcast_in_dim(eye, tuple(shape), tuple(axes))
