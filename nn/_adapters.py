"""What `fit`, `evaluate` and `predict` accept as data, turned into batches.

- Arrays: `(x, y)` or `(x, y, sample_weight)` where `x` and `y` are arrays, tuples or
  dicts of arrays (for `predict`: `x` alone), batched by `Batches` and reshuffled each
  epoch.
- A re-iterable (a `Batches`, a PyTorch `DataLoader`, a `tf.data.Dataset`, a grain
  loader, a list of batches): iterated afresh each epoch.
- A zero-argument function returning an iterator (a generator function): called each
  epoch.
- An iterator (a generator object): it can be iterated once, so with more than one
  epoch it needs `steps_per_epoch` (the epochs then share one stream of batches) and
  is refused otherwise.

Elements of iterables follow Keras: `(x, y)` or `(x, y, sample_weight)` tuples (a
multi-input `x` is itself a tuple or dict). With `steps_per_epoch`, epochs draw that
many batches from one stream that restarts the data (a new pass) when it ends.
"""
import collections.abc
import itertools

import numpy as np
from jax import tree_util

import jax
import functorch_lite as fl
from ._data import Batches, check_batch_size


def is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and len(getattr(x, "shape")) >= 1


def _is_array_tree(tree):
    leaves = tree_util.tree_leaves(tree)
    return bool(leaves) and all(is_array(leaf) for leaf in leaves)


def host_leaf(x):
    """Device arrays stay; anything else (NumPy, torch, tf tensors) becomes NumPy."""
    return x if isinstance(x, jax.Array) else np.asarray(x)


def leading_size(tree):
    return int(tree_util.tree_leaves(tree)[0].shape[0])


def unpack(element, role, where):
    """(x, y, sample_weight) of one element (Keras' convention)."""
    if isinstance(element, dict):
        raise TypeError(f"{where} yielded a dict with keys {sorted(element)}; yield "
                        f"(x, y) or (x, y, sample_weight) tuples, e.g. "
                        f"(batch['image'], batch['label'])")
    if isinstance(element, (tuple, list)) and 1 <= len(element) <= 3:
        x, y, weight = (*element, None, None)[:3]
    elif role == "predict":
        x, y, weight = element, None, None
    else:
        raise TypeError(f"{where} yielded a {type(element).__name__}; {role} needs "
                        f"(x, y) or (x, y, sample_weight) tuples")
    if y is None and role != "predict":
        raise TypeError(f"{where} yielded no targets; {role} needs (x, y) tuples")
    convert = lambda tree: None if tree is None else tree_util.tree_map(host_leaf, tree)
    return convert(x), convert(y), convert(weight)


def split_arrays(data, fraction):
    """(training, validation) array data: the last `fraction` of the examples (before
    shuffling, as Keras) is held out."""
    if not (isinstance(data, (tuple, list)) and 2 <= len(data) <= 3
            and all(part is None or _is_array_tree(part) for part in data)):
        raise ValueError("validation_split needs array data (x, y); for other data pass "
                         "validation_data")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must lie in (0, 1), got {fraction}")
    n = leading_size(data[0])
    cut = n - int(round(n * fraction))
    if cut <= 0 or cut >= n:
        raise ValueError(f"validation_split={fraction} of {n} examples leaves an empty "
                         f"training or validation set")
    take = lambda part, s: None if part is None else tree_util.tree_map(lambda a: a[s], part)
    return (tuple(take(p, slice(0, cut)) for p in data),
            tuple(take(p, slice(cut, None)) for p in data))


class Source:
    """One kind of data: `pass_iterator(index, start)` iterates the elements of pass
    `index` from element `start`; `pass_length` is the number of batches per pass
    when known."""
    one_shot = False
    pass_length = None

    def __init__(self, data, role, where):
        self.data, self.role, self.where = data, role, where

    def pass_iterator(self, index, start=0):
        return itertools.islice(self._fresh(index), start, None)


