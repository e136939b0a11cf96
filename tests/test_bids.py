"""BIDS export: a synthetic dataset (two subjects, two sessions, static and dynamic PET, T1w,
a derivative SUV map) through the `bids` command and the pure metadata functions."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from nipype_vinci.bids import image_metadata
from nipype_vinci.errors import VinciError

from .conftest import cli
from .export_checks import check_series

AFFINE = np.diag([2.0, 2.0, 2.5, 1.0])
PET_SIDECAR = {
    "Manufacturer": "GE",
    "ManufacturersModelName": "Discovery ST",
    "TracerName": "FDG",
    "TracerRadionuclide": "F18",
    "InjectedRadioactivity": 250,
    "InjectedRadioactivityUnits": "MBq",
    "Units": "Bq/mL",
    "TimeZero": "10:00:00",
    "InjectionStart": 0,
    "FrameTimesStart": [0],
    "FrameDuration": [600],
    "ImageDecayCorrected": True,
    "ImageDecayCorrectionTime": 0,
}


def _image(path: Path, shape, scale=1000.0, dtype=np.float32, seed=0) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (np.random.default_rng(seed).random(shape) * scale).astype(dtype)
    nib.save(nib.Nifti1Image(data, AFFINE), path)
    return data


def _json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    _json(root / "dataset_description.json", {"Name": "synthetic", "BIDSVersion": "1.9.0"})
    (root / "participants.tsv").write_text(
        "participant_id\tsex\tage\tweight\nsub-01\tF\t54\t61.5\nsub-02\tM\t33\tn/a\n"
    )
    _json(root / "pet.json", {"Units": "Bq/mL"})  # inherited by every PET image
    _image(root / "sub-01/ses-1/pet/sub-01_ses-1_pet.nii.gz", (16, 14, 6))
    _json(root / "sub-01/ses-1/pet/sub-01_ses-1_pet.json", PET_SIDECAR)
    (root / "sub-01/ses-1/sub-01_ses-1_scans.tsv").write_text(
        "filename\tacq_time\npet/sub-01_ses-1_pet.nii.gz\t2023-04-05T10:20:30\n"
    )
    dynamic = {
        **PET_SIDECAR,
        "FrameTimesStart": [0, 20, 60, 180],
        "FrameDuration": [20, 40, 120, 300],
    }
    _image(root / "sub-01/ses-2/pet/sub-01_ses-2_rec-dyn_pet.nii.gz", (12, 10, 5, 4), seed=1)
    _json(root / "sub-01/ses-2/pet/sub-01_ses-2_rec-dyn_pet.json", dynamic)
    _image(root / "sub-01/ses-2/anat/sub-01_ses-2_T1w.nii.gz", (20, 18, 7), seed=2)
    _image(root / "sub-02/anat/sub-02_T1w.nii.gz", (20, 18, 7), seed=3)
    suv = root / "derivatives/suv"
    _json(
        suv / "dataset_description.json",
        {
            "Name": "suv",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "suvcalc"}],
        },
    )
    _image(
        suv / "sub-01/ses-1/pet/sub-01_ses-1_space-T1w_desc-suv_pet.nii.gz",
        (16, 14, 6),
        scale=12.0,
        seed=4,
    )
    _json(
        suv / "sub-01/ses-1/pet/sub-01_ses-1_space-T1w_desc-suv_pet.json",
        {"Units": "g/mL", "TracerName": "FDG"},
    )
    return root


def test_sidecar_inheritance_participants_and_scans(dataset: Path) -> None:
    values, query, _ = image_metadata(dataset / "sub-01/ses-1/pet/sub-01_ses-1_pet.nii.gz", dataset)
    assert values["radiopharmaceutical"] == "FDG" and values["units"] == "Bq/mL"
    assert values["half_life"] == 6586.2 and values["injected_dose"] == 250000000.0
    assert (values["patient_sex"], values["patient_age"], values["patient_weight"]) == (
        "F",
        "054Y",
        61.5,
    )
    assert (values["study_date"], values["study_time"]) == ("20230405", "102030")
    assert query == {"modality": "PT", "manufacturer": "GE", "model": "Discovery ST"}


def test_whole_dataset_exports(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(
        "bids",
        str(dataset),
        str(out),
        "participant",
        "--nprocs",
        "2",
        "-w",
        str(tmp_path / "work"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "nipype_vinci"
    series = {
        "sub-01/ses-1/pet/sub-01_ses-1_pet": (16, 14, 6),
        "sub-01/ses-2/pet/sub-01_ses-2_rec-dyn_pet": (12, 10, 5, 4),
        "sub-01/ses-2/anat/sub-01_ses-2_T1w": (20, 18, 7),
        "sub-02/anat/sub-02_T1w": (20, 18, 7),
    }
    for relative in series:
        image = nib.load(dataset / f"{relative}.nii.gz")
        check_series(
            out / relative,
            np.asarray(image.dataobj),
            image.affine,
            tmp_path / f"n-{relative.replace('/', '-')}",
        )
        report = json.loads((out / f"{relative}.json").read_text())
        assert report["input"].endswith(f"{relative}.nii.gz")
    static = pydicom.dcmread(sorted((out / "sub-01/ses-1/pet/sub-01_ses-1_pet").glob("*.dcm"))[0])
    pharm = static.RadiopharmaceuticalInformationSequence[0]
    assert (pharm.Radiopharmaceutical, float(pharm.RadionuclideTotalDose)) == ("FDG", 2.5e8)
    assert float(pharm.RadionuclideHalfLife) == 6586.2
    assert pharm.RadiopharmaceuticalStartTime.startswith("100000")
    assert static.Units == "BQML" and static.PatientSex == "F" and static.StudyDate == "20230405"
    assert static.DecayCorrection == "ADMIN"  # ImageDecayCorrectionTime == InjectionStart
    dynamic = [
        pydicom.dcmread(p)
        for p in sorted((out / "sub-01/ses-2/pet/sub-01_ses-2_rec-dyn_pet").glob("*.dcm"))
    ]
    assert [int(d.ActualFrameDuration) for d in dynamic[::5]] == [20000, 40000, 120000, 300000]
    anat = pydicom.dcmread(sorted((out / "sub-01/ses-2/anat/sub-01_ses-2_T1w").glob("*.dcm"))[0])
    assert anat.StudyInstanceUID == dynamic[0].StudyInstanceUID  # one study per session
    assert anat.StudyInstanceUID != static.StudyInstanceUID
    assert sorted([int(anat.SeriesNumber), int(dynamic[0].SeriesNumber)]) == [1, 2]
    # a second run with the same work folder reuses Nipype's cache: no export work
    again = cli(
        "bids", str(dataset), str(out), "participant", "-w", str(tmp_path / "work"), "-v",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    log = again.stdout + again.stderr
    assert log.count("save_dicom).") == 4 and all(
        "Cached" in line for line in log.splitlines() if "save_dicom)." in line
    )


def test_filters_and_derivatives(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "o1"
    result = cli(
        "bids",
        str(dataset),
        str(out),
        "participant",
        "--participant-label",
        "01",
        "--session",
        "2",
        "--datatype",
        "anat",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir())
    assert made == [
        "sub-01",
        "sub-01/ses-2",
        "sub-01/ses-2/anat",
        "sub-01/ses-2/anat/sub-01_ses-2_T1w",
    ]
    suv = tmp_path / "o2"
    result = cli(
        "bids",
        str(dataset / "derivatives/suv"),
        str(suv),
        "participant",
        "--desc",
        "suv",
        "--space",
        "T1w",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    series = suv / "sub-01/ses-1/pet/sub-01_ses-1_space-T1w_desc-suv_pet"
    image = nib.load(dataset / "derivatives/suv" / f"{series.relative_to(suv)}.nii.gz")
    check_series(series, np.asarray(image.dataobj), image.affine, tmp_path / "n")
    assert pydicom.dcmread(next(series.glob("*.dcm"))).Units == "GML"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"drop": "TracerName"}, "lacks TracerName"),
        ({"InjectedRadioactivityUnits": "furlongs"}, "InjectedRadioactivityUnits 'furlongs'"),
        ({"ImageDecayCorrectionTime": 77}, "ImageDecayCorrectionTime 77 is neither"),
    ],
)
def test_bad_sidecar_fails_with_file_and_field(
    dataset: Path, tmp_path: Path, change: dict, message: str
) -> None:
    path = dataset / "sub-01/ses-1/pet/sub-01_ses-1_pet.json"
    sidecar = dict(PET_SIDECAR)
    sidecar.pop(change.pop("drop", ""), None)
    sidecar.update(change)
    path.write_text(json.dumps(sidecar))
    with pytest.raises(VinciError, match=message):
        image_metadata(dataset / "sub-01/ses-1/pet/sub-01_ses-1_pet.nii.gz", dataset)
    result = cli("bids", str(dataset), str(tmp_path / "o"), "participant", cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and message in lines[0]
    assert "sub-01_ses-1_pet.json" in lines[0] and "Traceback" not in result.stderr


def test_no_matching_image(dataset: Path, tmp_path: Path) -> None:
    result = cli(
        "bids",
        str(dataset),
        str(tmp_path / "o"),
        "participant",
        "--participant-label",
        "99",
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "no image matches" in result.stderr
    assert "Traceback" not in result.stderr


def test_quiet_output_json_summary_and_nothing_dropped_silently(dataset: Path, tmp_path) -> None:
    (dataset / "sub-02/anat/sub-02_T1w.json").write_text(json.dumps({"MyLabNote": "x"}))
    out = tmp_path / "out"
    plain = cli("bids", str(dataset), str(out), "participant", "--datatype", "anat", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("2 series exported to")  # one per series
    assert all(line.startswith("nipype-vinci: warning:") for line in plain.stderr.splitlines())
    assert "MyLabNote" in plain.stderr  # a sidecar field with no place is named
    report = json.loads((out / "sub-02/anat/sub-02_T1w.json").read_text())
    assert report["output"] == str(out / "sub-02/anat/sub-02_T1w")  # the final folder
    assert "MyLabNote" in report["not_written"]
    summary = cli(
        "bids", str(dataset), str(tmp_path / "again"), "participant", "--datatype", "anat",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    exported = json.loads(summary.stdout)["series"]
    assert sorted(Path(s["output"]).name for s in exported) == [
        "sub-01_ses-2_T1w",
        "sub-02_T1w",
    ]
    assert all(Path(s["output"]).is_dir() for s in exported)


def test_plugin_config_with_execution_settings(dataset: Path, tmp_path: Path) -> None:
    config = tmp_path / "linear.yml"
    config.write_text("plugin: Linear\nplugin_args: {}\nexecution:\n  poll_sleep_duration: 0.01\n")
    result = cli(
        "bids", str(dataset), str(tmp_path / "out"), "participant", "--datatype", "anat",
        "--plugin-config", str(config), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 series exported" in result.stdout
    config.write_text("plugin: Linear\nexecution: [1, 2]\n")
    bad = cli(
        "bids", str(dataset), str(tmp_path / "o2"), "participant", "--plugin-config", str(config)
    )
    assert bad.returncode == 2 and "'execution' must map" in bad.stderr


def test_bids_export_in_a_compressed_transfer_syntax(dataset: Path, tmp_path: Path) -> None:
    result = cli(
        "bids", str(dataset), str(tmp_path / "out"), "participant", "--datatype", "anat",
        "--transfer-syntax", "jpeg-ls", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").rglob("*.dcm"))
    assert files and all(
        pydicom.dcmread(f, stop_before_pixels=True).file_meta.TransferSyntaxUID
        == "1.2.840.10008.1.2.4.80"
        for f in files
    )
