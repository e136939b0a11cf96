"""make-template, the bundled library and its lookup, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from nipype_vinci.template import dump_template, parse_template, read_template
from nipype_vinci.template.library import BUNDLED, list_templates
from nipype_vinci.template.make import make_template

from .conftest import cli

BUNDLED_SOURCES = {
    "ge-discovery-st-pet": "pet-ge-discovery-st/1-001.dcm",
    "ge-lightspeed16-ct": "ct-ge-lightspeed16.dcm",
    "siemens-avanto-mr": "mr-siemens-avanto.dcm",
}
IDENTIFYING = [
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "AccessionNumber",
    "InstitutionName",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "DeviceSerialNumber",
]


def _all_uids(dataset: pydicom.Dataset) -> set[str]:
    found = set()
    for element in dataset.iterall():
        if element.VR == "UI" and element.value:
            values = element.value if element.VM > 1 else [element.value]
            found |= {str(v) for v in values}
    return found


@pytest.mark.parametrize("name", sorted(BUNDLED_SOURCES))
def test_bundled_template_holds_no_identity_of_its_source(name: str, samples: Path) -> None:
    source = pydicom.dcmread(samples / BUNDLED_SOURCES[name])
    text = (BUNDLED / f"{name}.dump").read_bytes()
    for keyword in IDENTIFYING:
        value = str(source.get(keyword, "") or "")
        if len(value) >= 3:
            assert value.encode() not in text, f"{keyword} {value!r} of the source is in {name}"
    instance_uids = {u for u in _all_uids(source) if not u.startswith("1.2.840.10008.")}
    leaked = [u for u in instance_uids if u.encode() in text]
    assert leaked == []


@pytest.mark.parametrize("name", sorted(BUNDLED_SOURCES))
def test_bundled_template_passes_check_template(name: str) -> None:
    result = cli("check-template", name)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def test_make_template_cli_makes_a_checked_template(tmp_path: Path, samples: Path) -> None:
    out = tmp_path / "mine.dump"
    result = cli(
        "make-template",
        str(samples / "ct-ge-lightspeed16.dcm"),
        "-o",
        str(out),
        "--name",
        "my-ct",
        "--licence",
        "CC BY 4.0",
    )
    assert result.returncode == 0, result.stderr
    template = read_template(out)
    assert template.info.name == "my-ct" and template.info.modality == "CT"
    assert {"PATIENTNAME", "IMAGEPOSITIONPATIENT", "RESCALESLOPE", "MEMORYBASED"} <= (
        template.keywords
    )
    assert not any(e.tag.is_private for e in template.dataset.iterall())
    again = cli("make-template", str(samples / "ct-ge-lightspeed16.dcm"), "-o", str(out))
    assert again.returncode == 2 and "exists" in again.stderr


def test_keep_private_keeps_private_tags(samples: Path) -> None:
    scan = pydicom.dcmread(samples / "ct-ge-lightspeed16.dcm")
    kept = make_template(scan, "x", keep_private=True)
    assert any(e.tag.is_private for e in kept.dataset)
    parse_template(dump_template(kept))  # still a valid template


def test_user_folders_come_before_bundled(tmp_path: Path, monkeypatch) -> None:
    shadow = tmp_path / "site"
    shadow.mkdir()
    text = (BUNDLED / "ge-lightspeed16-ct.dump").read_text()
    (shadow / "ct.dump").write_text(text.replace("source=", "source=SITE-", 1))
    monkeypatch.setenv("NIPYPE_VINCI_TEMPLATE_PATH", str(shadow))
    found = {t.name: t for t in list_templates()}
    assert found["ge-lightspeed16-ct"].path == str(shadow / "ct.dump")
    result = cli(
        "templates",
        "--json",
        env={"NIPYPE_VINCI_TEMPLATE_PATH": str(shadow), "PATH": "/usr/bin:/bin"},
    )
    listed = json.loads(result.stdout)
    assert [t["name"] for t in listed] == [
        "ge-lightspeed16-ct",
        "ge-discovery-st-pet",
        "siemens-avanto-mr",
    ]
    assert listed[0]["source"].startswith("SITE-")


def test_templates_show_and_dump(samples: Path) -> None:
    shown = cli("templates", "show", "siemens-avanto-mr")
    assert shown.returncode == 0 and "=MEMORYBASED" in shown.stdout
    dumped = cli("dump", str(samples / "mr-siemens-avanto.dcm"))
    assert dumped.returncode == 0 and "(0010,0010) PN [" in dumped.stdout


def test_check_template_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dump"
    bad.write_text("(0028,0010) US ROWZ\n(0018,0050) DS [abc]\n(7fe0,0010) OW =MEMORYBASED\n")
    result = cli("check-template", str(bad))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 2 and "Traceback" not in result.stderr
    assert lines[0].endswith("did you mean ROWS?") and f"{bad}:1:16" in lines[0]
    assert f"{bad}:2:16" in lines[1]
