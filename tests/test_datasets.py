"""fastnn.datasets: bundled digits, synthetic 2-D sets and the MNIST IDX reader/downloader."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn
from fastnn.datasets import load_digits, load_mnist, make_moons, make_spirals, make_xor
from fastnn.datasets.mnist import MNIST_SHA256

# ---------------------------------------------------------------- load_digits

# SHA-256 of the returned arrays' bytes (X as little-endian float32, y as little-endian int64).
DIGITS_X_SHA256 = "a627aed550b0b29bf76a981bc1ecbab5ef775aac454c94154f20ec9f61a04c83"
DIGITS_Y_SHA256 = "a3c91c262eddcf7ba8f0e37507c30284493c9b20412ffe4af30d536401f7ba21"


def test_digits_shape_dtype_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and X.flags.c_contiguous
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # First image of sklearn's copy: a 0.
    assert y[0] == 0
    assert X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_digits_checksum():
    X, y = load_digits()
    assert hashlib.sha256(X.astype("<f4").tobytes()).hexdigest() == DIGITS_X_SHA256
    assert hashlib.sha256(y.astype("<i8").tobytes()).hexdigest() == DIGITS_Y_SHA256


def test_digits_returns_fresh_arrays():
    X, y = load_digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.min() == 0


# ---------------------------------------------------------------- synthetic sets

MAKERS = [make_spirals, make_moons, make_xor]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 301])
def test_synthetic_shapes_dtypes(make, n):
    X, y = make(n_samples=n, seed=0)
    assert X.shape == (n, 2) and X.dtype == np.float32 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_seed_determinism(make):
    a = make(seed=5)
    b = make(seed=5)
    c = make(seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_manual_seed_drives_seed_none(make):
    fn.manual_seed(21)
    a = make()
    fn.manual_seed(21)
    b = make()
    fn.manual_seed(22)
    c = make()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_rows_shuffled(make):
    _, y = make(n_samples=200, seed=0)
    assert np.any(np.diff(y) < 0)  # not sorted by class
    assert len(set(y[:20].tolist())) > 1


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_noise_is_gaussian_offset(make):
    # With the same seed the noisy set is the clean set plus N(0, noise^2) per coordinate.
    X0, y0 = make(n_samples=4000, noise=0.0, seed=3)
    X1, y1 = make(n_samples=4000, noise=0.3, seed=3)
    np.testing.assert_array_equal(y0, y1)
    d = (X1 - X0).astype(np.float64)
    assert abs(d.mean()) < 0.02
    assert abs(d.std() - 0.3) < 0.02


@pytest.mark.parametrize(("n", "k"), [(300, 3), (301, 3), (302, 3), (10, 4), (7, 2), (2, 5)])
def test_spirals_clean_arms_and_balance(n, k):
    X, y = make_spirals(n_samples=n, n_classes=k, noise=0.0, seed=1)
    counts = np.bincount(y, minlength=k)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    X = X.astype(np.float64)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r > 0) and np.all(r <= 1 + 1e-6)
    # Angle on the arm: 2*pi*k/K + 4*r (mod 2*pi).
    theta = 2 * np.pi * y / k + 4.0 * r
    np.testing.assert_allclose(X[:, 0], r * np.cos(theta), atol=1e-6)
    np.testing.assert_allclose(X[:, 1], r * np.sin(theta), atol=1e-6)
    for c in range(k):  # radii (i + 1) / m_k, i = 0..m_k-1
        m = counts[c]
        np.testing.assert_allclose(np.sort(r[y == c]), np.arange(1, m + 1) / m, atol=1e-6)


@pytest.mark.parametrize("n", [2, 9, 200])
def test_moons_clean_half_circles(n):
    X, y = make_moons(n_samples=n, noise=0.0, seed=2)
    X = X.astype(np.float64)
    assert np.bincount(y).tolist() == [n // 2, n - n // 2]
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    assert np.all(outer[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(inner[:, 1] <= 0.5 + 1e-6)
    # Evenly spaced angles over [0, pi], ends included (as scikit-learn's).
    t = np.sort(np.arctan2(outer[:, 1], outer[:, 0]) % (2 * np.pi))
    np.testing.assert_allclose(t, np.linspace(0, np.pi, n // 2), atol=1e-6)


@pytest.mark.parametrize("n", [1, 4, 5, 6, 7, 200, 203])
def test_xor_clean_corners_and_labels(n):
    X, y = make_xor(n_samples=n, noise=0.0, seed=4)
    assert set(np.abs(X).ravel().tolist()) == {1.0}
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))
    counts = np.bincount(y, minlength=2)
    assert abs(int(counts[0]) - int(counts[1])) <= 1
    corner_counts = [int(np.sum((np.sign(X[:, 0]) == sx) & (np.sign(X[:, 1]) == sy)))
                     for sx in (-1, 1) for sy in (-1, 1)]
    assert max(corner_counts) - min(corner_counts) <= 1


def test_xor_noisy_labels_follow_corners():
    X, y = make_xor(n_samples=400, noise=0.1, seed=0)
    # At noise 0.1 no point leaves its quadrant, so the sign rule holds everywhere.
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_bad_arguments(make):
    name = make.__name__
    with pytest.raises(ValueError, match=rf"{name}\(\): argument 'n_samples' must be >= 1, got 0"):
        make(n_samples=0)
    with pytest.raises(TypeError, match="'n_samples' must be an int, got float"):
        make(n_samples=10.0)
    with pytest.raises(ValueError, match=r"'noise' must be in \[0, inf\), got -0.1"):
        make(noise=-0.1)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="'noise' must be in"):
            make(noise=bad)
    with pytest.raises(TypeError, match="'noise' must be a number"):
        make(noise="0.1")
    with pytest.raises(ValueError, match="'seed' must be >= 0"):
        make(seed=-1)


def test_spirals_bad_n_classes():
    with pytest.raises(ValueError, match=r"make_spirals\(\): argument 'n_classes' must be >= 2"):
        make_spirals(n_classes=1)
    with pytest.raises(TypeError, match="'n_classes' must be an int"):
        make_spirals(n_classes=3.0)


# ---------------------------------------------------------------- load_mnist


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 00 00 08 ndim, big-endian uint32 sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _mnist_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    return (r.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            r.integers(0, 10, size=n, dtype=np.uint8))


def _write_mnist(root: Path, prefix: str, n: int, seed: int, gz: bool) -> tuple:
    """Writes a small MNIST-format pair of files; returns the arrays."""
    images, labels = _mnist_arrays(n, seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images),
                      (f"{prefix}-labels-idx1-ubyte", labels)):
        data = _idx_bytes(arr)
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return images, labels


def _assert_mnist(X, y, images, labels):
    assert X.shape == (len(images), 784) and X.dtype == np.float32
    assert y.shape == (len(labels),) and y.dtype == np.int64
    np.testing.assert_array_equal(X, images.reshape(-1, 784).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert X.min() >= 0 and X.max() <= 1


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    train = _write_mnist(tmp_path, "train", 7, seed=0, gz=gz)
    test = _write_mnist(tmp_path, "t10k", 3, seed=1, gz=gz)
    _assert_mnist(*load_mnist(tmp_path), *train)
    _assert_mnist(*load_mnist(str(tmp_path), train=False), *test)


def test_mnist_scaling_extremes(tmp_path):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[1] = 255
    images[0, 0, 1] = 51
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([3, 9], np.uint8)))
    X, y = load_mnist(tmp_path, train=False)
    assert X[0, 0] == 0 and X[0, 1] == np.float32(0.2) and np.all(X[1] == 1)
    assert y.tolist() == [3, 9]


def test_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.* not found.*download=Tr"):
        load_mnist(tmp_path / "nowhere")
    _write_mnist(tmp_path, "train", 2, seed=0, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="'train-labels-idx1-ubyte' .*FASTNN_MNIST_MIRROR"):
        load_mnist(tmp_path)


def _corrupt(tmp_path, name, data):
    _write_mnist(tmp_path, "train", 4, seed=0, gz=False)
    (tmp_path / name).write_bytes(data)


IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


@pytest.mark.parametrize(("name", "data", "match"), [
    (IMAGES, b"hello, world", "is not an IDX file"),
    (IMAGES, b"", "is not an IDX file"),
    (IMAGES, _idx_bytes(np.zeros(4, np.uint8)), "magic number 0x00000801, expected 0x00000803"),
    (LABELS, _idx_bytes(np.zeros((4, 28, 28), np.uint8)), "0x00000803, expected 0x00000801"),
    (IMAGES, _idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-1], "is truncated"),
    (IMAGES, _idx_bytes(np.zeros((4, 28, 28), np.uint8))[:10], "shorter than a header"),
    (IMAGES, _idx_bytes(np.zeros((4, 28, 28), np.uint8)) + b"\0", "longer than its header"),
    (IMAGES, bytes([0, 0, 0x0D, 3]) + b"\0" * 12, "magic number 0x00000d03"),
    (IMAGES, _idx_bytes(np.zeros((4, 27, 28), np.uint8)), "27x28 images, expected 28x28"),
    (IMAGES, _idx_bytes(np.zeros((5, 28, 28), np.uint8)), "5 images but .* 4 labels"),
    (LABELS, _idx_bytes(np.array([0, 1, 10, 2], np.uint8)), "label 10, expected digits 0..9"),
    (IMAGES, gzip.compress(_idx_bytes(np.zeros((4, 28, 28), np.uint8)))[:-8], "not a valid gzip"),
    (IMAGES, b"\x1f\x8b" + b"garbage" * 4, "not a valid gzip"),
], ids=["text", "empty", "labels-as-images", "images-as-labels", "truncated", "short-header",
        "trailing-byte", "float-type", "27x28", "count-mismatch", "label-10", "truncated-gzip",
        "bad-gzip"])
def test_mnist_malformed_files(tmp_path, name, data, match):
    _corrupt(tmp_path, name, data)
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(tmp_path)
    assert name in str(info.value)  # the message names the file


def test_mnist_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="'train' must be a bool"):
        load_mnist(tmp_path, train="yes")
    with pytest.raises(TypeError, match="'download' must be a bool"):
        load_mnist(tmp_path, download=1)
    with pytest.raises(TypeError, match="'mirror' must be a str"):
        load_mnist(tmp_path, mirror=3)


def test_mnist_known_checksums():
    # The published SHA-256 of the four standard gzipped files.
    assert dict(MNIST_SHA256) == {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }


class _Mirror:
    """A local HTTP server on 127.0.0.1 serving a directory and recording requested paths."""

    def __init__(self, directory: Path) -> None:
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(directory), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def mirror(tmp_path):
    """Serves gzipped train and test files at <url>; yields (server, arrays, checksums)."""
    served = tmp_path / "served"
    arrays = {"train": _write_mnist(served / "mnist", "train", 6, seed=2, gz=True),
              "t10k": _write_mnist(served / "mnist", "t10k", 4, seed=3, gz=True)}
    checksums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in (served / "mnist").iterdir()}
    server = _Mirror(served)
    yield server, arrays, checksums
    server.close()


def test_mnist_download(tmp_path, mirror):
    server, arrays, checksums = mirror
    root = tmp_path / "new" / "root"
    X, y = load_mnist(root, download=True, mirror=server.url, checksums=checksums)
    _assert_mnist(X, y, *arrays["train"])
    assert sorted(server.requests) == ["/mnist/train-images-idx3-ubyte.gz",
                                       "/mnist/train-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in root.iterdir()) == ["train-images-idx3-ubyte.gz",
                                                      "train-labels-idx1-ubyte.gz"]
    # Present files are used as they are: no second request.
    _assert_mnist(*load_mnist(root, download=True, mirror=server.url, checksums=checksums),
                  *arrays["train"])
    assert len(server.requests) == 2


def test_mnist_download_only_missing_file_from_env_mirror(tmp_path, mirror, monkeypatch):
    server, arrays, checksums = mirror
    images, labels = arrays["t10k"]
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    monkeypatch.setenv("FASTNN_MNIST_MIRROR", server.url.rstrip("/"))
    X, y = load_mnist(tmp_path, train=False, download=True, checksums=checksums)
    _assert_mnist(X, y, images, labels)
    assert server.requests == ["/mnist/t10k-labels-idx1-ubyte.gz"]


def test_mnist_download_checksum_mismatch(tmp_path, mirror):
    server, _, checksums = mirror
    bad = dict(checksums, **{"train-images-idx3-ubyte.gz": "0" * 64})
    root = tmp_path / "root"
    with pytest.raises(ValueError, match="checksum mismatch for http://127.0.0.1.*expected 0000"):
        load_mnist(root, download=True, mirror=server.url, checksums=bad)
    assert list(root.iterdir()) == []  # nothing written, no temporary file left


def test_mnist_download_default_checksums_reject_other_files(tmp_path, mirror):
    server, _, _ = mirror
    with pytest.raises(ValueError, match="checksum mismatch.*440fcabf"):
        load_mnist(tmp_path, download=True, mirror=server.url)
    assert list(tmp_path.glob("train-*")) == [] and list(tmp_path.glob(".*part")) == []


def test_mnist_download_errors(tmp_path, mirror):
    server, _, checksums = mirror
    with pytest.raises(OSError, match=r"could not download http://127.0.0.1:\d+/absent/train"):
        load_mnist(tmp_path, download=True, mirror=server.url.replace("mnist", "absent"),
                   checksums=checksums)
    assert list(tmp_path.iterdir()) == [tmp_path / "served"]
    with pytest.raises(ValueError, match="no SHA-256 checksum given for 'train-images"):
        load_mnist(tmp_path, download=True, mirror=server.url, checksums={})
