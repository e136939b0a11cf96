"""Generic repairs of a de-identified data set, so the template makes valid files.

Three rules, none of them about one scanner:

- `remove_source_references`: sequences that point into the source's study (Referenced*,
  Related*, Source* sequences: images, series, studies, procedure steps) are removed; the
  output is a new series, and such references would point at someone else's instances.
- `repair_values`: a source value that breaks its VR (PS3.5 6.2, checked by the same rules the
  template parser applies) is made valid: a value longer than its VR allows is truncated to
  the limit (valid whatever the attribute's type), any other broken value is emptied (valid
  for Type 2 and 3; a Type 1 value that breaks its VR was invalid in the source already),
  and line breaks in text become spaces (a dump line cannot carry them). One warning each.
- `decide_conditionals`: conditional attributes (PS3.3 Type 1C/2C) are present exactly when
  their condition holds on the template as save fills it (`CONDITIONS` states each rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .values import LITERAL_BACKSLASH_VRS, MAX_CHARS, STRING_VRS, strings_problem

SOURCE_REFERENCE = re.compile(r"(Referenced|Related|Source)\w*Sequence")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _is_reference(element: DataElement) -> bool:
    keyword = element.keyword or ""
    return (
        element.VR == "SQ"
        and SOURCE_REFERENCE.fullmatch(keyword) is not None
        and not keyword.endswith("CodeSequence")
    )


def remove_source_references(dataset: Dataset) -> None:
    """Remove every reference sequence into the source's study, at any depth."""
    for element in list(dataset):
        if _is_reference(element):
            del dataset[element.tag]
        elif element.VR == "SQ":
            for item in element.value:
                remove_source_references(item)


def _name(element: DataElement) -> str:
    tag = int(element.tag)
    return f"({tag >> 16:04x},{tag & 0xFFFF:04x}) {element.keyword or 'private'}"


def _texts(element: DataElement) -> list[str]:
    values = element.value if isinstance(element.value, (list, MultiValue)) else [element.value]
    return [str(v) for v in values]


def _set_texts(dataset: Dataset, element: DataElement, texts: list[str]) -> None:
    value = texts if len(texts) > 1 else texts[0]
    dataset[element.tag] = DataElement(element.tag, element.VR, value)


def _truncated(vr: str, text: str) -> str:
    if vr == "PN":
        return "=".join(group[:64] for group in text.split("="))
    return text[: MAX_CHARS[vr]].rstrip(" ")


def _repair_one(dataset: Dataset, element: DataElement) -> str | None:
    """Make one string element valid; the warning, or None when it was valid."""
    vr, texts = element.VR, _texts(element)
    if vr in LITERAL_BACKSLASH_VRS and any(LINE_BREAK.search(t) for t in texts):
        _set_texts(dataset, element, [LINE_BREAK.sub(" ", t) for t in texts])
        return f"{_name(element)}: line breaks in the source's text replaced by spaces"
    problem = strings_problem(vr, texts)
    if problem is None:
        return None
    if vr in MAX_CHARS or vr == "PN":
        shorter = [_truncated(vr, t) for t in texts]
        if shorter != texts and strings_problem(vr, shorter) is None:
            _set_texts(dataset, element, shorter)
            return f"{_name(element)}: the source's {problem}; truncated"
    dataset[element.tag] = DataElement(element.tag, vr, None)
    return f"{_name(element)}: the source's {problem}; emptied"


def repair_values(dataset: Dataset) -> list[str]:
    """Repair every string value that breaks its VR, at any depth; one warning per element
    repaired."""
    warnings = []
    for element in list(dataset):
        if element.VR == "SQ":
            for item in element.value:
                warnings += repair_values(item)
        elif element.VR in STRING_VRS and element.VR != "UI" and not element.is_empty:
            warning = _repair_one(dataset, element)
            if warning:
                warnings.append(warning)
    return warnings


# -- conditional attributes ------------------------------------------------------------------

