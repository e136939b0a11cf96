"""A static PET with weight, dose, injection time, half life, units BQML and decay correction
START gives an SUV computed from the DICOM header alone (the vendor-neutral QIBA formula,
written here from the standard's attributes, independent of the package) within 0.1 %."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from .conftest import cli

WEIGHT_KG, DOSE_BQ, HALF_LIFE = 70.0, 370e6, 6586.2
INJECTION, SCAN = "090000", "100000"  # 60 min uptake


def _clock(date: str, time: str) -> datetime:
    return datetime.strptime(date + time.split(".")[0].ljust(6, "0"), "%Y%m%d%H%M%S")


def qiba_suv_bw(dataset: pydicom.Dataset) -> np.ndarray:
    """SUVbw of one PET image from its header (QIBA vendor-neutral pseudo-code, BQML, START)."""
    assert dataset.Units == "BQML" and dataset.DecayCorrection == "START"
    assert "ATTN" in dataset.CorrectedImage and "DECY" in dataset.CorrectedImage
    scan = _clock(dataset.SeriesDate, dataset.SeriesTime)
    acquisition = _clock(dataset.AcquisitionDate, dataset.AcquisitionTime)
    assert scan <= acquisition  # else the vendor-specific branch would apply
    drug = dataset.RadiopharmaceuticalInformationSequence[0]
    start = _clock(dataset.SeriesDate, drug.RadiopharmaceuticalStartTime)
    decay_time = (scan - start).total_seconds()
    assert decay_time > 0
    dose = float(drug.RadionuclideTotalDose) * 2 ** (-decay_time / float(drug.RadionuclideHalfLife))
    activity = dataset.pixel_array * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
    return activity * float(dataset.PatientWeight) * 1000 / dose


def _expected(activity: np.ndarray) -> np.ndarray:
    dose = DOSE_BQ * 2 ** (-3600 / HALF_LIFE)
    return activity * WEIGHT_KG * 1000 / dose


def _activity(tmp_path: Path) -> tuple[str, np.ndarray]:
    data = np.random.default_rng(5).uniform(1000, 30000, (20, 18, 6)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0])), tmp_path / "pet.nii")
    return str(tmp_path / "pet.nii"), data


def _check(out: Path, data: np.ndarray) -> None:
    datasets = [pydicom.dcmread(p) for p in sorted(out.glob("*.dcm"))]
    assert int(datasets[0].ActualFrameDuration) == 600_000
    # the frame's middle, in ms from the series time, which is the scan start (10:00)
    assert float(datasets[0].FrameReferenceTime) == 300_000
    assert datasets[0].SeriesTime.startswith(SCAN)
    for k, dataset in enumerate(datasets):
        got, want = qiba_suv_bw(dataset), _expected(data[:, :, k].T)
        assert np.max(np.abs(got / want - 1)) < 1e-3


def test_suv_from_flags(tmp_path: Path) -> None:
    source, data = _activity(tmp_path)
    result = cli(
        "save", source, str(tmp_path / "out"), "--template", "ge-discovery-st-pet",
        "--patient-weight", str(WEIGHT_KG), "--injected-dose", "370MBq",
        "--injection-time", INJECTION, "--acquisition-time", SCAN, "--half-life",
        str(HALF_LIFE), "--units", "BQML", "--decay-correction", "START",
        "--frame-durations", "600",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _check(tmp_path / "out", data)


def test_suv_from_a_bids_sidecar(tmp_path: Path) -> None:
    source, data = _activity(tmp_path)
    sidecar = {
        "TracerName": "FDG",
        "TracerRadionuclide": "F18",
        "InjectedRadioactivity": 370,
        "InjectedRadioactivityUnits": "MBq",
        "Units": "Bq/mL",
        "TimeZero": "09:00:00",
        "InjectionStart": 0,
        "ScanStart": 3600,
        "FrameTimesStart": [3600],
        "FrameDuration": [600],
        "ImageDecayCorrected": True,
        "ImageDecayCorrectionTime": 3600,
    }
    (tmp_path / "pet.json").write_text(json.dumps(sidecar))
    result = cli(
        "save", source, str(tmp_path / "out"), "--template", "ge-discovery-st-pet",
        "--metadata", str(tmp_path / "pet.json"), "--patient-weight", str(WEIGHT_KG),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _check(tmp_path / "out", data)


@pytest.mark.parametrize("study", [[], ["--study-time", "085000"]], ids=["alone", "study"])
def test_suv_from_flags_with_frame_times_after_the_injection(study, tmp_path: Path) -> None:
    """No acquisition time: the frame times count from the injection, and the scan starts
    with the first frame (a study time does not change that)."""
    source, data = _activity(tmp_path)
    result = cli(
        "save", source, str(tmp_path / "out"), "--template", "ge-discovery-st-pet",
        "--patient-weight", str(WEIGHT_KG), "--injected-dose", "370MBq",
        "--injection-time", INJECTION, "--half-life", str(HALF_LIFE), "--units", "BQML",
        "--decay-correction", "START", "--frame-times", "3600", "--frame-durations", "600",
        *study,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _check(tmp_path / "out", data)


@pytest.mark.parametrize("command", ["demo"])
def test_demo_pet_gives_an_suv(command: str, tmp_path: Path) -> None:
    result = cli(command, str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    first = pydicom.dcmread(sorted((tmp_path / "demo" / "dicom").glob("*.dcm"))[0])
    suv = qiba_suv_bw(first)
    assert np.isfinite(suv).all() and float(first.PatientWeight) == 70
