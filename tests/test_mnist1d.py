"""fastnn.datasets.load_mnist1d (the mnist1d package's offline generator) and the paper's MLP.

The generator needs the optional ``mnist1d`` package (skipped without it) and is
slow (a few seconds for the 5,000 default samples), so the default data set is
generated once per module. The training test runs the paper's recipe for 2,000
of its 6,000 steps; the full recipe reaches about 66% test accuracy (see the
``mnist1d_recipe`` docstring).
"""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

import fastnn as fn
from fastnn.datasets import load_mnist1d
from fastnn.training import mnist1d_recipe


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"load_mnist1d\(\) needs the mnist1d package: "
                                          r"pip install 'fastnn\[mnist1d\]'"):
        load_mnist1d()


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"load_mnist1d\(\): argument 'n_samples' must be an int"):
        load_mnist1d(n_samples=100.0)
    with pytest.raises(ValueError, match="'n_samples' must be >= 10, got 9"):
        load_mnist1d(n_samples=9)
    with pytest.raises(TypeError, match="'test_size' must be a number"):
        load_mnist1d(test_size="0.2")
    for bad in (0, 1, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="'test_size'"):
            load_mnist1d(test_size=bad)
    with pytest.raises(TypeError, match="'seed' must be an int"):
        load_mnist1d(seed=None)
    with pytest.raises(ValueError, match="'seed' must be >= 0"):
        load_mnist1d(seed=-1)


@pytest.fixture(scope="module")
def mnist1d_data():
    """The mnist1d package's data module (skips without it)."""
    return pytest.importorskip("mnist1d.data")


def test_small_set_matches_the_generator(mnist1d_data):
    np.random.seed(7)
    random.seed(7)
    np_before, py_before = np.random.rand(), random.random()
    np.random.seed(7)
    random.seed(7)
    X_train, X_test, y_train, y_test = load_mnist1d(n_samples=205, test_size=0.3, seed=3)
    # The caller's global random streams are untouched.
    assert np.random.rand() == np_before and random.random() == py_before

    assert X_train.shape == (140, 40) and X_test.shape == (60, 40)  # 205 -> 200 samples
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.shape == (140,) and y_test.shape == (60,)
    assert y_train.dtype == y_test.dtype == np.int64
    # The oracle: the package's generator with the same arguments.
    args = mnist1d_data.get_dataset_args()
    args.num_samples, args.seed = 200, 3
    ref = mnist1d_data.make_dataset(args)
    X = np.concatenate([ref["x"], ref["x_test"]])
    y = np.concatenate([ref["y"], ref["y_test"]])
    np.testing.assert_array_equal(np.concatenate([X_train, X_test]), X.astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y)
    assert np.bincount(y, minlength=10).tolist() == [20] * 10


def test_fresh_arrays_and_seeds(mnist1d_data):
    first = load_mnist1d(n_samples=100)
    for a in first:
        assert a.flags.owndata and a.flags.writeable
        a[...] = 0
    again = load_mnist1d(n_samples=100)
    assert not np.array_equal(again[0], first[0])  # the mutation did not leak into a cache
    np.testing.assert_array_equal(again[0], load_mnist1d(n_samples=100)[0])
    assert not np.array_equal(again[0], load_mnist1d(n_samples=100, seed=0)[0])


def test_empty_split_is_an_error(mnist1d_data):
    with pytest.raises(ValueError, match="test_size=0.01 of 10 samples leaves an empty test set"):
        load_mnist1d(n_samples=10, test_size=0.01)
    with pytest.raises(ValueError, match="leaves an empty training set"):
        load_mnist1d(n_samples=10, test_size=0.99)


@pytest.fixture(scope="module")
def paper_data(mnist1d_data):
    """The paper's data set: the default arguments (generated once, a few seconds)."""
    return load_mnist1d()


def test_default_is_the_papers_split(paper_data):
    X_train, X_test, y_train, y_test = paper_data
    assert X_train.shape == (4000, 40) and X_test.shape == (1000, 40)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    y = np.concatenate([y_train, y_test])
    assert np.bincount(y).tolist() == [500] * 10
    X = np.concatenate([X_train, X_test]).astype(np.float64)
    assert abs(X.mean()) < 1e-6 and abs(X.std() - 1) < 1e-6  # standardised as a whole


def test_recipe_model_and_arguments():
    fn.manual_seed(0)
    model, kwargs = mnist1d_recipe()
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [tuple(p.data.shape) for p in model.parameters()] == [
        (100, 40), (100,), (100, 100), (100,), (10, 100), (10,)]
    assert sum(p.data.size for p in model.parameters()) == 15210
    assert set(kwargs) == {"loss", "optimizer", "epochs", "batch_size", "shuffle"}
    assert kwargs["epochs"] * 4000 // kwargs["batch_size"] == 6000  # steps
    assert kwargs["batch_size"] == 100 and kwargs["shuffle"] is False
    assert isinstance(kwargs["loss"], fn.nn.CrossEntropyLoss)
    group = kwargs["optimizer"].param_groups[0]
    assert isinstance(kwargs["optimizer"], fn.optim.Adam)
    assert group["lr"] == 1e-2 and group["weight_decay"] == 0
    assert [id(p) for p in group["params"]] == [id(p) for p in model.parameters()]
    fn.manual_seed(0)
    again, _ = mnist1d_recipe()  # a fresh model, drawn from the global generator
    assert again is not model
    for p, q in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_recipe_trains_to_the_papers_accuracy(paper_data):
    X_train, X_test, y_train, y_test = paper_data
    fn.manual_seed(0)
    model, kwargs = mnist1d_recipe()
    kwargs["epochs"] = 50  # 2,000 of the recipe's 6,000 steps
    fn.fit(model, X_train, y_train, verbose=0, **kwargs)
    train_acc = (fn.predict(model, X_train).argmax(1) == y_train).mean()
    test_acc = (fn.predict(model, X_test).argmax(1) == y_test).mean()
    assert train_acc >= 0.9  # the MLP (over)fits the training set...
    assert test_acc >= 0.55  # ...and generalises as in the paper (full recipe: about 66%)


def test_recipe_lives_in_training_not_in_the_data():
    assert "mnist1d_recipe" not in fn.datasets.__all__
    assert not hasattr(fn.datasets, "mnist1d_recipe")
    assert mnist1d_recipe is fn.training.mnist1d_recipe


def test_datasets_do_not_import_models():
    """Data do not know models: no module of fastnn.datasets imports nn, optim or training."""
    import ast
    from pathlib import Path

    root = Path(fn.datasets.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level else [node.module]
                names += [a.name for a in node.names] if node.level == 2 and not node.module \
                    else []
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[1] if name.startswith("fastnn.") else name.split(".")[0]
                if path.name == "__init__.py" and name == "training":
                    continue  # the deprecated alias, imported on first access only
                assert top not in ("nn", "optim", "training"), f"{path.name} imports {name}"


def test_recipe_takes_a_model():
    class Residual(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = fn.nn.Linear(40, 100), fn.nn.Linear(100, 100)
            self.out = fn.nn.Linear(100, 10)

        def forward(self, x):
            h = fn.relu(self.fc1(x))
            return self.out(h + fn.relu(self.fc2(h)))

    model = Residual()
    got, kwargs = mnist1d_recipe(model)
    assert got is model
    assert [id(p) for p in kwargs["optimizer"].param_groups[0]["params"]] == \
        [id(p) for p in model.parameters()]
    with pytest.raises(TypeError, match=r"mnist1d_recipe\(\): argument 'model' must be"):
        mnist1d_recipe("mlp")
