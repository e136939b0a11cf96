"""make-template's rules: PS3.15 actions, generic repairs, and what cannot be a template."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from nipype_vinci.errors import VinciError
from nipype_vinci.template import deid_table, dump_template
from nipype_vinci.template.deidentify import profile_code, resolve
from nipype_vinci.template.keywords import KEYWORDS, PIXEL_KEYWORD
from nipype_vinci.template.make import build_template
from nipype_vinci.template.parser import checked_template

from .conftest import SHARED, cli

ROOT = Path(__file__).resolve().parents[1]
STANDARD = SHARED / "standard" / "confidentiality_profile_attributes.json"


def _test_file(name: str) -> Dataset:
    """One of pydicom's test files (never downloaded: skipped when absent)."""
    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"pydicom's test file {name} is not installed (pydicom-data ships it)")
    return pydicom.dcmread(path)


def _ct() -> Dataset:
    return _test_file("CT_small.dcm")


def _made(scan: Dataset):
    made = build_template(scan, "t")
    checked_template(dump_template(made.template), "t.dump")  # make never writes a bad one
    return made


def _code_item(**values) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-D0050", "SRT", "Tissue"
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def test_generated_table_is_what_the_tool_makes_from_the_standard() -> None:
    if not STANDARD.is_file():
        pytest.skip(f"the PS3.15 table is absent ({STANDARD})")
    spec = importlib.util.spec_from_file_location(
        "make_deid_table", ROOT / "tools/make_deid_table.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    text = tool.table_text(json.loads(STANDARD.read_text("utf-8")))
    assert text == Path(deid_table.__file__).read_text("utf-8")
    assert deid_table.ACTIONS[0x00080106] == "D" and deid_table.ACTIONS[0x00101020] == "X"


@pytest.mark.parametrize(
    ("code", "empty", "action"),
    [
        ("X/Z", False, "X"),
        ("X/Z", True, "Z"),
        ("X/D", True, "X"),
        ("Z/D", False, "Z"),
        ("X/Z/D", True, "Z"),
        ("X/Z/U*", False, "X"),
        ("D", True, "D"),
    ],
)
def test_compound_codes_resolve_by_the_documented_rule(code, empty, action) -> None:
    element = pydicom.DataElement(0x00080080, "LO", None if empty else "Hospital")
    assert resolve(code, element) == action


def test_every_keyword_home_becomes_its_keyword() -> None:
    """No per-keyword special case: any element at a keyword's home is that keyword."""
    scan = _ct()
    homes = {
        k.name: k
        for k in KEYWORDS.values()
        if k.home >> 16 not in (0x0002, 0x7FE0) and k.name != PIXEL_KEYWORD
    }
    for keyword in homes.values():
        vr = sorted(keyword.vrs)[0]
        value = {"UI": "1.2.3", "DA": "20000101", "TM": "101010", "AS": "040Y"}.get(vr, "1")
        if vr in ("US", "SS"):
            value = 1
        scan[keyword.home] = pydicom.DataElement(keyword.home, vr, value)
    made = _made(scan)
    top = {s.keyword for s in made.template.slots if s.top_level}
    assert set(homes) <= top


def test_profile_actions_on_a_real_file() -> None:
    scan = _ct()
    scan.InstitutionName = "St Elsewhere"  # X/Z/D with a value: removed
    scan.StationName = ""  # X/Z/D held empty: Type 2 in the source, stays empty
    scan.ContrastBolusAgent = "Omnipaque"  # Z/D: emptied
    scan.AcquisitionFieldOfViewLabel = "Head FOV"  # D: a dummy value
    scan.IrradiationEventUID = "1.2.3.4.5"  # U: removed (a template serves many exports)
    scan.PatientSize = "1.63"  # X, or its keyword
    scan.DecayCorrectionDateTime = "20040119072731"  # D on a date: removed, never a dummy
    scan.add_new(0x00091001, "LO", "private")
    scan.AnatomicRegionSequence = Sequence([_code_item(ContextGroupVersion="20020904000000")])
    ds = _made(scan).template.dataset
    assert "InstitutionName" not in ds and "IrradiationEventUID" not in ds
    assert "DecayCorrectionDateTime" not in ds
    assert ds.StationName in (None, "") and ds.ContrastBolusAgent in (None, "")
    assert ds.AcquisitionFieldOfViewLabel == "ANONYMIZED"
    assert ds.AnatomicRegionSequence[0].ContextGroupVersion == "20020904000000"  # deviation
    assert ds.get("PatientSize") in (None, "")
    assert not any(e.tag.is_private for e in ds)
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"


def test_dates_and_uids_beyond_the_table_are_removed() -> None:
    scan = _ct()
    unlisted = 0x00189507  # a vendor-neutral DT the table does not list
    assert profile_code(unlisted) is None
    scan[unlisted] = pydicom.DataElement(unlisted, "DT", "20040119072731")
    ds = _made(scan).template.dataset
    assert unlisted not in ds
    uids = [e for e in ds.iterall() if e.VR == "UI" and e.value]
    assert all(str(e.value) in pydicom.uid.UID_dictionary for e in uids)


def test_references_into_the_source_study_are_removed() -> None:
    scan = _ct()
    ref = Dataset()
    ref.StudyInstanceUID, ref.SeriesInstanceUID = "1.2.3", "1.2.3.4"
    ref.PurposeOfReferenceCodeSequence = Sequence([_code_item()])
    scan.RelatedSeriesSequence = Sequence([ref])
    image = Dataset()
    image.ReferencedSOPClassUID, image.ReferencedSOPInstanceUID = scan.SOPClassUID, "1.2.3.5"
    scan.ReferencedImageSequence = Sequence([image])
    scan.SourceImageSequence = Sequence([image])
    ds = _made(scan).template.dataset
    for keyword in ("RelatedSeriesSequence", "ReferencedImageSequence", "SourceImageSequence"):
        assert keyword not in ds


def test_values_that_break_their_vr_are_repaired_with_one_warning_each() -> None:
    scan = _ct()
    scan.ManufacturerModelName = "M" * 69  # a 69-character LO, as a Symbia writes
    scan.ScanOptions = "helical mode"  # CS is upper case only
    scan.DetectorDescription = "first line\r\nsecond line"
    made = _made(scan)
    ds = made.template.dataset
    assert ds.ManufacturerModelName == "M" * 64 and ds.ScanOptions in (None, "")
    assert ds.DetectorDescription == "first line second line"
    assert len(made.notes) == 3
    assert any("ManufacturerModelName" in n and "truncated" in n for n in made.notes)
    assert any("ScanOptions" in n and "emptied" in n for n in made.notes)


@pytest.mark.parametrize(
    ("body_part", "image_laterality", "laterality"),
    [
        ("CHEST", False, False),  # unpaired: never added (the old mend added it)
        ("KNEE", False, True),  # paired: added, empty
        ("", False, True),  # unknown: may be paired
        ("KNEE", True, False),  # ImageLaterality stands instead
    ],
)
def test_laterality_follows_its_condition(body_part, image_laterality, laterality) -> None:
    scan = _ct()
    for keyword in ("Laterality", "BodyPartExamined"):
        if keyword in scan:
            delattr(scan, keyword)
    if body_part:
        scan.BodyPartExamined = body_part
    if image_laterality:
        scan.ImageLaterality = "L"
    assert ("Laterality" in _made(scan).template.dataset) is laterality


def test_patient_position_is_not_kept_beside_patient_orientation_code_sequence() -> None:
    scan = _ct()
    scan.PatientOrientationCodeSequence = Sequence([_code_item()])
    assert "PatientPosition" not in _made(scan).template.dataset
    del scan.PatientOrientationCodeSequence, scan.PatientPosition
    assert _made(scan).template.dataset.PatientPosition in (None, "")  # CT: Type 2C, needed


def test_gating_attributes_follow_their_condition() -> None:
    mr = _test_file("MR_small.dcm")
    mr.ScanOptions, mr.TriggerTime = "", ""
    assert "TriggerTime" not in _made(mr).template.dataset
    mr.ScanOptions = ["CG"]
    assert "TriggerTime" in _made(mr).template.dataset


def test_monochrome1_becomes_monochrome2_with_a_note(tmp_path: Path) -> None:
    scan = _ct()
    scan.PhotometricInterpretation = "MONOCHROME1"
    source = tmp_path / "mono1.dcm"
    scan.save_as(source)
    result = cli("make-template", str(source), "-o", str(tmp_path / "t.dump"))
    assert result.returncode == 0, result.stderr
    assert "MONOCHROME1" in result.stderr and "MONOCHROME2" in result.stderr
    assert "(0028,0004) CS [MONOCHROME2]" in (tmp_path / "t.dump").read_text()


def _colour(scan: Dataset, photometric: str) -> Dataset:
    scan.SamplesPerPixel, scan.PhotometricInterpretation = 3, photometric
    return scan


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: _colour(_ct(), "RGB"), "3 samples per pixel"),
        (lambda: _colour(_ct(), "YBR_FULL"), "3 samples per pixel"),
        (lambda: _test_file("examples_palette.dcm"), "PALETTE COLOR"),
        (lambda: _test_file("reportsi.dcm"), "Structured Report"),
        (lambda: _test_file("rtplan.dcm"), "radiotherapy"),
        (lambda: _test_file("rtdose.dcm"), "radiotherapy"),
    ],
)
def test_what_cannot_be_a_volume_template_is_refused_in_one_line(make, says) -> None:
    with pytest.raises(VinciError) as info:
        build_template(make(), "t")
    assert len(info.value.problems) == 1
    assert says in info.value.problems[0] and "make-template needs" in info.value.problems[0]


