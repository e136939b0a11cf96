"""What other scanners write, on the real GE PET file: the failures issue 13 saw elsewhere.

The GE Discovery ST file is made to carry what a Siemens or Philips PET file carries (coded
concepts with Context Group Version, a stale RelatedSeriesSequence, an unpaired body part
without Laterality, a 69-character LO, PatientSize, an empty gating-only TriggerTime); the
template made from it, through the command line, saves a series to which dciodvfy adds no
error over the modified source's own.
"""

from __future__ import annotations

import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .conftest import cli
from .export_checks import dciodvfy_errors


def _coded(value: str, meaning: str, context: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SCT", meaning
    item.MappingResource, item.ContextIdentifier = "DCMR", context
    item.ContextGroupVersion = "20020904000000"
    return item


def _siemens_like(source: Path, out: Path) -> Path:
    scan = pydicom.dcmread(source)
    info = scan.RadiopharmaceuticalInformationSequence[0]
    info.RadionuclideCodeSequence = Sequence([_coded("77004003", "^18^Fluorine", "4020")])
    info.RadiopharmaceuticalCodeSequence = Sequence(
        [_coded("35321007", "Fluorodeoxyglucose F^18^", "4021")]
    )
    scan.PatientOrientationCodeSequence = Sequence([_coded("102538003", "recumbent", "19")])
    scan.PatientGantryRelationshipCodeSequence = Sequence([_coded("102540008", "headfirst", "21")])
    related = Dataset()
    related.StudyInstanceUID, related.SeriesInstanceUID = "1.2.3.4", "1.2.3.4.5"
    related.PurposeOfReferenceCodeSequence = Sequence(
        [_coded("122403", "For Attenuation Correction", "7210")]
    )
    scan.RelatedSeriesSequence = Sequence([related])
    scan.BodyPartExamined = "CHEST"  # unpaired: Laterality must stay absent
    scan.ManufacturerModelName = "Biograph" + "x" * 61  # 69 characters
    scan.PatientSize = "1.63"
    scan.TriggerTime = ""
    scan.save_as(out)
    return out


def _errors(files: list[Path]) -> set[str]:
    return {re.sub(r"\s+", " ", e.split(": ", 1)[1]) for e in dciodvfy_errors(files)}


def test_other_scanners_pet_header_saves_without_new_errors(samples: Path, tmp_path: Path) -> None:
    source = _siemens_like(samples / "pet-ge-discovery-st" / "1-001.dcm", tmp_path / "src.dcm")
    template = tmp_path / "pet.dump"
    made = cli("make-template", str(source), "-o", str(template))
    assert made.returncode == 0, made.stderr
    warnings = made.stderr.strip().splitlines()
    assert len(warnings) == 1 and "ManufacturerModelName" in warnings[0]
    text = template.read_text()
    assert text.count("(0008,0106) DT [20020904000000]") == 4  # kept in every coded item
    assert "RelatedSeriesSequence" not in text and "Laterality" not in text
    assert "[1.63]" not in text and "TriggerTime" not in text
    image = tmp_path / "pet.nii"
    data = np.random.default_rng(3).random((8, 6, 3)).astype(np.float32) * 20000
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0])), image)
    out = tmp_path / "series"
    saved = cli("save", str(image), str(out), "--template", str(template))
    assert saved.returncode == 0, saved.stderr
    files = sorted(out.glob("*.dcm"))
    added = _errors(files) - _errors([source])
    assert added == set()
