"""DICOM SEG from a label map: judged by dciodvfy and by highdicom reading every segment back."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
import pytest

from nipype_vinci.dicomio import read_series
from nipype_vinci.errors import VinciError
from nipype_vinci.export.labels import DEFAULT_CATEGORY, read_label_table

from .conftest import cli, need_tool
from .export_checks import dciodvfy_errors, dcmdump_problems

CT_AFFINE = np.array([[-0.75, 0, 0, 60.0], [0, -0.75, 0, 80.0], [0, 0, 2.5, -40.0], [0, 0, 0, 1]])
SHAPE = (40, 32, 10)
DSEG = "index\tname\tabbreviation\tcolor\n1\tliver\tLIV\t#aa3322\n2\tspleen\tSPL\t#2233aa\n"
DSEG += "4\tkidney\tKID\t#00ff00\n"


def label_map(shape=SHAPE) -> np.ndarray:
    labels = np.zeros(shape, np.uint8)
    labels[5:20, 4:14, 1:6] = 1
    labels[22:35, 15:30, 4:9] = 2
    labels[3, 3, 0] = 1  # a one-voxel island in a corner slice
    return labels


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A CT series written by ``nipype-vinci save`` from a synthetic NIfTI."""
    work = tmp_path_factory.mktemp("reference")
    data = np.random.default_rng(1).integers(-100, 300, SHAPE).astype(np.int16)
    nib.save(nib.Nifti1Image(data, CT_AFFINE), work / "ct.nii.gz")
    done = cli(
        "save", str(work / "ct.nii.gz"), str(work / "ct"), "--template", "ge-lightspeed16-ct"
    )
    assert done.returncode == 0, done.stderr
    return work / "ct"


def expected_planes(datasets: list, image: nib.Nifti1Image) -> list[np.ndarray]:
    """Each reference instance's pixels looked up in the label map through the geometry:
    pixel (r, c) at IPP + c * row spacing * row cosines + r * ..., LPS to RAS, then the
    inverse affine (the library's voxel map is not used)."""
    data = np.asarray(image.dataobj)
    to_voxel = np.linalg.inv(image.affine)
    planes = []
    for d in datasets:
        iop = np.array(d.ImageOrientationPatient, float)
        dr, dc = (float(v) for v in d.PixelSpacing)
        r, c = np.mgrid[0 : d.Rows, 0 : d.Columns]
        lps = (
            np.array(d.ImagePositionPatient, float)[:, None, None]
            + iop[:3, None, None] * dc * c
            + iop[3:, None, None] * dr * r
        )
        ras = lps * np.array([-1, -1, 1])[:, None, None]
        ijk = np.einsum("ab,bxy->axy", to_voxel[:3, :3], ras) + to_voxel[:3, 3, None, None]
        index = np.rint(ijk).astype(int)
        assert np.abs(ijk - index).max() < 0.05  # a twentieth of a voxel
        planes.append(data[index[0], index[1], index[2]])
    return planes


def check_seg(seg_dir: Path, reference_dir: Path, image: nib.Nifti1Image, values: list[int]):
    """dciodvfy clean; every segment equal to its mask; frame of reference and referenced
    instances those of the reference. Returns the SEG."""
    files = sorted(seg_dir.glob("*.dcm"))
    assert len(files) == 1
    assert dciodvfy_errors(files) == [] and dcmdump_problems(files) == []
    seg = hd.seg.segread(files[0])
    datasets = read_series(reference_dir)
    assert seg.FrameOfReferenceUID == datasets[0].FrameOfReferenceUID
    assert seg.StudyInstanceUID == datasets[0].StudyInstanceUID
    referenced = {
        item.ReferencedSOPInstanceUID
        for series in seg.ReferencedSeriesSequence
        for item in series.ReferencedInstanceSequence
    }
    assert referenced == {d.SOPInstanceUID for d in datasets}
    assert {s.SeriesInstanceUID for s in seg.ReferencedSeriesSequence} == {
        datasets[0].SeriesInstanceUID
    }
    planes = np.stack(expected_planes(datasets, image))
    uids = [d.SOPInstanceUID for d in datasets]
    for number, value in enumerate(values, 1):
        got = seg.get_pixels_by_source_instance(
            uids, segment_numbers=[number], assert_missing_frames_are_empty=True
        )[..., 0]
        assert np.array_equal(got.astype(bool), planes == value), f"segment {number}"
    return seg


