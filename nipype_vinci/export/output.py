"""Write a series into a temporary folder beside the target, then rename it into place."""

from __future__ import annotations

import contextlib
import errno
import filecmp
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..errors import VinciError
from .claim import drop_claim, new_partial, take_claim
from .deferred import Deferral
from .marker import mark_complete, mark_writing, take_writing_record
from .rename import rename_to_free_name, swap
from .target import check_target, real_target


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
def atomic_folder(
    target: str | Path, overwrite: bool = False, protected: Iterable[str | Path] = ()
) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it becomes ``target``, else it vanishes.

    ``target`` is claimed for the whole run (another run on it fails at once), its
    temporary folders left by killed runs are removed, and an existing ``target`` is
    replaced only with ``overwrite`` and only when it is a series this tool wrote (see
    ``target.check_target``; ``protected``: the inputs, whose folders are never replaced).
    A symbolic link is followed: the folder it names is written, the link stays.
    """
    shown = str(target)
    real = real_target(Path(target))
    if not real.parent.is_dir():
        raise VinciError(f"{real.parent}: the parent folder does not exist; create it first")
    check_target(real, shown, overwrite, protected)  # refusals touch nothing, not even a lock
    signals = Deferral()
    signals.hold()  # until the folder is noted for cleanup
    try:
        fd = take_claim(real, shown)
    except OSError as exc:
        signals.release()
        raise _os_problem(exc, real.parent) from None
    except BaseException:
        signals.release()
        raise
    work = None
    try:
        replacing = check_target(real, shown, overwrite, protected)  # the same, now held
        work = new_partial(real)
        mark_writing(work, real)
        signals.release()  # a signal held until now is raised here, inside the cleanup
        yield work
        signals.hold()
        _commit(work, real, replacing, shown)
    except OSError as exc:
        signals.hold()
        raise _os_problem(exc, Path(shown) if os.path.lexists(real) else real.parent) from None
    except BaseException:
        signals.hold()
        raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)  # gone already after a commit
        drop_claim(real, fd)
        signals.release()


def _commit(work: Path, real: Path, replacing: bool, shown: str) -> None:
    """Put the finished folder in place: into a free name, or swapped with the old series."""
    os.chmod(work, 0o777 & ~_umask())
    record = take_writing_record(work)
    if not replacing:
        try:
            rename_to_free_name(work, real)
        except FileExistsError:
            raise VinciError(
                f"{shown}: was made by another program while this run wrote the series; "
                "nothing was written; choose a new folder"
            ) from None
    else:
        old = work  # after the swap: the old series
        if not swap(work, real):  # fallback: the old series aside, in a name the next run cleans
            old = new_partial(real)
            os.rename(real, old / "old")
            os.rename(work, real)
        shutil.rmtree(old)
    mark_complete(real, record)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_pieces(path: Path, pieces: list) -> None:
    """Write the pieces of one file with one system call where the kernel allows (a piece
    still being computed elsewhere, a Future, is waited for)."""
    pieces = [p.result() if isinstance(p, Future) else p for p in pieces]
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
    with atomic_folder(target, overwrite, protected=(series,)) as work:
        for path in _series_files(series):
            shutil.copy2(path, work / path.name)
    return Path(target)


def _series_files(series: Path) -> list[Path]:
    """The files of a series folder (its record lies beside it)."""
    return sorted(series.iterdir())


def same_series(series: str | Path, target: str | Path) -> bool:
    """Whether ``target`` already holds exactly the files of ``series``, byte for byte."""
    series, target = Path(series), Path(target)
    if not target.is_dir():
        return False
    names = [p.name for p in _series_files(series)]
    if names != [p.name for p in _series_files(target)]:
        return False
    return all(filecmp.cmp(series / n, target / n, shallow=False) for n in names)
