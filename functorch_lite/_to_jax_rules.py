"""The translation table of `interop.to_jax`: each of our primitives (by name) and its
params as `jax.lax` calls on JAX values.

A rule is `rule(args, **params) -> value` (or a list of values for a primitive with
several results). The primitives that call programs (control flow, calls, custom
rules) are translated in `_to_jax`, which evaluates their programs with JAX. A
primitive missing from `RULES` raises NotImplementedError naming it: never a guess.
This is an interop module, one of the places allowed to call jax.lax.
"""
import numpy as np
import jax
from jax import lax
import jax.numpy as jnp
from jax.experimental import io_callback

RULES = {}

# elementwise primitives whose jax.lax function has our name and no params
_SAME_NAME = """abs acos acosh add asin asinh atan atan2 atanh bessel_i0e bessel_i1e cbrt
    ceil clz complex conj cos cosh digamma div erf erf_inv erfc exp exp2 expm1 floor
    igamma igamma_grad_a igammac imag is_finite lgamma log log1p logistic max min mul
    neg nextafter polygamma population_count pow random_gamma_grad real rem rsqrt
    shift_left shift_right_arithmetic shift_right_logical sign sin sinh sqrt square sub
    tan tanh zeta eq ne lt le gt ge stop_gradient""".split()
for _name in _SAME_NAME:
    RULES[_name] = (lambda fn: lambda args: fn(*args))(getattr(lax, _name))

_RENAMED = {"add_any": lax.add, "and": lax.bitwise_and, "or": lax.bitwise_or,
            "xor": lax.bitwise_xor, "not": lax.bitwise_not, "clamp": lax.clamp,
            "regularized_incomplete_beta": lax.betainc, "logaddexp": jnp.logaddexp,
            "logaddexp2": jnp.logaddexp2, "mulhi": lax.mulhi}
for _name, _fn in _RENAMED.items():
    RULES[_name] = (lambda fn: lambda args: fn(*args))(_fn)

# identities: staging, copies and placement do not change values
for _name in ("stage", "copy"):
    RULES[_name] = lambda args: args[0]
RULES["device_put"] = lambda args, **params: list(args)
RULES["dce_sink"] = lambda args, **params: []
RULES["optimization_barrier"] = lambda args: list(lax.optimization_barrier(list(args)))


def rule(name):
    def register(fn):
        RULES[name] = fn
        return fn
    return register


def _dtype(dtype):
    return dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)


def _precision(precision):
    """Our Precision values (enum members or a pair of them) as JAX's."""
    if precision is None or isinstance(precision, lax.Precision):
        return precision
    if isinstance(precision, (tuple, list)):
        return tuple(_precision(p) for p in precision)
    return lax.Precision[getattr(precision, "name", str(precision)).upper()]


rule("one_minus_square")(lambda args: (1 + args[0]) * (1 - args[0]))
rule("integer_pow")(lambda args, *, y: lax.integer_pow(args[0], y))
rule("convert_element_type")(
    lambda args, *, new_dtype, weak_type: lax.convert_element_type(args[0], new_dtype))
rule("bitcast_convert_type")(
    lambda args, *, new_dtype: lax.bitcast_convert_type(args[0], new_dtype))
rule("reduce_precision")(lambda args, *, exponent_bits, mantissa_bits: lax.reduce_precision(
    args[0], exponent_bits, mantissa_bits))
rule("round")(lambda args, *, rounding_method: lax.round(
    args[0], lax.RoundingMethod(int(rounding_method))))
rule("select_n")(lambda args: lax.select_n(*args))
rule("iota")(lambda args, *, dtype, shape, dimension: lax.broadcasted_iota(
    dtype, shape, dimension))
rule("literal_array")(lambda args, *, value: jnp.asarray(value.value))
rule("polynomial")(lambda args, **_: _horner(args))


def _horner(args):
    x, coeffs = args[0], args[1:]
    out = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        out = out * x + c
    return out


for _cmp, _fn in (("eq_to", lax.eq), ("lt_to", lax.lt), ("le_to", lax.le)):
    # total-order comparisons: only the float cases where they agree with IEEE order
    RULES[_cmp] = (lambda name, fn: lambda args: _total_order(name, fn, args))(_cmp, _fn)


