"""fastnn.datasets: bundled digits, synthetic 2-D sets, the MNIST / Fashion-MNIST IDX reader and
its resumable downloader (against a local HTTP server on 127.0.0.1; never the internet)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import re
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn
from fastnn.datasets import (
    _download,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    make_moons,
    make_spirals,
    make_xor,
)
from fastnn.datasets._idx_sources import SOURCES

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


# ------------------------------------------------- load_mnist / load_fashion_mnist: reading

LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}
FUNC = {"mnist": "load_mnist()", "fashion-mnist": "load_fashion_mnist()"}


@pytest.fixture(params=sorted(LOADERS))
def dataset(request):
    """Each IDX data set's name; both share the format, so they share these tests."""
    return request.param


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 00 00 08 ndim, big-endian uint32 sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _idx_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    return (r.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            r.integers(0, 10, size=n, dtype=np.uint8))


def _idx_files(prefix: str, n: int, seed: int) -> tuple[dict[str, bytes], tuple]:
    """A small pair of IDX files {name: bytes} (uncompressed names) and their arrays."""
    images, labels = _idx_arrays(n, seed)
    return ({f"{prefix}-images-idx3-ubyte": _idx_bytes(images),
             f"{prefix}-labels-idx1-ubyte": _idx_bytes(labels)}, (images, labels))


def _write_idx(root: Path, prefix: str, n: int, seed: int, gz: bool) -> tuple:
    """Writes a small pair of IDX files in ``root``; returns the arrays."""
    files, arrays = _idx_files(prefix, n, seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return arrays


def _assert_idx(X, y, images, labels):
    assert X.shape == (len(images), 784) and X.dtype == np.float32
    assert y.shape == (len(labels),) and y.dtype == np.int64
    np.testing.assert_array_equal(X, images.reshape(-1, 784).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert X.min() >= 0 and X.max() <= 1


@pytest.mark.parametrize("gz", [False, True])
def test_idx_reads_files(tmp_path, dataset, gz):
    train = _write_idx(tmp_path, "train", 7, seed=0, gz=gz)
    test = _write_idx(tmp_path, "t10k", 3, seed=1, gz=gz)
    _assert_idx(*LOADERS[dataset](tmp_path), *train)
    _assert_idx(*LOADERS[dataset](str(tmp_path), train=False), *test)


def test_idx_scaling_extremes(tmp_path):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[1] = 255
    images[0, 0, 1] = 51
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([3, 9], np.uint8)))
    X, y = load_mnist(tmp_path, train=False)
    assert X[0, 0] == 0 and X[0, 1] == np.float32(0.2) and np.all(X[1] == 1)
    assert y.tolist() == [3, 9]


@pytest.mark.parametrize(("dataset", "title", "env"), [
    ("mnist", "MNIST", "FASTNN_MNIST_MIRROR"),
    ("fashion-mnist", "Fashion-MNIST", "FASTNN_FASHION_MNIST_MIRROR"),
])
def test_idx_missing_files(tmp_path, dataset, title, env):
    load = LOADERS[dataset]
    with pytest.raises(FileNotFoundError,
                       match=rf"{re.escape(FUNC[dataset])}: {title} file 'train-images-idx3-ubyte'"
                             r" .*not found.*download=True"):
        load(tmp_path / "nowhere")
    _write_idx(tmp_path, "train", 2, seed=0, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError,
                       match=rf"'train-labels-idx1-ubyte' .*"
                             rf"{re.escape(SOURCES[dataset].default_mirror)}"
                             rf"train-labels-idx1-ubyte.gz .*\${env}"):
        load(tmp_path)


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
    (LABELS, _idx_bytes(np.array([0, 1, 10, 2], np.uint8)), "label 10, expected classes 0..9"),
    (IMAGES, gzip.compress(_idx_bytes(np.zeros((4, 28, 28), np.uint8)))[:-8], "not a valid gzip"),
    (IMAGES, b"\x1f\x8b" + b"garbage" * 4, "not a valid gzip"),
    # 2**31 x 2**31 x 4 wrapped to 0 in an int64 product: NumPy's reshape error, no file name
    (IMAGES, bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**31, 2**31, 4), "is truncated"),
], ids=["text", "empty", "labels-as-images", "images-as-labels", "truncated", "short-header",
        "trailing-byte", "float-type", "27x28", "count-mismatch", "label-10", "truncated-gzip",
        "bad-gzip", "size-overflow"])