def run_seg(tmp_path: Path, labels: np.ndarray, affine, reference: Path, table: str, name: str):
    nib.save(nib.Nifti1Image(labels, affine), tmp_path / "labels.nii.gz")
    (tmp_path / name).write_text(table)
    return cli(
        "seg",
        str(tmp_path / "labels.nii.gz"),
        str(tmp_path / "seg"),
        "--reference",
        str(reference),
        "--labels",
        str(tmp_path / name),
        "--json",
    )


def test_seg_of_a_saved_series(tmp_path, reference):
    done = run_seg(tmp_path, label_map(), CT_AFFINE, reference, DSEG, "dseg.tsv")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    image = nib.load(tmp_path / "labels.nii.gz")
    seg = check_seg(tmp_path / "seg", reference, image, [1, 2])
    assert [s["name"] for s in report["segments"]] == ["liver", "spleen"]
    assert report["segments"][0]["voxels"] == int(np.sum(label_map() == 1))
    assert report["absent_labels"] == [{"value": 4, "name": "kidney"}]
    first = seg.SegmentSequence[0]
    assert (first.SegmentLabel, first.SegmentDescription) == ("liver", "LIV")
    category = first.SegmentedPropertyCategoryCodeSequence[0]
    assert (category.CodeValue, category.CodingSchemeDesignator) == DEFAULT_CATEGORY[:2]
    rgb = hd.color.CIELabColor.from_dicom_value(first.RecommendedDisplayCIELabValue).to_rgb()
    assert max(abs(a - b) for a, b in zip(rgb, (0xAA, 0x33, 0x22))) <= 1
    assert int(seg.SeriesNumber) == int(read_series(reference)[0].SeriesNumber) + 1000


def test_seg_on_a_reoriented_label_map(tmp_path, reference):
    """A label map with flipped and swapped axes (as dcm2niix may write) lies on the same
    voxels: accepted, and every segment still equals its mask."""
    image = nib.Nifti1Image(label_map(), CT_AFFINE)
    turned = nib.as_closest_canonical(image)  # RAS: both in-plane axes flipped
    swapped = nib.Nifti1Image(
        np.ascontiguousarray(np.swapaxes(np.asarray(turned.dataobj), 0, 1)),
        turned.affine[:, [1, 0, 2, 3]],
    )
    table = '{"1": "liver", "2": {"name": "spleen", "type": ["78961009", "SCT", "Spleen"]}}'
    done = run_seg(
        tmp_path, np.asarray(swapped.dataobj), swapped.affine, reference, table, "t.json"
    )
    assert done.returncode == 0, done.stderr
    seg = check_seg(tmp_path / "seg", reference, nib.load(tmp_path / "labels.nii.gz"), [1, 2])
    kind = seg.SegmentSequence[1].SegmentedPropertyTypeCodeSequence[0]
    assert (kind.CodeValue, kind.CodeMeaning) == ("78961009", "Spleen")


def test_seg_numbers_freesurfer_labels_in_value_order(tmp_path, reference):
    labels = label_map().astype(np.int16)
    labels[labels == 1], labels[labels == 2] = 53, 17
    table = "#$Id: a FreeSurfer colour table\n0  Unknown  0 0 0 0\n"
    table += "17  Left-Hippocampus  220 216 20 0\n53  Right-Hippocampus  220 216 20 0\n"
    done = run_seg(tmp_path, labels, CT_AFFINE, reference, table, "FreeSurferColorLUT.txt")
    assert done.returncode == 0, done.stderr
    assert [(s["number"], s["value"]) for s in json.loads(done.stdout)["segments"]] == [
        (1, 17),
        (2, 53),
    ]
    seg = check_seg(tmp_path / "seg", reference, nib.load(tmp_path / "labels.nii.gz"), [17, 53])
    assert seg.SegmentSequence[0].SegmentLabel == "Left-Hippocampus"