def _total_order(name, fn, args):
    if jnp.issubdtype(args[0].dtype, jnp.inexact):
        raise NotImplementedError(f"primitive {name} (total order of floats, -0 < +0 and "
                                  f"NaNs ordered) has no jax.lax translation")
    return fn(*args)


# --- structure ------------------------------------------------------------------------

rule("broadcast_in_dim")(lambda args, *, shape, broadcast_dimensions: lax.broadcast_in_dim(
    args[0], shape, broadcast_dimensions))
rule("reshape")(lambda args, *, new_sizes, **_: lax.reshape(args[0], new_sizes))
rule("transpose")(lambda args, *, permutation: lax.transpose(args[0], permutation))
rule("rev")(lambda args, *, dimensions: lax.rev(args[0], dimensions))
rule("squeeze")(lambda args, *, dimensions: lax.squeeze(args[0], dimensions))
rule("concatenate")(lambda args, *, dimension: lax.concatenate(list(args), dimension))
rule("split")(lambda args, *, sizes, axis: list(lax.split(args[0], sizes, axis)))
rule("stack")(lambda args, *, axis: jnp.stack(args, axis))
rule("unstack")(lambda args, *, axis: [jnp.squeeze(a, axis) for a in
                                       jnp.split(args[0], args[0].shape[axis], axis)])
rule("tile")(lambda args, *, reps: jnp.tile(args[0], reps))
rule("pad")(lambda args, *, padding_config: lax.pad(args[0], args[1], padding_config))
rule("slice")(lambda args, *, start_indices, limit_indices, strides: lax.slice(
    args[0], start_indices, limit_indices, strides))
# our primitives clamp start indices into range (negative ones are wrapped by our
# wrappers before they bind); jax.lax's wrappers would wrap them again: clamp first
rule("dynamic_slice")(lambda args, *, slice_sizes: lax.dynamic_slice(
    args[0], _clamped(args[1:], args[0].shape, slice_sizes), slice_sizes))
rule("dynamic_update_slice")(lambda args: lax.dynamic_update_slice(
    args[0], args[1], _clamped(args[2:], args[0].shape, args[1].shape)))


def _clamped(indices, shape, sizes):
    return [lax.clamp(jnp.zeros((), i.dtype), i, jnp.asarray(d - s, i.dtype))
            for i, d, s in zip(indices, shape, sizes)]


# --- reductions and scans -------------------------------------------------------------

for _name in ("sum", "max", "min", "prod", "and", "or", "xor"):
    RULES[f"reduce_{_name}"] = (lambda fn: lambda args, *, axes: fn(args[0], axes))(
        getattr(lax, f"reduce_{_name}"))
for _name in ("cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"):
    RULES[_name] = (lambda fn: lambda args, *, axis, reverse: fn(args[0], axis, reverse))(
        getattr(lax, _name))
rule("argmax")(lambda args, *, axes, index_dtype: lax.argmax(args[0], axes[0], index_dtype))
rule("argmin")(lambda args, *, axes, index_dtype: lax.argmin(args[0], axes[0], index_dtype))


def _window(monoid, init):
    def translate(args, *, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
        x = args[0]
        # a NumPy init: JAX picks its differentiable max/min/sum pooling only for a
        # concrete identity, which jnp.asarray under jax.jit is not
        return lax.reduce_window(x, np.asarray(init(x.dtype), x.dtype), monoid,
                                 window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation)
    return translate


def _lowest(dtype):
    return -np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).min


def _highest(dtype):
    return np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).max


RULES["reduce_window_sum"] = _window(lax.add, lambda d: 0)
RULES["reduce_window_max"] = _window(lax.max, _lowest)
RULES["reduce_window_min"] = _window(lax.min, _highest)


def _chooser(select, x, window_dimensions, window_strides, padding, base_dilation,
             window_dilation=None):
    """The max (select "GE") or min ("LE") pooling whose derivatives our
    select_and_gather_add / select_and_scatter_add compute."""
    monoid, init = (lax.max, _lowest) if select == "GE" else (lax.min, _highest)
    dilation = window_dilation or (1,) * len(window_dimensions)
    return lambda v: _window(monoid, init)(
        [v], window_dimensions=window_dimensions, window_strides=window_strides,
        padding=padding, base_dilation=base_dilation, window_dilation=dilation)


