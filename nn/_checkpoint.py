"""Save and load pytrees as safetensors files, without pickle.

A checkpoint is a standard `.safetensors` file: one tensor per array leaf, named by its
path ("conv1/kernel"), readable by the `safetensors` library, PyTorch and Hugging Face
tools, memory-mappable, bfloat16 kept as BF16. The file's metadata holds a JSON
manifest: the tree's skeleton (containers, typed keys, small Python values, see
`_tree_codec`) and each tensor's dtype and shape, which loading checks against the
tensor header. Dtypes safetensors lacks (float8, int4, complex128) are stored as their
raw bytes (a uint8 tensor with a trailing axis of the item size) and named in the
manifest.

Writes are atomic: a temporary file `.NAME.PID.RANDOM.nn-tmp` in the same directory
(created with the usual mode, so the umask applies), flushed to disk, then moved into
place with `os.replace`; temporaries left by a killed writer are removed by the next
save to the same path. `.npz` checkpoints of the first format (functorch_lite.nn
checkpoint/1) are still read.
"""
import json
import os
import secrets
import struct
import zipfile

import numpy as np
from jax import tree_util

import functorch_lite as fl
from . import _tree_codec as codec

FORMAT = "functorch_lite.nn.checkpoint/2"
LEGACY_FORMAT = "functorch_lite.nn.checkpoint/1"
_TMP_SUFFIX = ".nn-tmp"
_ZIP_MAGIC = b"PK\x03\x04"

_SAFETENSORS_DTYPES = {
    "bool": "BOOL", "int8": "I8", "uint8": "U8", "int16": "I16", "uint16": "U16",
    "int32": "I32", "uint32": "U32", "int64": "I64", "uint64": "U64",
    "float16": "F16", "bfloat16": "BF16", "float32": "F32", "float64": "F64",
    "complex64": "C64"}


class CheckpointError(ValueError):
    """A checkpoint that is missing entries, does not match, or cannot be read."""


def _dtype(name):
    import ml_dtypes  # registers bfloat16, float8 & co. with NumPy
    return np.dtype(getattr(ml_dtypes, name, None) or name)


# --- writing ------------------------------------------------------------------------

def _tensor_bytes(array):
    """(safetensors dtype code, shape, contiguous little-endian uint8 view, manifest)."""
    name = array.dtype.name
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    flat = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    entry = {"dtype": name, "shape": list(array.shape)}
    if name in _SAFETENSORS_DTYPES:
        return _SAFETENSORS_DTYPES[name], list(array.shape), flat, entry
    entry["stored_as"] = "bytes"
    return "U8", [*array.shape, array.dtype.itemsize], flat, entry


def _encode_file(tree):
    """The safetensors layout of `tree`: (u64 header size + JSON header, [tensor bytes])."""
    skeleton, tensors = codec.encode(tree)
    header, blobs, offset, manifest = {}, [], 0, {}
    for name, array in tensors.items():
        code, shape, data, manifest[name] = _tensor_bytes(array)
        header[name] = {"dtype": code, "shape": shape,
                        "data_offsets": [offset, offset + data.nbytes]}
        blobs.append(data)
        offset += data.nbytes
    header["__metadata__"] = {"format": FORMAT, "manifest": json.dumps(
        {"tree": skeleton, "tensors": manifest}, separators=(",", ":"))}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the tensor data starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text, blobs


