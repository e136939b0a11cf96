"""The record file in every folder this tool writes: who is writing it, then what it holds.

``.nipype-vinci.json`` is hidden (a leading dot) and not DICOM: dcm2niix, ``nipype-vinci
send`` and ``*.dcm`` globs skip it, but DCMTK's ``storescu +sd`` reads every file of a folder
and halts on it unless given ``+sp '*.dcm'`` (or ``-nh``).
While the folder is being written it names its owner (host, PID, process start), so a run
that finds the folder left behind by a killed one can tell whether its owner is gone; once
the folder is complete it lists every entry written, so ``--overwrite`` can tell a series
this tool wrote from a folder that holds anything else.
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


def _write(folder: Path, record: dict) -> None:
    """Write the record whole or not at all (a killed run never leaves half a record)."""
    part = folder / f"{MARKER}.part"
    part.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(part, folder / MARKER)


def mark_writing(folder: Path, target: Path) -> None:
    """Record that this process is writing ``folder`` on its way to ``target``."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record = {"tool": TOOL, "version": __version__, "state": "writing", "target": target.name}
    _write(folder, {**record, "owner": this_process(), "started": started})


def mark_complete(folder: Path) -> None:
    """Record that ``folder`` is complete, with every entry it holds."""
    record = read_marker(folder) or {"tool": TOOL, "version": __version__}
    entries = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    _write(folder, {**record, "state": "complete", "entries": entries})


def read_marker(folder: Path) -> dict | None:
    """The folder's record, or None when it has none (or one not written by this tool)."""
    try:
        record = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("tool") == TOOL else None


def foreign_entries(folder: Path) -> list[str] | None:
    """The entries of a folder this tool did not write; None when it is not a complete folder
    of this tool's at all."""
    record = read_marker(folder)
    if record is None or record.get("state") != "complete":
        return None
    written = set(record.get("entries") or []) | {MARKER}
    return sorted(p.name for p in folder.iterdir() if p.name not in written)
