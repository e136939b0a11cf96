"""Make a template from a real scan: de-identify, turn image-dependent values into keywords.

De-identification follows the DICOM PS3.15 Annex E Basic Application Level Confidentiality
Profile: identifiers, dates and times that the output needs become their keywords; other
identifying attributes are removed (X) or emptied (Z); every UID that is not a standard UID
(class, transfer syntax, coding scheme) is removed; private tags are dropped unless asked.
"""

from __future__ import annotations

from copy import deepcopy

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UID_dictionary

from .keywords import KEYWORD_AT_HOME, KEYWORDS, PIXEL_KEYWORD, fit_problem
from .model import PIXEL_DATA, ElementPath, Slot, Template, TemplateInfo

# PS3.15 Table E.1-1, basic profile: attributes to empty (Z) where the IOD needs them present.
EMPTIED = {
    0x00080050,  # AccessionNumber
    0x00080090,  # ReferringPhysicianName
}
# PS3.15 Table E.1-1, basic profile: attributes removed (X), beyond dates, UIDs and names.
REMOVED = {
    0x00080014,
    0x00080012,
    0x00080013,
    0x0008002A,
    0x00080080,
    0x00080081,
    0x00080082,
    0x00080092,
    0x00080094,
    0x00080096,
    0x0008009C,
    0x00080201,
    0x00081010,
    0x00081040,
    0x00081048,
    0x00081049,
    0x00081050,
    0x00081052,
    0x00081060,
    0x00081062,
    0x00081070,
    0x00081072,
    0x00081080,
    0x00081084,
    0x00081110,
    0x00081111,
    0x00081120,
    0x00081140,
    0x00081155,
    0x00082111,
    0x00082112,
    0x00083010,
    0x00100021,
    0x00100032,
    0x00100050,
    0x00101000,
    0x00101001,
    0x00101002,
    0x00101005,
    0x00101040,
    0x00101060,
    0x00101080,
    0x00101081,
    0x00101090,
    0x00102150,
    0x00102152,
    0x00102154,
    0x00102160,
    0x00102180,
    0x001021B0,
    0x001021F0,
    0x00104000,
    0x00180010,
    0x00181000,
    0x00181004,
    0x00181005,
    0x00181007,
    0x00181008,
    0x00181400,
    0x00184000,
    0x00189424,
    0x0018A003,
    0x00200020,
    0x00204000,
    0x00209158,
    0x00321032,
    0x00321033,
    0x00321060,
    0x00324000,
    0x00380010,
    0x00380300,
    0x00380400,
    0x00384000,
    0x00400006,
    0x00400244,
    0x00400245,
    0x00400253,
    0x00400254,
    0x00400275,
    0x00401001,
    0x00401400,
    0x00402400,
    0x00700084,
    0x00880140,
    0x00880200,
    0x4008010C,
    0x40080114,
    0x4008011A,
    0x40080202,
    0x40084000,
}
# Values that depend on the image and have no keyword: stale once the pixels change.
IMAGE_DEPENDENT = {
    0x00280108,
    0x00280109,
    0x00280120,
    0x00280121,
    0x00281055,
    0x00280300,
    0x00540083,
    0x00541310,
    0x00541320,
    0x00541323,
    0x00541311,
    0x00181150,
    0x00181151,
    0x00181152,
    0x00189345,
    0x00280009,
    0x00282114,
    0x00282112,
    0x00189327,
    0x00209128,
    0x00209056,
    0x00209057,
    0x00280006,
}
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
DEIDENTIFICATION_METHOD = "nipype-vinci make-template: PS3.15 E basic profile"


def _is_standard_uid(value: object) -> bool:
    return str(value) in UID_dictionary


class _Maker:
    def __init__(self, keep_private: bool):
        self.keep_private = keep_private
        self.slots: list[Slot] = []

    def clean(self, dataset: Dataset, parents: ElementPath) -> None:
        for element in list(dataset):
            tag = int(element.tag)
            if element.tag.is_private and not self.keep_private or tag in REMOVED:
                del dataset[tag]
            elif tag >> 16 != 0x0002 and tag & 0xFFFF == 0 and tag != 0x7FE00000:
                del dataset[tag]  # group lengths: stale once anything changes
            elif tag in IMAGE_DEPENDENT:
                del dataset[tag]
            elif tag == PIXEL_DATA and not parents:
                self.pixel_slot(dataset)
            elif self.keyword_slot(dataset, element, parents):
                continue
            elif element.VR == "SQ":
                for index, item in enumerate(element.value):
                    self.clean(item, parents + ((tag, index),))
            elif (
                element.VR == "UI"
                and element.value
                and not all(
                    _is_standard_uid(v)
                    for v in (element.value if element.VM > 1 else [element.value])
                )
            ):
                del dataset[tag]
            elif tag in EMPTIED or element.VR == "PN":
                dataset[tag] = DataElement(tag, element.VR, None)
            elif element.VR in ("DA", "TM", "DT"):
                del dataset[tag]

    def keyword_slot(self, dataset: Dataset, element: DataElement, parents: ElementPath) -> bool:
        keyword = KEYWORD_AT_HOME.get(int(element.tag))
        if keyword is None or fit_problem(keyword, element.tag, element.VR):
            return False
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


def _repair_conditionals(dataset: Dataset) -> None:
    """Mend conditional attributes that scanners commonly get wrong (PS3.3), so the output
    carries no validator error of its source: Laterality (Type 2C) present, empty where
    unknown; no PatientPosition beside a PatientOrientationCodeSequence (PET, NM); no empty
    TriggerTime (Type 2C, for gated acquisitions only)."""
    if "Laterality" not in dataset and "ImageLaterality" not in dataset:
        dataset.Laterality = None
    if "PatientOrientationCodeSequence" in dataset and "PatientPosition" in dataset:
        del dataset.PatientPosition
    if "TriggerTime" in dataset and dataset.TriggerTime in (None, ""):
        del dataset.TriggerTime


def make_template(
    scan: Dataset,
    name: str,
    *,
    keep_private: bool = False,
    source: str = "",
    licence: str = "",
) -> Template:
    """A de-identified template made from a scan's data set (the scan is not changed)."""
    dataset = deepcopy(scan)
    dataset.file_meta = _file_meta(scan)
    maker = _Maker(keep_private)
    maker.clean(dataset, ())
    if PIXEL_DATA not in dataset:
        maker.pixel_slot(dataset)
    maker.add_needed(dataset)
    image_type = list(dataset.get("ImageType", []) or [])
    if image_type:
        dataset.ImageType = ["DERIVED", *image_type[1:]]
    _repair_conditionals(dataset)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    if "DeidentificationMethodCodeSequence" in dataset:
        del dataset.DeidentificationMethodCodeSequence
    info = TemplateInfo(
        name=name,
        modality=str(scan.get("Modality", "") or ""),
        manufacturer=str(scan.get("Manufacturer", "") or ""),
        model=str(scan.get("ManufacturerModelName", "") or ""),
        source=source,
        licence=licence,
    )
    return Template(dataset, maker.slots, info, name)
