"""Top level: version, manual_seed reproducibility, thread control, info()."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fastnn as fn


def test_version_and_public_names():
    assert isinstance(fn.__version__, str) and fn.__version__.count(".") >= 2
    for name in (
        "matmul",
        "manual_seed",
        "set_num_threads",
        "get_num_threads",
        "info",
        "fit",
        "evaluate",
        "predict",
        "nn",
        "optim",
        "data",
        "datasets",
        "callbacks",
    ):
        assert hasattr(fn, name), name


def test_manual_seed_reproduces_init_dropout_and_shuffling():
    def run():
        fn.manual_seed(123)
        lin = fn.nn.Linear(5, 4)
        drop = fn.nn.Dropout(0.5)
        mask = drop(np.ones((3, 8), dtype=np.float32))
        order = np.concatenate(
            [
                yb
                for _, yb in fn.data.DataLoader(
                    np.zeros((10, 1)), np.arange(10), batch_size=3, shuffle=True
                )
            ]
        )
        return lin.weight.data.copy(), mask, order

    a, b = run(), run()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    fn.manual_seed(124)
    assert not np.array_equal(fn.nn.Linear(5, 4).weight.data, a[0])


def test_seeded_training_is_bit_identical_at_1_and_all_threads():
    X = np.random.default_rng(0).normal(size=(300, 20)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def train(threads):
        before = fn.get_num_threads()
        fn.set_num_threads(threads)
        try:
            fn.manual_seed(5)
            model = fn.nn.Sequential(
                fn.nn.Linear(20, 64), fn.nn.ReLU(), fn.nn.Dropout(0.3), fn.nn.Linear(64, 2)
            )
            fn.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=2, verbose=0, seed=1)
            return model.state_dict()
        finally:
            fn.set_num_threads(before)

    one, many = train(1), train(max(2, fn.get_num_threads()))
    for k in one:
        np.testing.assert_array_equal(one[k], many[k])


def test_thread_control():
    before = fn.get_num_threads()
    try:
        fn.set_num_threads(1)
        assert fn.get_num_threads() == 1
        assert fn.info()["threads"] == 1
    finally:
        fn.set_num_threads(before)
    with pytest.raises(ValueError, match="n"):
        fn.set_num_threads(0)
    with pytest.raises(TypeError, match="n"):
        fn.set_num_threads(1.5)
    # beyond a C int: pybind11's "incompatible function arguments" TypeError before
    with pytest.raises(ValueError, match=r"set_num_threads\(\): argument 'n' must be <= "):
        fn.set_num_threads(2**31)
    assert fn.get_num_threads() == before


def test_info_fields():
    info = fn.info()
    assert info["version"] == fn.__version__
    assert info["simd"] in ("avx512", "avx2", "scalar", "avx512emu")
    assert isinstance(info["threads"], int) and info["threads"] >= 1
    assert info["openmp"] and info["compiler"]
    # the runtime library by name (libgomp, libomp, libiomp5, vcomp), then the version
    assert re.fullmatch(r"none \(serial build\)|.*(gomp|omp|vcomp).* \(OpenMP .*\d{6}\)",
                        info["openmp"]), info["openmp"]


def test_manual_seed_takes_torchs_range():
    """[-2**63, 2**64 - 1], negative seeds modulo 2**64, as torch.manual_seed."""
    assert fn.manual_seed(-1).initial_seed() == 2**64 - 1
    a = fn.rand(3).tolist()
    fn.manual_seed(2**64 - 1)
    assert fn.rand(3).tolist() == a
    assert fn.Generator().manual_seed(-5).initial_seed() == 2**64 - 5
    assert fn.manual_seed(-(2**63)).initial_seed() == 2**63
    for bad in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match=r"manual_seed\(\): argument 'seed' must be in "
                                             r"\[-2\*\*63, 2\*\*64 - 1\]"):
            fn.manual_seed(bad)


def test_manual_seed_rejects_bad_seeds():
    with pytest.raises(TypeError, match="seed"):
        fn.manual_seed("0")
