"""Who owns a temporary folder (host, PID, process start), and whether that owner is gone."""

from __future__ import annotations

import os
import socket
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name before ")" may hold spaces


def _boot() -> str | None:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return None


def this_process() -> dict[str, object]:
    """This process as an owner record: host, PID, start time and boot."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _process_start(pid), "boot": _boot()}


def owner_gone(owner: dict) -> bool:
    """Whether the process of an owner record is surely gone: same host, and its boot ended,
    its PID no longer exists, or that PID now belongs to a process started at another time.
    An owner on another host, or one that cannot be judged, is never gone."""
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    boot = _boot()
    if owner.get("boot") and boot and owner["boot"] != boot:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    start = _process_start(pid)
    return bool(owner.get("start")) and start is not None and start != owner["start"]
