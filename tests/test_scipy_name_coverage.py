"""Name coverage of the scientific modules against JAX's: jax.scipy.linalg, optimize,
ndimage, integrate, interpolate, signal and fft, jax.example_libraries.stax and optimizers,
jax.experimental (ode, jet). Every public name of JAX's module must exist here, or be
listed below with the reason it is absent. `python tests/test_scipy_name_coverage.py`
prints the figures."""
import importlib
import types

import pytest

import functorch_lite  # noqa: F401

PAIRS = [(f"jax.{name}", f"functorch_lite.{name}") for name in (
    "scipy.linalg", "scipy.optimize", "scipy.ndimage", "scipy.integrate",
    "scipy.interpolate", "scipy.signal", "scipy.fft", "example_libraries.stax",
    "example_libraries.optimizers", "experimental.ode", "experimental.jet",
    "experimental")]

_ODE_INTERNAL = "a step of JAX's solver, private here (experimental/_ode.py)"
_JET_INTERNAL = ("JAX's rule-table machinery; ours is the trace in experimental/_jet.py "
                 "with its rules in experimental.jet.jet_rules")
ABSENT = {
    "jax.experimental.ode": {name: _ODE_INTERNAL for name in (
        "abs2", "fit_4th_order_polynomial", "initial_step_size", "interp_fit_dopri",
        "mean_error_ratio", "optimal_step_size", "ravel_first_arg", "ravel_first_arg_",
        "runge_kutta_step")},
    "jax.experimental.jet": {name: _JET_INTERNAL for name in (
        "ZeroSeries", "ZeroTerm", "def_comp", "def_deriv",
        "deflinear", "defzero", "deriv_prop", "fact", "jet_fun", "jet_subtrace",
        "linear_prop", "traceable", "zero_prop", "zero_series", "zero_term")},
    "jax.experimental": {
        "EArray": "JAX's internal extended-array type, not part of this library",
        "cur_qdd": "JAX-internal (quasi-dynamic data of its tracers)",
        "primal_tangent_dtype": "JAX-internal (custom dtypes' tangent types)",
    },
}


_HELPER_MODULES = ("jaxlib.utils", "jax._src.util", "jax.tree_util", "jax._src.tree_util",
                   "jax._src.flatten_util", "jax._src.numpy")


def _defining_module(obj):
    if hasattr(obj, "func") and hasattr(obj, "args"):   # functools.partial
        obj = obj.func
    return getattr(obj, "__module__", None) or type(obj).__module__


def public_names(module):
    """Names a user of `module` may import: not private, not modules, not typing
    constructs, defined by JAX (not helpers it merely imports from the standard library,
    jaxlib's utilities, tree_util or jax.numpy)."""
    names = []
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType) or \
                name == "annotations":
            continue
        defined_in = _defining_module(obj) or ""
        if defined_in in ("typing", "collections.abc") or \
                type(obj).__module__ == "typing":
            continue   # type aliases (Params, Schedule, ...)
        if not defined_in.startswith("jax") or defined_in.startswith(_HELPER_MODULES):
            continue
        names.append(name)
    return names


def coverage(jax_name, ours_name):
    jax_module, ours = importlib.import_module(jax_name), importlib.import_module(ours_name)
    names = public_names(jax_module)
    missing = [n for n in names if not hasattr(ours, n)]
    return names, missing


@pytest.mark.parametrize("jax_name, ours_name", PAIRS)
def test_every_name_exists_or_is_documented_absent(jax_name, ours_name):
    names, missing = coverage(jax_name, ours_name)
    undocumented = sorted(set(missing) - set(ABSENT.get(jax_name, {})))
    assert not undocumented, f"{ours_name} lacks {undocumented}"
    # a listed name may be missing from this JAX release (0.10 and 0.12 differ), but it
    # must not be one we have
    stale = sorted(set(ABSENT.get(jax_name, {})) & set(names) - set(missing))
    assert not stale, f"listed as absent but present: {stale}"


def test_scipy_linalg_and_example_libraries_are_complete():
    for jax_name, ours_name in PAIRS:
        if "linalg" in jax_name or "example_libraries" in jax_name:
            assert coverage(jax_name, ours_name)[1] == [], ours_name


if __name__ == "__main__":
    for jax_name, ours_name in PAIRS:
        names, missing = coverage(jax_name, ours_name)
        print(f"{jax_name:34s} {len(names) - len(missing):3d}/{len(names):3d}"
              f"  missing: {', '.join(missing) or '-'}")
