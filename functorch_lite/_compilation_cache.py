"""The persistent compilation cache: compiled XLA executables on disk, so a program
compiled once is not compiled again by the next process (as JAX's
`jax_compilation_cache_dir`).

An entry's name is the SHA-256 of everything the executable depends on: the StableHLO
text, the jax and jaxlib versions, the platform and device kind. Programs whose compile
took at least `jax_persistent_cache_min_compile_time_secs` are written (atomically: a
temporary file in the same directory, then `os.replace`, so concurrent processes see a
whole entry or none); a hit refreshes the entry's time, and the least recently used
entries go when the directory outgrows `jax_compilation_cache_max_size` bytes. An entry
that cannot be read or loaded is deleted and the program compiled again. Programs that
call back into Python (their callbacks live in this process) are never cached.

The entries are XLA's own serialised executables (no pickle), but loading one runs
what it contains: keep the directory private to its user, as JAX advises for its cache.
The cache is on by default in `~/.cache/functorch_lite/xla` (`$XDG_CACHE_HOME` is
honoured); `FUNCTORCH_LITE_COMPILATION_CACHE_DIR` or
`config.update("jax_compilation_cache_dir", PATH)` moves it, and an empty path turns it
off.
"""
import hashlib
import logging
import os
import secrets

_log = logging.getLogger("functorch_lite.compilation_cache")
stats = {"hits": 0, "misses": 0, "writes": 0, "errors": 0, "compile_seconds": 0.0}


def default_directory():
    if "FUNCTORCH_LITE_COMPILATION_CACHE_DIR" in os.environ:
        return os.environ["FUNCTORCH_LITE_COMPILATION_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".cache")
    return os.path.join(base, "functorch_lite", "xla")


def entry_key(module_text, environment):
    """The entry name for a module compiled in `environment` (versions, device)."""
    digest = hashlib.sha256(environment.encode())
    digest.update(module_text.encode())
    return digest.hexdigest()


def cacheable(module_text):
    return "callback" not in module_text


def load(directory, key):
    """The serialised executable stored under `key`, or None."""
    if not directory:
        return None
    path = os.path.join(directory, key)
    try:
        with open(path, "rb") as f:
            data = f.read()
        os.utime(path)  # recently used
    except OSError:
        stats["misses"] += 1
        return None
    stats["hits"] += 1
    return data


def forget(directory, key):
    """Remove an entry that could not be loaded (it is written again after compiling)."""
    stats["errors"] += 1
    _log.warning("compilation cache entry %s could not be loaded; compiling again", key)
    try:
        os.remove(os.path.join(directory, key))
    except OSError:
        pass


def store(directory, key, data, max_size):
    """Write an entry atomically, then trim the directory to `max_size` bytes."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)  # private to this user: loading an entry runs its code
        os.replace(tmp, os.path.join(directory, key))
        stats["writes"] += 1
        if max_size is not None and max_size >= 0:
            _trim(directory, max_size)
    except OSError as e:  # a read-only or full disk: run without the cache
        _log.warning("cannot write the compilation cache in %s: %s", directory, e)


def _trim(directory, max_size):
    entries = []
    for entry in os.scandir(directory):
        if entry.is_file() and not entry.name.startswith("."):
            try:
                info = entry.stat()
            except OSError:  # removed meanwhile by another process
                continue
            entries.append((info.st_mtime, info.st_size, entry.path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):  # least recently used first
        if total <= max_size:
            break
        try:
            os.remove(path)
        except OSError:
            pass
        total -= size
