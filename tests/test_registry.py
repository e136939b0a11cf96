"""The registries: every keyword has one producer at its level, every field its front ends,
and every field-related error is worded by each front end in its own terms."""

from __future__ import annotations

import configparser
import inspect
import json
from dataclasses import fields as dataclass_fields
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

import nipype_vinci
from nipype_vinci.export.fill import PRODUCERS
from nipype_vinci.export.metadata import Metadata
from nipype_vinci.fields import FIELDS, HEADER_FIELDS, KINDS
from nipype_vinci.interfaces import SaveDicom
from nipype_vinci.sidecar import key_names
from nipype_vinci.template.keywords import KEYWORDS, LEVELS
from nipype_vinci.template.library import find_template

from .conftest import cli

ARITY = {"series": 1, "frame": 2, "slice": 2, "file": 2}


def test_every_keyword_has_exactly_one_producer_at_its_level() -> None:
    produced = [name for table in PRODUCERS.values() for name in table]
    assert sorted(produced) == sorted(set(produced)), "a keyword with two producers"
    assert set(produced) == set(KEYWORDS)
    for level, table in PRODUCERS.items():
        assert level in LEVELS
        for name, producer in table.items():
            assert KEYWORDS[name].level == level, name
            assert len(inspect.signature(producer).parameters) == ARITY[level], name


def test_keywords_name_only_registered_fields() -> None:
    names = {f.name for f in HEADER_FIELDS}
    assert {f for k in KEYWORDS.values() for f in k.fields} <= names


def test_metadata_is_the_header_fields_and_every_field_is_reachable() -> None:
    assert [f.name for f in dataclass_fields(Metadata)] == [f.name for f in HEADER_FIELDS]
    keys = key_names()
    for field in HEADER_FIELDS:
        assert field.kind in KINDS
        assert keys[field.name] == field.name
        if field.dicom:
            assert keys[field.dicom] == field.name
            assert pydicom.datadict.tag_for_keyword(field.dicom) is not None, field.dicom


def test_every_field_is_a_flag_a_trait_and_a_workflow_input() -> None:
    from nipype_vinci.workflows import init_dicom_export_wf

    help_text = cli("save", "--help").stdout
    traits = SaveDicom().inputs.trait_names()
    inputs = init_dicom_export_wf(output_dir="/tmp").get_node("inputnode").inputs.trait_names()
    for field in FIELDS:
        assert field.flag in help_text, field.name
        assert field.name in traits and field.name in inputs, field.name


def test_setup_cfg_lists_every_package() -> None:
    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    root = Path(nipype_vinci.__file__).parent
    found = {
        "nipype_vinci" + ".".join(["", *p.parent.relative_to(root).parts])
        for p in root.rglob("__init__.py")
    }
    assert found <= listed


def _image(path: Path, data: np.ndarray) -> str:
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    return str(path)


# field: (CLI arguments that get it wrong, the same mistake as a Nipype input value)
FIELD_ERRORS = {
    "nan_value": ([], None),
    "injected_dose": (["--injected-dose=-370MBq"], -3.7e8),
    "patient_sex": (["--patient-sex", "X"], "X"),
    "frame_durations": (["--frame-durations", "60"], [60.0]),
}


@pytest.mark.parametrize("field", list(FIELD_ERRORS))
def test_field_errors_are_worded_by_each_front_end(field: str, tmp_path: Path) -> None:
    data = np.ones((4, 5, 3, 2), np.float32)
    if field == "nan_value":
        data[1, 1, 1, 0] = np.nan
    source = _image(tmp_path / "in.nii", data)
    args, node_value = FIELD_ERRORS[field]
    timing = [] if field == "frame_durations" else ["--frame-durations", "60,60"]
    template = "ge-discovery-st-pet"
    result = cli("save", source, str(tmp_path / "out"), "--template", template, *args, *timing)
    flag = "--" + field.replace("_", "-")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert f"error: {flag}: " in result.stderr, result.stderr

    node = SaveDicom(in_file=source, template_file=str(find_template(template)))
    if field != "frame_durations":
        node.inputs.frame_durations = [60.0, 60.0]
    if node_value is not None:
        setattr(node.inputs, field, node_value)
    (tmp_path / "node").mkdir()
    with pytest.raises(ValueError) as failure:
        node.run(cwd=str(tmp_path / "node"))
    message = str(failure.value)
    assert f"input {field}: " in message and flag not in message, message


def test_metadata_file_keys_our_names_dicom_keywords_keywords_and_bids(tmp_path: Path) -> None:
    source = _image(tmp_path / "in.nii", np.arange(60, dtype=np.float32).reshape(4, 5, 3))
    meta = {
        "PatientName": "Doe^Jane",
        "PatientWeight": 70,
        "PatientSize": 1.8,
        "PATIENTID": "P1",
        "study_description": "mine",
        "TracerName": "FDG",
        "ConversionSoftware": "dcm2niix",  # a converter's own key: reported, not an error
    }
    (tmp_path / "m.json").write_text(json.dumps(meta))
    out = tmp_path / "out"
    result = cli(
        "save", source, str(out), "--template", "ge-discovery-st-pet", "--metadata",
        str(tmp_path / "m.json"), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ConversionSoftware" in result.stderr  # the warning names it
    report = json.loads(result.stdout)
    assert "ConversionSoftware" in report["not_written"]
    first = pydicom.dcmread(out / report["files"][0])
    assert (str(first.PatientName), first.PatientID, first.StudyDescription) == (
        "Doe^Jane",
        "P1",
        "mine",
    )
    assert float(first.PatientWeight) == 70 and float(first.PatientSize) == 1.8
    assert first.RadiopharmaceuticalInformationSequence[0].Radiopharmaceutical == "FDG"


def test_metadata_file_unknown_key_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    source = _image(tmp_path / "in.nii", np.ones((4, 5, 3), np.int16))
    (tmp_path / "m.json").write_text(json.dumps({"PatientNmae": "x", "patient_wieght": 3}))
    result = cli(
        "save", source, str(tmp_path / "out"), "--template", "ge-lightspeed16-ct", "--metadata",
        str(tmp_path / "m.json"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "did you mean 'PatientName'?" in result.stderr
    assert "did you mean 'patient_weight'?" in result.stderr
    assert not (tmp_path / "out").exists()
