"""Write a series into a temporary folder beside the target, then rename it into place."""

from __future__ import annotations

import contextlib
import errno
import filecmp
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..errors import VinciError


def file_name(index: int, count: int) -> str:
    """A safe, zero-padded file name that sorts in instance order."""
    return f"IM_{index:0{max(5, len(str(count)))}d}.dcm"


def _os_problem(exc: OSError, where: Path) -> VinciError:
    if exc.errno == errno.ENOSPC:
        return VinciError(
            f"{where}: the disk is full; free space and run again (nothing was left behind)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return VinciError(f"{where}: permission denied; choose a folder you can write to")
    return VinciError(f"{where}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_folder(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it becomes ``target``, else it vanishes."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise VinciError(f"{target} exists; choose another output folder or pass --overwrite")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise VinciError(f"{parent}: the parent folder does not exist; create it first")
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise _os_problem(exc, parent) from None
    try:
        yield work
        _replace(work, target)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise _os_problem(exc, target) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _replace(work: Path, target: Path) -> None:
    os.chmod(work, 0o777 & ~_umask())
    if not target.exists():
        os.rename(work, target)
        return
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    os.rename(target, old)
    os.rename(work, target)
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_pieces(path: Path, pieces: list) -> None:
    """Write the pieces of one file with one system call where the kernel allows."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        total = sum(len(p) for p in pieces)
        written = os.writev(fd, pieces)
        if written < total:  # a short write: finish the rest piece by piece
            data = b"".join(bytes(p) for p in pieces)[written:]
            while data:
                data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


class BackgroundWriter:
    """Writes files on one background thread while the caller prepares the next (the
    system calls release the GIL); at most ``depth`` files in flight. Leaving the ``with``
    block waits for every write, so a folder is never cleaned up under a running write."""

    def __init__(self, depth: int = 4):
        self.depth = depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dicom-writer")
        self._pending: deque[Future] = deque()

    def submit(self, path: Path, pieces: list) -> None:
        """Queue one file; raises the error of an earlier write, if any."""
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(write_pieces, path, pieces))

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def copy_series(series: str | Path, target: str | Path, overwrite: bool = False) -> Path:
    """Copy a finished series folder to ``target`` atomically (never half a series)."""
    series = Path(series)
    with atomic_folder(target, overwrite) as work:
        for path in sorted(series.iterdir()):
            shutil.copy2(path, work / path.name)
    return Path(target)


def same_series(series: str | Path, target: str | Path) -> bool:
    """Whether ``target`` already holds exactly the files of ``series``, byte for byte."""
    series, target = Path(series), Path(target)
    if not target.is_dir():
        return False
    names = sorted(p.name for p in series.iterdir())
    if names != sorted(p.name for p in target.iterdir()):
        return False
    return all(filecmp.cmp(series / n, target / n, shallow=False) for n in names)
