"""Implicitly differentiated solvers, as `jax.lax`:

custom_linear_solve(matvec, b, solve, transpose_solve): x = solve(matvec, b), where the
  derivative never goes through `solve`'s iterations: the JVP solves again for the
  tangent (b_dot - matvec_dot(x)) and the transpose solves the transposed system with
  `transpose_solve`. It is the `custom_linear_solve` primitive (`linear_solve_p`),
  carrying the traced matvec, vecmat, solve and transpose_solve programs.
custom_root(f, initial_guess, solve, tangent_solve): a root of f, differentiated by
  the implicit function theorem (a `custom_jvp` over the traced programs).
"""

__all__ = ["custom_linear_solve", "custom_root", "linear_solve_p"]
from typing import NamedTuple

from jax import tree_util

from .._core import Primitive, get_aval, user_source_line
from .._ad import Zero, add_tangents, instantiate, jvp_traced, is_undefined, tangent_aval
from .._batching import batch_program, move_batch_axis
from .._ir import eval_program
from ._cf_util import trace_body, split_list
from ._elementwise import neg


class _Solve(NamedTuple):
    """One entry per traced function of a linear solve (programs, or const counts)."""
    matvec: object
    vecmat: object
    solve: object
    transpose_solve: object

    def transpose(self):
        return _Solve(self.vecmat, self.matvec, self.transpose_solve, self.solve)


def _check_shapes(name, tree, avals, b_tree, b_avals, has_aux):
    if has_aux:
        tree = tree.children()[0] if tree.num_nodes > 1 else tree
        avals = avals[:len(b_avals)]
    if tree != b_tree:
        raise TypeError(f"{name}() output pytree structure must match b, got {tree} and "
                        f"{b_tree}\n  at {user_source_line()}")
    if [a.shape for a in avals] != [a.shape for a in b_avals]:
        raise ValueError(f"{name}() output shapes must match b, got "
                         f"{[a.shape for a in avals]} and {[a.shape for a in b_avals]}")


def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False,
                        has_aux=False):
    """Solve matvec(x) = b with `solve(matvec, b)`, differentiating implicitly (see the
    module docstring). `transpose_solve(vecmat, b)` is needed for reverse mode;
    `symmetric=True` uses `solve` for it."""
    if transpose_solve is None and symmetric:
        transpose_solve = solve
    b_leaves, b_tree = tree_util.tree_flatten(b)
    b_avals = [get_aval(x) for x in b_leaves]
    arg_tree = tree_util.tree_structure((b,))  # the functions take b as one argument
    programs, consts = {}, {}
    programs["matvec"], consts["matvec"], tree = trace_body(matvec, arg_tree, b_avals,
                                                            "matvec")
    _check_shapes("matvec", tree, programs["matvec"].out_avals, b_tree, b_avals, False)
    programs["solve"], consts["solve"], out_tree = trace_body(
        lambda x: solve(matvec, x), arg_tree, b_avals, "custom_linear_solve solve")
    _check_shapes("solve", out_tree, programs["solve"].out_avals, b_tree, b_avals, has_aux)
    if transpose_solve is None:
        programs["vecmat"] = programs["transpose_solve"] = None
        consts["vecmat"] = consts["transpose_solve"] = []
    else:
        if symmetric:
            vecmat = matvec
        else:
            from .._api import linear_transpose  # the API is built on lax
            vecmat_t = linear_transpose(matvec, b)
            vecmat = lambda x: vecmat_t(x)[0]
        programs["vecmat"], consts["vecmat"], _ = trace_body(vecmat, arg_tree, b_avals, "vecmat")
        programs["transpose_solve"], consts["transpose_solve"], t_tree = trace_body(
            lambda x: transpose_solve(vecmat, x), arg_tree, b_avals,
            "custom_linear_solve transpose_solve")
        _check_shapes("transpose_solve", t_tree, programs["transpose_solve"].out_avals,
                      b_tree, b_avals, has_aux)
    programs = _Solve(**programs)
    const_lists = _Solve(**consts)
    outs = linear_solve_p.bind(*[c for cs in const_lists for c in cs], *b_leaves,
                               const_lengths=_Solve(*map(len, const_lists)),
                               programs=programs)
    return tree_util.tree_unflatten(out_tree, outs)


linear_solve_p = Primitive("custom_linear_solve", multiple_results=True)


def _split(args, const_lengths):
    parts = split_list(list(args), list(const_lengths))
    return _Solve(*parts[:4]), parts[4]


@linear_solve_p.def_abstract_eval
def _linear_solve_abstract_eval(*avals, const_lengths, programs):
    return list(programs.solve.out_avals)


@linear_solve_p.def_impl
def _linear_solve_impl(*args, const_lengths, programs):
    params, b = _split(args, const_lengths)
    return eval_program(programs.solve, [*params.solve, *b])


@linear_solve_p.def_lowering
def _linear_solve_lowering(ctx, *args, const_lengths, programs):
    params, b = _split(args, const_lengths)
    return ctx.call(programs.solve, [*params.solve, *b], "custom_linear_solve")


