"""Global configuration, mirroring `jax.config` for the flags we support."""
import os


class Config:
    """`config.update("jax_enable_x64", True)` turns on 64-bit types;
    `config.update("jax_debug_nans", True)` raises FloatingPointError when a computation
    (eager or jitted) produces a NaN, naming the primitive and the user's line;
    `config.update("jax_traceback_filtering", "off")` keeps the library's frames in
    tracebacks (see `_traceback_util`). Unknown flag names raise."""

    def __init__(self):
        self.jax_enable_x64 = False
        self.jax_debug_nans = False
        self.jax_traceback_filtering = os.environ.get(
            "FUNCTORCH_LITE_TRACEBACK_FILTERING", "auto")

    def update(self, name, value):
        if not hasattr(self, name):
            raise AttributeError(f"functorch_lite.config has no flag {name!r}; known: "
                                 f"{sorted(vars(self))}")
        if name == "jax_traceback_filtering":
            from ._traceback_util import MODES
            if value not in MODES:
                raise ValueError(f"jax_traceback_filtering must be one of {MODES}, got "
                                 f"{value!r}")
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
