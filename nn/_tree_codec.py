"""A pytree as JSON: the skeleton a checkpoint stores next to its tensors.

`encode(tree)` walks any pytree and returns `(skeleton, tensors)`: the skeleton is a
JSON-able description of every container (dicts with their typed keys, lists, tuples,
NamedTuples, other registered nodes), every small Python value (numbers, strings,
booleans, None) and a reference to a named tensor for every array; `tensors` maps those
names to NumPy arrays. Tensor names are the leaves' paths, "conv1/kernel", with "%" and
"/" inside a key written "%25" and "%2F", so that the key "a/b" and the nested keys
"a" -> "b" never share a name. Any other leaf (a set, an arbitrary object) is refused:
a checkpoint never pickles.

`decode(skeleton, tensor)` rebuilds plain containers (dicts, lists, tuples; NamedTuples
and other nodes as dicts of their fields) and `stored_leaves(skeleton)` lists the
leaves by path, which `path_of` computes identically for the leaves of a `like` tree.
"""
import numpy as np
from jax import tree_util
import jax

import functorch_lite as fl

_VALUE_TYPES = (bool, int, float, str)


def escape(piece):
    """A key as one path component: '%' and '/' are percent-encoded."""
    return piece.replace("%", "%25").replace("/", "%2F")


def key_text(key):
    """The readable text of a dict key (str as is, other keys by repr)."""
    return key if isinstance(key, str) else repr(key)


def _piece(entry):
    """The path component of one jax.tree_util key-path entry."""
    if isinstance(entry, tree_util.DictKey):
        return key_text(entry.key)
    if isinstance(entry, tree_util.SequenceKey):
        return str(entry.idx)
    if isinstance(entry, tree_util.GetAttrKey):
        return entry.name
    return str(getattr(entry, "key", entry))


def path_of(key_path):
    """The unambiguous path string of a jax.tree_util key path, e.g. 'conv1/kernel'."""
    return "/".join(escape(_piece(e)) for e in key_path)


def is_array(x):
    return isinstance(x, (np.ndarray, np.generic, jax.Array))


def _encode_key(key, where):
    """A dict key as JSON: strings as themselves, other keys as [type, value]."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return ["bool", key]
    if isinstance(key, int):
        return ["int", key]
    if isinstance(key, float):
        return ["float", key]
    if key is None:
        return ["none", None]
    if isinstance(key, tuple):
        return ["tuple", [_encode_key(k, where) for k in key]]
    raise TypeError(f"the dict at '{where or '<root>'}' has a key {key!r} of type "
                    f"{type(key).__name__}: checkpoints store keys that are strings, "
                    f"numbers, booleans, None or tuples of them")


def _decode_key(encoded):
    if isinstance(encoded, str):
        return encoded
    kind, value = encoded
    if kind == "tuple":
        return tuple(_decode_key(k) for k in value)
    return None if kind == "none" else value


def _leaf_error(node, where):
    return TypeError(
        f"cannot store the leaf at '{where or '<root>'}' of type {type(node).__name__}: "
        f"checkpoint leaves must be arrays, numbers, strings, booleans or None (nothing "
        f"is pickled); convert it (e.g. a set to a sorted list) or leave it out")


def encode(tree):
    """`(skeleton, {tensor name: np.ndarray})` for `tree` (see the module docstring)."""
    tensors = {}

    def walk(node, path):
        if is_array(node):
            name = path or "<root>"
            if name in tensors or name == "__metadata__":
                raise ValueError(f"two leaves share the checkpoint name {name!r}; rename "
                                 f"one of their keys")
            if fl.dtypes.issubdtype(node.dtype, fl.dtypes.prng_key):  # its uint32 data
                tensors[name] = np.asarray(fl.random.key_data(node))
                return {"tensor": name, "key": str(node.dtype)}
            tensors[name] = np.asarray(node)
            return {"tensor": name}
        if node is None or isinstance(node, _VALUE_TYPES):
            return {"value": node}
        if isinstance(node, complex):
            return {"complex": [node.real, node.imag]}
        children, treedef = tree_util.tree_flatten_with_path(
            node, is_leaf=lambda child: child is not node)
        if treedef.num_nodes == 1 and treedef.num_leaves == 1:
            raise _leaf_error(node, path)  # not a pytree container

        def sub(entry, child):
            piece = escape(_piece(entry))
            return walk(child, f"{path}/{piece}" if path else piece)

        items = [(entry, child) for (entry,), child in children]
        if isinstance(node, dict):
            return {"dict": [[_encode_key(e.key, path), sub(e, c)] for e, c in items]}
        if isinstance(node, list):
            return {"list": [sub(e, c) for e, c in items]}
        if isinstance(node, tuple) and not hasattr(node, "_fields"):
            return {"tuple": [sub(e, c) for e, c in items]}
        return {"node": type(node).__qualname__,
                "fields": [[_piece(e), sub(e, c)] for e, c in items]}

    return walk(tree, ""), tensors


def decode(skeleton, tensor):
    """Plain containers from `skeleton`; `tensor(name)` gives each stored array."""
    if "tensor" in skeleton:
        value = tensor(skeleton["tensor"])
        return fl.random.wrap_key_data(value) if "key" in skeleton else value
    if "value" in skeleton:
        return skeleton["value"]
    if "complex" in skeleton:
        return complex(*skeleton["complex"])
    if "dict" in skeleton:
        return {_decode_key(k): decode(c, tensor) for k, c in skeleton["dict"]}
    if "list" in skeleton:
        return [decode(c, tensor) for c in skeleton["list"]]
    if "tuple" in skeleton:
        return tuple(decode(c, tensor) for c in skeleton["tuple"])
    return {name: decode(c, tensor) for name, c in skeleton["fields"]}


def stored_leaves(skeleton, path=""):
    """{path: leaf skeleton} for every leaf (tensor or value) of `skeleton`."""
    if not any(k in skeleton for k in ("dict", "list", "tuple", "fields")):
        return {path: skeleton}
    if "dict" in skeleton:
        items = [(key_text(_decode_key(k)), c) for k, c in skeleton["dict"]]
    elif "fields" in skeleton:
        items = skeleton["fields"]
    else:
        items = [(str(i), c) for i, c in enumerate(skeleton.get("list",
                                                                 skeleton.get("tuple")))]
    found = {}
    for piece, child in items:
        piece = escape(piece)
        found.update(stored_leaves(child, f"{path}/{piece}" if path else piece))
    return found
