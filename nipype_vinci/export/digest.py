"""Content hashes of input files: the parts that reproducible UIDs are derived from."""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def files_digest(*paths: str | Path) -> str:
    """SHA-256 (hex) of the files' bytes, in the order given (each file's length included)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            size = 0
            for block in iter(lambda: handle.read(BLOCK), b""):
                digest.update(block)
                size += len(block)
        digest.update(f"\x1f{size}\x1f".encode())
    return digest.hexdigest()
