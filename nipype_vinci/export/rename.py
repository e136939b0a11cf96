"""Atomic renames of folders: into a free name only, or swapped with the folder they replace.

Linux's ``renameat2`` (called through ctypes: Python has no binding) does both in one system
call: ``RENAME_NOREPLACE`` fails with EEXIST when the name is taken (a plain rename would
silently replace an empty folder), ``RENAME_EXCHANGE`` swaps two folders so the name never
stands empty. Where the kernel, C library or file system lacks it, plain renames follow.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
UNSUPPORTED = frozenset([errno.ENOSYS, errno.EINVAL, errno.ENOTSUP])


def _load_renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a C library older than glibc 2.28
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    return function


_RENAMEAT2 = _load_renameat2()


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """True when done; False when this system cannot; OSError for any other failure."""
    if _RENAMEAT2 is None:
        return False
    paths = os.fsencode(source), os.fsencode(target)
    if _RENAMEAT2(AT_FDCWD, paths[0], AT_FDCWD, paths[1], flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(target))


def rename_to_free_name(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; FileExistsError when ``target`` exists."""
    if _renameat2(source, target, RENAME_NOREPLACE):
        return
    if os.path.lexists(target):  # fallback: the caller's lock keeps our own runs apart
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    os.rename(source, target)


def swap(first: Path, second: Path) -> bool:
    """Swap two existing folders atomically; False when this system cannot."""
    return _renameat2(first, second, RENAME_EXCHANGE)
