"""Render docs/overlay.png: one slice of a fused overlay, as ``nipype-vinci overlay`` writes it.

A synthetic CT (body, lungs, spine) and a synthetic PET on a coarser grid with hot lesions go
through the overlay command's library function; the middle file's decoded RGB pixels are
written as a PNG (with zlib, no imaging library). Run: ``python tools/overlay_figure.py``.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom

from nipype_vinci.export.overlay import OverlayOptions, save_overlay

OUT = Path(__file__).resolve().parents[1] / "docs" / "overlay.png"


def _inside(x, y, cx, cy, rx, ry):
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1


def _world(affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """RAS position (mm) of every voxel: x (patient right), y (anterior), z."""
    ijk = np.indices(shape, dtype=float)
    return np.einsum("ab,b...->a...", affine[:3, :3], ijk) + affine[:3, 3, None, None, None]


def synthetic_ct() -> nib.Nifti1Image:
    """Fat, soft tissue, two lungs, the heart (patient left, anterior), a vertebra."""
    shape, size = (256, 256, 16), 1.2
    affine = np.diag([-size, -size, 3.0, 1.0])
    affine[:3, 3] = [size * 128, size * 128, -24]
    x, y, _ = _world(affine, shape)
    body = np.full(shape, -1000.0)
    body[_inside(x, y, 0, 0, 140, 105)] = -90
    body[_inside(x, y, 0, 0, 130, 95)] = 40
    for side in (-1, 1):
        body[_inside(x, y, side * 60, 10, 45, 60)] = -820
    body[_inside(x, y, -15, 25, 25, 22)] = 60
    body[_inside(x, y, 0, -75, 15, 15)] = 700
    noise = np.random.default_rng(7).normal(0, 12, shape)
    return nib.Nifti1Image((body + noise).astype(np.int16), affine)


def synthetic_pet() -> nib.Nifti1Image:
    """Uptake on a 4 mm grid (axes in NIfTI's usual RAS order): body, heart, three lesions."""
    shape = (80, 80, 12)
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [-158, -158, -22]
    x, y, z = _world(affine, shape)
    uptake = _inside(x, y, 0, 0, 128, 93) + 6.0 * _inside(x, y, -15, 25, 22, 20)
    for cx, cy, r, hot in ((-55, 30, 6, 9.0), (70, -5, 5, 7.0), (-20, -55, 7, 5.0)):
        uptake = uptake + hot * np.exp(-((x - cx) ** 2 + (y - cy) ** 2 + z**2) / (2 * r**2))
    return nib.Nifti1Image((uptake * 2000).astype(np.float32), affine)


def write_png(path: Path, rgb: np.ndarray) -> None:
    """An 8-bit RGB PNG: signature, IHDR, one zlib IDAT of filter-0 rows, IEND."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows, columns = rgb.shape[:2]
    raw = b"".join(b"\0" + np.ascontiguousarray(row).tobytes() for row in rgb)
    header = struct.pack(">IIBBBBB", columns, rows, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
    path.write_bytes(png + chunk(b"IEND", b""))


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        nib.save(synthetic_ct(), work / "ct.nii.gz")
        nib.save(synthetic_pet(), work / "pet.nii.gz")
        options = OverlayOptions(
            base_window=(40, 400), value_range=(2500, 20000), uid_seed="figure"
        )
        report = save_overlay(work / "ct.nii.gz", work / "pet.nii.gz", work / "fused", options)
        middle = report.files[len(report.files) // 2]
        OUT.parent.mkdir(exist_ok=True)
        write_png(OUT, pydicom.dcmread(work / "fused" / middle).pixel_array)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
