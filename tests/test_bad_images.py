"""Images that cannot become a series: one line, exit 2, nothing left behind (CLI and node)."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.interfaces import SaveDicom
from nipype_vinci.template.library import BUNDLED

from .conftest import cli
from .test_output_folder import tree

AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])


def _nifti(data: np.ndarray) -> bytes:
    return nib.Nifti1Image(data, AFFINE).to_bytes()


def _volume() -> np.ndarray:
    return (np.random.default_rng(3).random((64, 64, 30)) * 1000).astype(np.float32)


def _rgb() -> bytes:
    rgb = np.zeros((6, 5, 4), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    return _nifti(rgb)


def _header_only_magic() -> bytes:
    header = bytearray(_nifti(np.ones((4, 5, 3), np.int16)))
    header[344:348] = b"xx1\0"  # the NIfTI magic string, broken
    return bytes(header)


# name -> (file name, bytes, words of the one line)
IMAGES = {
    "RGB24": ("rgb.nii", _rgb, "RGB"),
    "complex": ("c.nii", lambda: _nifti(np.ones((4, 5, 3), np.complex64)), "complex"),
    "truncated .nii": ("t.nii", lambda: _nifti(_volume())[:200_000], "cut short"),
    "truncated .nii.gz": (
        "t.nii.gz",
        lambda: gzip.compress(_nifti(_volume()))[:150_000],
        "cut short",
    ),
    "garbage": ("g.nii", lambda: bytes(range(256)) * 8, "nibabel cannot read it"),
    "wrong magic": ("m.nii", _header_only_magic, "nibabel cannot read it"),
    "empty": ("e.nii", lambda: b"", "nibabel cannot read it"),
    "2D": ("two.nii", lambda: _nifti(np.ones((4, 5), np.int16)), "only 3D and 4D"),
    "5D": ("five.nii", lambda: _nifti(np.ones((4, 5, 2, 2, 2), np.int16)), "only 3D and 4D"),
}


def _write(case: str, folder: Path) -> Path:
    name, content, _ = IMAGES[case]
    path = folder / name
    path.write_bytes(content())
    return path


@pytest.mark.parametrize("case", list(IMAGES))
def test_the_command_line_refuses_it_in_one_line(case: str, tmp_path: Path) -> None:
    path = _write(case, tmp_path)
    before = tree(tmp_path)
    result = cli("save", path.name, "out", "--template", "ge-lightspeed16-ct", cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, (
        result.stderr
    )
    assert lines[0].startswith(f"nipype-vinci: error: {path.name}: ")
    assert IMAGES[case][2] in lines[0]
    assert tree(tmp_path) == before


@pytest.mark.parametrize("case", ["RGB24", "truncated .nii.gz"])
def test_the_node_refuses_it_in_one_line(case: str, tmp_path: Path) -> None:
    path = _write(case, tmp_path)
    (tmp_path / "node").mkdir()
    node = SaveDicom(in_file=str(path), template_file=str(BUNDLED / "ge-lightspeed16-ct.dump"))
    with pytest.raises(ValueError, match=f"SaveDicom: .*{IMAGES[case][2]}") as raised:
        node.run(cwd=str(tmp_path / "node"))
    assert "\n" not in str(raised.value)
    assert not any(p.name.startswith(("dicom", ".dicom")) for p in (tmp_path / "node").iterdir())