@pytest.mark.parametrize(
    ("name", "says"),
    [("emri_small.dcm", "enhanced multi-frame"), ("liver.dcm", "Segmentation (SEG)")],
)
def test_enhanced_and_seg_sources_get_a_clear_line(name: str, says: str, tmp_path: Path) -> None:
    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"{name} comes with pydicom-data, which is not installed")
    result = cli("make-template", path, "-o", str(tmp_path / "t.dump"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert says in result.stderr and "RESCALEINTERCEPT" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bits_allocated_the_iod_forbids_becomes_16_with_a_note() -> None:
    scan = _ct()
    scan.BitsAllocated, scan.BitsStored, scan.HighBit = 8, 8, 7  # CT Image allows 16 only
    made = _made(scan)
    assert made.template.dataset.BitsAllocated == 16
    assert any("BitsAllocated 8" in note for note in made.notes)


def test_attributes_that_follow_from_what_save_writes() -> None:
    scan = _ct()
    scan.PixelAspectRatio = [1, 1]  # 1C: not beside PixelSpacing, which save writes
    scan.LossyImageCompression = "01"  # the output's pixels never were
    del scan.PositionReferenceIndicator  # Type 2 beside the frame of reference UID
    ds = _made(scan).template.dataset
    assert "PixelAspectRatio" not in ds and ds.LossyImageCompression == "00"
    assert ds.PositionReferenceIndicator in (None, "")
    assert "RescaleType" not in ds  # CT Image: absent means HU
    scan.SOPClassUID = scan.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    scan.Modality = "OT"  # Secondary Capture: rescale by the Modality LUT module
    assert _made(scan).template.dataset.RescaleType == "US"


def test_animal_patients_keep_their_conditional_attributes_empty() -> None:
    scan = _ct()
    scan.PatientSexNeutered, scan.ResponsiblePerson = "ALTERED", "Owner^Anne"
    assert "PatientSexNeutered" not in _made(scan).template.dataset  # a person: X
    scan.PatientSpeciesDescription = "cat"
    ds = _made(scan).template.dataset
    for keyword in ("PatientSexNeutered", "ResponsiblePerson", "ResponsibleOrganization"):
        assert ds[keyword].value in (None, ""), keyword
