"""examples/*.py: each script runs end to end on small settings and prints its result."""

from __future__ import annotations

import gzip
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The directory holding the imported fastnn package (the source tree or site-packages).
PACKAGE_ROOT = Path(fn.__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def example_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p
    )
    env["MPLBACKEND"] = "Agg"  # in case a user's matplotlibrc picks an interactive one
    # One thread: these tiny models gain nothing from more, and stay fast on a busy machine.
    env["OMP_NUM_THREADS"] = "1"
    return env


def run_example(name: str, *args: str, cwd: Path, returncode: int = 0) -> str:
    """Runs examples/<name> in a subprocess; returns its stdout, or stderr on failure."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True, text=True, timeout=60, cwd=cwd, env=example_env(),
    )
    assert proc.returncode == returncode, f"{name}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout if returncode == 0 else proc.stderr


def value(output: str, label: str) -> float:
    """The number printed after '<label>' (e.g. 'test accuracy: 0.9630' -> 0.963)."""
    match = re.search(re.escape(label) + r"\s*([0-9.]+)", output)
    assert match, f"no {label!r} in:\n{output}"
    return float(match.group(1))


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000  # axes, text and curves: not an empty image


def test_readme_lists_every_example():
    readme = (EXAMPLES / "README.md").read_text()
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == ["dense_from_scratch.py", "digits.py", "mnist.py", "mnist1d_residual.py",
                       "perceptron.py", "spirals.py", "xor.py"]
    for script in scripts:
        assert f"python examples/{script}" in readme


def test_perceptron(tmp_path):
    out = run_example("perceptron.py", "--n-samples", "100", "--epochs", "50", cwd=tmp_path)
    assert "boundary:" in out
    assert value(out, "accuracy:") >= 0.99  # two well-separated blobs


def test_dense_from_scratch_trains_by_autograd(tmp_path):
    out = run_example("dense_from_scratch.py", "--n-samples", "200", "--epochs", "30",
                      cwd=tmp_path)
    rel = float(re.search(r"relative difference ([0-9.e+-]+)", out).group(1))
    assert rel < 1e-2  # autograd agrees with the finite difference
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+)", out)]
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert value(out, "accuracy:") >= 0.95


def test_mnist1d_residual_module_subclass(tmp_path):
    pytest.importorskip("mnist1d.data")
    out = run_example("mnist1d_residual.py", "--n-samples", "1000", "--epochs", "10",
                      "--seeds", "0", "1", cwd=tmp_path)
    assert "MNIST-1D: 800 training and 200 test signals of 40 samples" in out
    accuracies = [float(v) for v in re.findall(r"seed \d: test accuracy ([0-9.]+)", out)]
    assert len(accuracies) == 2
    assert min(accuracies) > 0.25  # chance is 0.1; the full recipe reaches about 0.676
    assert value(out, "mean test accuracy over 2 seeds:") == pytest.approx(
        sum(accuracies) / 2, abs=1e-4)


def test_xor(tmp_path):
    out = run_example("xor.py", "--n-samples", "200", "--epochs", "60", cwd=tmp_path)
    linear = value(out, "linear model (no hidden layer): loss")
    assert linear == pytest.approx(np.log(2), abs=0.02)  # a linear model learns nothing
    linear_acc = float(re.search(r"no hidden layer.*accuracy ([0-9.]+)", out).group(1))
    mlp_acc = float(re.search(r"MLP .*accuracy ([0-9.]+)", out).group(1))
    assert linear_acc <= 0.75
    assert mlp_acc >= 0.95


def test_spirals_writes_png_in_current_directory(tmp_path):
    pytest.importorskip("matplotlib")
    out = run_example("spirals.py", "--n-samples", "150", "--epochs", "30", "--hidden", "32",
                      cwd=tmp_path)
    assert value(out, "training accuracy:") > 0.5  # chance is 1/3
    assert "spirals.png" in out
    assert_png(tmp_path / "spirals.png")


def test_digits_early_stopping_and_curves(tmp_path):
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "out" / "curves"  # created by the script (it crashed after training)
    out = run_example("digits.py", "--epochs", "8", "--patience", "1", "--hidden", "32",
                      "--out-dir", str(out_dir), cwd=tmp_path)
    assert value(out, "test accuracy:") > 0.8
    assert "early stopping at epoch" in out or "ran all 8 epochs" in out
    assert str(out_dir / "digits_curves.png") in out
    assert_png(out_dir / "digits_curves.png")


def test_mnist_without_files_says_what_to_do(tmp_path):
    out = run_example("mnist.py", "--data-dir", str(tmp_path / "nothing"), cwd=tmp_path)
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert "MNIST not found" in lines[0] and "--download" in lines[0]
    assert "train-images-idx3-ubyte" in lines[0]


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    """An IDX file as load_mnist reads it: magic 00 00 08 ndim, big-endian sizes, uint8 data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if compress:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def fake_mnist(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """28x28 images where digit k is a bright horizontal band at rows 2k+4..2k+5, plus noise."""
    labels = rng.integers(0, 10, size=n)
    images = rng.integers(0, 60, size=(n, 28, 28))
    for i, k in enumerate(labels):
        images[i, 2 * k + 4 : 2 * k + 6, 4:24] = 255
    return images, labels


def test_mnist_trains_on_generated_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "mnist"
    data.mkdir()
    images, labels = fake_mnist(400, rng)
    write_idx(data / "train-images-idx3-ubyte", images, compress=True)
    write_idx(data / "train-labels-idx1-ubyte", labels, compress=True)
    images, labels = fake_mnist(100, rng)
    write_idx(data / "t10k-images-idx3-ubyte", images, compress=False)
    write_idx(data / "t10k-labels-idx1-ubyte", labels, compress=False)

    out = run_example("mnist.py", "--data-dir", str(data), "--epochs", "3", "--limit", "300",
                      "--batch-size", "32", cwd=tmp_path)
    assert "MNIST: 300 training and 100 test images" in out
    assert len(re.findall(r"^Epoch ", out, flags=re.M)) == 3  # verbose 2: one line per epoch
    assert value(out, "test accuracy:") >= 0.9


def test_mnist_corrupt_file_fails_with_one_line(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (data / name).write_bytes(b"not an idx file")
    err = run_example("mnist.py", "--data-dir", str(data), cwd=tmp_path, returncode=1)
    assert err.strip().count("\n") == 0
    assert "is not an IDX file" in err
