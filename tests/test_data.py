"""fastnn.data: DataLoader batching/shuffling/validation and train_test_split."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastnn as fn
from fastnn.data import DataLoader, train_test_split
from fastnn.utils import data as udata

# ---------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("n", [1, 7, 32, 33, 64, 100])
@pytest.mark.parametrize("batch_size", [1, 5, 32])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batches_cover_data_in_order(n, batch_size, drop_last):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    loader = DataLoader(X, y, batch_size=batch_size, drop_last=drop_last)
    expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected
    batches = list(loader)
    assert len(batches) == expected
    kept = expected * batch_size if drop_last else n
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches] or [X[:0]]), X[:kept])
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches] or [y[:0]]), y[:kept])
    for xb, yb in batches[:-1]:
        assert xb.shape == (batch_size, 3) and yb.shape == (batch_size,)


@pytest.mark.parametrize("shuffle", [False, True])
def test_loader_batches_are_copies_the_caller_can_write(shuffle):
    # unshuffled batches were views: `xb += 1` (in-place augmentation) changed the
    # caller's X and y, labels included; PyTorch's loader gives copies
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10, dtype=np.int64)
    X0, y0 = X.copy(), y.copy()
    loader = DataLoader(X, y, batch_size=4, shuffle=shuffle, seed=0)
    assert loader.X is X  # already float32 C-contiguous: converted without a copy
    for xb, yb in loader:
        assert xb.flags.c_contiguous and xb.flags.writeable
        assert not np.shares_memory(xb, X) and not np.shares_memory(yb, y)
        xb += 1
        yb += 1
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_loader_shuffled_batches_are_contiguous_permutations():
    X = np.arange(50, dtype=np.float32).reshape(25, 2)
    y = np.arange(25)
    loader = DataLoader(X, y, batch_size=4, shuffle=True, seed=3)
    seen = []
    for xb, yb in loader:
        assert xb.dtype == np.float32 and xb.flags.c_contiguous
        assert yb.dtype == np.int64 and yb.flags.c_contiguous
        assert not np.shares_memory(xb, loader.X)
        np.testing.assert_array_equal(xb, X[yb])  # rows and labels stay paired
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(25))
    assert seen != list(range(25))


def test_loader_new_permutation_each_epoch_and_seed_reproducible():
    X = np.arange(40, dtype=np.float32).reshape(40, 1)

    def epochs(loader, k=3):
        return [np.concatenate(list(loader)).ravel().tolist() for _ in range(k)]

    a = epochs(DataLoader(X, batch_size=8, shuffle=True, seed=7))
    b = epochs(DataLoader(X, batch_size=8, shuffle=True, seed=7))
    c = epochs(DataLoader(X, batch_size=8, shuffle=True, seed=8))
    assert a == b
    assert a[0] != a[1] != a[2]
    assert a != c
    # epoch e is gathered by default_rng([seed, e]).permutation(N): distributed.shard's order
    for e, got in enumerate(a):
        assert got == np.random.default_rng([7, e]).permutation(40).tolist()
        assert got == fn.distributed.shard(40, seed=7, epoch=e).tolist()


def test_loader_seed_none_follows_manual_seed():
    X = np.arange(30, dtype=np.float32).reshape(30, 1)

    def epoch():
        return np.concatenate(list(DataLoader(X, batch_size=4, shuffle=True))).ravel().tolist()

    fn.manual_seed(11)
    a = epoch()
    fn.manual_seed(11)
    assert epoch() == a
    fn.manual_seed(12)
    assert epoch() != a


def test_loader_permutation_drawn_when_epoch_starts():
    X = np.arange(30, dtype=np.float32).reshape(30, 1)
    loader = DataLoader(X, batch_size=4, shuffle=True)
    fn.manual_seed(5)
    it = iter(loader)
    fn.manual_seed(99)  # must not affect the epoch already started
    first = np.concatenate(list(it)).ravel().tolist()
    fn.manual_seed(5)
    assert np.concatenate(list(loader)).ravel().tolist() == first


def test_loader_without_y_yields_arrays():
    X = np.ones((5, 2))
    batches = list(DataLoader(X, batch_size=2))
    assert all(isinstance(b, np.ndarray) for b in batches)
    assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]


def test_loader_conversions():
    X64 = np.arange(24, dtype=np.float64).reshape(6, 4)[:, ::2]  # non-contiguous float64
    loader = DataLoader(X64, np.array([0, 1, 2, 0, 1, 2], dtype=np.int32), batch_size=4)
    assert loader.X.dtype == np.float32 and loader.X.flags.c_contiguous
    np.testing.assert_array_equal(loader.X, X64.astype(np.float32))
    assert loader.y.dtype == np.int64
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb, X64[:4])
    assert DataLoader(np.ones((3, 1)), [0.5, 1.5, 2.5]).y.dtype == np.float32
    assert DataLoader(np.arange(6, dtype=np.int64).reshape(3, 2), [[1.0], [2.0], [3.0]]).y.shape \
        == (3, 1)
    assert DataLoader(np.arange(5), batch_size=2).X.shape == (5,)  # 1-D X: scalar samples


def test_loader_drop_last_smaller_than_batch_is_empty():
    loader = DataLoader(np.ones((3, 2)), batch_size=4, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_loader_repr():
    r = repr(DataLoader(np.ones((10, 3)), np.zeros(10, dtype=int), batch_size=4, shuffle=True))
    assert r.startswith("DataLoader(")
    for part in ("float32(10, 3)", "int64(10,)", "batch_size=4", "shuffle=True", "batches=3"):
        assert part in r
    assert "y=None" in repr(DataLoader(np.ones((2, 1))))
    assert DataLoader(np.ones((10, 3))).dataset_size == 10


def test_loader_bad_inputs():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"len\(X\) = 4 and len\(y\) = 3"):
        DataLoader(X, np.zeros(3))
    with pytest.raises(ValueError, match="'batch_size' must be >= 1, got 0"):
        DataLoader(X, batch_size=0)
    with pytest.raises(TypeError, match="'batch_size' must be an int, got float"):
        DataLoader(X, batch_size=2.0)
    with pytest.raises(TypeError, match="'batch_size' must be an int, got bool"):
        DataLoader(X, batch_size=True)
    with pytest.raises(ValueError, match="'X' is empty"):
        DataLoader(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="'X' must have at least 1 dimension"):
        DataLoader(np.float32(1.0))
    with pytest.raises(ValueError, match="'y' must have at least 1 dimension"):
        DataLoader(np.ones((1, 2)), 1)
    with pytest.raises(TypeError, match="'X' must have a real numeric dtype"):
        DataLoader(np.ones((2, 2), dtype=bool))
    with pytest.raises(TypeError, match="'X' must have a real numeric dtype"):
        DataLoader(np.array([["a"], ["b"]], dtype=object))
    with pytest.raises(TypeError, match="'y' must have an integer .*, float .* or bool dtype, "
                                        "got <U1"):
        DataLoader(X, np.array(["a", "b", "c", "d"]))
    with pytest.raises(TypeError, match="'shuffle' must be a bool"):
        DataLoader(X, shuffle="yes")
    with pytest.raises(TypeError, match="'drop_last' must be a bool"):
        DataLoader(X, drop_last=1)
    with pytest.raises(ValueError, match="'seed' must be >= 0"):
        DataLoader(X, seed=-1)
    with pytest.raises(TypeError, match="'seed' must be an int"):
        DataLoader(X, seed=1.5)


# ---------------------------------------------------------------- train_test_split


def _pairs(X, y):
    return sorted(zip(X[:, 0].tolist(), y.tolist()))


@pytest.mark.parametrize(("test_size", "n_test"), [(0.2, 20), (0.25, 25), (0.333, 34), (1, 1),
                                                   (99, 99), (np.int64(10), 10), (0.001, 1)])
def test_split_sizes_and_partition(test_size, n_test):
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100) * 10
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, seed=0)
    assert X_te.shape == (n_test, 2) and y_te.shape == (n_test,)
    assert X_tr.shape == (100 - n_test, 2) and y_tr.shape == (100 - n_test,)
    assert X_tr.dtype == X.dtype and y_tr.dtype == y.dtype
    np.testing.assert_array_equal(X_tr[:, 0] // 2 * 10, y_tr)  # rows stay paired
    np.testing.assert_array_equal(X_te[:, 0] // 2 * 10, y_te)
    assert sorted(y_tr.tolist() + y_te.tolist()) == y.tolist()


def test_split_shuffles_and_seeds():
    X = np.arange(50).reshape(50, 1)
    y = np.arange(50)
    a = train_test_split(X, y, seed=1)
    b = train_test_split(X, y, seed=1)
    c = train_test_split(X, y, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    assert a[3].tolist() != list(range(40, 50)) and a[2].tolist() != list(range(40))

    fn.manual_seed(3)
    d = train_test_split(X, y)
    fn.manual_seed(3)
    e = train_test_split(X, y)
    fn.manual_seed(4)
    f = train_test_split(X, y)
    np.testing.assert_array_equal(d[3], e[3])
    assert not np.array_equal(d[3], f[3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_stratified_proportions(seed):
    counts = [50, 30, 15, 5]
    y = np.repeat(np.arange(4), counts)
    X = np.arange(100).reshape(100, 1)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=seed, stratify=True)
    assert np.bincount(y_te, minlength=4).tolist() == [10, 6, 3, 1]
    assert np.bincount(y_tr, minlength=4).tolist() == [40, 24, 12, 4]
    np.testing.assert_array_equal(y[X_tr[:, 0]], y_tr)
    np.testing.assert_array_equal(y[X_te[:, 0]], y_te)
    assert sorted(X_tr[:, 0].tolist() + X_te[:, 0].tolist()) == list(range(100))
    assert not np.all(np.diff(y_te) >= 0) or not np.all(np.diff(y_tr) >= 0)  # classes mixed


def test_split_stratified_largest_remainder():
    # n_test = 5 over counts 7, 7, 6 (n = 20): shares 1.75, 1.75, 1.5 -> floors 1, 1, 1
    # and the two remaining test samples go to the two largest remainders (classes 0, 1).
    y = np.repeat(np.array([0, 1, 2]), [7, 7, 6])
    _, _, y_tr, y_te = train_test_split(np.zeros((20, 1)), y, test_size=5, seed=0, stratify=True)
    assert np.bincount(y_te).tolist() == [2, 2, 1]
    assert np.bincount(y_tr).tolist() == [5, 5, 5]


def test_split_stratify_on_other_labels():
    groups = np.array(["a", "b"] * 10)
    y = np.arange(20, dtype=np.float32)
    X = np.arange(20).reshape(20, 1)
    _, X_te, _, y_te = train_test_split(X, y, test_size=0.5, seed=0, stratify=groups)
    assert sorted(groups[X_te[:, 0]].tolist()) == ["a"] * 5 + ["b"] * 5
    assert y_te.dtype == np.float32
    # stratify=None and False do not stratify: the same seed gives the same plain split.
    a = train_test_split(X, y, seed=4, stratify=None)
    b = train_test_split(X, y, seed=4, stratify=False)
    np.testing.assert_array_equal(a[1], b[1])


def test_split_stratifies_on_rows_of_2d_labels():
    # scikit-learn stratifies (n, k) labels on whole rows; a column of labels, one-hot rows
    # and multi-label rows were refused ("must have shape (n,)")
    y = np.repeat(np.arange(3), [10, 20, 30])
    X = np.arange(60).reshape(60, 1)
    column = y.reshape(60, 1)
    _, X_te, _, y_te = train_test_split(X, column, test_size=0.25, seed=0, stratify=True)
    assert y_te.shape == (15, 1) and np.bincount(y_te[:, 0]).tolist() == [3, 5, 7]
    np.testing.assert_array_equal(column[X_te[:, 0]], y_te)
    one_hot = np.eye(3, dtype=np.float32)[y]
    _, X_te, _, y_te = train_test_split(X, one_hot, test_size=0.25, seed=0, stratify=True)
    counts = y_te.sum(axis=0).tolist()  # shares 2.5 / 5 / 7.5 of 15: one class takes the 1
    assert sorted(counts) in ([2.0, 5.0, 8.0], [3.0, 5.0, 7.0]) and counts[1] == 5.0
    np.testing.assert_array_equal(one_hot[X_te[:, 0]], y_te)
    # multi-label rows: [1, 1] and [1, 0] are different classes although column 0 agrees
    rows = np.array([[1, 1]] * 10 + [[1, 0]] * 10)
    _, _, _, r_te = train_test_split(np.zeros((20, 2)), rows, test_size=10, seed=1,
                                     stratify=True)
    assert r_te[:, 1].sum() == 5
    # the stratify argument takes the same shapes
    _, _, _, y_te = train_test_split(X, y, test_size=0.25, seed=0, stratify=column)
    assert np.bincount(y_te).tolist() == [3, 5, 7]
    with pytest.raises(ValueError, match="class '0 1' has only 1 sample"):
        train_test_split(np.zeros((5, 1)), y[:5], stratify=np.array([[0, 1]] + [[1, 0]] * 4))


def test_split_bad_inputs():
    X = np.zeros((10, 2))
    y = np.zeros(10)
    with pytest.raises(ValueError, match=r"len\(X\) = 10 and len\(y\) = 9"):
        train_test_split(X, y[:9])
    for bad in (0.0, 1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="float 'test_size' must be in \\(0, 1\\)"):
            train_test_split(X, y, test_size=bad)
    for bad in (0, 10, -1):
        with pytest.raises(ValueError, match=r"int 'test_size' must be in \[1, 9\]"):
            train_test_split(X, y, test_size=bad)
    with pytest.raises(TypeError, match="'test_size' must be a float in \\(0, 1\\) or an int"):
        train_test_split(X, y, test_size="0.2")
    with pytest.raises(TypeError, match="'test_size'"):
        train_test_split(X, y, test_size=True)
    with pytest.raises(ValueError, match="leaves no training sample"):
        train_test_split(X[:2], y[:2], test_size=0.9)
    with pytest.raises(ValueError, match="at least 2 samples"):
        train_test_split(X[:1], y[:1])
    with pytest.raises(ValueError, match="'X' must have at least 1 dimension"):
        train_test_split(1.0, y)
    with pytest.raises(ValueError, match="'seed' must be >= 0"):
        train_test_split(X, y, seed=-3)


def test_split_stratify_errors():
    X = np.zeros((10, 1))
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="class 2 has only 1 sample"):
        train_test_split(X, y, stratify=True)
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    with pytest.raises(ValueError, match="cannot stratify 5 classes into 8 train and 2 test"):
        train_test_split(X, y, test_size=0.2, stratify=True)
    with pytest.raises(ValueError, match=r"labels must have shape \(10,\) or \(10, k\), "
                                         r"got \(9,\)"):
        train_test_split(X, y, stratify=y[:9])
    with pytest.raises(ValueError, match=r"labels must have shape \(10,\) or \(10, k\), got "
                                         r"\(10, 1, 1\)"):
        train_test_split(X, y.reshape(10, 1, 1), stratify=True)
    for bad in ("yes", 1, 2.5):  # neither a flag nor labels
        with pytest.raises(TypeError, match="argument 'stratify' must be a bool"):
            train_test_split(X, y, stratify=bad)


def test_split_without_targets_says_so():
    with pytest.raises(TypeError, match=r"argument 'y' is None"):
        train_test_split(np.ones((10, 2)), None)


def test_generator_objects_as_in_torch_docs():
    # random_split(ds, [8, 2], generator=torch.Generator().manual_seed(42)) raised
    # AttributeError: module 'fastnn' has no attribute 'Generator'
    from fastnn.utils.data import DataLoader as TorchStyleLoader
    from fastnn.utils.data import TensorDataset, random_split

    ds = TensorDataset(fn.arange(10))

    def split(seed):
        return [s.indices for s in random_split(ds, [8, 2],
                                                generator=fn.Generator().manual_seed(seed))]

    assert split(42) == split(42) != split(43)
    assert sorted(sum(split(42), [])) == list(range(10))
    g = fn.Generator().manual_seed(1)
    loader = TorchStyleLoader(ds, batch_size=5, shuffle=True, generator=g)
    first, second = ([b[0].tolist() for b in loader] for _ in range(2))
    assert first != second  # the generator's state moves on, epoch to epoch
    g.manual_seed(1)
    assert [b[0].tolist() for b in loader] == first
    assert g.initial_seed() == 1 and g.device == "cpu"
    assert fn.Generator().seed() >= 0
    with pytest.raises(TypeError, match="argument 'generator' must be a fastnn.Generator"):
        random_split(ds, [5, 5], generator="42")
    with pytest.raises(ValueError, match=r"Generator.manual_seed\(\): argument 'seed' must be"):
        fn.Generator().manual_seed(2**64)
    with pytest.raises(RuntimeError, match="CPU only"):
        fn.Generator("cuda")


def test_int_generator_reshuffles_every_epoch():
    # an int seed built a new generator every epoch: the same order each time
    from fastnn.utils.data import DataLoader as TorchStyleLoader
    from fastnn.utils.data import TensorDataset

    ds = TensorDataset(fn.arange(12))

    def epochs(loader, n=3):
        return [[b[0].tolist() for b in loader] for _ in range(n)]

    seeded = epochs(TorchStyleLoader(ds, batch_size=4, shuffle=True, generator=5))
    assert seeded[0] != seeded[1] != seeded[2]
    # the orders of a NumPy generator with that seed, and reproducible loader to loader
    assert seeded == epochs(TorchStyleLoader(ds, batch_size=4, shuffle=True,
                                             generator=np.random.default_rng(5)))
    assert seeded == epochs(TorchStyleLoader(ds, batch_size=4, shuffle=True, generator=5))
    loader = TorchStyleLoader(ds, batch_size=4, shuffle=True, generator=5)
    epochs(loader, 1)
    loader.generator = 6  # another seed starts that seed's sequence
    assert epochs(loader, 2) == epochs(TorchStyleLoader(ds, batch_size=4, shuffle=True,
                                                        generator=6), 2)


def test_manual_seed_returns_the_default_generator():
    g = fn.manual_seed(7)
    assert g is fn.default_generator and g.initial_seed() == 7
    a = fn.randn(3).tolist()
    fn.default_generator.manual_seed(7)
    assert fn.randn(3).tolist() == a


def test_init_functions_draw_from_a_generator():
    w1, w2 = fn.zeros(4, 3), fn.zeros(4, 3)
    fn.nn.init.normal_(w1, generator=fn.Generator().manual_seed(0))
    fn.nn.init.normal_(w2, generator=np.random.default_rng(0))  # the same PCG64 stream
    assert w1.tolist() == w2.tolist() and np.abs(w1.numpy()).sum() > 0


@pytest.mark.parametrize("kind", ["ndarray", "Tensor"])
def test_samples_of_different_shapes_name_both_shapes(kind):
    # NumPy's "all input arrays must have the same shape" named neither
    from fastnn.utils.data import DataLoader as TorchStyleLoader

    class Ragged:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            x = np.ones(3 + (i == 2), np.float32)
            return fn.tensor(x) if kind == "Tensor" else x

    with pytest.raises(RuntimeError, match=r"equal size, but got \[3\] at entry 0 and \[4\] at "
                                           r"entry 2"):
        list(TorchStyleLoader(Ragged(), batch_size=4))


def test_concat_dataset_reads_each_part_in_order():
    from fastnn.utils.data import ConcatDataset, TensorDataset

    a, b = TensorDataset(fn.arange(3)), TensorDataset(fn.arange(10, 15))
    ds = ConcatDataset([a, b])
    assert len(ds) == 8 and ds.cumulative_sizes == [3, 8]
    assert [int(ds[i][0]) for i in range(8)] == [0, 1, 2, 10, 11, 12, 13, 14]
    assert int(ds[-1][0]) == 14 and int(ds[-8][0]) == 0
    with pytest.raises(IndexError):
        ds[8]
    with pytest.raises(ValueError, match="should not exceed"):
        ds[-9]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@pytest.mark.parametrize("make", [
    lambda g: fn.randn(3, 4, generator=g), lambda g: fn.rand(5, generator=g),
    lambda g: fn.randint(0, 10, (6,), generator=g), lambda g: fn.randperm(8, generator=g),
])
def test_creation_functions_draw_from_a_given_generator(make):
    # generator= was accepted and ignored: the global state was drawn from
    fn.manual_seed(0)
    a = make(fn.Generator().manual_seed(5)).tolist()
    fn.manual_seed(1)  # another global state: no influence
    b = make(fn.Generator().manual_seed(5)).tolist()
    fn.manual_seed(0)
    c = make(None).tolist()
    fn.manual_seed(0)
    g = fn.default_generator
    assert a == b and make(g).tolist() == c
    assert make(fn.Generator().manual_seed(6)).tolist() != a


# -- torch.utils.data behaviour an audit against torch 2.13 found missing --------------

def test_a_tensor_dataset_subclass_keeps_its_getitem():
    """The whole-batch gather of TensorDataset ignored a subclass's __getitem__."""
    class Times10(udata.TensorDataset):
        def __getitem__(self, i):
            return (self.tensors[0][i] * 10,)
    batches = [b[0].tolist() for b in udata.DataLoader(Times10(fn.arange(3.0)), batch_size=2)]
    assert batches == [[0, 10], [20]]


