"""The save and demo commands end to end: formats, reports, metadata files, seeds, NaN."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from .conftest import cli
from .export_checks import check_series, dciodvfy_errors

AFFINE = np.array([[-1.5, 0, 0, 30], [0, 1.5, 0, -20], [0, 0, 2.0, 5], [0, 0, 0, 1]])


@pytest.mark.parametrize("kind", ["mgz", "analyze", "nii.gz"])
def test_formats_nibabel_reads(kind: str, tmp_path: Path) -> None:
    data = (np.random.default_rng(5).random((18, 14, 5)) * 700).astype(np.float32)
    image = {"mgz": nib.MGHImage, "analyze": nib.Nifti1Pair, "nii.gz": nib.Nifti1Image}[kind]
    suffix = {"mgz": ".mgz", "analyze": ".img", "nii.gz": ".nii.gz"}[kind]
    path = tmp_path / f"in{suffix}"
    nib.save(image(data, AFFINE), path)
    result = cli("save", str(path), "out", "--template", "siemens-avanto-mr", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    check_series(tmp_path / "out", data, AFFINE, tmp_path / "n")


def test_json_report_and_metadata_file(tmp_path: Path) -> None:
    data = (np.random.default_rng(5).random((18, 14, 5)) * 700).astype(np.float32)
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / "pet.nii")
    (tmp_path / "pet.json").write_text(
        json.dumps(
            {
                "TracerName": "FDG",
                "TracerRadionuclide": "F18",
                "InjectedRadioactivity": 370,
                "InjectedRadioactivityUnits": "MBq",
                "TimeZero": "10:00:00",
                "InjectionStart": -600,
                "Units": "Bq/mL",
                "PATIENTNAME": "Doe^John",
            }
        )
    )
    result = cli(
        "save",
        "pet.nii",
        "out",
        "--template",
        "ge-discovery-st-pet",
        "--metadata",
        "pet.json",
        "--patient-id",
        "P7",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["files"]) == 5 and report["scaling_mode"] == "per-slice"  # PET default
    assert report["max_quantization_error"] <= report["slope_max"] / 2
    first = pydicom.dcmread(tmp_path / "out" / report["files"][0])
    pharm = first.RadiopharmaceuticalInformationSequence[0]
    assert (pharm.Radiopharmaceutical, float(pharm.RadionuclideTotalDose)) == ("FDG", 3.7e8)
    assert float(pharm.RadionuclideHalfLife) == 6586.2
    assert pharm.RadiopharmaceuticalStartTime.startswith("095000")
    assert (first.PatientName, first.PatientID, first.Units) == ("Doe^John", "P7", "BQML")
    assert first.SeriesInstanceUID == report["series_instance_uid"]


def test_uid_seed_reproduces_and_default_is_unique(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.ones((6, 5, 3), np.int16), AFFINE), tmp_path / "a.nii")

    def uids(out: str, *extra: str) -> list[str]:
        assert (
            cli(
                "save", "a.nii", out, "--template", "ge-lightspeed16-ct", *extra, cwd=tmp_path
            ).returncode
            == 0
        )
        return [pydicom.dcmread(p).SOPInstanceUID for p in sorted((tmp_path / out).glob("*.dcm"))]

    assert uids("s1", "--uid-seed", "42") == uids("s2", "--uid-seed", "42")
    assert not set(uids("r1")) & set(uids("r2"))


def test_nan_value_replaces_nan(tmp_path: Path) -> None:
    data = np.full((6, 5, 3), 7.5, np.float32)
    data[1, 2, 0] = np.nan
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / "a.nii")
    result = cli(
        "save", "a.nii", "out", "--template", "siemens-avanto-mr", "--nan-value", "0", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    expected = np.nan_to_num(data, nan=0.0)
    check_series(tmp_path / "out", expected, AFFINE, tmp_path / "n")


def test_demo_runs_and_validates(tmp_path: Path) -> None:
    result = cli("demo", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out" / "dicom").glob("*.dcm"))
    assert len(files) == 41 and dciodvfy_errors(files[::10]) == []
    phantom = nib.load(tmp_path / "out" / "phantom_pet.nii.gz")
    check_series(
        tmp_path / "out" / "dicom",
        phantom.get_fdata(dtype=np.float32),
        phantom.affine,
        tmp_path / "n",
    )
    assert "Not for diagnostic use" in result.stdout
