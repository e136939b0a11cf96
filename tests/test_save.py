"""The save engine on synthetic volumes, judged by dciodvfy, dcm2niix and pydicom."""

from __future__ import annotations

import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.export import output
from nipype_vinci.export.metadata import build_metadata
from nipype_vinci.export.save import SaveOptions, save_series
from nipype_vinci.template.library import load_template

from .export_checks import check_series

PET = "ge-discovery-st-pet"
CT = "ge-lightspeed16-ct"
MR = "siemens-avanto-mr"


def oblique(voxel=(2.0, 2.5, 3.0), angles=(10.0, -7.0, 4.0)) -> np.ndarray:
    ax, ay, az = np.radians(angles)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rz @ ry @ rx @ np.diag(voxel)
    affine[:3, 3] = (-120.5, -98.25, -60.0)
    return affine


def _export(
    tmp_path: Path, data: np.ndarray, affine: np.ndarray, template: str, **meta
) -> tuple[Path, object]:
    image = tmp_path / "in.nii"
    nib.save(nib.Nifti1Image(data, affine), image)
    out = tmp_path / "series"
    report = save_series(
        image, out, load_template(template), build_metadata(meta), SaveOptions(uid_seed=None)
    )
    return out, report


RNG = np.random.default_rng(7)


def test_oblique_float_pet_with_negative_values_odd_size(tmp_path: Path) -> None:
    data = (RNG.gamma(2.0, 900.0, (97, 113, 41)) - 300).astype(np.float32)
    out, report = _export(
        tmp_path,
        data,
        oblique(),
        PET,
        radiopharmaceutical="FDG",
        injected_dose="370MBq",
        half_life="6586.2",
        units="BQML",
    )
    facts = check_series(out, data, oblique(), tmp_path / "n")
    first = facts["datasets"][0]
    assert first.PixelRepresentation == 1 and float(first.RescaleIntercept) == 0
    pharm = first.RadiopharmaceuticalInformationSequence[0]
    assert pharm.Radiopharmaceutical == "FDG" and float(pharm.RadionuclideTotalDose) == 3.7e8
    assert report.max_quantization_error <= report.slope_max / 2


def test_int16_ct_in_hu_is_bit_exact(tmp_path: Path) -> None:
    data = RNG.integers(-1024, 3071, (64, 48, 12)).astype(np.int16)
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    out, report = _export(tmp_path, data, affine, CT)
    facts = check_series(out, data, affine, tmp_path / "n")
    assert facts["slopes"] == [1.0] * 12 and report.max_quantization_error == 0
    stack = np.stack([d.pixel_array for d in facts["datasets"]], axis=-1).transpose(1, 0, 2)
    assert np.array_equal(stack + 0, data)  # intercept 0, slope 1: stored = HU exactly


def test_mr_float(tmp_path: Path) -> None:
    data = RNG.random((40, 56, 9)).astype(np.float32) * 1234.5
    check_series(
        _export(tmp_path, data, oblique((1.1, 0.9, 4.0)), MR)[0],
        data,
        oblique((1.1, 0.9, 4.0)),
        tmp_path / "n",
    )


def test_single_slice(tmp_path: Path) -> None:
    data = RNG.random((33, 21, 1)).astype(np.float32) * 50
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    check_series(_export(tmp_path, data, affine, PET)[0], data, affine, tmp_path / "n")


@pytest.mark.parametrize("template", [CT, MR])
def test_left_handed_las_affine(tmp_path: Path, template: str) -> None:
    data = RNG.integers(0, 2000, (30, 40, 15)).astype(np.int16)
    affine = np.diag([-1.2, 1.3, 2.0, 1.0])
    affine[:3, 3] = (40, -30, 10)
    check_series(_export(tmp_path, data, affine, template)[0], data, affine, tmp_path / "n")


def test_dynamic_pet_with_unequal_frames(tmp_path: Path) -> None:
    data = (RNG.random((24, 20, 7, 5)) * 8000).astype(np.float32)
    starts, durations = [0, 30, 90, 210, 450], [30, 60, 120, 240, 600]
    out, _ = _export(tmp_path, data, oblique(), PET, frame_times=starts, frame_durations=durations)
    facts = check_series(out, data, oblique(), tmp_path / "n")
    datasets = facts["datasets"]
    assert datasets[0].SeriesType[0] == "DYNAMIC" and datasets[0].NumberOfTimeSlices == 5
    assert [int(d.ActualFrameDuration) for d in datasets[::7]] == [1000 * d for d in durations]
    assert [int(d.ImageIndex) for d in datasets] == list(range(1, 36))
    rebuilt = nib.load(tmp_path / "n" / "rebuilt.nii")
    assert rebuilt.shape == (24, 20, 7, 5)


def test_slow_disk_never_sees_a_reused_buffer(tmp_path: Path, monkeypatch) -> None:
    """Files are written on a background thread; a plane's buffer is not refilled while the
    file that holds it is still being written."""
    real_write = output.write_pieces

    def slow_write(path, pieces):
        time.sleep(0.01)
        real_write(path, pieces)

    monkeypatch.setattr(output, "write_pieces", slow_write)
    data = RNG.integers(-1024, 3071, (16, 12, 23)).astype(np.int16)
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    out, _ = _export(tmp_path, data, affine, CT)
    facts = check_series(out, data, affine, tmp_path / "n")
    stack = np.stack([d.pixel_array for d in facts["datasets"]], axis=-1).transpose(1, 0, 2)
    assert np.array_equal(stack, data)
