"""The background writer: files in order, errors raised in the caller, nothing left running."""

from __future__ import annotations

from pathlib import Path

import pytest

from nipype_vinci.export.output import BackgroundWriter


def test_writes_every_file(tmp_path: Path) -> None:
    with BackgroundWriter(depth=2) as writer:
        for n in range(7):
            writer.submit(tmp_path / f"{n}.bin", [b"ab", memoryview(bytes([n]))])
    assert [(tmp_path / f"{n}.bin").read_bytes() for n in range(7)] == [
        b"ab" + bytes([n]) for n in range(7)
    ]


def test_a_failed_write_is_raised_after_the_queued_ones_finish(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), BackgroundWriter(depth=2) as writer:
        writer.submit(tmp_path / "missing" / "a.bin", [b"x"])
        for n in range(5):
            writer.submit(tmp_path / f"{n}.bin", [b"y"])
    assert (tmp_path / "0.bin").read_bytes() == b"y"  # queued before the error: finished
    assert not (tmp_path / "1.bin").exists()  # the error stopped the caller first


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"old")
    with pytest.raises(FileExistsError), BackgroundWriter() as writer:
        writer.submit(tmp_path / "a.bin", [b"new"])
    assert (tmp_path / "a.bin").read_bytes() == b"old"
