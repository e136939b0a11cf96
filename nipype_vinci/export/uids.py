"""UIDs: valid (2.25 + a UUID's integer, at most 44 characters), unique or reproducible."""

from __future__ import annotations

import hashlib
import uuid

PREFIX = "2.25."
IMPLEMENTATION_CLASS_UID = "2.25.259173839744413592530396413066146542812"


def new_uid() -> str:
    """A UID unique across processes and machines (a random UUID)."""
    return f"{PREFIX}{uuid.uuid4().int}"


def derived_uid(seed: str, *parts: object) -> str:
    """A reproducible UID from a seed and the inputs that name what it identifies."""
    digest = hashlib.sha256("\x1f".join([seed, *map(str, parts)]).encode()).digest()
    return f"{PREFIX}{uuid.UUID(bytes=digest[:16], version=4).int}"


class UidSource:
    """Hands out the UIDs of one export: random, or derived from ``seed`` when given."""

    def __init__(self, seed: str | None = None):
        self.seed = seed

    def uid(self, *parts: object) -> str:
        return new_uid() if self.seed is None else derived_uid(self.seed, *parts)
