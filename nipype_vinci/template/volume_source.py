"""What a scan must be to make a volume template: one grey-scale image plane per file.

A volume is written as single-frame, single-sample MONOCHROME2 images (DESIGN section 5).
A source that is not such an image (colour, palette, YBR, enhanced multi-frame, SEG, SR, RT
and other non-image objects) is refused with one line that says what is needed; MONOCHROME1
(inverted grey scale) is the one photometric interpretation turned into MONOCHROME2.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.uid import UID_dictionary

# SOP class families that hold no volume image, by UID prefix (PS3.4 B.5), with their name.
NON_IMAGE_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "a Segmentation (SEG)",
    "1.2.840.10008.5.1.4.1.1.66": "a raw-data, registration or fiducials object",
    "1.2.840.10008.5.1.4.1.1.88.": "a Structured Report (SR)",
    "1.2.840.10008.5.1.4.1.1.481.": "a radiotherapy (RT) object",
    "1.2.840.10008.5.1.4.1.1.11.": "a presentation state",
    "1.2.840.10008.5.1.4.1.1.104.": "an encapsulated document",
    "1.2.840.10008.5.1.4.1.1.9.": "a waveform",
}
NON_IMAGE_MODALITIES = {
    "SEG": "a Segmentation (SEG)",
    "SR": "a Structured Report (SR)",
    "RTSTRUCT": "a radiotherapy (RT) object",
    "RTPLAN": "a radiotherapy (RT) object",
    "RTDOSE": "a radiotherapy (RT) object",
    "RTIMAGE": "a radiotherapy (RT) object",
    "RTRECORD": "a radiotherapy (RT) object",
    "PR": "a presentation state",
    "KO": "a key object selection",
    "REG": "a registration object",
    "DOC": "an encapsulated document",
}
PIXEL_MODULE = ("SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated")
NEEDS = (
    "make-template needs a single-frame grey-scale image (one sample per pixel, "
    "MONOCHROME2 or MONOCHROME1) of the scanner, e.g. one CT, MR or PET slice"
)


def _sop_class(scan: Dataset) -> str:
    meta = getattr(scan, "file_meta", None)
    return str(scan.get("SOPClassUID") or (meta or {}).get("MediaStorageSOPClassUID") or "")


def non_image_kind(sop_class: str, modality: str) -> str | None:
    """What a SOP class or modality that holds no volume image is ("a Segmentation (SEG)");
    None for an image."""
    for prefix, what in NON_IMAGE_CLASSES.items():
        if sop_class.startswith(prefix):
            return what
    return NON_IMAGE_MODALITIES.get(modality.strip().upper())


def refusal(scan: Dataset) -> str | None:
    """Why ``scan`` cannot be the source of a volume template (one line); None when it can."""
    if not _sop_class(scan):
        return f"the file has no SOPClassUID (0008,0016), so its IOD is unknown; {NEEDS}"
    if not str(scan.get("Modality", "") or "").strip():
        return f"the file has no Modality (0008,0060); {NEEDS}"
    what = non_image_kind(_sop_class(scan), str(scan.get("Modality", "") or ""))
    if what:
        return f"the file is {what}, not an image; {NEEDS}"
    missing = [name for name in PIXEL_MODULE if name not in scan]
    if missing:  # the pixel data themselves may be absent: a template takes none of them
        return f"the file has no image pixel module (no {', '.join(missing)}); {NEEDS}"
    frames = int(scan.get("NumberOfFrames", 1) or 1)
    if frames > 1 or "PerFrameFunctionalGroupsSequence" in scan:
        kind = UID_dictionary.get(_sop_class(scan), ("a multi-frame image",))[0]
        return f"the file is {kind} with {frames} frames (enhanced multi-frame); {NEEDS}"
    if "SharedFunctionalGroupsSequence" in scan:
        return f"the file is an enhanced image (functional groups); {NEEDS}"
    samples = int(scan.get("SamplesPerPixel", 1) or 1)
    if samples != 1:
        return f"the file has {samples} samples per pixel (colour); {NEEDS}"
    photometric = str(scan.PhotometricInterpretation).strip()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        return f"the file's PhotometricInterpretation is {photometric}; {NEEDS}"
    return None


def to_allowed_bits(dataset: Dataset, allowed: tuple[int, ...]) -> str | None:
    """Set BitsAllocated to 16 when the source's is not one its IOD allows (``allowed``; 16
    is allowed by every image IOD); the note to show, or None when nothing changed."""
    bits = int(dataset.BitsAllocated)
    if bits in allowed:
        return None
    dataset.BitsAllocated = 16
    return f"the source's BitsAllocated {bits} is not allowed by its IOD; the template has 16"


def to_monochrome2(dataset: Dataset) -> str | None:
    """Make a MONOCHROME1 data set MONOCHROME2 (the template's pixels are written anew, low
    values dark); the note to show the user, or None when nothing changed."""
    if str(dataset.get("PhotometricInterpretation", "")).strip() != "MONOCHROME1":
        return None
    dataset.PhotometricInterpretation = "MONOCHROME2"
    for inverted in ("PresentationLUTShape", "PresentationLUTSequence"):
        if inverted in dataset:
            del dataset[inverted]
    return (
        "the source is MONOCHROME1 (low values bright); the template is MONOCHROME2, as every "
        "volume template is: viewers show low values dark"
    )
