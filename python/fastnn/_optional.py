"""Imports of optional dependencies, each behind an extra of ``pip install fastnn[...]``.

A missing package raises one ``ImportError`` that names the feature, the
package and the extra that installs it.
"""

from __future__ import annotations

import sys
from types import ModuleType


def require(module: str, needed_by: str, extra: str, package: str | None = None) -> ModuleType:
    """Imports ``module`` or raises ``ImportError`` naming ``pip install 'fastnn[extra]'``.

    ``package`` is the distribution's name where it differs from the module's
    (``"scikit-learn"`` for ``sklearn``).

    Example::

        >>> onnx = require("onnx", "fastnn.onnx.export()", "onnx")  # doctest: +SKIP
    """
    try:
        __import__(module)  # the import statement's hook, so tests can hide a package
        return sys.modules[module]
    except ImportError as e:
        package = package or module.split(".")[0]
        raise ImportError(
            f"{needed_by} needs the {package} package: pip install 'fastnn[{extra}]'"
        ) from e
