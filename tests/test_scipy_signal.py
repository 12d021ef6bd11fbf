"""scipy.ndimage, integrate, interpolate and signal against jax.scipy (values eager and
jit, jvp/vjp, vmap) and SciPy."""
import numpy as np
import pytest
import scipy.integrate as sint
import scipy.interpolate as sinterp
import scipy.ndimage as sndimage
import scipy.signal as ssignal
import jax.scipy as jsp

import functorch_lite.scipy as fsp
from harness import Rec, check_jvp_vjp, check_values, check_vmap

F32 = np.float32
GRID = (np.linspace(0, 1, 4).astype(F32), np.array([0, 0.5, 2.0, 3.0], F32))


def rec(name, ours, ref, shapes, grad=True, batch=True):
    return Rec(name, ours, ref, [(s, F32) if isinstance(s, tuple) else s for s in shapes],
               rtol=1e-5, atol=1e-5, grad_argnums=tuple(
                   i for i, s in enumerate(shapes) if isinstance(s, tuple)) if grad else (),
               batch=batch)


def map_coords(module, order, mode):
    return lambda image, rows, cols: module.ndimage.map_coordinates(
        image, [rows * 3, cols * 4], order, mode, cval=0.5)


def interpolator(module, method, fill_value=np.nan):
    return lambda values, points: module.interpolate.RegularGridInterpolator(
        GRID, values, method=method, fill_value=fill_value)(points * 2)


RECS = [
    *[rec(f"map_coordinates_{order}_{mode}", map_coords(fsp, order, mode),
          map_coords(jsp, order, mode), [(5, 6), (7,), (7,)], grad=order == 1)
      for order in (0, 1) for mode in ("constant", "nearest", "wrap", "mirror", "reflect")],
    rec("trapezoid", fsp.integrate.trapezoid, jsp.integrate.trapezoid, [(3, 7)]),
    rec("trapezoid_x", fsp.integrate.trapezoid, jsp.integrate.trapezoid, [(3, 7), (7,)]),
    rec("trapezoid_axis", lambda y: fsp.integrate.trapezoid(y, dx=0.3, axis=0),
        lambda y: jsp.integrate.trapezoid(y, dx=0.3, axis=0), [(4, 5)]),
    rec("grid_linear", interpolator(fsp, "linear"), interpolator(jsp, "linear"),
        [(4, 4), (5, 2)], grad=False),
    rec("grid_linear_extrapolate", interpolator(fsp, "linear", None),
        interpolator(jsp, "linear", None), [(4, 4), (5, 2)]),
    rec("grid_nearest", interpolator(fsp, "nearest"), interpolator(jsp, "nearest"),
        [(4, 4, 2), (5, 2)], grad=False),
    *[rec(f"{name}_{mode}", lambda a, b, n=name, m=mode: getattr(fsp.signal, n)(a, b, m),
          lambda a, b, n=name, m=mode: getattr(jsp.signal, n)(a, b, m), shapes)
      for mode in ("full", "same", "valid")
      for name, shapes in [("convolve", [(7,), (3,)]), ("correlate", [(3,), (6,)]),
                           ("convolve2d", [(5, 6), (2, 3)]),
                           ("correlate2d", [(5, 6), (2, 3)]),
                           ("correlate2d", [(2, 3), (4, 4)])]],
    rec("detrend_linear_breakpoints", lambda x: fsp.signal.detrend(x, bp=[3, 6]),
        lambda x: jsp.signal.detrend(x, bp=[3, 6]), [(4, 10)]),
    rec("detrend_constant", lambda x: fsp.signal.detrend(x, axis=0, type="constant"),
        lambda x: jsp.signal.detrend(x, axis=0, type="constant"), [(4, 10)]),
]


@pytest.mark.parametrize("rec", RECS, ids=str)
def test_values(rec):
    check_values(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.grad_argnums], ids=str)
def test_jvp_vjp(rec):
    check_jvp_vjp(rec)


@pytest.mark.parametrize("rec", [r for r in RECS if r.name.endswith(
    ("linear_constant", "_1_wrap", "trapezoid_x", "grid_linear", "convolve_same",
     "correlate2d_full", "breakpoints"))], ids=str)
def test_vmap(rec):
    check_vmap(rec)


def test_values_match_scipy():
    rng = np.random.RandomState(0)
    image, coords = rng.randn(5, 6), [rng.uniform(-1, 6, 8) for _ in range(2)]
    # JAX's 'wrap' and 'constant' are SciPy's 'grid-wrap' and 'grid-constant'
    for mode, scipy_mode in [("nearest", "nearest"), ("wrap", "grid-wrap"),
                             ("mirror", "mirror"), ("reflect", "reflect"),
                             ("constant", "grid-constant")]:
        np.testing.assert_allclose(
            fsp.ndimage.map_coordinates(image.astype(F32), coords, 1, mode),
            sndimage.map_coordinates(image, coords, order=1, mode=scipy_mode), atol=1e-5,
            err_msg=mode)
    y, x = rng.randn(3, 7), np.sort(rng.rand(7))
    np.testing.assert_allclose(fsp.integrate.trapezoid(y.astype(F32), x.astype(F32)),
                               sint.trapezoid(y, x), rtol=1e-5)
    values, points = rng.randn(4, 4), rng.uniform(0, 1, (6, 2)) * [1, 3]
    np.testing.assert_allclose(
        fsp.interpolate.RegularGridInterpolator(GRID, values.astype(F32))(points),
        sinterp.RegularGridInterpolator(GRID, values)(points), rtol=1e-5, atol=1e-5)
    a, b = rng.randn(5, 6), rng.randn(3, 2)
    for mode in ("full", "same", "valid"):
        for name in ("convolve", "correlate", "convolve2d", "correlate2d"):
            np.testing.assert_allclose(getattr(fsp.signal, name)(a.astype(F32),
                                                                 b.astype(F32), mode),
                                       getattr(ssignal, name)(a, b, mode), rtol=1e-4,
                                       atol=1e-4, err_msg=f"{name} {mode}")
    np.testing.assert_allclose(fsp.signal.detrend(a.astype(F32), bp=[2]),
                               ssignal.detrend(a, bp=[2]), atol=1e-5)


def test_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="order<=1"):
        fsp.ndimage.map_coordinates(np.ones((2, 2), F32), [np.zeros(1)] * 2, order=3)
    with pytest.raises(NotImplementedError, match="bounds_error"):
        fsp.interpolate.RegularGridInterpolator(GRID, np.ones((4, 4), F32),
                                                bounds_error=True)
    with pytest.raises(NotImplementedError, match="boundary"):
        fsp.signal.convolve2d(np.ones((3, 3), F32), np.ones((2, 2), F32), boundary="wrap")
