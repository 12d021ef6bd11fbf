"""Mini-batches over arrays held on the host, shuffled by a PRNG key."""
import numpy as np
from jax import tree_util

import functorch_lite as fl


def check_batch_size(batch_size, what="batch_size"):
    """`batch_size` as an int, or a ValueError naming the problem."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"{what} must be a positive integer, got {batch_size!r}")
    return int(batch_size)


class Batches:
    """An iterable of mini-batches of `arrays`: one array, or any pytree of arrays (a
    tuple, a dict, ...) with the same first dimension; each batch has the same
    structure. With `key`, the order is `random.permutation(key, n)`: the same key
    gives the same batches. `len()` is the number of batches.

    >>> import numpy as np, nn
    >>> [b.tolist() for b in nn.batches(np.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    >>> [sorted(b) for b in nn.batches({"x": np.arange(4), "y": np.arange(4)}, 3)]
    [['x', 'y'], ['x', 'y']]
    """

    def __init__(self, arrays, batch_size, *, key=None, drop_remainder=False):
        leaves, self.treedef = tree_util.tree_flatten(arrays)
        self.arrays = [np.asarray(a) for a in leaves]
        if not self.arrays:
            raise ValueError("Batches needs at least one array")
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            names = [p for p, _ in tree_util.tree_flatten_with_path(arrays)[0]]
            described = ", ".join(f"{tree_util.keystr(p) or 'array'}: "
                                  f"{'a scalar' if n is None else n}"
                                  for p, n in zip(names, lengths))
            raise ValueError(f"arrays have different lengths ({described}); every "
                             f"array needs one row per example")
        self.n = lengths[0]
        self.batch_size = check_batch_size(batch_size)
        self.key = key
        self.drop_remainder = drop_remainder

    def __len__(self):
        if self.drop_remainder:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self):
        return self.iterate()

    def iterate(self, start=0):
        """The batches from batch number `start` on."""
        order = None
        if self.key is not None:
            order = np.asarray(fl.random.permutation(self.key, self.n))
        for i in range(start, len(self)):
            begin, end = i * self.batch_size, min((i + 1) * self.batch_size, self.n)
            index = slice(begin, end) if order is None else order[begin:end]
            yield tree_util.tree_unflatten(self.treedef, [a[index] for a in self.arrays])


def batches(arrays, batch_size, *, key=None, drop_remainder=False):
    """Mini-batches of `arrays` (see `Batches`); shuffled when `key` is given."""
    return Batches(arrays, batch_size, key=key, drop_remainder=drop_remainder)
