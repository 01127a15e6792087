"""PyTorch's data utilities on Tensors: ``Dataset``, ``TensorDataset``, ``Subset``, ``DataLoader``.

``fastnn.utils.data.DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False)``
yields batches collated into Tensors, as ``torch.utils.data.DataLoader`` does. A
``TensorDataset`` is batched by one fancy-indexing per Tensor instead of per-sample
calls. Shuffling draws from fastnn's global generator (:func:`fastnn.manual_seed`),
or from ``generator`` when one is given. (For NumPy arrays and ``fit``, see
:class:`fastnn.data.DataLoader`.)
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Callable

import numpy as np

from .._random import rng_of
from ..autograd.ops_shape import stack
from ..autograd.tensor import Tensor, _wrap

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset",
           "default_collate", "default_convert", "random_split"]


class Dataset:
    """An indexable collection of samples: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        """``a + b``: the samples of ``a``, then those of ``b`` (a :class:`ConcatDataset`)."""
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of Tensors that share their first dimension.

    Args:
        *tensors (Tensor or array_like): each of shape :math:`(N, ...)`.

    Example::

        >>> ds = TensorDataset(fn.randn(100, 4), fn.randint(0, 3, (100,)))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors: Any) -> None:
        from ..autograd.creation import as_tensor
        ts = tuple(t if isinstance(t, Tensor) else as_tensor(t) for t in tensors)
        if not ts:
            raise ValueError("TensorDataset(): expected at least one tensor")
        for i, t in enumerate(ts):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset(): tensor {i} is 0-d (a single value); its "
                                 "samples are the rows along the first dimension")
        n = ts[0].shape[0]
        for i, t in enumerate(ts):
            if t.shape[0] != n:
                raise ValueError(f"TensorDataset(): Size mismatch between tensors: tensor 0 has "
                                 f"{n} rows, tensor {i} has shape {tuple(t.shape)}")
        self.tensors = ts

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after another: index ``i`` reads the dataset it falls in.

    Args:
        datasets (iterable of Dataset): each with ``__len__`` and ``__getitem__``.
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset(): datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("ConcatDataset: absolute value of index should not exceed "
                                 "dataset length")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset: Any, lengths: Sequence[Any], generator: Any = None) -> list[Subset]:
    """Splits ``dataset`` into disjoint random subsets of the given lengths (or fractions),
    drawing the order from ``generator`` (a :class:`fastnn.Generator`, as
    ``torch.Generator().manual_seed(42)`` in PyTorch's docs; default: the global state)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        for i, f in enumerate(lengths):
            if not 0.0 <= f <= 1.0:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _generator(generator).permutation(n)
    out, start = [], 0
    for s in sizes:
        out.append(Subset(dataset, perm[start:start + s].tolist()))
        start += s
    return out


def _generator(generator: Any) -> np.random.Generator:
    return rng_of(generator, "generator")


def default_collate(batch: list[Any]) -> Any:
    """Stacks a list of samples into a batch: Tensors, arrays and numbers become Tensors;
    sequences (tuples and lists give lists, named tuples and other sequence types keep
    their type where they can) and mappings are collated field by field, strings come as a
    list; anything else is a ``TypeError``, as in PyTorch."""
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray)):
        _check_equal_shapes(batch)
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, np.ndarray):
        return _tensor(np.stack(batch))
    if isinstance(first, (bool, int, float, np.number, np.bool_)):
        return _tensor(np.asarray(batch))
    if isinstance(first, Mapping):  # a dict, or any mapping: its type kept where it can be
        collated = {k: default_collate([b[k] for b in batch]) for k in first}
        if type(first) is dict:
            return collated
        try:
            return type(first)(collated)
        except TypeError:
            return collated
    if isinstance(first, (str, bytes)):
        return batch  # a list of the strings, as PyTorch
    if isinstance(first, Sequence):  # tuples, lists, ranges, deques, ...
        if any(len(sample) != len(first) for sample in batch):  # zip would cut silently
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(f)) for f in zip(*batch)]
        if isinstance(first, tuple):  # a named tuple stays one; other tuples give lists
            return type(first)(*fields) if hasattr(first, "_fields") else fields
        if type(first) is list:
            return fields
        try:  # another sequence type, kept where it can be built from a list (PyTorch)
            return type(first)(fields)
        except TypeError:
            return fields
    # PyTorch's error: passing the samples through left the failure to a later line
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first)}")


def default_convert(data: Any) -> Any:
    """One sample as ``DataLoader(batch_size=None)`` yields it (PyTorch's
    ``default_convert``): NumPy arrays and scalars become Tensors, tuples lists, and dicts,
    named tuples and lists are converted field by field; Python numbers and anything else
    are left as they are."""
    if isinstance(data, (np.ndarray, np.number, np.bool_)):
        if isinstance(data, np.ndarray) and data.dtype.kind in "SUOV":  # strings, objects
            return data
        return _tensor(np.asarray(data))
    if isinstance(data, dict):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:  # a dict type that takes other arguments (defaultdict): a dict
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple keeps its type
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


def _check_equal_shapes(batch: list[Any]) -> None:
    """Samples of different shapes cannot be stacked: PyTorch's RuntimeError, naming both
    (NumPy's "all input arrays must have the same shape" named neither)."""
    shape = tuple(np.shape(batch[0]))
    for i, sample in enumerate(batch):
        if tuple(np.shape(sample)) != shape:
            raise RuntimeError(
                f"default_collate(): stack expects each sample to be of equal size, but got "
                f"{list(shape)} at entry 0 and {list(np.shape(sample))} at entry {i} (pad "
                "the samples, or pass a collate_fn that batches them)")


def _tensor(arr: np.ndarray) -> Tensor:
    from ..autograd.dtypes import convert
    return _wrap(convert(arr, None, "default_collate()", copy=False))


# PyTorch's other DataLoader options, accepted and without effect here (single process).
_ACCEPTED_OPTIONS = {"prefetch_factor", "persistent_workers", "multiprocessing_context",
                     "pin_memory_device", "in_order"}


class DataLoader:
    """Iterates over ``dataset`` in mini-batches of Tensors (PyTorch's ``DataLoader``).

    Args:
        dataset (Dataset): anything with ``__getitem__`` and ``__len__``.
        batch_size (int or None): samples per batch. ``None`` yields single samples,
            each through ``collate_fn`` (default :func:`default_convert`: NumPy arrays
            become Tensors). Default: ``1``.
        shuffle (bool): reshuffle the order every epoch. Default: ``False``.
        drop_last (bool): drop the last incomplete batch. Default: ``False``.
        sampler (iterable of int, optional): the order of the samples (not with
            ``shuffle``).
        batch_sampler (iterable of lists of int, optional): the indices of each batch
            (not with ``batch_size``, ``shuffle``, ``sampler`` or ``drop_last``).
        collate_fn (callable, optional): merges a list of samples into a batch.
            Default: :func:`default_collate`.
        generator (fastnn.Generator, numpy.random.Generator or int, optional): the
            shuffling source. Default: fastnn's global generator.
        num_workers, pin_memory: accepted for compatibility; loading runs in the
            calling thread.

    Example::

        >>> loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
        >>> for xb, yb in loader:
        ...     loss = loss_fn(model(xb), yb)
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 generator: Any = None, **kwargs: Any) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, (int, np.integer)) or
                                       batch_size < 1):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        unknown = set(kwargs) - _ACCEPTED_OPTIONS
        if unknown:
            raise TypeError(f"DataLoader(): unexpected keyword argument {sorted(unknown)[0]!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        self.batch_sampler = batch_sampler
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self._seeded: tuple[int, np.random.Generator] | None = None  # _shuffle_source
        self.num_workers = num_workers

    def _order(self) -> np.ndarray | list[int]:
        n = len(self.dataset)
        if self.sampler is not None:
            return list(self.sampler)
        if self.shuffle:
            return self._shuffle_source().permutation(n)
        return np.arange(n)

    def _shuffle_source(self) -> np.random.Generator:
        """The generator the epochs' orders come from. An int seed becomes a generator
        once (again only when ``generator`` is set to another seed), so that each epoch
        draws a new order from it, as from a Generator."""
        seed = self.generator
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            return _generator(seed)
        if self._seeded is None or self._seeded[0] != seed:
            self._seeded = (seed, _generator(seed))
        return self._seeded[1]

    def __iter__(self) -> Iterator[Any]:
        collate = self.collate_fn or default_collate
        if self.batch_sampler is not None:
            for idx in self.batch_sampler:
                yield collate([self.dataset[int(i)] for i in idx])
            return
        order = self._order()
        if self.batch_size is None:  # no batching: each sample through collate_fn alone
            convert = self.collate_fn or default_convert
            for i in order:
                yield convert(self.dataset[int(i)])
            return
        bs = self.batch_size
        n = len(order)
        stop = n - n % bs if self.drop_last else n
        # A TensorDataset (not a subclass with its own __getitem__) is gathered at once;
        # a Tensor that requires grad is indexed on the graph, as torch's stack keeps it.
        fast = (type(self.dataset).__getitem__ is TensorDataset.__getitem__
                and self.collate_fn is None)
        for start in range(0, stop, bs):
            idx = np.asarray(order[start:start + bs], dtype=np.int64)
            if fast:
                yield [t[_wrap(idx)] if t.requires_grad else _wrap(t._data[idx])
                       for t in self.dataset.tensors]
            else:
                yield collate([self.dataset[int(i)] for i in idx])

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