# PS3.16 CID 4031 body parts that are not paired structures (no laterality), as
# BodyPartExamined spells them.
UNPAIRED_BODY_PARTS = frozenset(
    [
        "ABDOMEN",
        "ABDOMENPELVIS",
        "AORTA",
        "BACK",
        "BLADDER",
        "BRAIN",
        "CEREBELLUM",
        "CSPINE",
        "CTSPINE",
        "CERVIX",
        "CHEST",
        "CHESTABDOMEN",
        "CHESTABDPELVIS",
        "CIRCLEOFWILLIS",
        "COCCYX",
        "COLON",
        "CORONARYARTERY",
        "DUODENUM",
        "WHOLEBODY",
        "ESOPHAGUS",
        "FACE",
        "GALLBLADDER",
        "HEAD",
        "HEADNECK",
        "HEART",
        "ILEUM",
        "JAW",
        "JEJUNUM",
        "LARYNX",
        "LIVER",
        "LSPINE",
        "LSSPINE",
        "MAXILLA",
        "MEDIASTINUM",
        "MOUTH",
        "NECK",
        "NECKCHEST",
        "NECKCHESTABDOMEN",
        "NECKCHESTABDPELV",
        "NOSE",
        "PANCREAS",
        "PELVIS",
        "PENIS",
        "PHARYNX",
        "PROSTATE",
        "RECTUM",
        "SSPINE",
        "SCALP",
        "SKULL",
        "SPINE",
        "SPLEEN",
        "STERNUM",
        "STOMACH",
        "TSPINE",
        "TLSPINE",
        "THYMUS",
        "THYROID",
        "TONGUE",
        "TRACHEA",
        "URETER",
        "URETHRA",
        "UTERUS",
        "VAGINA",
        "VULVA",
    ]
)
CT_MR_CLASSES = frozenset(
    [
        "1.2.840.10008.5.1.4.1.1.2",  # CT Image
        "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image
        "1.2.840.10008.5.1.4.1.1.4",  # MR Image
        "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image
        "1.2.840.10008.5.1.4.1.1.4.3",  # Enhanced MR Color Image
        "1.2.840.10008.5.1.4.1.1.4.2",  # MR Spectroscopy
    ]
)
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
# Classes whose own image module defines rescale (CT Image: absent RescaleType means HU; PET
# Image: Units says it; MR Image: none): the Modality LUT module's RescaleType rule is not
# theirs.
OWN_RESCALE_CLASSES = CT_MR_CLASSES | {"1.2.840.10008.5.1.4.1.1.128"}
# PET attributes required only when SeriesType value 1 is GATED (PET Series, PET Image and
# PET Multi-gated Acquisition modules); save writes STATIC or DYNAMIC.
PET_GATED_ONLY = (
    "NumberOfRRIntervals",
    "NumberOfTimeSlots",
    "TriggerTime",
    "FrameTime",
    "LowRRValue",
    "HighRRValue",
    "BeatRejectionFlag",
    "TriggerSourceOrType",
    "PVCRejection",
    "SkipBeats",
    "HeartRate",
    "CardiacFramingType",
)


def _words(dataset: Dataset, keyword: str) -> list[str]:
    value = dataset.get(keyword)
    if value is None or value == "":
        return []
    values = value if isinstance(value, (list, MultiValue)) else [value]
    return [str(v).strip().upper() for v in values]


def _present_iff(dataset: Dataset, keyword: str, required: bool) -> None:
    """Add ``keyword`` empty when required and absent (Type 2C), remove it when not required."""
    if required and keyword not in dataset:
        setattr(dataset, keyword, None)
    elif not required and keyword in dataset:
        delattr(dataset, keyword)


def _laterality(dataset: Dataset) -> None:
    body_part = (_words(dataset, "BodyPartExamined") or [""])[0].replace(" ", "")
    unpaired = "ImageLaterality" in dataset or body_part in UNPAIRED_BODY_PARTS
    _present_iff(dataset, "Laterality", not unpaired)


def _patient_position(dataset: Dataset) -> None:
    if "PatientOrientationCodeSequence" in dataset:
        _present_iff(dataset, "PatientPosition", False)
    elif str(dataset.get("SOPClassUID", "")) in CT_MR_CLASSES:
        _present_iff(dataset, "PatientPosition", True)


