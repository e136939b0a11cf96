"""Every real PET, CT and MR file the installed packages ship: make-template, then save.

For each single-frame grey-scale file (tests/corpus.py lists the sources): the template it
makes passes check-template, and a synthetic volume of its modality saved with it gives
files to which dciodvfy adds no error over the source's own and in which no identifier of
the source survives. Every other file of the corpus is refused by make-template in one line.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from nipype_vinci.errors import VinciError
from nipype_vinci.export.metadata import build_metadata
from nipype_vinci.export.save import SaveOptions, save_series
from nipype_vinci.template import dump_template
from nipype_vinci.template.deidentify import KEEP, KEPT, dummy_value, profile_code
from nipype_vinci.template.make import build_template
from nipype_vinci.template.parser import checked_template
from nipype_vinci.template.volume_source import refusal

from .corpus import MISSING, corpus
from .export_checks import dciodvfy_errors

CORPUS = corpus()
VOLUME_SOURCES = [(f, scan) for f, scan in CORPUS if refusal(scan) is None]
REFUSED = [(f, scan) for f, scan in CORPUS if refusal(scan) is not None]
CLOCK = datetime(2031, 2, 3, 4, 5, 6)
DUMMIES = {str(dummy_value(vr)) for vr in ("LO", "AS", "DS")}
DATES = frozenset(["DA", "DT", "TM"])


def test_corpus_packages_are_installed() -> None:
    if MISSING:
        pytest.skip(f"not installed, so not in the corpus: {', '.join(MISSING)} (pip install)")
    assert len(VOLUME_SOURCES) >= 40


def _synthetic(modality: str, path: Path) -> Path:
    rng = np.random.default_rng(7)
    if modality == "CT":  # Hounsfield units: integers, written exactly
        data = rng.integers(-1000, 2000, (8, 6, 3)).astype(np.int16)
    else:
        data = (rng.random((8, 6, 3)) * (20000 if modality == "PT" else 1000)).astype(np.float32)
    affine = np.array([[1.5, 0, 0, -6], [0, 1.5, 0, 4], [0, 0, 3, 20], [0, 0, 0, 1]])
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def _errors(path: Path) -> set[str]:
    return {re.sub(r"\s+", " ", e.split(": ", 1)[1]).strip() for e in dciodvfy_errors([path])}


def _texts(element) -> list[str]:
    values = element.value if element.VM > 1 else [element.value]
    return [str(v).strip() for v in values if str(v).strip()]


def _identifying(element) -> bool:
    tag = int(element.tag)
    if tag in KEPT or element.VR == "SQ" or element.is_empty:
        return False
    code = profile_code(tag)
    standard_uid = element.VR == "UI" and all(
        t in pydicom.uid.UID_dictionary for t in _texts(element)
    )
    return (code not in (None, KEEP) and not standard_uid) or (
        element.VR in DATES | {"PN"} or (element.VR == "UI" and not standard_uid)
    )


def _leaks(scan: pydicom.Dataset, files: list[Path]) -> list[str]:
    """Identifying values of the source found in the output: at the same tag, or (names,
    dates, UIDs) in any element of that VR."""
    ours: dict[object, set[str]] = {}
    for path in files:
        for element in pydicom.dcmread(path).iterall():
            if element.VR != "SQ" and not element.is_empty:
                for key in (int(element.tag), element.VR):
                    ours.setdefault(key, set()).update(_texts(element))
    leaks = []
    for element in scan.iterall():
        if not _identifying(element):
            continue
        by_vr = element.VR in DATES | {"PN", "UI"}
        found = ours.get(int(element.tag), set())
        found |= ours.get(element.VR, set()) if by_vr else set()
        leaks += [
            f"{element.keyword or element.tag}={text!r}"
            for text in _texts(element)
            if text in found and text not in DUMMIES and len(text) > 1
        ]
    return leaks


@pytest.mark.parametrize("item", VOLUME_SOURCES, ids=[f.name for f, _ in VOLUME_SOURCES])
def test_real_file_makes_a_template_that_saves_a_valid_series(item, tmp_path: Path) -> None:
    source, scan = item
    made = build_template(scan, "corpus", source=source.name)
    template = checked_template(dump_template(made.template), "corpus.dump")
    image = _synthetic(source.modality, tmp_path / "image.nii")
    out = tmp_path / "series"
    metadata = build_metadata({"patient_name": "CORPUS^TEST", "patient_id": "CORPUS1"})
    save_series(image, out, template, metadata, SaveOptions(clock=CLOCK))
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 3
    added = (_errors(files[0]) | _errors(files[-1])) - _errors(source.path)
    assert added == set()
    assert _leaks(scan, files) == []


@pytest.mark.parametrize("item", REFUSED, ids=[f.name for f, _ in REFUSED])
def test_real_file_that_is_no_volume_image_is_refused_in_one_line(item) -> None:
    source, scan = item
    with pytest.raises(VinciError) as info:
        build_template(scan, "corpus", source=source.name)
    assert len(info.value.problems) == 1 and "make-template needs" in info.value.problems[0]