class ArraySource(Source):
    def __init__(self, data, role, where, batch_size, shuffle_key, sample_weight):
        super().__init__(data, role, where)
        if role == "predict":
            x, y, weight = data, None, None
        else:
            x, y, weight = (*data, None)[:3]
            if sample_weight is not None:
                if weight is not None:
                    raise ValueError("sample_weight given twice: in the data tuple and "
                                     "as sample_weight=")
                weight = sample_weight
        self.arrays = (x, y, weight)
        self.size = leading_size(x)
        if self.size == 0 and role != "predict":
            raise ValueError(f"{where} is empty (0 examples): {role} needs at least one")
        self.batch_size = batch_size
        self.shuffle_key = shuffle_key
        self.pass_length = -(-self.size // batch_size)

    def pass_iterator(self, index, start=0):
        key = None if self.shuffle_key is None else fl.random.fold_in(self.shuffle_key, index)
        if self.size == 0:
            return iter(())
        return Batches(self.arrays, self.batch_size, key=key).iterate(start)


class IterableSource(Source):
    def _fresh(self, index):
        return iter(self.data)


class FunctionSource(Source):
    def _fresh(self, index):
        iterator = self.data()
        if not isinstance(iterator, collections.abc.Iterable):
            raise TypeError(f"{self.where} is a function, so it must return an iterator "
                            f"of batches; it returned {type(iterator).__name__}")
        return iter(iterator)


class IteratorSource(Source):
    one_shot = True

    def _fresh(self, index):
        if index > 0:
            raise ValueError(
                f"{self.where} is a one-shot iterator (e.g. a generator object) and was "
                f"exhausted after one pass. Pass a function that returns a fresh iterator "
                f"(e.g. `lambda: make_batches()`), a re-iterable (a list, nn.batches, a "
                f"DataLoader), or an endless iterator with steps_per_epoch")
        return self.data


def make_source(data, role, *, where, batch_size=None, shuffle_key=None,
                sample_weight=None):
    """The `Source` for `data` (see the module docstring)."""
    if batch_size is not None:
        batch_size = check_batch_size(batch_size)
    arrays = _is_array_tree(data) if role == "predict" else (
        isinstance(data, (tuple, list)) and 2 <= len(data) <= 3
        and all(part is None or _is_array_tree(part) for part in data[1:])
        and _is_array_tree(data[0]))
    if arrays:
        return ArraySource(data, role, where, 32 if batch_size is None else batch_size,
                           shuffle_key, sample_weight)
    if sample_weight is not None:
        raise ValueError("sample_weight= goes with array data; a data source yields "
                         "(x, y, sample_weight) tuples instead")
    if isinstance(data, dict):
        raise TypeError(f"{where} is a dict; pass (x, y) where x and y may be dicts of "
                        f"arrays (multi-input / multi-output models)")
    if isinstance(data, collections.abc.Iterator):
        return IteratorSource(data, role, where)
    if callable(data):
        return FunctionSource(data, role, where)
    if isinstance(data, collections.abc.Iterable) and not isinstance(data, (str, bytes)):
        return IterableSource(data, role, where)
    raise TypeError(f"{where} must be arrays ((x, y) for fit and evaluate, x for "
                    f"predict), an iterable of batches or a function returning one; got "
                    f"{type(data).__name__}")


_END = object()


class Feeder:
    """The batches of each epoch from a `Source`: a whole pass per epoch, or with
    `steps` a stream of passes cut into `steps` batches per epoch."""

    def __init__(self, source, steps=None, what="steps_per_epoch"):
        if steps is not None:
            steps = check_batch_size(steps, what)
        self.source, self.steps = source, steps
        self.position = 0     # batches drawn from the stream so far
        self._pass_index = 0  # the pass the stream is in
        self._pass_drawn = 0  # batches drawn from that pass
        self._iterator = None
        self._peeked = []
        self._one_shot_used = False

    def epoch_steps(self):
        """The number of batches of an epoch, when known."""
        return self.steps or self.source.pass_length

    def peek(self):
        """The first element of the data (a one-shot iterator keeps it for later)."""
        if not self.source.one_shot:
            element = next(self.source.pass_iterator(0), _END)
        elif self._peeked:
            return self._peeked[0]
        else:
            self._iterator = self.source.pass_iterator(0)
            element = next(self._iterator, _END)
            self._peeked = [] if element is _END else [element]
        if element is _END:
            raise ValueError(f"{self.source.where} yielded no batches")
        return element

    def epoch(self, epoch, start=0):
        """The elements of `epoch` after its first `start` batches (done before a
        resume; a stream must then have been moved there with `seek`)."""
        if self.steps is not None:
            return (self._draw() for _ in range(self.steps - start))
        if not self.source.one_shot:
            return self.source.pass_iterator(epoch, start)
        if self._one_shot_used:
            return self.source.pass_iterator(1)  # raises: exhausted
        self._one_shot_used = True
        if self._iterator is None:
            self._iterator = self.source.pass_iterator(0)
        peeked, self._peeked = self._peeked, []
        return itertools.islice(itertools.chain(peeked, self._iterator), start, None)

    def seek(self, position):
        """Move the stream to `position` batches from its beginning (resuming)."""
        length = self.source.pass_length
        if length:
            self._pass_index, self._pass_drawn = divmod(position, length)
            self._iterator = self.source.pass_iterator(self._pass_index, self._pass_drawn)
            self.position = position
            return
        self.position, self._pass_index, self._pass_drawn, self._iterator = 0, 0, 0, None
        for _ in range(position):
            self._draw()

    def _draw(self):
        while True:
            if self._iterator is None:
                self._iterator = self.source.pass_iterator(self._pass_index)
                self._pass_drawn = 0
            element = self._peeked.pop() if self._peeked else next(self._iterator, _END)
            if element is not _END:
                self.position += 1
                self._pass_drawn += 1
                return element
            if self._pass_drawn == 0:
                raise ValueError(f"{self.source.where} yielded no batches")
            if self.source.one_shot:
                raise ValueError(
                    f"{self.source.where} ran out after {self.position} batches: it is a "
                    f"one-shot iterator, so steps_per_epoch={self.steps} times the "
                    f"number of epochs must not exceed what it yields; pass a function "
                    f"returning a fresh iterator, or an endless one")
            self._pass_index += 1
            self._iterator = None