@linear_solve_p.def_jvp
def _linear_solve_jvp(primals, tangents, *, const_lengths, programs):
    kw = dict(const_lengths=const_lengths, programs=programs)
    x = linear_solve_p.bind(*primals, **kw)
    params, _ = _split(primals, const_lengths)
    params_dot, b_dot = _split(tangents, const_lengths)
    n = len(b_dot)
    x_leaves = x[:n]
    rhs = b_dot
    if not all(isinstance(t, Zero) for t in params_dot.matvec):
        # d(matvec)(x) from the matvec's closed-over values, at fixed x
        _, mv_dot = jvp_traced(lambda *p: eval_program(programs.matvec, [*p, *x_leaves]),
                               params.matvec, params_dot.matvec)
        rhs = [add_tangents(t, _neg(m)) for t, m in zip(b_dot, mv_dot)]
    if all(isinstance(t, Zero) for t in rhs):
        return x, [Zero(tangent_aval(get_aval(o))) for o in x]
    x_dot = linear_solve_p.bind(*[p for ps in params for p in ps],
                                *map(instantiate, rhs), **kw)
    return x, x_dot[:n] + [Zero(tangent_aval(get_aval(a))) for a in x_dot[n:]]


def _neg(t):
    return t if isinstance(t, Zero) else neg(t)


@linear_solve_p.def_transpose
def _linear_solve_transpose(cts, *args, const_lengths, programs):
    if programs.transpose_solve is None:
        raise TypeError("transpose_solve required for backwards mode automatic "
                        "differentiation of custom_linear_solve")
    params, b = _split(args, const_lengths)
    if any(is_undefined(p) for ps in params for p in ps):
        raise NotImplementedError("custom_linear_solve is linear in b only: the values "
                                  "matvec and solve close over cannot be transposed")
    x_cts = [instantiate(c) for c in cts[:len(b)]]
    ct_b = linear_solve_p.bind(*[p for ps in params.transpose() for p in ps], *x_cts,
                               const_lengths=const_lengths.transpose(),
                               programs=programs.transpose())
    return [None] * sum(const_lengths) + ct_b[:len(b)]


@linear_solve_p.def_batching
def _linear_solve_batching(axis_data, vals, dims, *, const_lengths, programs):
    """Every right-hand side and solution batched at 0 (a simpler fixed point than
    JAX's: values that could stay unbatched are broadcast)."""
    params, b = _split(vals, const_lengths)
    params_dims, _ = _split(dims, const_lengths)
    b = [move_batch_axis(axis_data.size, x, d, 0)
         for x, d in zip(b, dims[sum(const_lengths):])]
    n_b = len(b)

    def batch(program, p_dims):
        if program is None:
            return None
        in_dims = [None if d is None else 0 for d in p_dims] + [0] * n_b
        force = [True] * len(program.outs)
        return batch_program(program, in_dims, axis_data.size, None, force)[0]
    batched = _Solve(*(batch(p, d) for p, d in zip(programs, params_dims)))
    new_params = [p if d is None else move_batch_axis(axis_data.size, p, d, 0)
                  for ps, ds in zip(params, params_dims) for p, d in zip(ps, ds)]
    outs = linear_solve_p.bind(*new_params, *b, const_lengths=const_lengths,
                               programs=batched)
    return outs, [0] * len(outs)


# --- custom_root ----------------------------------------------------------------------

def custom_root(f, initial_guess, solve, tangent_solve, has_aux=False):
    """A root of `f` found by `solve(f, initial_guess)`, differentiated implicitly:
    the derivative solves the linearised system with `tangent_solve(g, y)` (e.g.
    `lambda g, y: y / g(1.0)` for scalars) instead of going through `solve`."""
    from .._custom import custom_jvp  # the API is built on lax
    from .._api import linearize  # the API is built on lax
    g_leaves, g_tree = tree_util.tree_flatten(initial_guess)
    g_avals = [get_aval(x) for x in g_leaves]
    arg_tree = tree_util.tree_structure((initial_guess,))
    f_prog, f_consts, f_tree = trace_body(f, arg_tree, g_avals, "custom_root f")
    if f_tree != g_tree:
        raise TypeError(f"f() output pytree structure must match initial_guess, got "
                        f"{f_tree} and {g_tree}\n  at {user_source_line()}")
    s_prog, s_consts, s_tree = trace_body(lambda x: solve(f, x), arg_tree, g_avals,
                                          "custom_root solve")
    n = len(g_leaves)

    def linearize_and_solve(x, b):
        _, f_jvp = linearize(f, x)
        return tangent_solve(f_jvp, b)
    pair_tree = tree_util.tree_structure((initial_guess, initial_guess))
    ls_prog, ls_consts, _ = trace_body(lambda x, b: linearize_and_solve(x, b), pair_tree,
                                       g_avals * 2, "custom_root tangent_solve")
    sizes = [len(f_consts), len(s_consts), len(ls_consts)]

    @custom_jvp
    def root(*args):
        _, s_c, _, guess = split_list(list(args), sizes)
        return eval_program(s_prog, [*s_c, *guess])

    @root.defjvp
    def root_jvp(primals, tangents):
        f_c, _, ls_c, _ = split_list(list(primals), sizes)
        f_c_dot = split_list(list(tangents), sizes)[0]
        sol = root(*primals)
        solution = sol[:n]
        _, rhs = jvp_traced(lambda *c: eval_program(f_prog, [*c, *solution]), f_c,
                            [t if not isinstance(t, Zero) else instantiate(t)
                             for t in f_c_dot])
        sol_dot = eval_program(ls_prog, [*ls_c, *solution, *map(instantiate, rhs)])
        return sol, [_neg(t) for t in sol_dot] + [instantiate(Zero(tangent_aval(
            get_aval(a)))) for a in sol[n:]]

    out = root(*f_consts, *s_consts, *ls_consts, *g_leaves)
    return tree_util.tree_unflatten(s_tree, out)
