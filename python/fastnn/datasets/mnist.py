"""load_mnist and load_fashion_mnist: 28x28 grey-scale images from the standard IDX files.

Files (in ``root``, each plain or gzip-compressed as ``<name>.gz``):
train-images-idx3-ubyte / train-labels-idx1-ubyte (60,000 samples) and
t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte (10,000 samples).
Downloads fetch ``<mirror>/<name>.gz``, resume an interrupted download and keep
the file only if its SHA-256 matches. The files, checksums and mirrors of each
data set are in ``_idx_sources.SOURCES``; the reading code is shared.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from ._idx_sources import SOURCES, load_idx_source


def load_mnist(root: str | os.PathLike[str], train: bool = True, download: bool = False,
               mirror: str | None = None, *,
               checksums: Mapping[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Loads MNIST (LeCun et al.), the handwritten digits, from the standard IDX files in ``root``.

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (60,000
    samples) when ``train`` is True, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (10,000 samples) otherwise; each may be stored
    as is or gzip-compressed with a ``.gz`` suffix. The pixels are scaled to
    [0, 1]:

    .. math::
        X_{i, 28r + c} = \frac{\text{pixel}_i(r, c)}{255}.

    With ``download=True`` each missing file is fetched as ``<mirror>/<name>.gz``
    into ``<name>.gz.part`` (creating ``root`` if needed), kept only if its
    SHA-256 matches the known checksum of the standard file, then moved into
    place atomically (``os.replace``). An interrupted download is resumed
    (HTTP Range request) by the next call; a part file with the wrong checksum
    is deleted. Files already present are used as they are (not re-verified).
    A malformed file (not IDX, wrong magic number, truncated, wrong image
    size, labels outside 0..9) raises ``ValueError`` naming it.

    Args:
        root (str or os.PathLike): the directory holding (or to receive) the files.
        train (bool): the training set if True (default), else the test set.
        download (bool): fetch missing files. Default: False, in which case a
            missing file raises ``FileNotFoundError`` explaining what to do.
        mirror (str, optional): base URL to download from; None (default) uses
            ``$FASTNN_MNIST_MIRROR`` if set, else
            ``https://ossci-datasets.s3.amazonaws.com/mnist/``.
        checksums (Mapping[str, str], optional): SHA-256 (hex) of each ``<name>.gz``
            to accept instead of the standard files' (e.g. for a private mirror
            of a modified copy). Default: None.

    Returns:
        tuple: ``(X, y)``.

    Raises:
        FileNotFoundError: a file is missing and ``download`` is False.
        OSError: the download failed (an interrupted one can be resumed).
        ValueError: a checksum mismatch or a malformed file, naming the file.

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
    return load_idx_source(SOURCES["mnist"], "load_mnist()", root, train, download, mirror,
                           checksums)


def load_fashion_mnist(root: str | os.PathLike[str], train: bool = True, download: bool = False,
                       mirror: str | None = None, *,
                       checksums: Mapping[str, str] | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    r"""Loads Fashion-MNIST (Xiao et al., Zalando) from the standard IDX files in ``root``.

    The same file names, format, scaling, download, resume and error behaviour
    as :func:`load_mnist`; only the data (28x28 images of clothing), the
    checksums and the default mirror differ. The 10 classes are 0 T-shirt/top,
    1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
    8 Bag, 9 Ankle boot.

    Args:
        root (str or os.PathLike): the directory holding (or to receive) the files.
        train (bool): the training set (60,000 images) if True (default), else
            the test set (10,000).
        download (bool): fetch missing files. Default: False, in which case a
            missing file raises ``FileNotFoundError`` explaining what to do.
        mirror (str, optional): base URL to download from; None (default) uses
            ``$FASTNN_FASHION_MNIST_MIRROR`` if set, else the data folder of the
            zalandoresearch/fashion-mnist GitHub repository
            (``http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/`` also works).
        checksums (Mapping[str, str], optional): SHA-256 (hex) of each ``<name>.gz``
            to accept instead of the standard files'. Default: None.

    Returns:
        tuple: ``(X, y)``.

    Shape:
        - X: :math:`(n, 784)` float32 in [0, 1], :math:`n` = 60,000 or 10,000.
        - y: :math:`(n,)` int64, the classes 0..9.

    Examples::

        >>> from fastnn.datasets import load_fashion_mnist
        >>> X, y = load_fashion_mnist("~/fashion", train=False, download=True)  # doctest: +SKIP
        >>> X.shape  # doctest: +SKIP
        (10000, 784)
    """
    return load_idx_source(SOURCES["fashion-mnist"], "load_fashion_mnist()", root, train,
                           download, mirror, checksums)
