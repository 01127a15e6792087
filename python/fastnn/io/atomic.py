"""Atomic file writes: a reader sees the old file or the whole new one, never a partial one.

The bytes go to a temporary file in the destination's directory (same file
system, so the final rename is atomic), which is flushed and ``fsync``-ed, then
``os.replace``-d over the destination; the directory is ``fsync``-ed last so the
rename itself survives a power loss. A failure at any point removes the
temporary file and leaves the old file untouched; a process killed mid-write
leaves the old file and, at worst, a stray ``.<name>.<random>.tmp`` file.

Overwriting keeps what the old file's owner chose: its permission bits carry over
(a ``0o600`` checkpoint stays private), and a symbolic link is written through
(its target is replaced, the link stays), as ``torch.save`` and ``open(path, "wb")`` do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]


def check_path(path: object, func: str) -> str:
    """``path`` as a ``str``; ``TypeError`` unless it is a ``str`` or ``os.PathLike[str]``."""
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, str):
            return path
    raise TypeError(f"{func}: argument 'path' must be a str or os.PathLike, "
                    f"got {type(path).__name__}")


_KINDS = {stat.S_IFCHR: "character device", stat.S_IFBLK: "block device",
          stat.S_IFIFO: "FIFO (named pipe)", stat.S_IFSOCK: "socket"}


def writable_target(path: str, func: str) -> str:
    """The file :func:`atomic_write` replaces for ``path`` (a symbolic link's target),
    after the checks it makes before writing (what :func:`atomic_write` raises for them)."""
    if not path:  # abspath("") is the working directory, a "special file" to the checks below
        raise FileNotFoundError(errno.ENOENT, f"{func}: cannot write to an empty path")
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise IsADirectoryError(errno.EISDIR, f"{func}: cannot write '{path}': it names a "
                                "directory, not a file")
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    try:
        mode = os.stat(target).st_mode
    except OSError:  # no file there yet (or unreadable: the write says why)
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):  # the rename would replace a device, FIFO or socket
        kind = _KINDS.get(stat.S_IFMT(mode), "special file")
        raise OSError(errno.EINVAL, f"{func}: cannot write '{path}': it is a {kind}, not a "
                      "regular file (a save replaces the file at the path as a whole); give "
                      "a file path")
    return target


def atomic_write(path: str, data: bytes, func: str) -> None:
    """Writes ``data`` to ``path`` atomically (see the module docstring).

    A new file gets the usual permissions (``0o666`` less the umask); an existing one
    keeps its own, and a symbolic link is written through to its target.

    Raises:
        OSError: the directory is missing or not writable, the disk is full, ...;
            the message names ``func`` and ``path``, and the subclass is kept
            (e.g. ``PermissionError``, ``FileNotFoundError``). ``IsADirectoryError``
            for a directory, or a path ending in a separator; ``OSError`` (``EINVAL``)
            for a device, FIFO or socket, which the rename would replace.
    """
    target = writable_target(path, func)
    directory = os.path.dirname(target)
    # the name cut so that the temporary one stays within a file name's 255 bytes
    stem = os.path.basename(target)[:50]  # at most 200 bytes
    tmp = os.path.join(directory, f".{stem}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as e:
        raise type(e)(e.errno, f"{func}: cannot write '{path}': {e.strerror or e}") from e
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Makes the rename durable; skipped where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:  # some file systems do not support fsync on directories
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
