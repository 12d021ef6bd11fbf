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
    GPUs). `jax_debug_infs` is `jax_debug_nans` for infinities; `jax_disable_jit` makes
    jitted functions run their Python op by op (`jit(f)(x)` is `f(x)`);
    `jax_log_compiles` logs each compilation (its name and argument types) at WARNING
    through Python's `logging`, as JAX does. `jax_numpy_rank_promotion` ('allow',
    'warn' or 'raise') makes `numpy` elementwise operations on operands of different
    ranks warn or raise, as JAX's; `jax_numpy_dtype_promotion="strict"` allows only
    Python scalars to promote implicitly (TypePromotionError otherwise), as JAX's.
    `jax_compilation_cache_dir` (None or "" turns it off),
    `jax_persistent_cache_min_compile_time_secs` and `jax_compilation_cache_max_size`
    (bytes, -1: unbounded) configure the persistent compilation cache
    (`_compilation_cache`). `jax_explain_cache_misses` logs at WARNING, for each trace
    of a jitted function, why the cache missed (which argument changed and how), as
    JAX does; `functorch_lite_recompile_warning` (default 8, 0: never) is how many
    retraces of one function make a `RecompilationWarning` naming the most
    frequent cause (`jit(f).cache_info()` has them all)."""

    def __init__(self):
        self.jax_enable_x64 = False
        self.jax_debug_nans = False
        self.jax_debug_infs = False
        self.jax_disable_jit = False
        self.jax_log_compiles = False
        self.jax_explain_cache_misses = False
        self.functorch_lite_recompile_warning = 8
        self.jax_numpy_rank_promotion = "allow"
        self.jax_numpy_dtype_promotion = "standard"
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
            if value not in TRACEBACK_FILTERING_MODES:
                raise ValueError(f"jax_traceback_filtering must be one of "
                                 f"{TRACEBACK_FILTERING_MODES}, got "
                                 f"{value!r}")
        if name == "jax_numpy_rank_promotion" and value not in RANK_PROMOTION:
            raise ValueError(f"jax_numpy_rank_promotion must be one of {RANK_PROMOTION}, "
                             f"got {value!r}")
        if name == "jax_numpy_dtype_promotion" and value not in DTYPE_PROMOTION:
            raise ValueError(f"jax_numpy_dtype_promotion must be one of "
                             f"{DTYPE_PROMOTION}, got {value!r}")
        if name in _BOOL_FLAGS and not isinstance(value, (bool, int)):
            raise TypeError(f"{name} takes a bool, got {value!r}")
        if name in _BOOL_FLAGS:
            value = bool(value)
        if name == "functorch_lite_recompile_warning" and not (
                isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise ValueError(f"functorch_lite_recompile_warning must be an int >= 0 (0: "
                             f"never warn), got {value!r}")
        if name == "functorch_lite_cache_size" and not (
                isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ValueError(f"functorch_lite_cache_size must be a positive int, got "
                             f"{value!r}")
        setattr(self, name, value)
        if name == "jax_enable_x64":  # JAX's own flag is left as it is
            for callback in _x64_change_callbacks:
                callback()  # programs traced under the other setting are stale

    def read(self, name):
        return getattr(self, name)

    @property
    def x64_enabled(self):
        return self.jax_enable_x64

    @property
    def trace_context(self):
        """The flags that change what a function traces to (part of every trace
        cache's key, as in JAX): the default matmul precision, rank and dtype
        promotion."""
        return (self.jax_default_matmul_precision, self.jax_numpy_rank_promotion,
                self.jax_numpy_dtype_promotion)


RANK_PROMOTION = ("allow", "warn", "raise")
DTYPE_PROMOTION = ("standard", "strict")
TRACEBACK_FILTERING_MODES = ("auto", "off", "tracebackhide", "remove_frames",
                             "quiet_remove_frames")
_BOOL_FLAGS = frozenset(("jax_enable_x64", "jax_debug_nans", "jax_debug_infs",
                         "jax_disable_jit", "jax_log_compiles",
                         "jax_explain_cache_misses"))
config = Config()
_x64_change_callbacks = []  # run when jax_enable_x64 changes (higher layers register)


def on_x64_change(callback):
    """Run `callback()` whenever `jax_enable_x64` is updated (jit registers its
    trace-cache reset here)."""
    _x64_change_callbacks.append(callback)


@contextlib.contextmanager
def _flag_set(name, value):
    previous = getattr(config, name)
    config.update(name, value)
    try:
        yield
    finally:
        config.update(name, previous)


def disable_jit(disable=True):
    """`with disable_jit():` jitted functions run their Python op by op (prints run on
    every call, values are concrete), as `jax.disable_jit`."""
    return _flag_set("jax_disable_jit", disable)


def debug_nans(new_val=True):
    """`with debug_nans():` a NaN made by any computation raises FloatingPointError
    naming the primitive, as `jax.debug_nans`."""
    return _flag_set("jax_debug_nans", new_val)


def debug_infs(new_val=True):
    """`with debug_infs():` an infinity made by any computation raises
    FloatingPointError naming the primitive, as `jax.debug_infs`."""
    return _flag_set("jax_debug_infs", new_val)


def log_compiles(new_val=True):
    """`with log_compiles():` each compilation is logged at WARNING, as
    `jax.log_compiles`."""
    return _flag_set("jax_log_compiles", new_val)


def explain_cache_misses(new_val=True):
    """`with explain_cache_misses():` each trace of a jitted function logs at WARNING
    why the cache missed (which argument changed and how), as
    `jax.explain_cache_misses`."""
    return _flag_set("jax_explain_cache_misses", new_val)


def numpy_rank_promotion(new_val):
    """`with numpy_rank_promotion("raise"):` implicit rank promotion in `numpy`
    elementwise operations warns ('warn') or raises ('raise'), as
    `jax.numpy_rank_promotion`."""
    return _flag_set("jax_numpy_rank_promotion", new_val)


def numpy_dtype_promotion(new_val):
    """`with numpy_dtype_promotion("strict"):` operands of different dtypes raise
    TypePromotionError instead of promoting (Python scalars still promote), as
    `jax.numpy_dtype_promotion`."""
    return _flag_set("jax_numpy_dtype_promotion", new_val)


def enable_x64(new_val=True):
    """`with enable_x64():` 64-bit types are on within the block (programs traced under
    the other setting are retraced), as `jax.enable_x64`."""
    return _flag_set("jax_enable_x64", new_val)


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
