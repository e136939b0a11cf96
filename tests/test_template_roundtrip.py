"""Every dcmdump +L dump of real files parses; our dump of each round-trips through dump2dcm."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from nipype_vinci.errors import TemplateError
from nipype_vinci.template import dump_dataset, parse_dump

from .conftest import SAMPLES, need_tool
from .dicom_compare import differences

PYDICOM_FILES = sorted(Path(get_testdata_file("CT_small.dcm")).parent.glob("*.dcm"))
SAMPLE_FILES = sorted(SAMPLES.glob("*.dcm")) + sorted(SAMPLES.glob("pet-*/*.dcm"))[:20]

# Files DCMTK's dcmdump itself cannot read (truncated or meta-less test files).
DCMTK_UNREADABLE = {"MR_truncated.dcm", "SC_rgb_jpeg.dcm", "no_meta.dcm", "rtplan_truncated.dcm"}
# Real files whose values break PS3.5; our parser refuses them by design (spec section 4).
REFUSED = {
    "ExplVR_BigEnd.dcm": "is not a time",  # ACR-NEMA dates/times 1997.04.24, 14:04:38
    "badVR.dcm": "is not an integer",  # IS [1A]
    "rtdose.dcm": "no leading zero",  # UID part 0123
    "rtdose_1frame.dcm": "no leading zero",
    "rtdose_expb.dcm": "no leading zero",
    "rtdose_expb_1frame.dcm": "no leading zero",
    "no_meta_group_length.dcm": "control character",  # NUL inside SH
    "examples_ybr_color.dcm": r"unclosed \[",  # UT with line breaks: dcmdump prints them raw
    "test-SR.dcm": "raw carriage return",  # text with CR LF printed raw
}
# What DCMTK itself changes when it writes the file back (not ours to keep).
DCMTK_CHANGES = {
    "meta_missing_tsyntax.dcm": "dump2dcm pads an odd-length UN value with a NUL",
    "nested_priv_SQ.dcm": "an implicit-VR private sequence comes back as UN bytes",
}


def _dcmdump(path: Path) -> bytes:
    return subprocess.run(
        [need_tool("dcmdump"), "-q", "+L", str(path)], check=True, capture_output=True
    ).stdout


def _comparable(found: list[str]) -> list[str]:
    """Drop what DCMTK always rewrites: group lengths and trailing padding."""
    return [
        d
        for d in found
        if not d.split(":")[0].endswith("0000)") and not d.startswith("(FFFC,FFFC)")
    ]


@pytest.mark.parametrize("path", PYDICOM_FILES + SAMPLE_FILES, ids=lambda p: p.name)
def test_dcmdump_text_parses(path: Path) -> None:
    if path.name in DCMTK_UNREADABLE:
        pytest.skip("DCMTK's dcmdump cannot read this file")
    if not path.exists():
        pytest.skip("sample absent")
    text = _dcmdump(path)
    if path.name in REFUSED:
        with pytest.raises(TemplateError, match=REFUSED[path.name]):
            parse_dump(text, path.name)
        return
    template = parse_dump(text, path.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = pydicom.dcmread(path, force=True)
    assert _comparable(differences(original, template.dataset)) == [] or path.name in (
        DCMTK_CHANGES
    )


@pytest.mark.parametrize("path", PYDICOM_FILES + SAMPLE_FILES, ids=lambda p: p.name)
def test_our_dump_round_trips_through_dump2dcm(path: Path, tmp_path: Path) -> None:
    dump2dcm = need_tool("dump2dcm")
    if path.name in DCMTK_UNREADABLE or path.name in REFUSED or path.name in DCMTK_CHANGES:
        pytest.skip("listed exception: " + DCMTK_CHANGES.get(path.name, "see REFUSED"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = pydicom.dcmread(path, force=True)
    (tmp_path / "a.dump").write_bytes(dump_dataset(original))
    subprocess.run(
        [dump2dcm, "-q", "+l", "4000000", str(tmp_path / "a.dump"), str(tmp_path / "a.dcm")],
        check=True,
    )
    back = pydicom.dcmread(tmp_path / "a.dcm")
    assert _comparable(differences(original, back)) == []
