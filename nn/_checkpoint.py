"""Save and load pytrees of arrays without pickle.

A checkpoint is an .npz archive: one entry per leaf ("0", "1", ...) and a JSON manifest
("__manifest__") listing each leaf's path, shape and dtype. A typed PRNG key array is
stored as its uint32 key data with its key dtype ("key<fry>") in the manifest. Writes are atomic (a
temporary file in the same directory, then `os.replace`). Loading never unpickles
(`allow_pickle=False`) and checks every leaf against the expected tree."""
import json
import os
import tempfile
import zipfile

import numpy as np
from jax import tree_util

import functorch_lite as fl
from ._paths import key_name, path_string

FORMAT = "functorch_lite.nn.checkpoint/1"
_MANIFEST = "__manifest__"


class CheckpointError(ValueError):
    """A checkpoint that is missing entries, does not match, or cannot be read."""


def _dtype_name(dtype):
    return np.dtype(dtype).name


def _storable(array):
    """NumPy cannot store bfloat16/float8 natively: keep their bits as unsigned ints."""
    if array.dtype.kind == "V" or array.dtype.name.startswith(("bfloat16", "float8")):
        return array.view(f"u{array.dtype.itemsize}")
    return array


def _is_key_array(leaf):
    return fl.dtypes.issubdtype(getattr(leaf, "dtype", np.float32), fl.dtypes.prng_key)


def _restore(array, dtype_name):
    if array.dtype.name == dtype_name:
        return array
    if dtype_name.startswith("key<"):
        return fl.random.wrap_key_data(array)
    import ml_dtypes  # noqa: F401  (registers bfloat16 & co. with NumPy)
    return array.view(np.dtype(getattr(ml_dtypes, dtype_name, dtype_name)))


def _key_entry(key):
    if hasattr(key, "idx"):
        return ["seq", int(key.idx)]
    return ["key", key_name(key)]


def save(path, tree):
    """Write the arrays of `tree` to `path` (an .npz archive, written atomically).

    >>> import os, tempfile, numpy as np, nn
    >>> p = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> nn.save(p, {"dense": {"kernel": np.ones((2, 3), np.float32)}})
    >>> nn.load(p)["dense"]["kernel"].shape
    (2, 3)
    """
    path = os.fspath(path)
    leaves_with_paths, _ = tree_util.tree_flatten_with_path(tree)
    arrays, entries = {}, []
    for i, (key_path, leaf) in enumerate(leaves_with_paths):
        if _is_key_array(leaf):
            array, shape, dtype = np.asarray(fl.random.key_data(leaf)), leaf.shape, str(leaf.dtype)
        else:
            array = np.asarray(leaf)
            shape, dtype = array.shape, _dtype_name(array.dtype)
        arrays[str(i)] = _storable(array)
        entries.append({"path": path_string(key_path),
                        "keys": [_key_entry(k) for k in key_path],
                        "shape": list(shape), "dtype": dtype})
    manifest = json.dumps({"format": FORMAT, "leaves": entries})
    arrays[_MANIFEST] = np.frombuffer(manifest.encode(), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read(path):
    """(manifest entries, {entry name: array}) of a checkpoint file."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        manifest = json.loads(arrays.pop(_MANIFEST).tobytes().decode())
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"checkpoint {path!r} cannot be read (truncated or not a "
                              f"checkpoint): {type(e).__name__}: {e}") from None
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path!r} has format {manifest.get('format')!r},"
                              f" expected {FORMAT!r}")
    leaves = manifest["leaves"]
    for i, entry in enumerate(leaves):
        array = arrays.get(str(i))
        if array is None:
            raise CheckpointError(f"checkpoint {path!r} lacks the array of "
                                  f"'{entry['path']}'")
        arrays[str(i)] = _restore(array, entry["dtype"])
    return leaves, arrays


def load(path, like=None, *, strict=True):
    """Read a checkpoint written by `save`.

    With `like` (a tree of arrays or Specs, e.g. freshly initialised params) the result
    has `like`'s structure and every leaf is checked: a missing path, or a shape or
    dtype differing from `like`'s, raises `CheckpointError` naming the path, the
    expected and the found value; with `strict`, entries that `like` lacks are errors
    too. Without `like`, nested dicts (and lists) are rebuilt from the saved paths.
    Leaves come back as device arrays.
    """
    path = os.fspath(path)
    leaves, arrays = _read(path)
    if like is None:
        return _rebuild(leaves, arrays)
    by_path = {entry["path"]: (entry, arrays[str(i)]) for i, entry in enumerate(leaves)}
    like_leaves, treedef = tree_util.tree_flatten_with_path(like)
    values, problems, seen = [], [], set()
    for key_path, expected in like_leaves:
        name = path_string(key_path)
        seen.add(name)
        if name not in by_path:
            problems.append(f"'{name}' is missing (expected shape "
                            f"{tuple(np.shape(expected))})")
            continue
        _, array = by_path[name]
        want_shape = tuple(np.shape(expected))
        want_dtype = getattr(expected, "dtype", None) or np.asarray(expected).dtype
        want_dtype = want_dtype if _is_key_array(expected) else np.dtype(want_dtype)
        if array.shape != want_shape:
            problems.append(f"'{name}' has shape {array.shape}, expected {want_shape}")
        elif array.dtype != want_dtype:
            problems.append(f"'{name}' has dtype {array.dtype}, expected {want_dtype}")
        values.append(array)
    extra = [p for p in by_path if p not in seen]
    if strict and extra:
        problems.append(f"unexpected entries {extra[:10]}{' ...' if len(extra) > 10 else ''}")
    if problems:
        raise CheckpointError(f"checkpoint {path!r} does not match the expected tree: "
                              + "; ".join(problems))
    return tree_util.tree_unflatten(tree_util.tree_structure(like),
                                    [fl.device_put(v) for v in values])


def _rebuild(leaves, arrays):
    if len(leaves) == 1 and not leaves[0]["keys"]:
        return fl.device_put(arrays["0"])
    root = {}
    for i, entry in enumerate(leaves):
        node = root
        keys = entry["keys"]
        for (_, k), _next in zip(keys[:-1], keys[1:]):
            node = node.setdefault(k, {})
        node[keys[-1][1]] = fl.device_put(arrays[str(i)])
    return _lists(root, leaves)


def _lists(root, leaves):
    """Turn dicts whose keys came from sequence indices back into lists."""
    seq_prefixes = set()
    for entry in leaves:
        for depth, (kind, _) in enumerate(entry["keys"]):
            if kind == "seq":
                seq_prefixes.add(tuple(k for _, k in entry["keys"][:depth]))

    def convert(node, prefix):
        if not isinstance(node, dict):
            return node
        children = {k: convert(v, prefix + (k,)) for k, v in node.items()}
        if prefix in seq_prefixes:
            return [children[i] for i in sorted(children)]
        return children
    return convert(root, ())
