"""Where a series may go: what an existing output folder is, and whether it may be replaced.

A new name or an empty folder is always fine. A folder with anything in it is replaced only
when asked, and only when it is a complete folder this tool wrote holding nothing else;
never a file, the working directory or a folder above it, nor a folder holding an input.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import VinciError
from .marker import foreign_entries, record_path

ASK = "pass --overwrite to replace it, or choose a new folder"
ELSEWHERE = "choose a new folder (--overwrite replaces only a series nipype-vinci wrote)"


def real_target(target: Path) -> Path:
    """The folder ``target`` names, through a symbolic link; a dangling link is refused."""
    if not target.is_symlink():
        return Path(os.path.abspath(target))
    real = target.resolve()
    if not real.exists():
        raise VinciError(
            f"{target}: a symbolic link to {real}, which does not exist; "
            "remove the link or choose a new folder"
        )
    return real


def _holds(folder: Path, path: Path) -> bool:
    return folder == path or folder in path.parents


def _listing(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_target(
    real: Path, shown: str, overwrite: bool, protected: Iterable[str | Path] = ()
) -> bool:
    """Whether ``real`` exists and will be replaced; VinciError when it may not be written."""
    if not os.path.lexists(real):
        return False
    if _holds(real, Path.cwd().resolve()):
        raise VinciError(f"{shown}: is the working directory or holds it; {ELSEWHERE}")
    for path in protected:
        if _holds(real, Path(path).resolve()):
            what = "is" if real == Path(path).resolve() else "holds"
            raise VinciError(f"{shown}: {what} the input {path}; {ELSEWHERE}")
    if not real.is_dir():
        raise VinciError(f"{shown}: exists and is not a folder; {ELSEWHERE}")
    if not any(real.iterdir()):
        return True  # an empty folder: nothing to lose, --overwrite or not
    foreign = foreign_entries(real)
    if foreign is None:
        raise VinciError(
            f"{shown}: exists and was not written by nipype-vinci (no record "
            f"{record_path(real).name} beside it); {ELSEWHERE}"
        )
    if foreign:
        raise VinciError(
            f"{shown}: holds files nipype-vinci did not write ({_listing(foreign)}); "
            f"move them out or {ELSEWHERE}"
        )
    if not overwrite:
        raise VinciError(f"{shown}: holds a series written earlier; {ASK}")
    return True