@rule("select_and_gather_add")  # the JVP of max/min pooling: JAX's own, on its tangent
def _select_and_gather_add(args, *, select, **window):
    tangent, x = args
    return jax.jvp(_chooser(select, x, **window), (x,), (tangent,))[1]


@rule("select_and_scatter_add")  # its transpose: JAX's VJP of the pooling
def _select_and_scatter_add(args, *, select, **window):
    cotangent, x = args
    return jax.vjp(_chooser(select, x, **window), x)[1](cotangent)[0]


@rule("sort")
def _sort(args, *, dimension, is_stable, num_keys):
    return list(lax.sort(list(args), dimension=dimension, is_stable=is_stable,
                         num_keys=num_keys))


@rule("top_k")
def _top_k(args, *, k, axis):
    return list(lax.top_k(args[0], k, axis=axis))


# --- products, convolutions, indexing -------------------------------------------------

@rule("dot_general")
def _dot_general(args, *, dimension_numbers, precision, preferred_element_type):
    return lax.dot_general(args[0], args[1], dimension_numbers,
                           precision=_precision(precision),
                           preferred_element_type=preferred_element_type)


@rule("conv_general_dilated")
def _conv(args, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
          feature_group_count, batch_group_count, precision, preferred_element_type):
    dn = dimension_numbers
    if dn is not None and not isinstance(dn, lax.ConvDimensionNumbers):
        dn = lax.ConvDimensionNumbers(*map(tuple, dn))
    return lax.conv_general_dilated(
        args[0], args[1], window_strides, padding, lhs_dilation, rhs_dilation, dn,
        feature_group_count, batch_group_count, precision=_precision(precision),
        preferred_element_type=preferred_element_type)


def _mode(mode):
    return lax.GatherScatterMode[mode.name]


@rule("gather")
def _gather(args, *, dimension_numbers, slice_sizes, unique_indices, indices_are_sorted,
            mode, fill_value):
    dn = lax.GatherDimensionNumbers(**dimension_numbers._asdict())
    return lax.gather(args[0], args[1], dn, slice_sizes, unique_indices=unique_indices,
                      indices_are_sorted=indices_are_sorted, mode=_mode(mode),
                      fill_value=fill_value)


def _scatter(fn):
    def translate(args, *, dimension_numbers, indices_are_sorted, unique_indices, mode,
                  **_):
        dn = lax.ScatterDimensionNumbers(**dimension_numbers._asdict())
        return fn(args[0], args[1], args[2], dn, indices_are_sorted=indices_are_sorted,
                  unique_indices=unique_indices, mode=_mode(mode))
    return translate


for _name, _fn in (("scatter", lax.scatter), ("scatter-add", lax.scatter_add),
                   ("scatter-sub", lax.scatter_sub), ("scatter-mul", lax.scatter_mul),
                   ("scatter-max", lax.scatter_max), ("scatter-min", lax.scatter_min)):
    RULES[_name] = _scatter(_fn)


# --- FFT, linear algebra, random bits -------------------------------------------------

@rule("fft")
def _fft(args, *, fft_type, fft_lengths):
    return lax.fft(args[0], lax.FftType[getattr(fft_type, "name", str(fft_type))],
                   fft_lengths)


rule("cholesky")(lambda args, **_: lax.linalg.cholesky(args[0]))
rule("eigh")(lambda args, *, lower, **_: list(lax.linalg.eigh(
    args[0], lower=lower, symmetrize_input=False)))  # as our primitive: one triangle
rule("qr")(lambda args, *, full_matrices: list(lax.linalg.qr(
    args[0], full_matrices=full_matrices)))


@rule("svd")
def _svd(args, *, full_matrices, compute_uv, **_):
    out = lax.linalg.svd(args[0], full_matrices=full_matrices, compute_uv=compute_uv)
    if not compute_uv:
        return [out]
    u, s, vh = out
    return [s, u, vh]  # our order


