"""Reference mode: a derived image joins its original study (patient, study, frame of
reference), points back to it in a way dciodvfy accepts, and flags still win."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from .conftest import cli, need_tool
from .export_checks import dciodvfy_errors


@pytest.fixture(scope="module")
def derived(tmp_path_factory) -> tuple[Path, Path]:
    """The real GE PET series and an 'SUV map' made from it (dcm2niix, then scaled)."""
    samples = Path(__file__).resolve().parents[2] / "shared" / "samples" / "pet-ge-discovery-st"
    if not samples.is_dir():
        pytest.skip(f"the real PET series is absent ({samples})")
    work = tmp_path_factory.mktemp("reference")
    subprocess.run(
        [need_tool("dcm2niix"), "-o", str(work), "-f", "pet", str(samples)],
        capture_output=True,
        check=True,
    )
    image = nib.load(work / "pet.nii")
    suv = np.asarray(image.dataobj, dtype=np.float32) / 5000.0
    nib.save(nib.Nifti1Image(suv, image.affine), work / "suv.nii")
    return samples, work / "suv.nii"


def _save(source: Path, out: Path, *args: str) -> dict:
    result = cli("save", str(source), str(out), *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_derived_series_joins_the_original_study(derived, tmp_path: Path) -> None:
    reference, suv = derived
    report = _save(suv, tmp_path / "suv", "--reference", str(reference), "--units", "GML")
    source = pydicom.dcmread(sorted(reference.iterdir())[0], stop_before_pixels=True)
    files = sorted((tmp_path / "suv").glob("*.dcm"))
    first = pydicom.dcmread(files[0])
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "FrameOfReferenceUID"):
        assert first.get(keyword) == source.get(keyword), keyword
    assert first.SeriesInstanceUID != source.SeriesInstanceUID
    assert int(first.SeriesNumber) == int(source.SeriesNumber) + 1000
    assert list(first.ImageType[:2]) == ["DERIVED", "PRIMARY"]  # PET Image requires PRIMARY
    assert "nipype_vinci" in first.DerivationDescription
    assert "quantization error" in first.DerivationDescription
    related = first.RelatedSeriesSequence[0]
    assert related.SeriesInstanceUID == source.SeriesInstanceUID
    equipment = first.ContributingEquipmentSequence[0]
    assert equipment.Manufacturer == "nipype_vinci"
    assert equipment.PurposeOfReferenceCodeSequence[0].CodeValue == "109102"
    assert "PatientIdentityRemoved" not in first
    assert report["reference"]["frame_of_reference"]["same"] is True
    # SourceImageSequence only on slices that lie in a reference slice's plane
    uids = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in reference.iterdir()}
    with_source = [d for d in map(pydicom.dcmread, files) if "SourceImageSequence" in d]
    assert len(with_source) == report["reference"]["source_images"] > 0
    assert all(d.SourceImageSequence[0].ReferencedSOPInstanceUID in uids for d in with_source)
    assert dciodvfy_errors(files[:3] + [with_source[0].filename]) == []


def test_flags_win_over_the_reference(derived, tmp_path: Path) -> None:
    reference, suv = derived
    _save(
        suv, tmp_path / "out", "--reference", str(reference), "--series-number", "77",
        "--patient-weight", "81.5", "--frame-of-reference", "new",
    )  # fmt: skip
    source = pydicom.dcmread(sorted(reference.iterdir())[0], stop_before_pixels=True)
    first = pydicom.dcmread(sorted((tmp_path / "out").glob("*.dcm"))[0])
    assert int(first.SeriesNumber) == 77 and float(first.PatientWeight) == 81.5
    assert first.FrameOfReferenceUID != source.FrameOfReferenceUID
    assert "SourceImageSequence" not in first
    assert first.StudyInstanceUID == source.StudyInstanceUID


def test_an_image_elsewhere_gets_a_new_frame_of_reference(derived, tmp_path: Path) -> None:
    reference, _ = derived
    far = np.eye(4)
    far[:3, 3] = (5000.0, 5000.0, 5000.0)
    nib.save(nib.Nifti1Image(np.ones((8, 8, 4), np.float32), far), tmp_path / "far.nii")
    report = _save(tmp_path / "far.nii", tmp_path / "out", "--reference", str(reference))
    decision = report["reference"]["frame_of_reference"]
    assert decision["same"] is False and "outside" in decision["reason"]


def test_a_reference_that_is_no_dicom_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "notes.txt").write_text("not a scan")
    nib.save(nib.Nifti1Image(np.ones((4, 4, 2), np.int16), np.eye(4)), tmp_path / "a.nii")
    result = cli(
        "save", str(tmp_path / "a.nii"), str(tmp_path / "out"), "--template",
        "ge-lightspeed16-ct", "--reference", str(tmp_path / "ref"),
    )  # fmt: skip
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "holds no DICOM file" in result.stderr and not (tmp_path / "out").exists()


def test_bids_images_join_their_source_study_through_reference_dir(derived, tmp_path) -> None:
    reference, _ = derived
    subprocess.run(
        [need_tool("dcm2niix"), "-ba", "n", "-o", str(tmp_path), "-f", "pet", str(reference)],
        capture_output=True,
        check=True,
    )
    sidecar = json.loads((tmp_path / "pet.json").read_text())
    assert sidecar["SeriesInstanceUID"]  # dcm2niix names the source series
    dataset = tmp_path / "ds"
    pet = dataset / "sub-01" / "pet"
    pet.mkdir(parents=True)
    (dataset / "dataset_description.json").write_text(
        json.dumps({"Name": "suv", "BIDSVersion": "1.9.0", "DatasetType": "derivative"})
    )
    image = nib.load(tmp_path / "pet.nii")
    suv = np.asarray(image.dataobj, dtype=np.float32) / 5000.0
    nib.save(nib.Nifti1Image(suv, image.affine), pet / "sub-01_desc-suv_pet.nii.gz")
    (pet / "sub-01_desc-suv_pet.json").write_text(json.dumps({**sidecar, "Units": "g/mL"}))
    archive = tmp_path / "archive"
    (archive / "study").mkdir(parents=True)
    (archive / "study" / "pet").symlink_to(reference)
    result = cli(
        "bids", str(dataset), str(tmp_path / "out"), "participant", "--reference-dir",
        str(archive), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (series,) = json.loads(result.stdout)["series"]
    assert series["reference"]["series_instance_uid"] == sidecar["SeriesInstanceUID"]
    first = pydicom.dcmread(sorted(Path(series["output"]).glob("*.dcm"))[0])
    source = pydicom.dcmread(sorted(reference.iterdir())[0], stop_before_pixels=True)
    assert first.StudyInstanceUID == source.StudyInstanceUID
    assert first.FrameOfReferenceUID == source.FrameOfReferenceUID
    assert int(first.SeriesNumber) == int(source.SeriesNumber) + 1000
    assert first.Units == "GML"
