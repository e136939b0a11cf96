"""The encode seam's second encoder: Implicit VR Little Endian, from the template's (0002,0010)
or --transfer-syntax, judged by dcmdump, dciodvfy, pydicom (byte identity) and dcm2niix; a
syntax no encoder writes is refused, never ignored."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from nipype_vinci.template.library import find_template

from .conftest import cli, need_tool
from .export_checks import check_series

RNG = np.random.default_rng(11)


def _template_with_syntax(tmp_path: Path, name: str, syntax_line: str) -> Path:
    text = find_template(name).read_bytes()  # in the template's own character set
    text = text.replace(b"(0002,0010) UI =LittleEndianExplicit", syntax_line.encode())
    path = tmp_path / f"{name}-syntax.dump"
    path.write_bytes(text)
    return path


@pytest.mark.parametrize("frames", [1, 3])
@pytest.mark.parametrize("name", ["ge-discovery-st-pet", "ge-lightspeed16-ct", "siemens-avanto-mr"])
def test_template_asking_for_implicit_vr(name: str, frames: int, tmp_path: Path) -> None:
    template = _template_with_syntax(tmp_path, name, "(0002,0010) UI =LittleEndianImplicit")
    data = (RNG.random((21, 17, 6, frames)) * 900 - 40).astype(np.float32)[..., :frames]
    affine = np.diag([1.5, 1.25, 3.0, 1.0])
    nib.save(nib.Nifti1Image(data.squeeze(-1) if frames == 1 else data, affine), tmp_path / "a.nii")
    timing = ["--frame-durations", ",".join(["60"] * frames)]
    args = ["save", str(tmp_path / "a.nii"), str(tmp_path / "out"), "--template", str(template)]
    result = cli(*args, "--patient-name", "Müller^Jörg", *timing)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").glob("*.dcm"))
    for path in files:
        written = path.read_bytes()
        dataset = pydicom.dcmread(io.BytesIO(written))
        assert dataset.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
        again = io.BytesIO()
        pydicom.dcmwrite(again, dataset, enforce_file_format=True)
        assert again.getvalue() == written, path.name
    dump = subprocess.run([need_tool("dcmdump"), str(files[0])], capture_output=True, check=True)
    assert b"LittleEndianImplicit" in dump.stdout and not dump.stderr
    volume = data.squeeze(-1) if frames == 1 else data
    check_series(tmp_path / "out", volume, affine, tmp_path / "n")


def test_transfer_syntax_option_wins_over_the_template(tmp_path: Path) -> None:
    data = RNG.integers(-1000, 2000, (16, 12, 4)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "a.nii")
    result = cli(
        "save", str(tmp_path / "a.nii"), str(tmp_path / "out"), "--template",
        "ge-lightspeed16-ct", "--transfer-syntax", "implicit",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first = pydicom.dcmread(sorted((tmp_path / "out").glob("*.dcm"))[0])
    assert first.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert np.array_equal(first.pixel_array.T, data[:, :, 0])


def test_template_with_a_syntax_no_encoder_writes_is_refused(tmp_path: Path) -> None:
    template = _template_with_syntax(
        tmp_path, "ge-lightspeed16-ct", "(0002,0010) UI =JPEGBaseline  # TransferSyntaxUID"
    )
    nib.save(nib.Nifti1Image(np.ones((4, 4, 2), np.int16), np.eye(4)), tmp_path / "a.nii")
    result = cli(
        "save", str(tmp_path / "a.nii"), str(tmp_path / "out"), "--template", str(template)
    )
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "1.2.840.10008.1.2.4.50" in result.stderr and "--transfer-syntax" in result.stderr
    assert not (tmp_path / "out").exists()


def test_check_template_refuses_a_syntax_no_encoder_writes(tmp_path: Path) -> None:
    template = _template_with_syntax(
        tmp_path, "ge-lightspeed16-ct", "(0002,0010) UI =JPEGBaseline  # TransferSyntaxUID"
    )
    result = cli("check-template", str(template))
    assert result.returncode == 2 and "1.2.840.10008.1.2.4.50" in result.stderr
