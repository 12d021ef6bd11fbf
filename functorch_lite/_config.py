"""Global configuration, mirroring `jax.config` for the flags we support."""
import contextlib


class Config:
    """`config.update("jax_enable_x64", True)` turns on 64-bit types;
    `config.update("jax_debug_nans", True)` raises FloatingPointError when a computation
    (eager or jitted) produces a NaN; `config.update("jax_default_matmul_precision",
    "highest")` sets the precision of products built without `precision=` (None:
    DEFAULT, e.g. TF32 on recent NVIDIA GPUs). Unknown flag names raise."""

    def __init__(self):
        self.jax_enable_x64 = False
        self.jax_debug_nans = False
        self.jax_default_matmul_precision = None

    def update(self, name, value):
        if not hasattr(self, name):
            raise AttributeError(f"functorch_lite.config has no flag {name!r}; known: "
                                 f"{sorted(vars(self))}")
        setattr(self, name, value)
        if name == "jax_enable_x64":  # the runtime must keep 64-bit buffers too
            from ._runtime import set_x64
            from ._jit import clear_caches
            set_x64(value)
            clear_caches()  # programs traced under the other setting are stale

    def read(self, name):
        return getattr(self, name)

    @property
    def x64_enabled(self):
        return self.jax_enable_x64


config = Config()


@contextlib.contextmanager
def default_matmul_precision(precision):
    """Within the block, products without `precision=` use `precision` ('default',
    'high', 'highest', 'bfloat16', 'tensorfloat32', 'float32'), as
    `jax.default_matmul_precision`. Programs traced before keep their precision."""
    previous = config.jax_default_matmul_precision
    config.jax_default_matmul_precision = precision
    try:
        yield
    finally:
        config.jax_default_matmul_precision = previous
