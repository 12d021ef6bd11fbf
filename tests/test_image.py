"""functorch_lite.image against jax.image on the same inputs: every method, up- and
downsampling, antialias on/off, 1-D/2-D/3-D images with batch and channel dims, integer
input, scale_and_translate with non-trivial scale/translation, under jit, grad and vmap,
and the errors JAX raises."""
import jax
import jax.image as jimage
import numpy as np
import pytest

import functorch_lite as fl
from functorch_lite import image

METHODS = ["nearest", "linear", "cubic", "lanczos3", "lanczos5", "area", "cubic-pytorch"]
RNG = np.random.RandomState(0)
X2D = RNG.randn(2, 5, 6, 3).astype(np.float32)          # batch, H, W, channel
CASES = [(X2D, (2, 9, 4, 3)),                            # up H, down W
         (X2D, (2, 3, 11, 3)),                           # down H, up W
         (RNG.randn(7, 2).astype(np.float32), (3, 2)),   # 1-D (down) with channel
         (RNG.randn(1, 4, 3, 5).astype(np.float32), (1, 6, 2, 7))]  # 3-D


def _close(ours, theirs, tol=1e-5):
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=tol, atol=tol)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_resize_matches_jax(method, antialias, case):
    x, shape = CASES[case]
    _close(image.resize(x, shape, method, antialias=antialias),
           jimage.resize(x, shape, method, antialias=antialias))


@pytest.mark.parametrize("method", ["nearest", "linear", "cubic"])
def test_resize_integer_input(method):
    x = RNG.randint(0, 100, (4, 6)).astype(np.int32)
    _close(image.resize(x, (7, 3), method), jimage.resize(x, (7, 3), method))


SCALE = np.array([1.7, 0.6], np.float32)
TRANSLATION = np.array([0.3, -1.2], np.float32)


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "area",
                                    "cubic-pytorch"])
@pytest.mark.parametrize("antialias", [True, False])
def test_scale_and_translate_matches_jax(method, antialias):
    args = ((2, 7, 4, 3), (1, 2), SCALE, TRANSLATION, method)
    _close(image.scale_and_translate(X2D, *args, antialias=antialias),
           jimage.scale_and_translate(X2D, *args, antialias=antialias))


def test_scale_and_translate_negative_spatial_dims_and_integer_image():
    x = RNG.randint(-5, 5, (3, 6, 5)).astype(np.int32)
    args = ((3, 4, 8), (-2, -1), SCALE, TRANSLATION, "linear")
    _close(image.scale_and_translate(x, *args), jimage.scale_and_translate(x, *args))


def _st(x, scale, translation):
    return image.scale_and_translate(x, (2, 7, 4, 3), (1, 2), scale, translation,
                                     "cubic").sum() ** 2


def _st_jax(x, scale, translation):
    return jimage.scale_and_translate(x, (2, 7, 4, 3), (1, 2), scale, translation,
                                      "cubic").sum() ** 2


def test_jit_and_grad_wrt_image_scale_translation():
    ours = fl.jit(fl.grad(_st, argnums=(0, 1, 2)))(X2D, SCALE, TRANSLATION)
    theirs = jax.grad(_st_jax, argnums=(0, 1, 2))(X2D, SCALE, TRANSLATION)
    for o, t in zip(ours, theirs):
        _close(o, t, tol=1e-4)


def test_grad_of_resize_wrt_image():
    def loss(lib, x):
        return (lib.resize(x, (2, 3, 11, 3), "lanczos3") ** 2).sum()
    _close(fl.grad(lambda x: loss(image, x))(X2D),
           jax.grad(lambda x: loss(jimage, x))(X2D), tol=1e-4)


def test_vmap_over_images_and_scales():
    scales = np.stack([SCALE, SCALE * 0.5 + 0.2])
    x = np.stack([X2D, X2D[::-1]])
    ours = fl.vmap(lambda im, s: image.scale_and_translate(
        im, (2, 7, 4, 3), (1, 2), s, TRANSLATION, "linear"))(x, scales)
    theirs = jax.vmap(lambda im, s: jimage.scale_and_translate(
        im, (2, 7, 4, 3), (1, 2), s, TRANSLATION, "linear"))(x, scales)
    _close(ours, theirs)
    _close(fl.vmap(lambda im: image.resize(im, (2, 3, 4, 3), "nearest"))(x),
           jax.vmap(lambda im: jimage.resize(im, (2, 3, 4, 3), "nearest"))(x))


@pytest.mark.parametrize("name,method", [
    ("nearest", "NEAREST"), ("bilinear", "LINEAR"), ("trilinear", "LINEAR"),
    ("triangle", "LINEAR"), ("bicubic", "CUBIC"), ("tricubic", "CUBIC"),
    ("lanczos3", "LANCZOS3"), ("lanczos5", "LANCZOS5"), ("area", "AREA"),
    ("bicubic-pytorch", "CUBIC_PYTORCH")])
def test_method_aliases(name, method):
    assert image.ResizeMethod.from_string(name) is image.ResizeMethod[method]
    assert jimage.ResizeMethod.from_string(name).name == method


def _raises_like_jax(ours, theirs):
    with pytest.raises(Exception) as want:
        theirs()
    with pytest.raises(want.type):
        ours()


def test_errors_match_jax():
    _raises_like_jax(lambda: image.resize(X2D, (9, 4), "linear"),
                     lambda: jimage.resize(X2D, (9, 4), "linear"))
    _raises_like_jax(lambda: image.resize(X2D, X2D.shape, "bogus"),
                     lambda: jimage.resize(X2D, X2D.shape, "bogus"))
    args = ((2, 7, 4, 3), (1, 2), SCALE, TRANSLATION, "nearest")
    _raises_like_jax(lambda: image.scale_and_translate(X2D, *args),
                     lambda: jimage.scale_and_translate(X2D, *args))
    with pytest.raises(ValueError, match="shape must have length"):
        image.scale_and_translate(X2D, (7, 4), (1, 2), SCALE, TRANSLATION, "linear")
    with pytest.raises(ValueError, match="one entry per spatial dim"):
        image.scale_and_translate(X2D, (2, 7, 4, 3), (1,), SCALE, TRANSLATION, "linear")
