"""fastnn.plot.plot_history: figure structure, markers, the PNG, missing matplotlib, bad input."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

import fastnn as fn
from fastnn.plot import plot_history

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mpl():
    """matplotlib, or a skip: only the drawing tests need it."""
    return pytest.importorskip("matplotlib")


def make_history(n=6, best=3, stopped=5, val=True, metric=True):
    """A History as fit would fill it: loss falls, accuracy rises."""
    h = fn.History()
    for epoch in range(n):
        logs = {"loss": 1.0 / (epoch + 1)}
        if metric:
            logs["accuracy"] = 0.5 + 0.05 * epoch
        if val:
            logs["val_loss"] = 1.2 / (epoch + 1) + 0.01 * epoch
            if metric:
                logs["val_accuracy"] = 0.45 + 0.04 * epoch
        h.record(epoch, logs)
    h.best_epoch, h.stopped_epoch = best, stopped
    return h


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def vlines(ax):
    """x of every vertical line (axvline: both x data equal, y spans the axes)."""
    return {
        line.get_label(): float(line.get_xdata()[0])
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
    }


def test_structure_curves_and_markers(mpl):
    h = make_history()
    fig = plot_history(h, title="run 1")
    assert isinstance(fig, mpl.figure.Figure)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig.get_suptitle() == "run 1"
    for ax, name in zip(fig.axes, ["loss", "accuracy"]):
        lines = lines_by_label(ax)
        # Epochs counted from 1 on the x axis.
        np.testing.assert_array_equal(lines["train"].get_xdata(), np.arange(1, 7))
        np.testing.assert_allclose(lines["train"].get_ydata(), h.history[name])
        np.testing.assert_allclose(lines["validation"].get_ydata(), h.history["val_" + name])
        assert vlines(ax) == {"best epoch (4)": 4.0, "early stop (6)": 6.0}
        # A dot on the validation curve at the best epoch.
        dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert len(dots) == 1
        assert dots[0].get_xdata()[0] == 4
        assert dots[0].get_ydata()[0] == pytest.approx(h.history["val_" + name][3])
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == name
        assert ax.get_legend() is not None
        assert any(gl.get_visible() for gl in ax.xaxis.get_gridlines())


def test_no_markers_without_best_or_stop(mpl):
    """best_epoch None with val_loss present: no best epoch is invented."""
    fig = plot_history(make_history(best=None, stopped=None))
    for ax in fig.axes:
        assert vlines(ax) == {}
        assert not [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert set(lines_by_label(ax)) == {"train", "validation"}


def test_train_only_and_loss_only(mpl):
    fig = plot_history(make_history(val=False, metric=False, best=None, stopped=None))
    assert len(fig.axes) == 1
    assert set(lines_by_label(fig.axes[0])) == {"train"}


def test_learning_rate_curve_is_labelled_as_such(mpl):
    """ReduceLROnPlateau and LearningRateScheduler log "learning_rate": it was labelled
    "train" like a training curve."""
    h = make_history(metric=False)
    h.history["learning_rate"] = [0.01] * 3 + [0.001] * 3
    axes = {ax.get_title(): ax for ax in plot_history(h).axes}
    assert "learning rate" in lines_by_label(axes["learning_rate"])
    assert "train" in lines_by_label(axes["loss"])


def test_metrics_selects_subplots(mpl):
    h = make_history()
    h.history["top5"] = [0.9] * 6
    assert [ax.get_title() for ax in plot_history(h).axes] == ["loss", "accuracy", "top5"]
    assert [ax.get_title() for ax in plot_history(h, metrics=["top5"]).axes] == ["loss", "top5"]
    assert [ax.get_title() for ax in plot_history(h, metrics=[]).axes] == ["loss"]


def test_plain_dict_as_from_keras(mpl):
    h = make_history()
    fig = plot_history(dict(h.history))
    assert len(fig.axes) == 2
    assert vlines(fig.axes[0]) == {}  # a dict carries no best/stopped epoch
    np.testing.assert_array_equal(lines_by_label(fig.axes[0])["train"].get_xdata(), np.arange(1, 7))


def test_real_fit_history_with_early_stopping(mpl):
    fn.manual_seed(0)
    X, y = fn.datasets.make_xor(64, seed=0)
    model = fn.nn.Sequential(fn.nn.Linear(2, 8), fn.nn.Tanh(), fn.nn.Linear(8, 2))
    # lr 0: the loss never improves, so patience 1 stops at epoch 1 (0-based), best 0.
    sgd = fn.optim.SGD(model.parameters(), lr=0.0)
    h = fn.fit(model, X, y, loss="cross_entropy", optimizer=sgd, epochs=10,
               validation_split=0.25, metrics=["accuracy"], verbose=0,
               callbacks=[fn.callbacks.EarlyStopping(patience=1)])
    assert (h.best_epoch, h.stopped_epoch) == (0, 1)
    fig = plot_history(h)
    assert vlines(fig.axes[0]) == {"best epoch (1)": 1.0, "early stop (2)": 2.0}


def test_writes_a_png(tmp_path, mpl):
    path = tmp_path / "curves.png"
    fig = plot_history(make_history(), path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000  # two subplots with text and curves, not an empty image
    # The pixel size follows the figure size: decode the IHDR chunk (width, height).
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    w_in, h_in = fig.get_size_inches()
    assert (width, height) == (round(w_in * fig.dpi), round(h_in * fig.dpi))
    # str paths work too, and the extension is not required.
    plot_history(make_history(), str(tmp_path / "curves"))
    assert (tmp_path / "curves").read_bytes()[:8] == PNG_MAGIC


def test_does_not_touch_pyplot_or_backend(mpl):
    backend = mpl.get_backend()
    plot_history(make_history())
    assert mpl.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_missing_directory(tmp_path):
    missing = tmp_path / "no_such_dir"
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        plot_history(make_history(), missing / "curves.png")
    assert not missing.exists()


def test_missing_matplotlib(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError,
                       match=r"needs the matplotlib package: pip install 'fastnn\[plot\]'"):
        plot_history(make_history())


@pytest.mark.parametrize(
    "history, exc, match",
    [
        ([1.0, 0.5], TypeError, "must be a History"),
        (None, TypeError, "must be a History"),
        ({}, ValueError, "empty"),
        (fn.History(), ValueError, "empty"),
        ({"loss": []}, ValueError, "empty"),
        ({"loss": [1.0, 0.5], "val_loss": [1.0]}, ValueError, "differ in length"),
        ({"loss": [[1.0, 0.5]]}, ValueError, "flat list"),
        ({"loss": ["a", "b"]}, TypeError, "list of numbers"),
        ({1: [1.0]}, TypeError, "keys must be str"),
    ],
)
def test_bad_history(history, exc, match):
    with pytest.raises(exc, match=match):
        plot_history(history)


def test_bad_markers_and_options(tmp_path):
    with pytest.raises(ValueError, match="best_epoch = 9 is not one of the recorded epochs"):
        plot_history(make_history(best=9))
    with pytest.raises(ValueError, match="metric 'val_accuracy' is not in the history"):
        plot_history(make_history(), metrics=["val_accuracy"])
    with pytest.raises(ValueError, match="metric 'f1' is not in the history; recorded: loss"):
        plot_history(make_history(), metrics=["f1"])
    with pytest.raises(TypeError, match="'metrics' must be a list"):
        plot_history(make_history(), metrics="accuracy")
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_history({"accuracy": [0.5]}, metrics=[])
    with pytest.raises(TypeError, match="'path' must be a str"):
        plot_history(make_history(), 3)
    with pytest.raises(TypeError, match="'title' must be a str"):
        plot_history(make_history(), title=1)


@pytest.mark.parametrize("name, magic", [("curves.pdf", b"%PDF"), ("curves.svg", b"<?xml"),
                                         ("curves", PNG_MAGIC), ("curves.xyz", PNG_MAGIC)])
def test_the_format_follows_the_extension(tmp_path, mpl, name, magic):
    # .pdf / .svg got PNG bytes; a name without a known extension still gets a PNG
    path = tmp_path / name
    plot_history(make_history(), path)
    assert path.read_bytes().startswith(magic)
