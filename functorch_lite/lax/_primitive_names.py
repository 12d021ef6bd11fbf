"""Every primitive of `functorch_lite.lax` under its JAX name `<primitive name>_p`
(hyphens become underscores: `scatter-add` is `scatter_add_p`)."""
import sys

from .._core import Primitive

# primitives of the linear algebra family are exported by `lax.linalg`, as in JAX
_OWN_NAMESPACE = ("functorch_lite.lax._linalg",)


def export_primitives(namespace):
    """Add `<name>_p` to `namespace` for each primitive defined by a lax module."""
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("functorch_lite.lax._") or \
                module_name.startswith(_OWN_NAMESPACE):
            continue
        for value in vars(module).values():
            if isinstance(value, Primitive):
                namespace.setdefault(f"{value.name.replace('-', '_')}_p", value)
