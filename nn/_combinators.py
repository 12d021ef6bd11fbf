"""Composition: `Sequential` (a chain of named layers) and `Residual` (x + chain(x))."""
from ._elementwise import Lambda
from ._layer import Layer


def _named_layers(kind, layers, named_layers):
    if layers and named_layers:
        raise TypeError(f"{kind} takes either positional layers (named '0', '1', ...) or "
                        f"keyword layers (named by their keywords), not both")
    items = named_layers.items() if named_layers else \
        ((str(i), layer) for i, layer in enumerate(layers))
    result = []
    for name, layer in items:
        if not isinstance(layer, Layer):
            if not callable(layer):
                raise TypeError(f"{kind} entry {name!r} is neither a layer nor a function: "
                                f"{layer!r}")
            layer = Lambda(layer)
        result.append((name, layer))
    return tuple(result)


class _Chain(Layer):
    layers: tuple = ()
    _dataclass_options = {"init": False, "repr": False}

    def __init__(self, *layers, **named_layers):
        object.__setattr__(self, "layers",
                           _named_layers(type(self).__name__, layers, named_layers))
        self.__post_init__()  # dtypes from the policy (keywords here name layers)

    @property
    def names(self):
        """The names of the layers, in order (their keys in the parameter tree)."""
        return tuple(name for name, _ in self.layers)

    def sublayer(self, name):
        for n, layer in self.layers:
            if n == name:
                return layer
        raise KeyError(f"{type(self).__name__} has no layer {name!r} (names: "
                       f"{list(self.names)})")

    def __getitem__(self, name_or_index):
        if isinstance(name_or_index, int):
            return self.layers[name_or_index][1]
        return self.sublayer(name_or_index)

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ", ".join(f"{n}={layer!r}" for n, layer in self.layers)
        return f"{type(self).__name__}({inner})"

    def _chain(self, scope, x):
        for name, _ in self.layers:
            x = scope.child(name)(x)
        return x


class Sequential(_Chain):
    """Apply layers one after the other. Name them with keywords
    (`Sequential(conv1=nn.Conv(32, 3), act=nn.relu, ...)`, parameters under
    `params["conv1"]`) or pass them positionally (names "0", "1", ...). Plain functions
    become `Lambda` layers.
    """

    def forward(self, scope, x):
        return self._chain(scope, x)


class Residual(_Chain):
    """`x + chain(x)` for the given layers (named like `Sequential`'s)."""

    def forward(self, scope, x):
        return x + self._chain(scope, x)
