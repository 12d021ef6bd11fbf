"""`jax.image`: image resizing (`resize`) and resampling (`scale_and_translate`)."""
from ._image import ResizeMethod, resize, scale_and_translate  # noqa: F401
