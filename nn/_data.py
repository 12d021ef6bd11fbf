"""Mini-batches over arrays held on the host, shuffled by a PRNG key."""
import numpy as np

import functorch_lite as fl


class Batches:
    """An iterable of mini-batches of `arrays` (one array or a tuple of arrays with the
    same first dimension). With `key`, the order is `random.permutation(key, n)`: the
    same key gives the same batches. `len()` is the number of batches.

    >>> import numpy as np, nn
    >>> [b.tolist() for b in nn.batches(np.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, arrays, batch_size, *, key=None, drop_remainder=False):
        self.single = not isinstance(arrays, (tuple, list))
        arrays = (arrays,) if self.single else tuple(arrays)
        self.arrays = tuple(np.asarray(a) for a in arrays)
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(f"arrays have different lengths {[len(a) for a in self.arrays]}")
        self.n = lengths.pop()
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.batch_size = int(batch_size)
        self.key = key
        self.drop_remainder = drop_remainder

    def __len__(self):
        if self.drop_remainder:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self):
        order = None
        if self.key is not None:
            order = np.asarray(fl.random.permutation(self.key, self.n))
        for i in range(len(self)):
            start, end = i * self.batch_size, min((i + 1) * self.batch_size, self.n)
            index = slice(start, end) if order is None else order[start:end]
            batch = tuple(a[index] for a in self.arrays)
            yield batch[0] if self.single else batch


def batches(arrays, batch_size, *, key=None, drop_remainder=False):
    """Mini-batches of `arrays` (see `Batches`); shuffled when `key` is given."""
    return Batches(arrays, batch_size, key=key, drop_remainder=drop_remainder)