def test_idx_malformed_files(tmp_path, dataset, name, data, match):
    _write_idx(tmp_path, "train", 4, seed=0, gz=False)
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=match) as info:
        LOADERS[dataset](tmp_path)
    assert name in str(info.value) and str(info.value).startswith(FUNC[dataset])


def test_idx_bad_arguments(tmp_path, dataset):
    load, func = LOADERS[dataset], re.escape(FUNC[dataset])
    with pytest.raises(TypeError, match=f"{func}: argument 'train' must be a bool"):
        load(tmp_path, train="yes")
    with pytest.raises(TypeError, match="'download' must be a bool"):
        load(tmp_path, download=1)
    with pytest.raises(TypeError, match="'mirror' must be a str"):
        load(tmp_path, mirror=3)
    # urllib's "unknown url type" named neither the argument nor the fix
    with pytest.raises(ValueError, match="argument 'mirror' must be a URL with a scheme"):
        load(tmp_path, download=True, mirror="example.com/mnist")
    assert list(tmp_path.iterdir()) == []


def test_idx_known_checksums():
    # The published SHA-256 of the four standard gzipped files of each data set (for
    # Fashion-MNIST, those of the files whose official MD5s zalandoresearch lists).
    assert dict(SOURCES["mnist"].sha256) == {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }
    assert dict(SOURCES["fashion-mnist"].sha256) == {
        "train-images-idx3-ubyte.gz":
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz":
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz":
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz":
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    }
    assert SOURCES["mnist"].default_mirror.startswith("https://")
    assert SOURCES["fashion-mnist"].default_mirror.startswith("https://")
    with pytest.raises(TypeError):
        SOURCES["mnist"].sha256["train-images-idx3-ubyte.gz"] = "0" * 64  # read-only table


# ------------------------------------------------- downloads from a local mirror


class _Mirror:
    """An HTTP server on 127.0.0.1 serving ``files`` ({url path: bytes}) from memory.

    ``ranges``: honour ``Range: bytes=N-`` (206 / 416) or ignore it (200, full body).
    ``cut_after``: send at most that many body bytes per response, then close the
    connection (the full Content-Length is announced, as an interrupted transfer).
    ``stall``: never answer (until close), to test the client's timeout.
    ``requests`` records (path, Range header or None) of every GET.
    """

    def __init__(self, files: dict[str, bytes], *, ranges: bool = True,
                 cut_after: int | None = None, stall: bool = False) -> None:
        self.files, self.ranges, self.cut_after, self.stall = files, ranges, cut_after, stall
        self.requests: list[tuple[str, str | None]] = []
        self.released = threading.Event()
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                range_header = self.headers.get("Range")
                mirror.requests.append((self.path, range_header))
                if mirror.stall:
                    mirror.released.wait(10)
                    return
                data = mirror.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if mirror.ranges and range_header:
                    start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                self.wfile.write(body if mirror.cut_after is None else body[:mirror.cut_after])

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/data/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _served_files() -> tuple[dict[str, bytes], dict[str, tuple], dict[str, str]]:
    """Gzipped small train and test files at /data/<name>.gz: (files, arrays, sha256 by name)."""
    files, arrays = {}, {}
    for prefix, n, seed in (("train", 6, 2), ("t10k", 4, 3)):
        raw, arrays[prefix] = _idx_files(prefix, n, seed)
        files.update({f"/data/{name}.gz": gzip.compress(data) for name, data in raw.items()})
    checksums = {path.rsplit("/", 1)[1]: hashlib.sha256(data).hexdigest()
                 for path, data in files.items()}
    return files, arrays, checksums


@pytest.fixture
def served():
    return _served_files()


