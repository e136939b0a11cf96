"""Names in any script survive (pydicom, dcmdump +U8, dciodvfy), and UIDs never collide:
exports that differ in anything share no UID, the same export gives the same files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from nipype_vinci.export.uids import derived_uid

from .conftest import cli, need_tool
from .export_checks import dciodvfy_errors

NAMES = {
    "german": "Müller^Jürgen",
    "french": "Lefèvre^Hélène",
    "japanese": "山田^太郎",
    "chinese": "王^小明",
    "korean": "김^민준",
    "greek": "Παπαδόπουλος^Γιώργος",
    "cyrillic": "Иванов^Иван",
    "hebrew": "כהן^דוד",
    "arabic": "العلي^محمد",
    "emoji": "Smile^😀",
}


def _image(path: Path, data: np.ndarray) -> str:
    nib.save(nib.Nifti1Image(data, np.diag([1.0, 1.0, 2.0, 1.0])), path)
    return str(path)


@pytest.mark.parametrize("script", list(NAMES))
def test_names_in_any_script(script: str, tmp_path: Path) -> None:
    name = NAMES[script]
    source = _image(tmp_path / "in.nii", np.arange(48, dtype=np.int16).reshape(4, 4, 3))
    out = tmp_path / "out"
    result = cli(
        "save", source, str(out), "--template", "ge-lightspeed16-ct", "--patient-name", name,
        "--study-description", f"Étude {name}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.dcm"))
    dataset = pydicom.dcmread(files[0])
    assert str(dataset.PatientName) == name and dataset.StudyDescription == f"Étude {name}"
    latin1 = script in ("german", "french")
    assert dataset.SpecificCharacterSet == ("ISO_IR 100" if latin1 else "ISO_IR 192")
    dump = subprocess.run(
        [need_tool("dcmdump"), "+U8", str(files[0])], capture_output=True, check=True
    )
    assert name.encode("utf-8") in dump.stdout
    assert dciodvfy_errors(files) == []


def _uids(folder: Path) -> set[str]:
    found = set()
    for path in folder.glob("*.dcm"):
        d = pydicom.dcmread(path, stop_before_pixels=True)
        found |= {d.SOPInstanceUID, d.SeriesInstanceUID, d.StudyInstanceUID, d.FrameOfReferenceUID}
    return found


def test_same_image_for_two_patients_shares_no_uid(tmp_path: Path) -> None:
    source = _image(tmp_path / "atlas.nii", np.ones((4, 4, 3), np.float32))
    for patient in ("A", "B"):
        result = cli(
            "save", source, str(tmp_path / patient), "--template", "ge-lightspeed16-ct",
            "--uid-seed", "s1", "--patient-id", patient,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert not _uids(tmp_path / "A") & _uids(tmp_path / "B")


def test_seed_on_two_images_shares_no_uid(tmp_path: Path) -> None:
    for name, value in (("a", 1.0), ("b", 2.0)):
        source = _image(tmp_path / f"{name}.nii", np.full((4, 4, 3), value, np.float32))
        args = ["--template", "ge-lightspeed16-ct", "--uid-seed", "s1"]
        assert cli("save", source, str(tmp_path / name.upper()), *args).returncode == 0
    assert not _uids(tmp_path / "A") & _uids(tmp_path / "B")


def test_same_export_with_a_seed_is_byte_identical(tmp_path: Path) -> None:
    source = _image(tmp_path / "in.nii", np.random.default_rng(1).random((6, 5, 4), np.float32))
    for out in ("one", "two"):
        result = cli(
            "save", source, str(tmp_path / out), "--template", "ge-discovery-st-pet",
            "--uid-seed", "s1", "--patient-name", "Doe^Jane",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    one, two = sorted((tmp_path / "one").glob("*.dcm")), sorted((tmp_path / "two").glob("*.dcm"))
    assert [p.name for p in one] == [p.name for p in two]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one, two))


def test_ten_thousand_derived_uids_are_distinct() -> None:
    uids = {derived_uid("seed", "instance", 0, n) for n in range(10_000)}
    assert len(uids) == 10_000
    assert all(len(u) <= 64 for u in uids)


@pytest.mark.parametrize(
    "name, charset",
    [("Doe^Jane", None), ("Müller^Jürgen", "ISO_IR 192"), ("山田^太郎", "ISO_IR 192")],
)
def test_a_template_without_a_character_set_has_the_default_repertoire(
    name: str, charset: str | None, tmp_path: Path
) -> None:
    """No (0008,0005) in the template: ASCII stays without one, anything beyond gets ISO_IR
    192 (DESIGN section 7), Latin-1 names too."""
    from nipype_vinci.template.library import BUNDLED

    text = (BUNDLED / "ge-lightspeed16-ct.dump").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("(0008,0005)")]
    (tmp_path / "plain.dump").write_text("\n".join(lines) + "\n", "utf-8")
    source = _image(tmp_path / "in.nii", np.arange(48, dtype=np.int16).reshape(4, 4, 3))
    out = tmp_path / "out"
    result = cli(
        "save", source, str(out), "--template", str(tmp_path / "plain.dump"),
        "--patient-name", name,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.dcm"))
    dataset = pydicom.dcmread(files[0])
    assert dataset.get("SpecificCharacterSet") == charset and str(dataset.PatientName) == name
    assert dciodvfy_errors(files) == []


def test_a_template_literal_beyond_ascii_counts_for_the_character_set(tmp_path: Path) -> None:
    """No (0008,0005), but the scanner wrote its institution in Latin-1: the series gets
    ISO_IR 192, and the name arrives intact (dciodvfy: no invalid character)."""
    from nipype_vinci.template.library import BUNDLED

    text = (BUNDLED / "ge-lightspeed16-ct.dump").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("(0008,0005)")]
    lines.append("(0008,0080) LO [Universitätsklinikum]")
    (tmp_path / "latin.dump").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    source = _image(tmp_path / "in.nii", np.arange(48, dtype=np.int16).reshape(4, 4, 3))
    out = tmp_path / "out"
    result = cli("save", source, str(out), "--template", str(tmp_path / "latin.dump"))
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.dcm"))
    dataset = pydicom.dcmread(files[0])
    assert dataset.SpecificCharacterSet == "ISO_IR 192"
    assert dataset.InstitutionName == "Universitätsklinikum"
    assert dciodvfy_errors(files) == []
