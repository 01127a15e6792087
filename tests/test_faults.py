"""Faults: a save that hits a real file-size limit (the disk-full case), a directory the
process may not write (also when the tests run as root), a path whose parent is a
file, and a NaN loss during fit.

Also covered elsewhere (test_io.py): kill -9 in the middle of a save
(``test_kill_during_save_keeps_the_old_file``, ``test_kill_at_any_moment_...``) and
each OS call of the atomic write failing (``test_failed_save_keeps_old_file_...``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn
from fastnn.nn import Linear, Sequential

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process control")


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def same_weights(a: fn.nn.Module, b: fn.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def in_child(action) -> tuple[int, str]:
    """Runs ``action()`` in a forked child; returns (exit status, what it reported).

    The child reports ``repr`` of the exception it caught (or "no error") through a
    pipe and leaves with os._exit, so none of pytest's state runs twice.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            action()
            message = "no error"
        except BaseException as e:  # reported to the parent
            message = f"{type(e).__name__}: {e}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    _, status = os.waitpid(pid, 0)
    return status, message


@posix_only
def test_file_size_limit_keeps_old_file(tmp_path):
    """RLIMIT_FSIZE makes write() fail with EFBIG part-way, as a full disk fails with
    ENOSPC: the save raises OSError naming the file, the old file is intact and the
    temporary file is gone."""
    resource = pytest.importorskip("resource")
    import signal

    path = tmp_path / "m.safetensors"
    old = Linear(3, 3)
    fn.save(old, path)
    old_bytes = path.read_bytes()
    big = Sequential(Linear(512, 512), Linear(512, 512))  # 2 MiB of weights

    def save_under_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))
        fn.save(big, path)

    status, message = in_child(save_under_limit)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert message.startswith("OSError: [Errno 27]") or "File too large" in message, message
    assert f"save(): cannot write '{path}'" in message
    assert path.read_bytes() == old_bytes
    assert same_weights(fn.load(path), old)
    assert temp_files(tmp_path) == []


@posix_only
def test_read_only_directory_also_as_root():
    """A directory the process may not write. Root ignores permission bits, so as root
    the save runs in a forked child that first drops to the 'nobody' user (uid 65534);
    the directory lives in world-traversable /tmp so that only its own mode matters."""
    directory = Path(tempfile.mkdtemp(prefix="fastnn-ro-"))
    try:
        directory.chmod(0o755)
        path = directory / "m.safetensors"
        old = Linear(3, 3)
        fn.save(old, path)
        old_bytes = path.read_bytes()
        directory.chmod(0o555)

        def save_without_permission():
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            fn.save(Linear(3, 3), path)

        if os.geteuid() == 0 and not _can_drop_privileges():
            pytest.skip("running as root without CAP_SETUID: cannot drop to 'nobody'")
        status, message = in_child(save_without_permission)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        assert message.startswith("PermissionError"), message
        assert f"save(): cannot write '{path}': Permission denied" in message
        assert path.read_bytes() == old_bytes
        assert same_weights(fn.load(path), old)
        assert temp_files(directory) == []
    finally:
        directory.chmod(0o755)
        shutil.rmtree(directory)


def _can_drop_privileges() -> bool:
    status, message = in_child(lambda: (os.setgid(65534), os.setuid(65534)))
    return message == "no error"


def test_parent_is_a_file(tmp_path):
    """A path under a regular file: NotADirectoryError naming the path, for root too."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"x")
    path = blocker / "m.safetensors"
    with pytest.raises(NotADirectoryError, match=r"save\(\): cannot write '.*m.safetensors'"):
        fn.save(Linear(2, 2), path)
    assert blocker.read_bytes() == b"x"


# -- NaN loss during fit -------------------------------------------------------------


def _nan_at_batch(batch: int, batch_size: int = 8):
    """Data whose batch ``batch`` (shuffle off) holds a NaN feature."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    X[batch * batch_size + 1, 2] = np.nan
    return X, y


class BatchCounter(fn.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []
        self.epoch = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append((self.epoch, batch))


def test_terminate_on_nan_stops_fit_at_the_nan_batch(capsys):
    X, y = _nan_at_batch(batch=3)
    fn.manual_seed(0)
    model = Sequential(Linear(4, 8), Linear(8, 3))
    counter = BatchCounter()
    history = fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(),
                     optimizer=fn.optim.SGD(model.parameters(), lr=0.1), epochs=5,
                     batch_size=8, shuffle=False, verbose=0,
                     callbacks=[counter, fn.callbacks.TerminateOnNaN()])
    assert counter.seen[-1] == (0, 3)  # no batch after the NaN one, no second epoch
    assert len(history.epoch) == 1
    assert "Epoch 1, batch 3: invalid loss nan" in capsys.readouterr().out


def test_terminate_on_nan_names_epoch_and_batch(capsys):
    X, y = _nan_at_batch(batch=2)
    fn.manual_seed(0)
    model = Sequential(Linear(4, 8), Linear(8, 3))
    fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(),
           optimizer=fn.optim.SGD(model.parameters(), lr=0.1), epochs=3, batch_size=8,
           shuffle=False, verbose=0, callbacks=[fn.callbacks.TerminateOnNaN()])
    out = capsys.readouterr().out.lower()
    assert "epoch 1, batch 2: invalid loss nan" in out


def test_nan_loss_without_callback_warns_with_epoch_and_batch():
    X, y = _nan_at_batch(batch=2)
    fn.manual_seed(0)
    model = Sequential(Linear(4, 8), Linear(8, 3))
    with pytest.warns(RuntimeWarning, match=r"loss is nan at epoch 1, batch 2"):
        fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(),
               optimizer=fn.optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=8,
               shuffle=False, verbose=0)
