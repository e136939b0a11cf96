"""Judge an exported series with tools nobody here wrote: dciodvfy, dcm2niix, pydicom."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation

from .conftest import need_tool

UID = re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*))*")


def dciodvfy_errors(files: list[Path]) -> list[str]:
    """Every 'Error' line dciodvfy prints for the files (warnings are allowed)."""
    tool = need_tool("dciodvfy")
    errors = []
    for path in files:
        result = subprocess.run([tool, str(path)], capture_output=True, errors="replace")
        errors += [
            f"{path.name}: {line}"
            for line in (result.stdout + result.stderr).splitlines()
            if line.startswith("Error")
        ]
    return errors


def dcmdump_problems(files: list[Path]) -> list[str]:
    """What DCMTK's dcmdump says is wrong when it reads the files (nothing, for good files)."""
    tool = need_tool("dcmdump")
    problems = []
    for path in files:
        result = subprocess.run([tool, "-q", str(path)], capture_output=True, text=True)
        if result.returncode or result.stderr.strip():
            problems.append(f"{path.name}: {result.returncode} {result.stderr.strip()}")
    return problems


def canonical(image: nib.Nifti1Image) -> tuple[np.ndarray, np.ndarray]:
    """Data (float64) and affine of an image turned to the closest RAS+ voxel order."""
    data = np.asarray(image.dataobj, dtype=np.float64)
    ornt = io_orientation(image.affine)
    affine = image.affine @ inv_ornt_aff(ornt, image.shape[:3])
    return apply_orientation(data, ornt), affine


def dcm2niix_volume(series: Path, work: Path) -> nib.Nifti1Image:
    """The one volume dcm2niix rebuilds from the series folder."""
    tool = need_tool("dcm2niix")
    work.mkdir()
    subprocess.run(
        [tool, "-z", "n", "-f", "rebuilt", "-o", str(work), str(series)],
        check=True,
        capture_output=True,
    )
    volumes = sorted(work.glob("*.nii"))
    assert [v.name for v in volumes] == ["rebuilt.nii"], f"dcm2niix made {volumes}"
    return nib.load(volumes[0])


def series_files(series: Path) -> list[pydicom.Dataset]:
    files = sorted(series.glob("*.dcm"))
    return [pydicom.dcmread(f) for f in files]


def check_series(series: Path, data: np.ndarray, affine: np.ndarray, work: Path) -> dict:
    """All checks of the save-engine issue; returns facts for further asserts."""
    datasets = series_files(series)
    files = sorted(series.glob("*.dcm"))
    assert dciodvfy_errors(files) == []
    # pydicom: one series, unique valid UIDs, instance numbers 1..N in file order
    assert len({d.SeriesInstanceUID for d in datasets}) == 1
    assert len({d.StudyInstanceUID for d in datasets}) == 1
    sops = [d.SOPInstanceUID for d in datasets]
    assert len(set(sops)) == len(sops)
    for d in datasets:
        for uid in (
            d.SOPInstanceUID,
            d.SeriesInstanceUID,
            d.StudyInstanceUID,
            d.FrameOfReferenceUID,
            d.file_meta.MediaStorageSOPInstanceUID,
        ):
            assert len(uid) <= 64 and UID.fullmatch(uid), uid
        assert d.file_meta.MediaStorageSOPInstanceUID == d.SOPInstanceUID
    assert [int(d.InstanceNumber) for d in datasets] == list(range(1, len(datasets) + 1))
    # every file decodes, with its own slope and intercept as written, within slope/2
    frames = data.reshape(data.shape[:3] + (-1,))
    slopes = []
    for number, d in enumerate(datasets):
        frame, k = divmod(number, frames.shape[2])
        slope, intercept = float(d.RescaleSlope), float(d.RescaleIntercept)
        decoded = d.pixel_array.astype(np.float64) * slope + intercept
        expected = frames[:, :, k, frame].T
        assert np.max(np.abs(decoded - expected)) <= slope / 2 * (1 + 1e-9)
        slopes.append(slope)
    # precision contract: within 1e-4 of each frame's own value range
    for frame in range(frames.shape[3]):
        values = frames[:, :, :, frame]
        span = float(values.max() - values.min())
        count = frames.shape[2]
        for k, d in enumerate(datasets[frame * count : (frame + 1) * count]):
            decoded = d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept)
            assert np.max(np.abs(decoded - values[:, :, k].T)) <= 1e-4 * span + 1e-12
    # dcm2niix rebuilds the volume: affine within 0.01 mm, values within slope/2 (+ float32)
    rebuilt = dcm2niix_volume(series, work)
    got, got_affine = canonical(rebuilt)
    want, want_affine = canonical(nib.Nifti1Image(data.astype(np.float64), affine))
    assert got.shape[:3] == want.shape[:3]
    assert np.allclose(got_affine[:3, :3], want_affine[:3, :3], atol=1e-4)
    assert np.max(np.abs(got_affine[:3, 3] - want_affine[:3, 3])) < 0.01
    slack = 4 * np.finfo(np.float32).eps * float(np.max(np.abs(want)))  # NIfTI float32 slope
    assert np.max(np.abs(got.reshape(want.shape) - want)) <= max(slopes) / 2 + slack
    return {"datasets": datasets, "slopes": slopes}
