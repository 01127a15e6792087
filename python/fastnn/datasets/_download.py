"""Checksum-verified, atomic file download (standard library only).

The body is streamed into a temporary file next to the destination while its
SHA-256 is computed; only a file whose digest matches is moved into place with
``os.replace`` (atomic on one file system), so ``dest`` is either absent or
complete and verified, never truncated or wrong.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

_CHUNK = 1 << 16
_TIMEOUT_S = 60.0


def download_verified(url: str, dest: Path, sha256: str, func: str) -> None:
    """Downloads ``url`` to ``dest`` if its SHA-256 equals ``sha256`` (hex).

    Raises ``OSError`` when the download fails and ``ValueError`` on a checksum
    mismatch; in both cases nothing is left at ``dest`` or beside it.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError) as e:
                raise OSError(f"{func}: could not download {url}: {e}") from e
        if digest.hexdigest() != sha256.lower():
            raise ValueError(
                f"{func}: checksum mismatch for {url}: SHA-256 {digest.hexdigest()}, "
                f"expected {sha256}; the mirror serves a different or corrupt file "
                "(nothing was written)"
            )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