@pytest.fixture
def mirror_factory():
    """Starts _Mirror servers on demand and closes them all at teardown."""
    servers = []

    def start(files, **options):
        servers.append(_Mirror(files, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


TRAIN_IMAGES_GZ = "train-images-idx3-ubyte.gz"


def test_download(tmp_path, dataset, served, mirror_factory):
    files, arrays, checksums = served
    server = mirror_factory(files)
    root = tmp_path / "new" / "root"
    load = LOADERS[dataset]
    _assert_idx(*load(root, download=True, mirror=server.url, checksums=checksums),
                *arrays["train"])
    assert sorted(server.requests) == [("/data/train-images-idx3-ubyte.gz", None),
                                       ("/data/train-labels-idx1-ubyte.gz", None)]
    assert sorted(p.name for p in root.iterdir()) == [TRAIN_IMAGES_GZ,
                                                      "train-labels-idx1-ubyte.gz"]
    # Present files are used as they are: no second request.
    _assert_idx(*load(root, download=True, mirror=server.url, checksums=checksums),
                *arrays["train"])
    assert len(server.requests) == 2


@pytest.mark.parametrize(("dataset", "env"), [("mnist", "FASTNN_MNIST_MIRROR"),
                                              ("fashion-mnist", "FASTNN_FASHION_MNIST_MIRROR")])
def test_download_only_missing_file_from_env_mirror(tmp_path, dataset, env, served,
                                                    mirror_factory, monkeypatch):
    files, arrays, checksums = served
    server = mirror_factory(files)
    images, labels = arrays["t10k"]
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    monkeypatch.delenv("FASTNN_MNIST_MIRROR", raising=False)
    monkeypatch.delenv("FASTNN_FASHION_MNIST_MIRROR", raising=False)
    monkeypatch.setenv(env, server.url.rstrip("/"))
    X, y = LOADERS[dataset](tmp_path, train=False, download=True, checksums=checksums)
    _assert_idx(X, y, images, labels)
    assert server.paths == ["/data/t10k-labels-idx1-ubyte.gz"]


def test_download_checksum_mismatch(tmp_path, dataset, served, mirror_factory):
    files, _, checksums = served
    server = mirror_factory(files)
    bad = dict(checksums, **{TRAIN_IMAGES_GZ: "0" * 64})
    root = tmp_path / "root"
    actual = checksums[TRAIN_IMAGES_GZ]
    with pytest.raises(ValueError, match=rf"{re.escape(FUNC[dataset])}: checksum mismatch for "
                                         rf"'{TRAIN_IMAGES_GZ}' downloaded from http://127.0.0.1"
                                         rf".*SHA-256 {actual}, expected 0{{64}}"):
        LOADERS[dataset](root, download=True, mirror=server.url, checksums=bad)
    assert list(root.iterdir()) == []  # nothing written, the partial file deleted


@pytest.mark.parametrize(("dataset", "expected"), [("mnist", "440fcabf"),
                                                   ("fashion-mnist", "3aede38d")])
def test_download_default_checksums_reject_other_files(tmp_path, dataset, expected, served,
                                                       mirror_factory):
    server = mirror_factory(served[0])
    with pytest.raises(ValueError, match=f"checksum mismatch.*expected {expected}"):
        LOADERS[dataset](tmp_path, download=True, mirror=server.url)
    assert list(tmp_path.iterdir()) == []


def test_download_errors(tmp_path, served, mirror_factory):
    files, _, checksums = served
    server = mirror_factory(files)
    with pytest.raises(OSError, match=r"could not download http://127.0.0.1:\d+/absent/train.*404"):
        load_mnist(tmp_path, download=True, mirror=server.url.replace("data", "absent"),
                   checksums=checksums)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="no SHA-256 checksum given for 'train-images"):
        load_mnist(tmp_path, download=True, mirror=server.url, checksums={})
    server.close()  # nothing listens any more: connection refused
    with pytest.raises(OSError, match="could not download http://127.0.0.1"):
        load_mnist(tmp_path, download=True, mirror=server.url, checksums=checksums)


def _download_images(root: Path, server: _Mirror, checksums: dict[str, str]) -> Path:
    """Downloads only train-images-idx3-ubyte.gz through the private helper; returns its path."""
    dest = root / TRAIN_IMAGES_GZ
    _download.download_verified(server.url + TRAIN_IMAGES_GZ, dest, checksums[TRAIN_IMAGES_GZ],
                                "test()")
    return dest


def test_download_resumes_partial_file_with_range(tmp_path, served, mirror_factory):
    files, _, checksums = served
    data = files["/data/" + TRAIN_IMAGES_GZ]
    server = mirror_factory(files)
    (tmp_path / (TRAIN_IMAGES_GZ + ".part")).write_bytes(data[:100])
    dest = _download_images(tmp_path, server, checksums)
    assert server.requests == [("/data/" + TRAIN_IMAGES_GZ, "bytes=100-")]
    assert dest.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [TRAIN_IMAGES_GZ]


def test_download_restarts_when_server_ignores_range(tmp_path, served, mirror_factory):
    files, _, checksums = served
    data = files["/data/" + TRAIN_IMAGES_GZ]
    server = mirror_factory(files, ranges=False)
    # A part file whose bytes are wrong: appending to it would fail the checksum.
    (tmp_path / (TRAIN_IMAGES_GZ + ".part")).write_bytes(b"\xff" * 100)
    dest = _download_images(tmp_path, server, checksums)
    assert server.requests == [("/data/" + TRAIN_IMAGES_GZ, "bytes=100-")]  # answered with 200
    assert dest.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [TRAIN_IMAGES_GZ]


def test_download_complete_part_file_is_verified(tmp_path, served, mirror_factory):
    # Killed after the last byte but before the rename: the server answers 416.
    files, _, checksums = served
    data = files["/data/" + TRAIN_IMAGES_GZ]
    server = mirror_factory(files)
    (tmp_path / (TRAIN_IMAGES_GZ + ".part")).write_bytes(data)
    dest = _download_images(tmp_path, server, checksums)
    assert server.requests == [("/data/" + TRAIN_IMAGES_GZ, f"bytes={len(data)}-")]
    assert dest.read_bytes() == data


@pytest.mark.parametrize("ranges", [True, False])
def test_download_interrupted_transfer_retries_within_call(tmp_path, served, mirror_factory,
                                                           ranges):
    files, _, checksums = served
    data = files["/data/" + TRAIN_IMAGES_GZ]
    half = (len(data) + 1) // 2
    server = mirror_factory(files, ranges=ranges, cut_after=half)
    if ranges:
        dest = _download_images(tmp_path, server, checksums)
        assert [r for _, r in server.requests] == [None, f"bytes={half}-"]
        assert dest.read_bytes() == data
    else:  # every attempt restarts and is cut: the call gives up, keeping the part file
        with pytest.raises(OSError, match=rf"connection closed after {half} of {len(data)} bytes"):
            _download_images(tmp_path, server, checksums)
        assert len(server.requests) == _download.ATTEMPTS


def test_download_interrupted_then_resumed_by_next_call(tmp_path, served, mirror_factory):
    files, _, checksums = served
    data = files["/data/" + TRAIN_IMAGES_GZ]
    cut = 50
    assert len(data) > _download.ATTEMPTS * cut
    server = mirror_factory(files, cut_after=cut)
    part = tmp_path / (TRAIN_IMAGES_GZ + ".part")
    with pytest.raises(OSError, match=r"could not download http://127.0.0.1:\d+/data/train-images"
                                      rf".*closed after {3 * cut} of {len(data)} bytes.*"
                                      r"partial file .*\.part' was kept: call again to resume"):
        _download_images(tmp_path, server, checksums)
    assert [r for _, r in server.requests] == [None, f"bytes={cut}-", f"bytes={2 * cut}-"]
    assert part.read_bytes() == data[:3 * cut]
    assert not (tmp_path / TRAIN_IMAGES_GZ).exists()
    server.cut_after = None  # the network is back
    dest = _download_images(tmp_path, server, checksums)
    assert server.requests[-1] == ("/data/" + TRAIN_IMAGES_GZ, f"bytes={3 * cut}-")
    assert dest.read_bytes() == data and not part.exists()


def test_download_stale_part_file_fails_checksum_then_restarts(tmp_path, served, mirror_factory):
    files, _, checksums = served
    data = files["/data/" + TRAIN_IMAGES_GZ]
    server = mirror_factory(files)
    part = tmp_path / (TRAIN_IMAGES_GZ + ".part")
    part.write_bytes(b"\xff" * 100)  # left by a download of some other file
    resumed = b"\xff" * 100 + data[100:]
    with pytest.raises(ValueError,
                       match=rf"checksum mismatch for '{TRAIN_IMAGES_GZ}'.*SHA-256 "
                             rf"{hashlib.sha256(resumed).hexdigest()}, expected "
                             rf"{checksums[TRAIN_IMAGES_GZ]}.*partial download was deleted"):
        _download_images(tmp_path, server, checksums)
    assert list(tmp_path.iterdir()) == []
    assert _download_images(tmp_path, server, checksums).read_bytes() == data
    assert server.requests[-1] == ("/data/" + TRAIN_IMAGES_GZ, None)


def test_download_timeout(tmp_path, served, mirror_factory, monkeypatch):
    files, _, checksums = served
    server = mirror_factory(files, stall=True)
    monkeypatch.setattr(_download, "TIMEOUT_S", 0.2)
    with pytest.raises(OSError, match="could not download .*timed out"):
        _download_images(tmp_path, server, checksums)
    assert not (tmp_path / TRAIN_IMAGES_GZ).exists()


@pytest.mark.parametrize("loader", [load_mnist, fn.datasets.load_fashion_mnist])
def test_idx_loaders_name_a_root_that_is_not_a_path(loader):
    with pytest.raises(TypeError, match=r"argument 'root' must be a directory path .* got "
                                        r"NoneType"):
        loader(None)