def _remove_stale_temporaries(directory, base):
    """Delete temporaries of `base` whose writing process (on this machine) is gone."""
    prefix = f".{base}."
    for name in os.listdir(directory):
        if not (name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
            continue
        pid = name[len(prefix):-len(_TMP_SUFFIX)].split(".")[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            try:
                os.remove(os.path.join(directory, name))
            except FileNotFoundError:
                pass


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def save(path, tree):
    """Write `tree` to `path` as a safetensors file (atomically; see the module doc).

    Leaves may be arrays (any dtype, bfloat16 included), Python numbers, strings,
    booleans and None; containers are dicts (any string, number or tuple keys), lists,
    tuples, NamedTuples and other registered pytree nodes.

    >>> import os, tempfile, numpy as np, nn
    >>> p = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> nn.save(p, {"dense": {"kernel": np.ones((2, 3), np.float32)}, "epoch": 3})
    >>> restored = nn.load(p)
    >>> restored["dense"]["kernel"].shape, restored["epoch"]
    ((2, 3), 3)
    """
    path = os.fspath(path)
    if path.endswith(".npz"):
        raise ValueError(f"nn.save writes safetensors files; name the file "
                         f"'{path[:-4]}.safetensors' (.npz checkpoints are only read)")
    head, blobs = _encode_file(tree)
    directory, base = os.path.split(os.path.abspath(path))
    _remove_stale_temporaries(directory, base)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}"
                                  f"{_TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head)
            for blob in blobs:
                f.write(blob.data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# --- reading ------------------------------------------------------------------------

def _fail(path, what):
    return CheckpointError(f"checkpoint {path!r} {what}")


def _read(path):
    """(skeleton, {tensor name: np.ndarray}) of a checkpoint file of either format."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(_ZIP_MAGIC):
        return _read_npz(path)
    return _read_safetensors(path)


def _read_safetensors(path):
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            names = list(f.keys())
            header = {n: (f.get_slice(n).get_dtype(), f.get_slice(n).get_shape())
                      for n in names}
            arrays = {n: f.get_tensor(n) for n in names}
    except (SafetensorError, OSError, ValueError) as e:
        raise _fail(path, f"is neither a safetensors file nor an .npz checkpoint "
                          f"(wrong magic, truncated or corrupted): {e}") from None
    if "manifest" not in metadata:  # a safetensors file from another tool: flat names
        return {"dict": [[n, {"tensor": n}] for n in names]}, arrays
    if metadata.get("format") != FORMAT:
        raise _fail(path, f"has format {metadata.get('format')!r}, expected {FORMAT!r}")
    try:
        manifest = json.loads(metadata["manifest"])
        skeleton, entries = manifest["tree"], dict(manifest["tensors"])
    except (ValueError, KeyError, TypeError) as e:
        raise _fail(path, f"has a malformed manifest ({type(e).__name__}: {e})") from None
    for name, entry in entries.items():
        if name not in arrays:
            raise _fail(path, f"lacks the tensor '{name}' its manifest lists")
        arrays[name] = _checked_tensor(path, name, entry, header[name], arrays[name])
    return skeleton, arrays


def _checked_tensor(path, name, entry, header, array):
    """The array the manifest describes, after checking it against the tensor header:
    a manifest never reinterprets the stored bits as another dtype or shape."""
    try:
        dtype, shape = _dtype(entry["dtype"]), tuple(entry["shape"])
    except (KeyError, TypeError) as e:
        raise _fail(path, f"has a malformed manifest entry for '{name}': {e}") from None
    code, stored_shape = header[0], tuple(header[1])
    if entry.get("stored_as") == "bytes":
        if dtype.name in _SAFETENSORS_DTYPES or code != "U8" \
                or stored_shape != (*shape, dtype.itemsize):
            raise _fail(path, f"tensor '{name}' ({code} {list(stored_shape)}) does not "
                              f"hold the bytes of {dtype.name} {list(shape)} its manifest "
                              f"claims")
        return array.reshape(-1).view(dtype).reshape(shape)
    if _SAFETENSORS_DTYPES.get(dtype.name) != code or stored_shape != shape:
        raise _fail(path, f"tensor '{name}' is stored as {code} {list(stored_shape)} but "
                          f"its manifest claims {dtype.name} {list(shape)}")
    return array


def _read_npz(path):
    """A checkpoint of format 1: an .npz archive with a JSON "__manifest__" entry."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        manifest = json.loads(arrays.pop("__manifest__").tobytes().decode())
        leaves = manifest["leaves"]
        format_name = manifest.get("format")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            AttributeError, NotImplementedError) as e:
        raise _fail(path, f"cannot be read (truncated or not a checkpoint): "
                          f"{type(e).__name__}: {e}") from None
    if format_name != LEGACY_FORMAT:
        raise _fail(path, f"has format {format_name!r}, expected {LEGACY_FORMAT!r}")
    root, tensors = {}, {}
    for i, entry in enumerate(leaves):
        array = arrays.get(str(i))
        if array is None:
            raise _fail(path, f"lacks the array of '{entry['path']}'")
        dtype = _dtype(entry["dtype"])
        # bfloat16 / float8 were stored as their bits in unsigned ints of the same size
        as_bits = dtype.name.startswith(("bfloat16", "float8")) \
            and array.dtype == np.dtype(f"u{dtype.itemsize}")
        if array.dtype != dtype and not as_bits:
            raise _fail(path, f"entry '{entry['path']}' holds {array.dtype.name} data but "
                              f"its manifest claims {dtype.name}")
        if list(array.shape) != list(entry["shape"]):
            raise _fail(path, f"entry '{entry['path']}' has shape {list(array.shape)} but "
                              f"its manifest claims {entry['shape']}")
        tensors[str(i)] = array.view(dtype)
        node, keys = root, entry["keys"]
        for kind, key in keys[:-1]:
            node = node.setdefault((kind, key), {})
        node[tuple(keys[-1])] = {"tensor": str(i)}
    if len(leaves) == 1 and not leaves[0]["keys"]:
        return {"tensor": "0"}, tensors
    return _legacy_skeleton(root), tensors


def _legacy_skeleton(node):
    if "tensor" in node:
        return node
    if all(kind == "seq" for kind, _ in node):
        return {"list": [_legacy_skeleton(node[k]) for k in sorted(node)]}
    return {"dict": [[key, _legacy_skeleton(child)] for (_, key), child in node.items()]}


def load(path, like=None, *, strict=True):
    """Read a checkpoint written by `save` (or an .npz checkpoint of format 1).

    With `like` (a tree of arrays or Specs, e.g. freshly initialised params) the result
    has `like`'s structure and every leaf is checked: a missing path, or a shape or
    dtype differing from `like`'s, raises `CheckpointError` naming the path, the
    expected and the found value; with `strict`, entries that `like` lacks are errors
    too. Without `like`, dicts, lists and tuples are rebuilt from the file (NamedTuples
    and other nodes as dicts of their fields). Arrays come back as device arrays; every
    unreadable or inconsistent file raises `CheckpointError` (a ValueError).
    """
    path = os.fspath(path)
    skeleton, arrays = _read(path)
    tensor = lambda name: fl.device_put(arrays[name])
    try:
        if like is None:
            return codec.decode(skeleton, tensor)
        stored = codec.stored_leaves(skeleton)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise _fail(path, f"has a malformed tree in its manifest ({type(e).__name__}: "
                          f"{e})") from None
    like_leaves, treedef = tree_util.tree_flatten_with_path(like,
                                                            is_leaf=lambda x: x is None)
    values, problems, seen = [], [], set()
    for key_path, expected in like_leaves:
        name = codec.path_of(key_path)
        seen.add(name)
        if name not in stored:
            problems.append(f"'{name}' is missing (expected {_describe(expected)})")
            continue
        value, problem = _matched(stored[name], expected, arrays, name)
        if problem:
            problems.append(problem)
        values.append(value)
    extra = [p for p in stored if p not in seen]
    if strict and extra:
        problems.append(f"unexpected entries {extra[:10]}{' ...' if len(extra) > 10 else ''}")
    if problems:
        raise _fail(path, "does not match the expected tree: " + "; ".join(problems))
    return tree_util.tree_unflatten(treedef, values)


def _describe(expected):
    if codec.is_array(expected) or hasattr(expected, "shape"):
        return f"shape {tuple(expected.shape)}"
    return f"a {type(expected).__name__}"


def _matched(leaf, expected, arrays, name):
    """(value, problem or None) for one stored leaf against the `like` leaf."""
    expects_array = hasattr(expected, "shape") and hasattr(expected, "dtype")
    if "tensor" not in leaf:
        value = complex(*leaf["complex"]) if "complex" in leaf else leaf.get("value")
        if expects_array:
            return None, f"'{name}' holds {value!r}, expected an array of shape " \
                         f"{tuple(expected.shape)}"
        return value, None
    array = arrays[leaf["tensor"]]
    if not expects_array:
        return None, f"'{name}' holds an array of shape {array.shape}, expected " \
                     f"{expected!r}"
    if fl.dtypes.issubdtype(expected.dtype, fl.dtypes.prng_key):
        if "key" not in leaf:
            return None, f"'{name}' holds a {array.dtype.name} array, expected a " \
                         f"{expected.dtype} key array"
        value = fl.random.wrap_key_data(fl.device_put(array))
        if value.shape != tuple(expected.shape):
            return None, f"'{name}' has shape {value.shape}, expected {tuple(expected.shape)}"
        return value, None
    want_shape, want_dtype = tuple(expected.shape), np.dtype(expected.dtype)
    if array.shape != want_shape:
        return None, f"'{name}' has shape {array.shape}, expected {want_shape}"
    if array.dtype != want_dtype:
        return None, f"'{name}' has dtype {array.dtype.name}, expected {want_dtype.name}"
    return fl.device_put(array), None
