"""An exclusive claim on an output folder: of two runs on one target, exactly one writes it.

The claim is ``fcntl.flock`` (exclusive, non-blocking) on a lock file beside the target,
``.<name>.nipype-vinci.lock``: the kernel hands the lock to one process at a time and takes
it back when that process ends however it ends (SIGKILL and power loss included), so a lock
is never stale. The holder removes the file before it lets go; a run that locked a file
removed meanwhile sees another inode at the path and tries again. While it holds the claim,
a run removes the temporary folders that killed runs left for the same target.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
from pathlib import Path

from ..errors import VinciError
from .marker import read_marker
from .owner import owner_gone, this_process

PARTIAL = ".partial"


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.nipype-vinci.lock")


def new_partial(target: Path) -> Path:
    """A new, empty temporary folder beside ``target``: ``.<name>.<8 hex digits>.partial``."""
    while True:
        path = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PARTIAL}")
        try:
            path.mkdir(mode=0o700)
            return path
        except FileExistsError:
            continue


def _is_partial_of(name: str, target: Path) -> bool:
    return re.fullmatch(re.escape(f".{target.name}.") + r"[0-9a-f]{8}\.partial", name) is not None


def _holder(fd: int) -> str:
    """Who holds the lock, as its file tells (it may not have written it yet)."""
    try:
        owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f" (PID {owner['pid']} on {owner['host']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _lock(path: Path, shown: str) -> int:
    """The descriptor of ``path``, locked; VinciError when another run holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise VinciError(
                f"{shown}: another nipype-vinci run{holder} is writing it; "
                "wait for it to finish or choose another output folder"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder before us removed this file: lock the new one


def remove_left_behind(target: Path) -> None:
    """Remove the temporary folders of ``target`` whose owner is surely gone (called with the
    claim held). A folder without a record was left by a run killed in the instant between
    making it and writing the record: such a run is gone too, since a live run keeps the
    claim as long as its folder exists."""
    for path in target.parent.iterdir():
        if not _is_partial_of(path.name, target) or path.is_symlink() or not path.is_dir():
            continue
        owner = (read_marker(path) or {}).get("owner")
        if not isinstance(owner, dict) or owner_gone(owner):
            shutil.rmtree(path, ignore_errors=True)


def take_claim(target: Path, shown: str) -> int:
    """Claim ``target`` (``shown``: its name in messages) and remove what killed runs left of
    it; the lock's descriptor, for ``drop_claim``."""
    fd = _lock(lock_path(target), shown)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(this_process()).encode(), 0)
        remove_left_behind(target)
    except BaseException:
        drop_claim(target, fd)
        raise
    return fd


def drop_claim(target: Path, fd: int) -> None:
    """Remove the lock file, then let go of the lock."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(lock_path(target))
    os.close(fd)