def test_seg_uids_follow_the_seed_and_the_inputs(tmp_path, reference):
    def uids(labels: np.ndarray, name: str) -> tuple[str, str]:
        nib.save(nib.Nifti1Image(labels, CT_AFFINE), tmp_path / f"{name}.nii.gz")
        args = ["--reference", str(reference), "--labels", str(tmp_path / "dseg.tsv")]
        done = cli(
            "seg",
            str(tmp_path / f"{name}.nii.gz"),
            str(tmp_path / name),
            *args,
            "--uid-seed",
            "s1",
            "--json",
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        return report["series_instance_uid"], report["sop_instance_uid"]

    (tmp_path / "dseg.tsv").write_text(DSEG)
    changed = label_map()
    changed[0, 0, 9] = 2
    assert uids(label_map(), "a") == uids(label_map(), "b")
    assert not set(uids(label_map(), "c")) & set(uids(changed, "d"))


@pytest.mark.parametrize(
    ("change", "table", "expected"),
    [
        ("shift", DSEG, "the label map lies on 40x32x10 voxels of 0.75x0.75x2.5 mm, first slice"),
        ("unknown", DSEG, "label value(s) 7 are not in"),
        ("fraction", DSEG, "holds values that are not whole numbers"),
        ("empty", DSEG, "holds no labelled voxel"),
        ("none", "index\tlabel\n1\tliver\n", "the header lacks the column(s) name"),
        ("none", DSEG + "2\tagain\tA\t#000000\n", "dseg.tsv:5: label value 2 is listed twice"),
        ("none", DSEG.replace("#aa3322", "red"), "dseg.tsv:2: colour 'red' is not #RRGGBB"),
    ],
)
def test_seg_refusals_are_one_line(tmp_path, reference, change, table, expected):
    labels, affine = label_map().astype(np.float32), CT_AFFINE.copy()
    if change == "shift":
        affine[0, 3] += 0.1
    labels[0, 0, 0] = {"unknown": 7, "fraction": 0.5}.get(change, 0)
    if change == "empty":
        labels[:] = 0
    done = run_seg(tmp_path, labels, affine, reference, table, "dseg.tsv")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nipype-vinci: error: "), done.stderr
    assert expected in lines[0]
    assert not (tmp_path / "seg").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_label_table_json_rejects_bad_codes(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text('{"1": {"name": "liver", "category": ["123037004", "SCT"]}}')
    with pytest.raises(VinciError, match="category must be"):
        read_label_table(path)


def test_seg_on_the_real_pet_series(tmp_path, samples):
    """dcm2niix turns the real GE PET series into NIfTI (rows flipped, its slice spacing
    uniform where the scanner's is not); a label map on that grid becomes a SEG of it."""
    source = samples / "pet-ge-discovery-st"
    tool = need_tool("dcm2niix")
    subprocess.run(
        [tool, "-z", "y", "-f", "pet", "-o", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    pet = nib.load(tmp_path / "pet.nii.gz")
    values = np.asarray(pet.dataobj)
    labels = np.zeros(pet.shape, np.uint8)
    labels[values > np.percentile(values, 99.5)] = 1
    labels[40:60, 50:70, 100:120] = 2
    nib.save(nib.Nifti1Image(labels, pet.affine), tmp_path / "labels.nii.gz")
    (tmp_path / "dseg.tsv").write_text(DSEG)
    done = cli(
        "seg",
        str(tmp_path / "labels.nii.gz"),
        str(tmp_path / "seg"),
        "--reference",
        str(source),
        "--labels",
        str(tmp_path / "dseg.tsv"),
    )
    assert done.returncode == 0, done.stderr
    seg = check_seg(tmp_path / "seg", source, nib.load(tmp_path / "labels.nii.gz"), [1, 2])
    assert seg.PatientID == pydicom.dcmread(sorted(source.iterdir())[0]).PatientID


def test_seg_never_replaces_an_existing_folder_unasked(tmp_path, reference):
    (tmp_path / "seg").mkdir()
    (tmp_path / "seg" / "keep.txt").write_text("mine")
    done = run_seg(tmp_path, label_map(), CT_AFFINE, reference, DSEG, "dseg.tsv")
    assert done.returncode == 2 and "was not written by nipype-vinci" in done.stderr
    assert (tmp_path / "seg" / "keep.txt").read_text() == "mine"
