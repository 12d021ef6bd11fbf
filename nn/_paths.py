"""Parameter trees by path: "conv1/kernel"-style names, counts, and masks for freezing
parts of a model with optax."""
import numpy as np
from jax import tree_util


def key_name(key):
    """The name of one pytree path entry (dict key, sequence index, attribute)."""
    for attr in ("key", "idx", "name"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def path_string(path):
    """'a/b/0' for a jax.tree_util key path."""
    return "/".join(key_name(k) for k in path)


def tree_paths(tree):
    """[(path string, leaf)] for every leaf, in tree order."""
    return [(path_string(p), leaf)
            for p, leaf in tree_util.tree_flatten_with_path(tree)[0]]


def count_params(tree):
    """The number of scalars in all leaves of a tree (parameters or state)."""
    return int(sum(int(np.prod(np.shape(leaf), dtype=np.int64))
                   for leaf in tree_util.tree_leaves(tree)))


def count_bytes(tree):
    """The number of bytes of all leaves of a tree."""
    return int(sum(int(np.prod(np.shape(leaf), dtype=np.int64)) * np.dtype(leaf.dtype).itemsize
                   for leaf in tree_util.tree_leaves(tree)))


def path_mask(tree, predicate):
    """A tree of bools shaped like `tree`: `predicate(path)` for every leaf, with paths
    like "conv1/kernel". Use with `optax.masked` (True: the inner transformation
    applies) or to select leaves.

    >>> import nn
    >>> nn.path_mask({"conv": {"kernel": 1}, "head": {"kernel": 2}},
    ...              lambda p: p.startswith("head/"))
    {'conv': {'kernel': False}, 'head': {'kernel': True}}
    """
    return tree_util.tree_map_with_path(lambda p, _: bool(predicate(path_string(p))), tree)


def path_labels(tree, label_fn):
    """A tree of labels `label_fn(path)` for `optax.multi_transform`."""
    return tree_util.tree_map_with_path(lambda p, _: label_fn(path_string(p)), tree)


def freeze(optimizer, params, frozen):
    """`optimizer` for the leaves where `frozen(path)` is False; zero updates for the
    others (optax.multi_transform with optax.set_to_zero).

    >>> import optax, nn
    >>> opt = nn.freeze(optax.sgd(0.1), {"body": {"w": 1.0}, "head": {"w": 1.0}},
    ...                 lambda path: path.startswith("body/"))
    """
    import optax
    labels = path_labels(params, lambda p: "frozen" if frozen(p) else "trainable")
    return optax.multi_transform({"trainable": optimizer, "frozen": optax.set_to_zero()},
                                 labels)
