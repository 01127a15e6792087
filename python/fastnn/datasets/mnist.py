"""load_mnist: the MNIST handwritten digits from the standard IDX files, optionally downloaded.

Files (in ``root``, each plain or gzip-compressed as ``<name>.gz``):
train-images-idx3-ubyte / train-labels-idx1-ubyte (60,000 samples) and
t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte (10,000 samples).
Downloads fetch ``<mirror>/<name>.gz`` and keep it only if its SHA-256 matches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._download import download_verified
from ._idx import read_idx_ubyte

_FUNC = "load_mnist()"

#: Mirror used when neither ``mirror=`` nor ``$FASTNN_MNIST_MIRROR`` is set
#: (the one torchvision tries first).
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MIRROR_ENV = "FASTNN_MNIST_MIRROR"

#: SHA-256 of the standard gzipped MNIST files (as published by Y. LeCun et al.).
MNIST_SHA256: Mapping[str, str] = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

_SIDE = 28
_N_CLASSES = 10


def _find(root: Path, name: str) -> Path | None:
    """The plain file if present, else the gzipped one, else None."""
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _check_flag(value: object, arg: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_FUNC}: argument '{arg}' must be a bool, got {type(value).__name__}")
    return bool(value)


def load_mnist(root: str | os.PathLike[str], train: bool = True, download: bool = False,
               mirror: str | None = None, *,
               checksums: Mapping[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Loads MNIST (LeCun et al.) from the standard IDX files in ``root``.

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (60,000
    samples) when ``train`` is True, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (10,000 samples) otherwise; each may be stored
    as is or gzip-compressed with a ``.gz`` suffix. The pixels are scaled to
    [0, 1]:

    .. math::
        X_{i, 28r + c} = \frac{\text{pixel}_i(r, c)}{255}.

    With ``download=True`` each missing file is fetched as ``<mirror>/<name>.gz``,
    kept only if its SHA-256 matches the known checksum of the standard file,
    and written atomically (a temporary file then ``os.replace``), creating
    ``root`` if needed. Files already present are used as they are (not
    re-verified). A malformed file (not IDX, wrong magic number, truncated,
    wrong image size, labels outside 0..9) raises ``ValueError`` naming it.

    Args:
        root (str or os.PathLike): the directory holding (or to receive) the files.
        train (bool): the training set if True (default), else the test set.
        download (bool): fetch missing files. Default: False, in which case a
            missing file raises ``FileNotFoundError`` explaining what to do.
        mirror (str, optional): base URL to download from; None (default) uses
            ``$FASTNN_MNIST_MIRROR`` if set, else :data:`DEFAULT_MIRROR`.
        checksums (Mapping[str, str], optional): SHA-256 (hex) of each ``<name>.gz``
            to accept, instead of :data:`MNIST_SHA256` (e.g. for a mirror of
            a different data set in the same format, such as Fashion-MNIST).

    Returns:
        tuple: ``(X, y)``.

    Shape:
        - X: :math:`(n, 784)` float32 in [0, 1], row :math:`i` the 28x28 image
          :math:`i` row-major; :math:`n` = 60,000 (train) or 10,000 (test).
        - y: :math:`(n,)` int64, the digits 0..9.

    Examples::

        >>> from fastnn.datasets import load_mnist
        >>> X, y = load_mnist("~/data/mnist", download=True)  # doctest: +SKIP
        >>> X.shape, y.shape  # doctest: +SKIP
        ((60000, 784), (60000,))
    """
    root = Path(os.fspath(root)).expanduser()
    train = _check_flag(train, "train")
    download = _check_flag(download, "download")
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
    if not isinstance(mirror, str):
        raise TypeError(f"{_FUNC}: argument 'mirror' must be a str, got {type(mirror).__name__}")
    checksums = MNIST_SHA256 if checksums is None else checksums

    prefix = "train" if train else "t10k"
    paths = []
    for name in (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"):
        path = _find(root, name)
        if path is None:
            url = f"{mirror.rstrip('/')}/{name}.gz"
            if not download:
                raise FileNotFoundError(
                    f"{_FUNC}: MNIST file '{name}' (or '{name}.gz') not found in '{root}'; "
                    f"pass download=True to fetch it from {url} (choose the source with "
                    f"mirror= or ${MIRROR_ENV}), or put the standard IDX files there"
                )
            if f"{name}.gz" not in checksums:
                raise ValueError(f"{_FUNC}: no SHA-256 checksum given for '{name}.gz'")
            path = root / f"{name}.gz"
            download_verified(url, path, checksums[f"{name}.gz"], _FUNC)
        paths.append(path)

    images = read_idx_ubyte(paths[0], 3, _FUNC)
    labels = read_idx_ubyte(paths[1], 1, _FUNC)
    if images.shape[1:] != (_SIDE, _SIDE):
        raise ValueError(
            f"{_FUNC}: '{paths[0]}' holds {images.shape[1]}x{images.shape[2]} images, "
            f"expected {_SIDE}x{_SIDE}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{_FUNC}: '{paths[0]}' holds {images.shape[0]} images but '{paths[1]}' "
            f"holds {labels.shape[0]} labels"
        )
    if labels.size and labels.max() >= _N_CLASSES:
        raise ValueError(
            f"{_FUNC}: '{paths[1]}' holds label {int(labels.max())}, expected digits 0..9"
        )
    X = images.reshape(images.shape[0], _SIDE * _SIDE).astype(np.float32) / np.float32(255)
    return X, labels.astype(np.int64)
