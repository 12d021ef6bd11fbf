"""`functorch_lite.tree_util`: JAX's pytree utilities (the same C++ registry, shared
with optax and flax)."""
from jax.tree_util import (tree_map, tree_leaves, tree_flatten, tree_unflatten,
                           tree_structure, tree_reduce, tree_all, register_pytree_node,
                           register_pytree_node_class, register_dataclass, Partial,
                           tree_map_with_path, tree_flatten_with_path, keystr,
                           tree_leaves_with_path, treedef_children, DictKey, GetAttrKey,
                           SequenceKey, all_leaves, PyTreeDef, tree_transpose)

__all__ = [n for n in dir() if not n.startswith("_")]
