"""The SaveSeg and SaveOverlay nodes: outputs under the node's folder, reproducible UIDs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from nipype.pipeline import engine as pe

from nipype_vinci.export.uids import IMPLEMENTATION_CLASS_UID
from nipype_vinci.interfaces import SaveOverlay, SaveSeg

from .conftest import cli

AFFINE = np.diag([-2.0, -2.0, 3.0, 1.0])
SHAPE = (24, 20, 6)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("inputs")
    base = np.random.default_rng(3).integers(0, 500, SHAPE).astype(np.int16)
    nib.save(nib.Nifti1Image(base, AFFINE), d / "ct.nii.gz")
    labels = (base > 400).astype(np.uint8)
    nib.save(nib.Nifti1Image(labels, AFFINE), d / "labels.nii.gz")
    (d / "dseg.tsv").write_text("index\tname\n1\tbright\n")
    done = cli("save", str(d / "ct.nii.gz"), str(d / "ct"), "--template", "ge-lightspeed16-ct")
    assert done.returncode == 0, done.stderr
    return {"dir": d}


def run(node_factory, base_dir, **values):
    node = pe.Node(node_factory(**values), name="node", base_dir=str(base_dir))
    return node.run().outputs


def test_save_seg_node(tmp_path, inputs):
    d = inputs["dir"]
    values = {
        "in_file": str(d / "labels.nii.gz"),
        "reference_dir": str(d / "ct"),
        "labels_file": str(d / "dseg.tsv"),
    }
    first, second = run(SaveSeg, tmp_path / "a", **values), run(SaveSeg, tmp_path / "b", **values)
    assert first.seg_file.startswith(str(tmp_path / "a"))
    assert pydicom.dcmread(first.seg_file).SeriesInstanceUID == first.series_instance_uid
    assert first.series_instance_uid == second.series_instance_uid
    report = json.loads(Path(first.report_file).read_text())
    assert report["kind"] == "seg" and report["segments"][0]["name"] == "bright"


def test_save_overlay_node(tmp_path, inputs):
    d = inputs["dir"]
    values = {
        "base_file": str(d / "ct.nii.gz"),
        "in_file": str(d / "ct.nii.gz"),
        "reference_dir": str(d / "ct"),
        "value_range": (100.0, 450.0),
    }
    first, second = (
        run(SaveOverlay, tmp_path / "a", **values),
        run(SaveOverlay, tmp_path / "b", **values),
    )
    assert len(first.dicom_files) == SHAPE[2]
    assert all(f.startswith(str(tmp_path / "a")) for f in first.dicom_files)
    assert first.series_instance_uid == second.series_instance_uid
    reference = pydicom.dcmread(sorted((d / "ct").glob("*.dcm"))[0])
    fused = pydicom.dcmread(first.dicom_files[0])
    assert fused.StudyInstanceUID == reference.StudyInstanceUID


def test_save_seg_node_names_the_problem(tmp_path, inputs):
    d = inputs["dir"]
    (tmp_path / "empty.tsv").write_text("index\tname\n2\tother\n")
    node = SaveSeg(
        in_file=str(d / "labels.nii.gz"),
        reference_dir=str(d / "ct"),
        labels_file=str(tmp_path / "empty.tsv"),
    )
    with pytest.raises(ValueError, match=r"SaveSeg: .*label value\(s\) 1 are not in"):
        node.run(cwd=str(tmp_path))


LONG = "x" * 70  # more than an LO holds


@pytest.mark.parametrize(
    "kind, values, flag, node_input, message",
    [
        ("seg", {"series_description": LONG}, "--series-description", "series_description",
         "longer than 64 characters"),
        ("seg", {"series_number": -5}, "--series-number", "series_number",
         "not an integer 0..2147483647"),
        ("overlay", {"series_number": 2**31}, "--series-number", "series_number",
         "not an integer 0..2147483647"),
        ("overlay", {"series_description": "a\\b"}, "--series-description",
         "series_description", "holds a backslash"),
        ("overlay", {"value_range": (5.0, 1.0)}, "--range", "value_range",
         "the high one above the low"),
        ("overlay", {"alpha": 2.0}, "--alpha", None, "is not between 0 and 1"),
    ],
)  # fmt: skip
def test_a_bad_series_value_is_one_line_in_both_front_ends(
    kind, values, flag, node_input, message, tmp_path, inputs
) -> None:
    """The registry checks what SEG and overlay write: never an invalid value in a file."""
    d = inputs["dir"]
    args = {
        "seg": [str(d / "labels.nii.gz"), str(tmp_path / "out"), "--reference", str(d / "ct"),
                "--labels", str(d / "dseg.tsv")],
        "overlay": [str(d / "ct.nii.gz"), str(d / "ct.nii.gz"), str(tmp_path / "out")],
    }[kind]  # fmt: skip
    for name, value in values.items():
        option = flag if name in ("value_range", "alpha") else "--" + name.replace("_", "-")
        args += [option, *map(str, value if isinstance(value, tuple) else [value])]
    result = cli(kind, *args)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"nipype-vinci: error: {flag}: ") and message in line
    assert not (tmp_path / "out").exists()
    if node_input is None:  # a Range trait: Nipype itself refuses the value
        return
    node_values = {
        "seg": {"in_file": args[0], "reference_dir": str(d / "ct"),
                "labels_file": str(d / "dseg.tsv")},
        "overlay": {"base_file": args[0], "in_file": args[1]},
    }[kind]  # fmt: skip
    node = {"seg": SaveSeg, "overlay": SaveOverlay}[kind](**node_values, **values)
    with pytest.raises(ValueError, match=f"^Save(Seg|Overlay): input {node_input}: .*{message}"):
        node.run(cwd=str(tmp_path))


@pytest.mark.parametrize("kind", ["seg", "overlay"])
def test_a_seeded_rerun_gives_the_same_bytes(kind, tmp_path, inputs) -> None:
    """With --uid-seed, dates come from the input's time stamp and highdicom's random
    DimensionOrganizationUID and creation times are pinned: a rerun is byte-identical."""
    d = inputs["dir"]
    args = {
        "seg": [str(d / "labels.nii.gz"), "--reference", str(d / "ct"), "--labels",
                str(d / "dseg.tsv")],
        "overlay": [str(d / "ct.nii.gz"), str(d / "ct.nii.gz")],
    }[kind]  # fmt: skip
    for run in ("a", "b"):
        out = str(tmp_path / run)
        where = [*args[:1], out, *args[1:]] if kind == "seg" else [*args, out]
        result = cli(kind, *where, "--uid-seed", "same")
        assert result.returncode == 0, result.stderr
        time.sleep(1.1 if run == "a" else 0)  # a clock would differ by now
    first, second = sorted((tmp_path / "a").glob("*.dcm")), sorted((tmp_path / "b").glob("*.dcm"))
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    if kind == "seg":
        meta = pydicom.dcmread(first[0]).file_meta
        assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
