"""check-template's semantic pass: every template that would make a wrong file is refused."""

from __future__ import annotations

import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from nipype_vinci.errors import TemplateError
from nipype_vinci.template.library import BUNDLED
from nipype_vinci.template.parser import checked_template, parse_template
from nipype_vinci.template.semantics import image_problems, semantic_problems

from .conftest import cli
from .export_checks import dciodvfy_errors

CT = (BUNDLED / "ge-lightspeed16-ct.dump").read_text("utf-8")
MR = (BUNDLED / "siemens-avanto-mr.dump").read_text("utf-8")
NESTED = (
    "(0008,1115) SQ (Sequence with explicit length #=1)\n"
    "  (fffe,e000) na (Item with explicit length #=1)\n"
    "    (0020,0013) IS [INSTANCENUMBER]\n"
    "  (fffe,e00d) na (ItemDelimitationItem)\n"
    "(fffe,e0dd) na (SequenceDelimitationItem)\n"
)
SHARED_GROUPS = (
    "(5200,9229) SQ (Sequence with explicit length #=0)\n"
    "(fffe,e0dd) na (SequenceDelimitationItem)\n"
)


def _line(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def _edit(text: str, start: str, new: str | None) -> str:
    """The template with the line that starts with ``start`` replaced (None: removed)."""
    lines = text.splitlines(keepends=True)
    index = _line(text, start) - 1
    lines[index : index + 1] = [] if new is None else [new + "\n"]
    return "".join(lines)


def _problems(text: str) -> list[str]:
    return semantic_problems(parse_template(text, "t.dump"))


def test_bundled_templates_pass() -> None:
    for path in sorted(BUNDLED.glob("*.dump")):
        assert _problems(path.read_text("utf-8")) == [], path.name


@pytest.mark.parametrize(
    ("start", "new", "says"),
    [
        ("(0028,0002)", "(0028,0002) US 3", "SamplesPerPixel is 3"),
        ("(0028,0004)", "(0028,0004) CS [MONOCHROME1]", "PhotometricInterpretation is MONOCHROME1"),
        ("(0028,0100)", "(0028,0100) US 8", "BitsAllocated is 8; the IOD allows 16"),
        ("(0028,0010)", "(0028,0010) US 512", "(0028,0010) Rows holds a fixed value"),
        ("(0028,1053)", "(0028,1053) DS [1]", "(0028,1053) RescaleSlope holds a fixed value"),
        ("(0008,0016)", "(0008,0016) UI =SegmentationStorage", "is a Segmentation (SEG)"),
    ],
)
def test_a_wrong_value_is_refused_at_its_line(start: str, new: str, says: str) -> None:
    problems = _problems(_edit(CT, start, new))
    assert len(problems) == 1 and says in problems[0], problems
    assert problems[0].startswith(f"t.dump:{_line(CT, start)}: ")


@pytest.mark.parametrize(
    ("starts", "says"),
    [
        (["(0020,0032)", "(0020,0037)"], ["no (0020,0032) ImagePositionPatient", "no (0020,0037)"]),
        (["(0008,0016)"], ["no SOPClassUID (0008,0016)"]),
        (["(0028,1053)"], ["no (0028,1053) RescaleSlope keyword: slope and intercept go"]),
        (["(0028,1052)", "(0028,1053)"], ["the CT Image IOD requires it"]),
    ],
)
def test_a_missing_element_is_refused_with_where_to_add_it(starts, says) -> None:
    text = CT
    for start in starts:
        text = _edit(text, start, None)
    problems = _problems(text)
    assert len(problems) == len(says)
    for problem, expected in zip(problems, says):
        assert expected in problem and re.search(r"add (e.g. )?`\(", problem)
        assert re.match(r"t\.dump:\d+: ", problem)


def test_keywords_that_change_per_file_cannot_stand_in_a_sequence() -> None:
    problems = _problems(_edit(CT, "(0028,0002)", NESTED + "(0028,0002) US 1"))
    assert len(problems) == 1
    assert "INSTANCENUMBER changes from file to file" in problems[0]


def test_enhanced_functional_groups_are_refused() -> None:
    problems = _problems(CT.replace("(7fe0,0010)", SHARED_GROUPS + "(7fe0,0010)"))
    assert any("SharedFunctionalGroupsSequence" in p for p in problems)


def test_check_template_lists_every_semantic_problem_at_once(tmp_path: Path) -> None:
    text = _edit(_edit(CT, "(0028,0002)", "(0028,0002) US 3"), "(0028,0010)", "(0028,0010) US 512")
    bad = tmp_path / "bad.dump"
    bad.write_text(_edit(text, "(0008,0016)", None))
    result = cli("check-template", str(bad))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(lines) == 3 and all(f"{bad}:" in line for line in lines)
    with pytest.raises(TemplateError) as info:
        checked_template(bad.read_bytes(), str(bad))
    assert len(info.value.problems) == 3


def test_float_data_need_rescale_slots() -> None:
    bare = _edit(_edit(MR, "(0028,1052)", None), "(0028,1053)", None)
    template = parse_template(bare, "mr.dump")
    assert semantic_problems(template) == []  # MR Image: rescale optional
    assert image_problems(template, integral=True, fits=True) == []
    (problem,) = image_problems(template, integral=False, fits=True)
    assert "non-integer values" in problem and "RESCALESLOPE" in problem
    (problem,) = image_problems(template, integral=True, fits=False)
    assert "outside the stored range" in problem
    with_slots = parse_template(MR, "mr.dump")
    assert image_problems(with_slots, integral=False, fits=False) == []


def test_save_refuses_a_template_that_would_make_a_wrong_file(tmp_path: Path) -> None:
    bad = tmp_path / "no-class.dump"
    bad.write_text(_edit(CT, "(0008,0016)", None))
    image = tmp_path / "ct.nii"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 2), np.int16), np.eye(4)), image)
    result = cli("save", str(image), str(tmp_path / "series"), "--template", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no SOPClassUID (0008,0016)" in result.stderr
    assert not (tmp_path / "series").exists()


def test_an_identity_rescale_iod_takes_only_integers_that_fit(tmp_path: Path) -> None:
    """A real Digital X-Ray file (deid-data's cat.dcm): its IOD fixes RescaleSlope 1 and
    RescaleIntercept 0, so float data are refused in one line, and integers that fit are
    written with no dciodvfy error beyond the source's own."""
    deid_data = pytest.importorskip("deid_data")
    source = Path(deid_data.__file__).parent / "data" / "animals" / "cat.dcm"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    template = tmp_path / "dx.dump"
    made = cli("make-template", str(source), "-o", str(template))
    assert made.returncode == 0, made.stderr
    rng = np.random.default_rng(2)
    affine = np.diag([0.5, 0.5, 1.0, 1.0])
    floats = rng.random((16, 12, 2)).astype(np.float32) * 100
    nib.save(nib.Nifti1Image(floats, affine), tmp_path / "floats.nii")
    refused = cli("save", str(tmp_path / "floats.nii"), str(tmp_path / "a"), "--template",
                  str(template))  # fmt: skip
    assert refused.returncode == 2 and not (tmp_path / "a").exists()
    (line,) = refused.stderr.splitlines()
    assert "Digital X-Ray images store values as they are" in line and "integer" in line
    integers = rng.integers(0, 4000, (16, 12, 2)).astype(np.int16)
    nib.save(nib.Nifti1Image(integers, affine), tmp_path / "ints.nii")
    done = cli("save", str(tmp_path / "ints.nii"), str(tmp_path / "b"), "--template",
               str(template))  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = sorted((tmp_path / "b").glob("*.dcm"))
    first = pydicom.dcmread(files[0])
    assert (float(first.RescaleSlope), float(first.RescaleIntercept)) == (1.0, 0.0)
    own = {e.split(": ", 1)[1] for e in dciodvfy_errors([source])}
    assert {e.split(": ", 1)[1] for e in dciodvfy_errors(files)} <= own
