"""Values by the standard's rules (PS3.5 6.2): dates that exist, PN structure, one value with
no backslash, IS/DS ranges; refused through the library, the command line and the node."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.errors import VinciError
from nipype_vinci.interfaces import SaveDicom
from nipype_vinci.template.library import BUNDLED
from nipype_vinci.template.values import checked_value, string_problem

from .conftest import cli

VALID = [
    ("DA", "20240229"),  # a leap year
    ("DA", "20000229"),  # divisible by 400
    ("DA", "19991231"),
    ("TM", "235960.123456"),  # a leap second
    ("TM", "07"),
    ("DT", "2024"),
    ("DT", "20240229235959.5+1400"),
    ("DT", "202402291200-1200"),
    ("PN", "Doe^Jane^M^Dr^PhD"),
    ("PN", "Yamada^Taro=山田^太郎=やまだ^たろう"),
    ("LT", "a\\b"),  # LT, ST, UT, UR keep backslashes as text
    ("IS", "-2147483648"),
    ("DS", "-1.5e-3"),
]
INVALID = [
    ("DA", "20240230", "not a valid"),
    ("DA", "20230229", "not a valid"),  # not a leap year
    ("DA", "19000229", "not a valid"),  # divisible by 100, not by 400
    ("DA", "20241301", "not a valid"),
    ("DA", "00000101", "not a valid"),
    ("TM", "2400", "not a valid"),
    ("TM", "1260", "not a valid"),
    ("TM", "120061", "not a valid"),
    ("DT", "20240230", "not a valid"),
    ("DT", "2024010125", "not a valid"),
    ("DT", "2024+1500", "not a valid"),
    ("DT", "2024-1201", "not a valid"),
    ("DT", "2024+0160", "not a valid"),
    ("PN", "a^b^c^d^e^f", "6 components in one group"),
    ("PN", "a=b=c=d", "4 component groups"),
    ("PN", "x=a^b^c^d^e^f", "6 components"),
    ("LO", "first\\second", "backslash"),
    ("PN", "Doe\\Jane", "backslash"),
    ("SH", "a\\b", "backslash"),
    ("IS", "2147483648", "range"),
    ("DS", "1e999", "not finite"),
]


@pytest.mark.parametrize(("vr", "value"), VALID)
def test_valid_values_pass(vr: str, value: str) -> None:
    assert string_problem(vr, value) is None


@pytest.mark.parametrize(("vr", "value", "words"), INVALID)
def test_invalid_values_are_named(vr: str, value: str, words: str) -> None:
    problem = string_problem(vr, value)
    assert problem is not None and words in problem and repr(value) in problem


def test_checked_value_names_the_keyword_and_keeps_lists() -> None:
    with pytest.raises(VinciError, match="keyword SERIESDESCRIPTION: LO value .*backslash"):
        checked_value("SERIESDESCRIPTION", "LO", "a\\b")  # one value: would be written as VM 2
    assert checked_value("IMAGEPOSITIONPATIENT", "DS", ["1", "2", "3"]) == ["1", "2", "3"]


FLAGS = [
    ("--study-date", "20240230", "--study-date"),
    ("--patient-birth-date", "19000229", "--patient-birth-date"),
    ("--study-time", "24:00:00", "--study-time"),
    ("--patient-name", "a^b^c^d^e^f", "6 components"),
    ("--patient-name", "a=b=c=d", "4 component groups"),
    ("--study-description", "left\\right", "backslash"),
    ("--patient-id", "P\\1", "backslash"),
    ("--frame-durations", "0", "is not a positive number"),  # a frame lasts
    ("--frame-durations", "-5", "is not a positive number"),
    ("--frame-times", "nan", "is not a finite number"),
    ("--frame-durations", "0.0004", "shorter than 1 ms"),
]


@pytest.fixture
def ct_image(tmp_path: Path) -> str:
    path = tmp_path / "in.nii"
    nib.save(nib.Nifti1Image(np.ones((4, 5, 3), np.int16), np.eye(4)), path)
    return str(path)


@pytest.mark.parametrize(("flag", "value", "words"), FLAGS)
def test_the_command_line_refuses_them(
    flag: str, value: str, words: str, ct_image: str, tmp_path: Path
) -> None:
    result = cli("save", ct_image, "out", "--template", "ge-lightspeed16-ct", flag, value)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert flag in lines[0] and words in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_metadata_file_is_checked_the_same(ct_image: str, tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"PATIENTNAME": "a^b^c^d^e^f"}))
    result = cli(
        "save",
        ct_image,
        "out",
        "--template",
        "ge-lightspeed16-ct",
        "--metadata",
        "m.json",
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "m.json" in result.stderr and "6 components" in result.stderr


@pytest.mark.parametrize(
    ("trait", "value", "words"),
    [("study_date", "20240230", "study_date"), ("series_description", "a\\b", "backslash")],
)
def test_the_node_refuses_them(
    trait: str, value: str, words: str, ct_image: str, tmp_path: Path
) -> None:
    node = SaveDicom(in_file=ct_image, template_file=str(BUNDLED / "ge-lightspeed16-ct.dump"))
    setattr(node.inputs, trait, value)
    with pytest.raises(ValueError, match=f"SaveDicom: .*{words}"):
        node.run(cwd=str(tmp_path))
    assert not (tmp_path / "dicom").exists()
