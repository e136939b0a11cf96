"""Make a template from a real scan: de-identify, turn image-dependent values into keywords.

The steps, each a rule of its own module:

1. `volume_source.refusal`: only a single-frame grey-scale image can be a volume template;
   MONOCHROME1 becomes MONOCHROME2, and a BitsAllocated its IOD does not allow becomes 16
   (a note says so).
2. `repair.remove_source_references`: references into the source's study are removed.
3. The walk below: an element at a keyword's home becomes that keyword (identifiers, dates,
   patient characteristics, geometry, scaling: whatever the output computes); values that
   depend on the pixels and have no keyword are removed; every other element takes its
   PS3.15 basic-profile action (`deidentify.action_for`); private tags are dropped unless
   asked for.
4. The slots every output needs are added where the source lacks them (`NEEDED`).
5. `repair.decide_conditionals` and `repair.repair_values`: conditional attributes as the
   filled template needs them; source values that break their VR made valid (a warning each).
"""

from __future__ import annotations

import warnings
from copy import deepcopy
from dataclasses import dataclass, field

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from ..errors import VinciError
from .deidentify import DUMMY, EMPTY, REMOVE, action_for, dummy_value
from .keywords import KEYWORD_AT_HOME, KEYWORDS, PIXEL_KEYWORD, fit_problem
from .model import PIXEL_DATA, ElementPath, Slot, Template, TemplateInfo
from .repair import decide_conditionals, remove_source_references, repair_values
from .semantics import allowed_bits
from .volume_source import refusal, to_allowed_bits, to_monochrome2

# Values that depend on the image and have no keyword: stale once the pixels change.
IMAGE_DEPENDENT = {
    tag_for_keyword(keyword)
    for keyword in (
        "SmallestPixelValueInSeries",
        "LargestPixelValueInSeries",
        "PixelPaddingValue",
        "PixelPaddingRangeLimit",
        "PlanarConfiguration",
        "FrameIncrementPointer",
        "WindowCenterWidthExplanation",
        "QualityControlImage",
        "ModalityLUTSequence",
        "VOILUTSequence",
        "LossyImageCompressionRatio",
        "LossyImageCompressionMethod",
        "PrimaryPromptsCountsAccumulated",
        "SecondaryCountsAccumulated",
        "SliceSensitivityFactor",
        "ScatterFractionFactor",
        "ExposureTime",
        "XRayTubeCurrent",
        "Exposure",
        "CTDIvol",
        "TablePosition",
        "TemporalPositionIndex",
        "StackID",
        "InStackPositionNumber",
    )
}
OVERLAY_GROUPS = (0x6000, 0x601E)  # Overlay Plane modules: the source's overlays


def _image_dependent(tag: int) -> bool:
    """Whether the element describes the source's pixels (no keyword computes it anew)."""
    group = tag >> 16
    overlay = OVERLAY_GROUPS[0] <= group <= OVERLAY_GROUPS[1] and group % 2 == 0
    return tag in IMAGE_DEPENDENT or overlay


# Slots every template needs, added where the source scan lacks them: (keyword, VR).
NEEDED = [
    ("SOPINSTANCEUID", "UI"),
    ("STUDYDATE", "DA"),
    ("SERIESDATE", "DA"),
    ("CONTENTDATE", "DA"),
    ("STUDYTIME", "TM"),
    ("SERIESTIME", "TM"),
    ("CONTENTTIME", "TM"),
    ("PATIENTNAME", "PN"),
    ("PATIENTID", "LO"),
    ("PATIENTDOB", "DA"),
    ("PATIENTSEX", "CS"),
    ("PATIENTAGE", "AS"),
    ("PATIENTSIZE", "DS"),
    ("PATIENTWEIGHT", "DS"),
    ("ACCESSIONNUMBER", "SH"),
    ("REFERRINGPHYSICIANNAME", "PN"),
    ("STUDYDESCRIPTION", "LO"),
    ("SERIESDESCRIPTION", "LO"),
    ("STUDYINSTANCEUID", "UI"),
    ("SERIESINSTANCEUID", "UI"),
    ("STUDYID", "SH"),
    ("SERIESNUMBER", "IS"),
    ("INSTANCENUMBER", "IS"),
    ("FRAMEOFREFERENCEUID", "UI"),
    ("IMAGEPOSITIONPATIENT", "DS"),
    ("IMAGEORIENTATIONPATIENT", "DS"),
    ("SLICELOCATION", "DS"),
    ("SLICETHICKNESS", "DS"),
    ("ROWS", "US"),
    ("COLUMNS", "US"),
    ("PIXELSPACING", "DS"),
    ("RESCALEINTERCEPT", "DS"),
    ("RESCALESLOPE", "DS"),
    ("WINDOWCENTER", "DS"),
    ("WINDOWWIDTH", "DS"),
]
DEIDENTIFICATION_METHOD = "nipype-vinci make-template: PS3.15 E.1-1 basic profile"
# PS3.16 CID 7050: the profile applied.
BASIC_PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")


@dataclass
class MadeTemplate:
    """A template made from a scan, and what the user should be told about it."""

    template: Template
    notes: list[str] = field(default_factory=list)


