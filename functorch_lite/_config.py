"""Global configuration, mirroring `jax.config` for the flags we support."""
import contextlib
import os

from ._compilation_cache import default_directory as default_compilation_cache_dir


class Config:
    """`config.update("jax_enable_x64", True)` turns on 64-bit types;
    `config.update("jax_debug_nans", True)` raises FloatingPointError when a computation
    (eager or jitted) produces a NaN, naming the primitive and the user's line;
    `config.update("jax_traceback_filtering", "off")` keeps the library's frames in
    tracebacks (see `_traceback_util`). Unknown flag names raise.
    `functorch_lite_cache_size` bounds every per-signature cache of compiled programs
    (each jitted function's, and the eager one of each primitive): the least recently
    used signature beyond it is forgotten (retraced and recompiled when seen again).
    `config.update("jax_default_matmul_precision", "highest")` sets the precision of
    products built without `precision=` (None: DEFAULT, e.g. TF32 on recent NVIDIA
    GPUs). `jax_compilation_cache_dir` (None or "" turns it off),
    `jax_persistent_cache_min_compile_time_secs` and `jax_compilation_cache_max_size`
    (bytes, -1: unbounded) configure the persistent compilation cache
    (`_compilation_cache`)."""

    def __init__(self):
        self.jax_enable_x64 = False
        self.jax_debug_nans = False
        self.jax_traceback_filtering = os.environ.get(
            "FUNCTORCH_LITE_TRACEBACK_FILTERING", "auto")
        self.functorch_lite_cache_size = 1024
        self.jax_default_matmul_precision = None
        self.jax_compilation_cache_dir = default_compilation_cache_dir()
        self.jax_persistent_cache_min_compile_time_secs = 0.2
        self.jax_compilation_cache_max_size = 2 ** 30

    def update(self, name, value):
        if not hasattr(self, name):
            raise AttributeError(f"functorch_lite.config has no flag {name!r}; known: "
                                 f"{sorted(vars(self))}")
        if name == "jax_traceback_filtering":
            from ._traceback_util import MODES
            if value not in MODES:
                raise ValueError(f"jax_traceback_filtering must be one of {MODES}, got "
                                 f"{value!r}")
        if name == "functorch_lite_cache_size" and not (
                isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ValueError(f"functorch_lite_cache_size must be a positive int, got "
                             f"{value!r}")
        setattr(self, name, value)
        if name == "jax_enable_x64":  # JAX's own flag is left as it is
            from ._jit import clear_caches
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
