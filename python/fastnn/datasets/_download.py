"""Checksum-verified, resumable, atomic file download (standard library only).

The body is streamed into ``<dest>.part``. A later call finding that file asks
the server for the rest with an HTTP ``Range: bytes=<size>-`` request: a
``206 Partial Content`` answer is appended, a ``200 OK`` (server ignoring
Range) restarts the file from scratch, a ``416 Range Not Satisfiable`` means
the part file already holds the whole body. Only a complete file whose SHA-256
matches is moved to ``dest`` with ``os.replace`` (atomic on one file system),
so ``dest`` is either absent or complete and verified, never truncated or
wrong. A mismatching part file is deleted, so the next attempt starts afresh.

Within one call an interrupted transfer (connection closed early, timeout) is
resumed up to ``ATTEMPTS`` times; after that the part file is kept for the
next call. Two processes downloading the same file at once are not supported.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

_CHUNK = 1 << 16
#: Seconds to wait for the connection and for each read before giving up.
TIMEOUT_S = 30.0
#: Requests per call; each one resumes where the previous one stopped.
ATTEMPTS = 3


class _Interrupted(OSError):
    """The transfer stopped before the announced end; the part file keeps what arrived."""


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_into(url: str, part: Path) -> None:
    """One request: appends the rest of ``url`` to ``part`` (or rewrites it on a 200).

    Raises ``_Interrupted`` if the body ends before its Content-Length, the
    server's error for HTTP errors, and ``OSError`` for network errors.
    """
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing left to fetch: the part file is complete
            return
        raise
    with response:
        if response.status == 206:
            content_range = response.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                raise OSError(f"asked for bytes from {offset}, got Content-Range "
                              f"'{content_range}'")
        else:  # 200: the server ignored Range and sends the whole body
            offset = 0
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None and length.isdigit() else None
        received = 0
        with part.open("ab" if offset else "wb") as out:
            try:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
            except (OSError, http.client.HTTPException) as e:  # timeout, reset, bad chunking
                raise _Interrupted(f"transfer interrupted after {offset + received} bytes "
                                   f"({e})") from e
    if expected is not None and received < expected:
        raise _Interrupted(f"connection closed after {offset + received} of "
                           f"{offset + expected} bytes")


def download_verified(url: str, dest: Path, sha256: str, func: str) -> None:
    """Fetches ``url`` into ``dest`` if its SHA-256 is ``sha256`` (hex), resuming ``<dest>.part``.

    Raises ``OSError`` when the download fails (an interrupted transfer keeps
    ``<dest>.part`` for the next call to resume) and ``ValueError`` on a
    checksum mismatch (the part file is deleted). ``dest`` is only ever
    written complete and verified.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _fetch_into(url, part)
            break
        except _Interrupted as e:
            if attempt == ATTEMPTS:
                raise OSError(
                    f"{func}: could not download {url}: {e}; the partial file '{part}' "
                    "was kept: call again to resume"
                ) from e
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise OSError(f"{func}: could not download {url}: {e}") from e
    actual = _sha256_of(part)
    if actual != sha256.lower():
        part.unlink()
        raise ValueError(
            f"{func}: checksum mismatch for '{dest.name}' downloaded from {url}: SHA-256 "
            f"{actual}, expected {sha256.lower()}; the mirror serves a different or corrupt "
            "file (the partial download was deleted, nothing was written)"
        )
    os.replace(part, dest)