def test_sequence_fields_of_unequal_length_raise_as_torch():
    """zip() cut them to the shortest, silently."""
    loader = udata.DataLoader([[1] * (i + 1) for i in range(3)], batch_size=3)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of "
                                           "equal size"):
        next(iter(loader))


def test_batch_sampler_gives_the_batches():
    loader = udata.DataLoader([10, 20, 30], batch_sampler=[[2, 0], [1]])
    assert [b.tolist() for b in loader] == [[30, 10], [20]] and len(loader) == 2
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        udata.DataLoader([10, 20, 30], batch_size=2, batch_sampler=[[0]])
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        udata.DataLoader([1], bogus=1)  # was swallowed silently
    udata.DataLoader([1], persistent_workers=False, prefetch_factor=None)  # torch's options


def test_random_split_fractions_outside_0_1_raise():
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        udata.random_split(list(range(10)), [1.5, -0.5])  # gave sizes [10, 0]
    a, b = udata.random_split(list(range(10)), [0.3, 0.7])
    assert (len(a), len(b)) == (3, 7)


def test_a_tensor_dataset_that_requires_grad_gives_batches_on_the_graph():
    t = fn.arange(4.0).requires_grad_()
    (xb,) = next(iter(udata.DataLoader(udata.TensorDataset(t), batch_size=2)))
    assert xb.requires_grad
    (xb * 3).sum().backward()
    assert t.grad.tolist() == [3, 3, 0, 0]


