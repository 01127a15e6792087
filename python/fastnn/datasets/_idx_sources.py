"""The IDX image data sets (MNIST, Fashion-MNIST): their files, checksums and mirrors.

Both use the same four files (``<name>.gz`` on the mirrors):
train-images-idx3-ubyte / train-labels-idx1-ubyte (60,000 28x28 images) and
t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte (10,000), labels 0..9.
:func:`load_idx_source` finds or downloads them and decodes them; the public
loaders in ``mnist.py`` are thin wrappers over it with their own table entry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._validation import check_flag
from ._idx import read_idx_ubyte

_SIDE = 28
_N_CLASSES = 10


@dataclass(frozen=True)
class IdxSource:
    """One IDX data set: title, default mirror, mirror env var, SHA-256 of each ``<name>.gz``."""

    title: str
    default_mirror: str
    mirror_env: str
    sha256: Mapping[str, str]


SOURCES: Mapping[str, IdxSource] = MappingProxyType({
    # SHA-256 of the files published by Y. LeCun et al.; the mirror torchvision tries first.
    "mnist": IdxSource(
        title="MNIST",
        default_mirror="https://ossci-datasets.s3.amazonaws.com/mnist/",
        mirror_env="FASTNN_MNIST_MIRROR",
        sha256=MappingProxyType({
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        }),
    ),
    # SHA-256 of the files in zalandoresearch/fashion-mnist (data/fashion/), whose
    # published MD5s are 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd... (in order);
    # served over HTTPS from GitHub (the S3 website mirror is plain HTTP).
    "fashion-mnist": IdxSource(
        title="Fashion-MNIST",
        default_mirror=(
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
        ),
        mirror_env="FASTNN_FASHION_MNIST_MIRROR",
        sha256=MappingProxyType({
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        }),
    ),
})


def _find(root: Path, name: str) -> Path | None:
    """The plain file if present, else the gzipped one, else None."""
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx_source(source: IdxSource, func: str, root: str | os.PathLike[str], train: bool,
                    download: bool, mirror: str | None,
                    checksums: Mapping[str, str] | None) -> tuple[np.ndarray, np.ndarray]:
    """``(X float32 (n, 784) in [0, 1], y int64 (n,))`` of ``source``; see ``load_mnist``."""
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"{func}: argument 'root' must be a directory path (str or "
                        f"os.PathLike), got {type(root).__name__}")
    root = Path(os.fspath(root)).expanduser()
    train = check_flag(train, func, "train")
    download = check_flag(download, func, "download")
    mirror_given = mirror is not None
    if mirror is None:
        mirror = os.environ.get(source.mirror_env) or source.default_mirror
    if not isinstance(mirror, str):
        raise TypeError(f"{func}: argument 'mirror' must be a str, got {type(mirror).__name__}")
    checksums = source.sha256 if checksums is None else checksums

    prefix = "train" if train else "t10k"
    paths = []
    for name in (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"):
        path = _find(root, name)
        if path is None:
            url = f"{mirror.rstrip('/')}/{name}.gz"
            if not download:
                raise FileNotFoundError(
                    f"{func}: {source.title} file '{name}' (or '{name}.gz') not found in "
                    f"'{root}'; pass download=True to fetch it from {url} (choose the source "
                    f"with mirror= or ${source.mirror_env}), or put the standard IDX files there"
                )
            if "://" not in mirror:  # urllib's error names neither the argument nor the fix
                origin = "argument 'mirror'" if mirror_given else f"${source.mirror_env}"
                raise ValueError(f"{func}: {origin} must be a URL with a scheme (https://..., "
                                 f"http://... or file://...), got {mirror!r}")
            if f"{name}.gz" not in checksums:
                raise ValueError(f"{func}: no SHA-256 checksum given for '{name}.gz'")
            path = root / f"{name}.gz"
            from ._download import download_verified  # lazy: urllib/http cost ~20 ms at import
            download_verified(url, path, checksums[f"{name}.gz"], func)
        paths.append(path)

    images = read_idx_ubyte(paths[0], 3, func)
    labels = read_idx_ubyte(paths[1], 1, func)
    if images.shape[1:] != (_SIDE, _SIDE):
        raise ValueError(
            f"{func}: '{paths[0]}' holds {images.shape[1]}x{images.shape[2]} images, "
            f"expected {_SIDE}x{_SIDE}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{func}: '{paths[0]}' holds {images.shape[0]} images but '{paths[1]}' "
            f"holds {labels.shape[0]} labels"
        )
    if labels.size and labels.max() >= _N_CLASSES:
        raise ValueError(
            f"{func}: '{paths[1]}' holds label {int(labels.max())}, expected classes 0..9"
        )
    X = images.reshape(images.shape[0], _SIDE * _SIDE).astype(np.float32) / np.float32(255)
    return X, labels.astype(np.int64)
