"""UIDs: valid (2.25 + a UUID's integer, at most 44 characters), unique or reproducible.

Reproducible UIDs come from a seed that covers the user's seed and everything that changes
the output (DESIGN section 7): the image's bytes, the template, every metadata value, the
series index and the output kind. Two exports that differ in anything share no UID.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path

PREFIX = "2.25."
IMPLEMENTATION_CLASS_UID = "2.25.259173839744413592530396413066146542812"


def new_uid() -> str:
    """A UID unique across processes and machines (a random UUID)."""
    return f"{PREFIX}{uuid.uuid4().int}"


def derived_uid(seed: str, *parts: object) -> str:
    """A reproducible UID from a seed and the inputs that name what it identifies."""
    digest = hashlib.sha256("\x1f".join([seed, *map(str, parts)]).encode()).digest()
    return f"{PREFIX}{uuid.UUID(bytes=digest[:16], version=4).int}"


def series_seed(
    user_seed: str | None,
    *,
    image_digest: str,
    template_text: bytes,
    metadata_values: dict[str, object],
    series_index: int,
    kind: str,
) -> str:
    """The seed of one export: the user's seed (or none) and every input that changes it."""
    digest = hashlib.sha256((user_seed or "").encode())
    for part in (image_digest, sorted(metadata_values.items()), series_index, kind):
        digest.update(b"\x1f" + repr(part).encode())
    digest.update(b"\x1f" + template_text)
    return digest.hexdigest()


def run_clock(clock: datetime | None, derived: bool, source: str | Path) -> datetime:
    """The "now" of a run's dates and times: the one given, else the input's time stamp when
    the UIDs are derived (a rerun then gives the same bytes), else the clock."""
    if clock is not None:
        return clock
    return datetime.fromtimestamp(Path(source).stat().st_mtime) if derived else datetime.now()


class UidSource:
    """Hands out the UIDs of one export: random, or derived from ``seed`` when given."""

    def __init__(self, seed: str | None = None):
        self.seed = seed

    @property
    def derived(self) -> bool:
        """Whether the UIDs come from a seed (reproducible), not at random."""
        return self.seed is not None

    @classmethod
    def of_run(cls, uid_seed: str | None, reproducible: bool) -> UidSource:
        """The user's seed; without one, UIDs derived from the inputs alone when the run must
        be reproducible (a Nipype node), else random ones."""
        return cls(uid_seed if uid_seed is not None else ("" if reproducible else None))

    def uid(self, *parts: object) -> str:
        return new_uid() if self.seed is None else derived_uid(self.seed, *parts)