def test_loader_keeps_bool_targets():
    # bool labels raised a TypeError here while fit / evaluate take them (Keras does)
    X = np.arange(10, dtype=np.float32).reshape(5, 2)
    y = np.array([True, False, True, True, False])
    batches = list(DataLoader(X, y, batch_size=2))
    assert all(yb.dtype == np.bool_ for _, yb in batches)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)


class _ArraySamples(udata.Dataset):
    """Samples of NumPy arrays, numbers, a dict, a named tuple: what batch_size=None yields."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        from collections import namedtuple
        point = namedtuple("Point", "x y")
        return (np.full(3, i, np.float32), i, {"m": np.int64(i), "s": "a"},
                point(np.float64(i), [np.ones(1)]))


def _described(sample):
    """Type names and values, comparable across fastnn and torch."""
    if isinstance(sample, dict):
        return {k: _described(v) for k, v in sample.items()}
    if isinstance(sample, (list, tuple)):
        return (type(sample).__name__, [_described(v) for v in sample])
    if hasattr(sample, "tolist") and not isinstance(sample, np.ndarray):
        return ("Tensor", sample.tolist())
    return (type(sample).__name__, sample.tolist() if isinstance(sample, np.ndarray) else sample)


def test_unbatched_loader_converts_arrays_to_tensors():
    """batch_size=None yielded the dataset's ndarray tuples as they were; PyTorch converts
    arrays (default_convert) and turns tuples into lists."""
    (a, i, d, p), _ = list(udata.DataLoader(_ArraySamples(), batch_size=None))
    assert isinstance(a, fn.Tensor) and a.tolist() == [0, 0, 0] and i == 0
    assert isinstance(d["m"], fn.Tensor) and d["s"] == "a"
    assert type(p).__name__ == "Point" and isinstance(p.x, fn.Tensor)
    assert isinstance(p.y, list) and isinstance(p.y[0], fn.Tensor)
    loader = udata.DataLoader(_ArraySamples(), batch_size=None, collate_fn=lambda s: s[1])
    assert list(loader) == [0, 1]  # a collate_fn takes each sample alone


def test_unbatched_loader_converts_as_torch():
    torch = pytest.importorskip("torch")
    ours = [_described(s) for s in udata.DataLoader(_ArraySamples(), batch_size=None)]
    theirs = [_described(s) for s in torch.utils.data.DataLoader(_ArraySamples(),
                                                                batch_size=None)]
    assert ours == theirs


def test_unbatched_loader_refuses_drop_last_as_torch():
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching and "
                                         "is mutually exclusive with drop_last"):
        udata.DataLoader(_ArraySamples(), batch_size=None, drop_last=True)


def test_adding_datasets_concatenates_them():
    both = udata.TensorDataset(fn.zeros(2)) + udata.TensorDataset(fn.ones(3))
    assert isinstance(both, udata.ConcatDataset) and len(both) == 5
    assert [float(both[i][0]) for i in range(5)] == [0, 0, 1, 1, 1]


def test_unbatched_loader_converts_a_defaultdict_sample():
    from collections import defaultdict
    sample = defaultdict(list, {"x": np.ones(2, np.float32)})
    (out,) = list(udata.DataLoader([sample], batch_size=None))
    assert isinstance(out["x"], fn.Tensor) and out["x"].tolist() == [1.0, 1.0]


def test_collating_keeps_named_tuples_and_refuses_what_it_cannot_batch():
    # as torch.utils.data: a named tuple sample came back as a plain list (batch.x failed),
    # and samples that cannot be batched (objects, None) passed through silently
    from collections import namedtuple

    Pair = namedtuple("Pair", "x y")
    batch = next(iter(udata.DataLoader([Pair(1, 2.0)] * 3, batch_size=2)))
    assert type(batch) is Pair and batch.x.tolist() == [1, 1] and batch.y.tolist() == [2, 2]
    assert next(iter(udata.DataLoader(["a", "b"], batch_size=2))) == ["a", "b"]
    # other sequences and mappings are collated (and keep their type where it takes a list
    # or a dict), as in PyTorch
    import collections
    import types

    ranges = next(iter(udata.DataLoader([range(3)] * 2, batch_size=2)))
    assert type(ranges) is list and [r.tolist() for r in ranges] == [[0, 0], [1, 1], [2, 2]]
    queues = next(iter(udata.DataLoader([collections.deque([1, 2])] * 2, batch_size=2)))
    assert type(queues) is collections.deque and queues[1].tolist() == [2, 2]
    proxy = next(iter(udata.DataLoader([types.MappingProxyType({"a": 1})] * 2, batch_size=2)))
    assert type(proxy) is types.MappingProxyType and proxy["a"].tolist() == [1, 1]
    for samples in ([object(), object()], [None, None]):
        with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
            list(udata.DataLoader(samples, batch_size=2))
