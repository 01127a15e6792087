"""load_digits: the 8x8 UCI handwritten digits, shipped inside the package.

The data is ``data/digits.csv.gz`` (CC BY 4.0, see ``data/README.md``): 1,797
lines of 64 pixel counts in 0..16 then the label. Parsed on every call with the
standard library and NumPy, so each caller gets arrays of its own.
"""

from __future__ import annotations

import gzip
import io
from importlib import resources

import numpy as np

N_SAMPLES, N_FEATURES = 1797, 64


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    r"""Loads the 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits").

    1,797 grey-level images of the digits 0 to 9 written by 13 people, each
    downsampled to 8x8 blocks whose values count the inked pixels in a 4x4
    area of the 32x32 original (integers 0..16). The pixels are returned as is,
    unscaled (divide by 16 for [0, 1]). This is the test set of the UCI
    repository's version (Alpaydin and Kaynak, 1998; CC BY 4.0), the same data
    as scikit-learn's ``load_digits``; it ships inside fastnn, so there is no
    download and no extra dependency.

    Returns:
        tuple: ``(X, y)``, fresh arrays on every call.

    Shape:
        - X: :math:`(1797, 64)` float32, values 0..16; row :math:`i` reshaped
          to :math:`(8, 8)` is image :math:`i`, row-major.
        - y: :math:`(1797,)` int64, the digits 0..9 (174 to 183 per class).

    Examples::

        >>> from fastnn.datasets import load_digits
        >>> X, y = load_digits()
        >>> X.shape, X.dtype, y.shape, y.dtype
        ((1797, 64), dtype('float32'), (1797,), dtype('int64'))
    """
    raw = (resources.files(__package__) / "data" / "digits.csv.gz").read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape != (N_SAMPLES, N_FEATURES + 1):
        raise ValueError(
            f"load_digits(): the bundled file digits.csv.gz is corrupt: expected a "
            f"({N_SAMPLES}, {N_FEATURES + 1}) table, got {table.shape}; reinstall fastnn"
        )
    X = np.ascontiguousarray(table[:, :N_FEATURES], dtype=np.float32)
    y = np.ascontiguousarray(table[:, N_FEATURES])
    return X, y