def _mr_trigger_time(dataset: Dataset) -> None:
    if str(dataset.get("SOPClassUID", "")) == MR_IMAGE:
        gated = {"CG", "PPG"} & set(_words(dataset, "ScanOptions"))
        _present_iff(dataset, "TriggerTime", bool(gated))


def _rescale_type(dataset: Dataset) -> None:
    own_rescale = str(dataset.get("SOPClassUID", "")) in OWN_RESCALE_CLASSES
    if "RescaleIntercept" in dataset and not own_rescale and "RescaleType" not in dataset:
        dataset.RescaleType = "US"  # unspecified


def _pixel_aspect_ratio(dataset: Dataset) -> None:
    if "PixelSpacing" in dataset:
        _present_iff(dataset, "PixelAspectRatio", False)


def _position_reference(dataset: Dataset) -> None:
    if "FrameOfReferenceUID" in dataset:
        _present_iff(dataset, "PositionReferenceIndicator", True)


def _fresh_pixels(dataset: Dataset) -> None:
    if "LossyImageCompression" in dataset:
        dataset.LossyImageCompression = "00"


def _animal(dataset: Dataset) -> None:
    animal = "PatientSpeciesDescription" in dataset or "PatientSpeciesCodeSequence" in dataset
    for keyword in ("PatientSexNeutered", "ResponsiblePerson", "ResponsibleOrganization"):
        _present_iff(dataset, keyword, animal)


def _pet_not_gated(dataset: Dataset) -> None:
    if "SeriesType" in dataset:
        for keyword in PET_GATED_ONLY:
            _present_iff(dataset, keyword, False)


@dataclass(frozen=True)
class Condition:
    """One conditional-attribute rule: what it decides, the PS3.3 condition, the decision."""

    attribute: str
    condition: str
    decide: Callable[[Dataset], None]


CONDITIONS = [
    Condition(
        "Laterality (0020,0060), General Series, 2C",
        "required if the body part examined is a paired structure and Image Laterality is not "
        "present: removed beside ImageLaterality or an unpaired BodyPartExamined, else kept "
        "(added empty when the source had none: a paired or unknown body part may need it)",
        _laterality,
    ),
    Condition(
        "Patient Position (0018,5100), General Series, 2C",
        "required for CT and MR images where Patient Orientation Code Sequence is not present; "
        "not allowed beside it",
        _patient_position,
    ),
    Condition(
        "Trigger Time (0018,1060), MR Image, 2C",
        "required for MR images with cardiac or pulse gating (ScanOptions CG or PPG)",
        _mr_trigger_time,
    ),
    Condition(
        "Rescale Type (0028,1054), Modality LUT, 1C",
        "required if Rescale Intercept is present (save always writes it): added as US "
        "(unspecified) where the source had none, except in CT, MR and PET images, whose own "
        "modules define their rescale",
        _rescale_type,
    ),
    Condition(
        "Pixel Aspect Ratio (0028,0034), Image Pixel, 1C",
        "required only when Pixel Spacing does not give the pixel's shape: save writes "
        "PixelSpacing, so it goes",
        _pixel_aspect_ratio,
    ),
    Condition(
        "Position Reference Indicator (0020,1040), Frame of Reference, 2",
        "present, empty when unknown, wherever the frame of reference is (save writes its UID)",
        _position_reference,
    ),
    Condition(
        "Lossy Image Compression (0028,2110), General Image 3 / DX Image 1",
        "the output's pixels are new and were never lossy-compressed: 00 where present",
        _fresh_pixels,
    ),
    Condition(
        "Patient's Sex Neutered (0010,2203), Patient Study; Responsible Person and Organization "
        "(0010,2297/2299), Patient; 2C",
        "required when the patient is an animal (a species given): present and empty (their "
        "values identify), absent otherwise",
        _animal,
    ),
    Condition(
        "gating attributes, PET Series / PET Image / PET Multi-gated Acquisition, 1C",
        "required only when SeriesType value 1 is GATED; save writes STATIC or DYNAMIC",
        _pet_not_gated,
    ),
]


def decide_conditionals(dataset: Dataset) -> None:
    """Apply every rule of `CONDITIONS` to the top-level data set."""
    for rule in CONDITIONS:
        rule.decide(dataset)
