"""The records of the folders this tool writes: who is writing one, then what it holds.

While a folder is being written, ``.nipype-vinci.json`` inside the temporary folder names
its owner (host, PID, process start), so a run that finds a folder left behind by a killed
one can tell whether its owner is gone. Once the folder is complete, its record lists every
entry written and lies beside it, ``.<name>.nipype-vinci.json`` (hidden, like the lock
file), so that ``--overwrite`` can tell a series this tool wrote from a folder that holds
anything else, and the series folder holds nothing but the series (readers that take every
file of a folder, such as DCMTK's ``storescu +sd``, meet only DICOM files).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from .owner import this_process

MARKER = ".nipype-vinci.json"
TOOL = "nipype_vinci"


def record_path(folder: Path) -> Path:
    """Where the record of a complete folder lies: beside it."""
    return folder.parent / f".{folder.name}{MARKER}"


def _write(path: Path, record: dict) -> None:
    """Write a record whole or not at all (a killed run never leaves half a record)."""
    part = path.with_name(f"{path.name}.part")
    part.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(part, path)


def mark_writing(folder: Path, target: Path) -> None:
    """Record that this process is writing ``folder`` on its way to ``target``."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record = {"tool": TOOL, "version": __version__, "state": "writing", "target": target.name}
    _write(folder / MARKER, {**record, "owner": this_process(), "started": started})


def take_writing_record(folder: Path) -> dict:
    """The record of a folder being written, removed from it (the folder is finished)."""
    record = read_marker(folder) or {"tool": TOOL, "version": __version__}
    (folder / MARKER).unlink(missing_ok=True)
    return record


def mark_complete(folder: Path, record: dict) -> None:
    """Record, beside ``folder``, that it is complete, with every entry it holds."""
    entries = sorted(p.name for p in folder.iterdir())
    _write(record_path(folder), {**record, "state": "complete", "entries": entries})


def _read(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("tool") == TOOL else None


def read_marker(folder: Path) -> dict | None:
    """The record inside a folder being written, or None (none, or not this tool's)."""
    return _read(folder / MARKER)


def foreign_entries(folder: Path) -> list[str] | None:
    """The entries of a folder this tool did not write; None when it is not a complete folder
    of this tool's at all."""
    record = _read(record_path(folder))
    if record is None or record.get("state") != "complete":
        return None
    written = set(record.get("entries") or [])
    return sorted(p.name for p in folder.iterdir() if p.name not in written)
