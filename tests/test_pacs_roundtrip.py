"""The last mile against a real Orthanc: a derived series saved with --reference and --send
lands in the original study, and every output kind (each transfer syntax, a SEG, an RGB
overlay) is stored whole."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from .bids_cohort import write_cohort
from .conftest import CLI, cli, python
from .test_reference import derived  # noqa: F401 (the fixture)
from .test_send import assert_all_arrived, send, targets


def in_namespace(orthanc, *args: str) -> subprocess.CompletedProcess:
    """``nipype-vinci ARGS`` inside Orthanc's network namespace."""
    argv = orthanc.command([*CLI, *map(str, args)])
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def test_derived_series_lands_in_the_original_study(orthanc, derived, tmp_path) -> None:  # noqa: F811
    reference, suv = derived
    assert send(orthanc, reference, "--to", orthanc.node).returncode == 0
    result = in_namespace(
        orthanc, "save", suv, tmp_path / "suv", "--reference", reference, "--units", "GML",
        "--send", orthanc.node, "--send-verify",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    studies = orthanc.rest("GET", "/studies")
    assert len(studies) == 1
    series = orthanc.rest("GET", f"/studies/{studies[0]}")["Series"]
    assert len(series) == 2
    source = pydicom.dcmread(sorted(reference.iterdir())[0], stop_before_pixels=True)
    tags = [orthanc.rest("GET", f"/series/{s}")["MainDicomTags"] for s in series]
    assert source.SeriesInstanceUID in {t["SeriesInstanceUID"] for t in tags}
    assert_all_arrived(orthanc, [reference, tmp_path / "suv"])


def test_a_failed_send_after_save_is_exit_3_and_keeps_the_series(orthanc, tmp_path) -> None:
    nib.save(nib.Nifti1Image(np.ones((8, 8, 3), np.int16), np.eye(4)), tmp_path / "a.nii")
    wrong = orthanc.node.rsplit(":", 1)[0] + ":1"
    result = in_namespace(
        orthanc, "save", tmp_path / "a.nii", tmp_path / "out", "--template",
        "ge-lightspeed16-ct", "--send", wrong,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 3  # the export itself stands


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory) -> list[Path]:
    """A CT in every transfer syntax, a SEG of it and a PET overlay on it."""
    work = tmp_path_factory.mktemp("kinds")
    x, y, z = np.meshgrid(np.arange(48), np.arange(40), np.arange(6), indexing="ij")
    ct = (1000 * np.sin(x / 7.0) * np.cos(y / 5.0) + 10 * z).astype(np.int16)
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    nib.save(nib.Nifti1Image(ct, affine), work / "ct.nii.gz")
    nib.save(nib.Nifti1Image((ct > 300).astype(np.uint8), affine), work / "labels.nii.gz")
    pet = np.clip(ct, 0, None).astype(np.float32)
    nib.save(nib.Nifti1Image(pet, affine), work / "pet.nii.gz")
    folders = []
    for syntax in ("explicit", "implicit", "deflated", "rle", "jpeg-ls", "j2k"):
        out = work / f"ct-{syntax}"
        args = ["--template", "ge-lightspeed16-ct", "--transfer-syntax", syntax]
        done = cli("save", str(work / "ct.nii.gz"), str(out), *args, "--uid-seed", syntax)
        assert done.returncode == 0, done.stderr
        folders.append(out)
    (work / "labels.tsv").write_text("index\tname\n1\tbright\n")
    done = cli(
        "seg", str(work / "labels.nii.gz"), str(work / "seg"), "--reference", str(folders[0]),
        "--labels", str(work / "labels.tsv"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = cli(
        "overlay", str(work / "ct.nii.gz"), str(work / "pet.nii.gz"), str(work / "fused"),
        "--reference", str(folders[0]),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [*folders, work / "seg", work / "fused"]


@pytest.mark.parametrize("protocol", ["cstore", "stow"])
def test_every_output_kind_is_stored_whole(protocol, orthanc, every_kind) -> None:
    result = send(orthanc, *every_kind, *targets(orthanc)[protocol], "--verify")
    assert result.returncode == 0, result.stderr
    assert assert_all_arrived(orthanc, every_kind) == sum(
        len(list(f.glob("*.dcm"))) for f in every_kind
    )


WORKFLOW_WITH_SEND = """
import sys
from nipype_vinci.workflows import init_dicom_export_wf
image, out, work, target = sys.argv[1:]
wf = init_dicom_export_wf(
    output_dir=out, template_query={"template_name": "ge-lightspeed16-ct"},
    send_to=target, send_verify=True,
)
wf.base_dir = work
wf.inputs.inputnode.in_file = image
wf.inputs.inputnode.out_name = "ct"
wf.run(plugin="Linear")
"""


def test_export_workflow_with_a_send_step(orthanc, tmp_path) -> None:
    nib.save(nib.Nifti1Image(np.ones((8, 8, 3), np.int16), np.eye(4)), tmp_path / "a.nii")
    argv = [*python("-c"), WORKFLOW_WITH_SEND, str(tmp_path / "a.nii")]
    argv += [str(tmp_path / "out"), str(tmp_path / "work"), orthanc.node]
    result = subprocess.run(orthanc.command(argv), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert assert_all_arrived(orthanc, [tmp_path / "out" / "ct"]) == 3


def test_dcmtk_storescu_sends_a_series_folder_as_it_is(orthanc, tmp_path) -> None:
    """A series folder holds nothing but the series: DCMTK's storescu +sd takes every file."""
    storescu = "/usr/bin/storescu"  # DCMTK's (pynetdicom's may come first on PATH)
    if not Path(storescu).is_file():
        pytest.skip("DCMTK's storescu is not installed")
    nib.save(nib.Nifti1Image(np.ones((8, 8, 4), np.int16), np.eye(4)), tmp_path / "a.nii")
    args = ["--template", "ge-lightspeed16-ct"]
    assert cli("save", str(tmp_path / "a.nii"), str(tmp_path / "out"), *args).returncode == 0
    aet, address = orthanc.node.split("@")
    host, port = address.rsplit(":", 1)
    argv = [storescu, "-aec", aet, "+sd", host, port, str(tmp_path / "out")]
    result = subprocess.run(orthanc.command(argv), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert assert_all_arrived(orthanc, [tmp_path / "out"]) == 4


def test_bids_export_sends_every_series_verified(orthanc, tmp_path) -> None:
    """``bids ... --send --send-verify``: every series of a small cohort (static and dynamic
    PET, T1w) reaches Orthanc whole, and the export stands on disk."""
    images = write_cohort(tmp_path / "ds")
    out = tmp_path / "out"
    result = in_namespace(
        orthanc, "bids", tmp_path / "ds", out, "participant", "-w", tmp_path / "work",
        "--send", orthanc.node, "--send-verify",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    folders = sorted({p.parent for p in out.rglob("*.dcm")})
    assert len(folders) == len(images)
    assert assert_all_arrived(orthanc, folders) == sum(len(list(f.glob("*.dcm"))) for f in folders)