@rule("triangular_solve")
def _triangular_solve(args, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    return lax.linalg.triangular_solve(args[0], args[1], left_side=left_side, lower=lower,
                                       transpose_a=transpose_a, conjugate_a=conjugate_a,
                                       unit_diagonal=unit_diagonal)


rule("lu")(lambda args: list(lax.linalg.lu(args[0])))
rule("rng_bit_generator")(lambda args, *, shape, dtype, algorithm: list(
    lax.rng_bit_generator(args[0], shape, dtype, lax.RandomAlgorithm[algorithm.name])))
rule("threefry2x32")(lambda args: list(jax.extend.random.threefry2x32_p.bind(*args)))
rule("random_wrap")(lambda args, *, dtype: jax.random.wrap_key_data(
    args[0], impl=dtype._impl.name))
rule("random_unwrap")(lambda args: jax.random.key_data(args[0]))


# --- collectives (inside jax.vmap / shard_map with the same axis names) ---------------

rule("psum")(lambda args, *, axis_name: lax.psum(args[0], axis_name))
rule("pmax")(lambda args, *, axis_name: lax.pmax(args[0], axis_name))
rule("pmin")(lambda args, *, axis_name: lax.pmin(args[0], axis_name))
rule("axis_index")(lambda args, *, axis_name: lax.axis_index(axis_name))
rule("all_gather")(lambda args, *, axis_name, axis, tiled, axis_size: lax.all_gather(
    args[0], axis_name, axis=axis, tiled=tiled))
rule("psum_scatter")(lambda args, *, axis_name, scatter_dimension, tiled, axis_size:
                     lax.psum_scatter(args[0], axis_name,
                                      scatter_dimension=scatter_dimension, tiled=tiled))

rule("log2")(lambda args: jnp.log2(args[0]))
rule("tridiagonal_solve")(lambda args, *, perturb_singular: lax.linalg.tridiagonal_solve(
    *args, perturb_singular=perturb_singular))
rule("hessenberg")(lambda args: list(lax.linalg.hessenberg(args[0])))
rule("householder_product")(lambda args: lax.linalg.householder_product(*args))
rule("schur")(lambda args, *, compute_schur_vectors: list(lax.linalg.schur(
    args[0], compute_schur_vectors=compute_schur_vectors))[:1 + compute_schur_vectors])
rule("eig")(lambda args, *, compute_left_eigenvectors, compute_right_eigenvectors, **_: list(
    lax.linalg.eig(args[0], compute_left_eigenvectors=compute_left_eigenvectors,
                   compute_right_eigenvectors=compute_right_eigenvectors)))


@rule("approx_top_k")
def _approx_top_k(args, *, k, reduction_dimension, recall_target, is_max_k,
                  reduction_input_size_override, aggregate_to_topk):
    fn = lax.approx_max_k if is_max_k else lax.approx_min_k
    return list(fn(args[0], k, reduction_dimension=reduction_dimension,
                   recall_target=recall_target,
                   reduction_input_size_override=reduction_input_size_override,
                   aggregate_to_topk=aggregate_to_topk))
rule("lu_solve")(lambda args, *, transpose_a: jnp.linalg.solve(
    jnp.swapaxes(args[0], -1, -2) if transpose_a else args[0], args[1]))


# --- host callbacks: JAX's own, calling the primitive's eager implementation ---------
# (rules given the primitive: `PRIMITIVE_RULES[name](primitive, args, **params)`)

PRIMITIVE_RULES = {}


def _debug_callback(primitive, args, **params):
    jax.debug.callback(lambda *xs: primitive.impl(*xs, **params), *args)
    return []


def _with_results(primitive, params):
    shapes = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in params["result_avals"]]
    return lambda *xs: list(primitive.impl(*xs, **params)), shapes


def _pure_callback(primitive, args, **params):
    fn, shapes = _with_results(primitive, params)
    return list(jax.pure_callback(fn, shapes, *args,
                                  vmap_method=params.get("vmap_method")))


def _io_callback(primitive, args, **params):
    fn, shapes = _with_results(primitive, params)
    return list(io_callback(fn, shapes, *args))


PRIMITIVE_RULES.update(debug_callback=_debug_callback, pure_callback=_pure_callback,
                       io_callback=_io_callback)