class _Maker:
    def __init__(self, keep_private: bool):
        self.keep_private = keep_private
        self.slots: list[Slot] = []

    def clean(self, dataset: Dataset, parents: ElementPath) -> None:
        for element in list(dataset):
            tag = int(element.tag)
            if element.tag.is_private:
                if not self.keep_private:
                    del dataset[tag]
            elif tag >> 16 != 0x0002 and tag & 0xFFFF == 0 and tag != 0x7FE00000:
                del dataset[tag]  # group lengths: stale once anything changes
            elif tag == PIXEL_DATA and not parents:
                self.pixel_slot(dataset)
            elif not self.keyword_slot(dataset, element, parents):
                self.deidentify(dataset, element, parents)

    def deidentify(self, dataset: Dataset, element: DataElement, parents: ElementPath) -> None:
        tag = int(element.tag)
        action = REMOVE if _image_dependent(tag) else action_for(element)
        dummy = dummy_value(element.VR) if action == DUMMY else None
        if action == REMOVE or (action == DUMMY and element.VR != "SQ" and dummy is None):
            del dataset[tag]
        elif action == EMPTY:
            empty = Sequence() if element.VR == "SQ" else None
            dataset[tag] = DataElement(tag, element.VR, empty)
        elif element.VR == "SQ":  # kept, or D: the items stay, each de-identified
            for index, item in enumerate(element.value):
                self.clean(item, parents + ((tag, index),))
        elif action == DUMMY:
            dataset[tag] = DataElement(tag, element.VR, dummy)

    def keyword_slot(self, dataset: Dataset, element: DataElement, parents: ElementPath) -> bool:
        keyword = KEYWORD_AT_HOME.get(int(element.tag))
        if keyword is None or fit_problem(keyword, element.tag, element.VR):
            return False
        if keyword.per_file and parents:
            return False  # a value that changes file by file cannot stand in a sequence
        dataset[element.tag] = DataElement(element.tag, element.VR, None)
        self.slots.append(Slot(keyword.name, int(element.tag), element.VR, parents))
        return True

    def pixel_slot(self, dataset: Dataset) -> None:
        vr = "OW" if dataset.get("BitsAllocated", 16) > 8 else "OB"
        dataset[PIXEL_DATA] = DataElement(PIXEL_DATA, vr, b"")
        self.slots.append(Slot(PIXEL_KEYWORD, PIXEL_DATA, vr))

    def add_needed(self, dataset: Dataset) -> None:
        present = {(slot.tag, slot.parents) for slot in self.slots}
        for name, vr in NEEDED:
            home = KEYWORDS[name].home
            if (home, ()) not in present:
                dataset[home] = DataElement(home, vr, None)
                self.slots.append(Slot(name, home, vr))


def _file_meta(source: Dataset) -> FileMetaDataset:
    meta = FileMetaDataset()
    sop_class = source.get("SOPClassUID") or source.file_meta.get("MediaStorageSOPClassUID")
    if sop_class:
        meta.MediaStorageSOPClassUID = sop_class
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def _mark_deidentified(dataset: Dataset) -> None:
    image_type = list(dataset.get("ImageType", []) or [])
    if image_type:
        dataset.ImageType = ["DERIVED", *image_type[1:]]
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = BASIC_PROFILE_CODE
    dataset.DeidentificationMethodCodeSequence = Sequence([code])


def build_template(
    scan: Dataset,
    name: str,
    *,
    keep_private: bool = False,
    source: str = "",
    licence: str = "",
) -> MadeTemplate:
    """A de-identified template made from a scan's data set (the scan is not changed), with
    the notes and warnings to show; VinciError when the scan cannot be a volume template."""
    with warnings.catch_warnings():  # pydicom's complaints about the source: repair_values
        warnings.simplefilter("ignore")  # reports every broken value in our own words
        return _build(scan, name, keep_private, {"source": source, "licence": licence})


def _build(scan: Dataset, name: str, keep_private: bool, origin: dict[str, str]) -> MadeTemplate:
    problem = refusal(scan)
    if problem:
        raise VinciError(problem)
    dataset = deepcopy(scan)
    dataset.file_meta = _file_meta(scan)
    if not dataset.get("SOPClassUID"):  # Type 1; some files carry it in the file meta only
        dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID
    allowed = allowed_bits(str(dataset.SOPClassUID))
    changes = [to_monochrome2(dataset), to_allowed_bits(dataset, allowed)]
    notes = [note for note in changes if note]
    remove_source_references(dataset)
    maker = _Maker(keep_private)
    maker.clean(dataset, ())
    if PIXEL_DATA not in dataset:  # a header-only source: the pixel slot is the output's
        maker.pixel_slot(dataset)
    maker.add_needed(dataset)
    decide_conditionals(dataset)
    notes += repair_values(dataset)  # keyword slots are empty: save fills them
    _mark_deidentified(dataset)
    info = TemplateInfo(
        name=name,
        modality=str(scan.get("Modality", "") or ""),
        manufacturer=str(scan.get("Manufacturer", "") or ""),
        model=str(scan.get("ManufacturerModelName", "") or ""),
        **origin,
    )
    template = Template(dataset, maker.slots, info, name)
    return MadeTemplate(template, notes)


def make_template(scan: Dataset, name: str, **options) -> Template:
    """`build_template`'s template alone (its notes dropped)."""
    return build_template(scan, name, **options).template
