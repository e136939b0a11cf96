"""The semantic pass of check-template (DESIGN section 5): can save make a correct file?

The parser checks the grammar and every value against its VR; this pass checks what save
needs, all problems at once, each as ``file:line: what is wrong (the rule); the fix``:

- SOPClassUID and Modality present; the class an image class (no SEG, SR, RT, ...).
- The values save computes are keywords, at the top level, never fixed values: the UIDs of
  instance, series, study and frame of reference, the plane (IMAGEPOSITIONPATIENT,
  IMAGEORIENTATIONPATIENT, PIXELSPACING) and the matrix (ROWS, COLUMNS); keywords that
  change file by file stand outside sequences.
- Rescale: RESCALESLOPE and RESCALEINTERCEPT both or neither, never fixed values; both where
  the IOD requires them (CT and PET Image: Type 1). A template without them can store only
  integer data that fit its stored range: `image_problems` says so for an image. So can a
  template of an IOD whose rescale is the identity (DX, mammography, intra-oral).
- A pixel module the engine honours: SamplesPerPixel 1, MONOCHROME2, no PlanarConfiguration,
  single frame, BitsAllocated 8, 16 or 32 and one the IOD allows (CT and PET: 16; MR: 8 or
  16). The transfer syntax is the encode seam's to judge (`encode.transfer_syntax`): a
  template's (0002,0010) that no encoder writes is refused by save unless
  --transfer-syntax names one.
"""

from __future__ import annotations

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from .keywords import KEYWORDS
from .model import Template
from .volume_source import non_image_kind

CT_IMAGE, MR_IMAGE, PET_IMAGE = (
    "1.2.840.10008.5.1.4.1.1.2",
    "1.2.840.10008.5.1.4.1.1.4",
    "1.2.840.10008.5.1.4.1.1.128",
)
# BitsAllocated each IOD allows (PS3.3 CT Image, MR Image and PET Image modules); others:
# what the engine writes.
BITS_ALLOWED = {CT_IMAGE: (16,), PET_IMAGE: (16,), MR_IMAGE: (8, 16)}
ENGINE_BITS = (8, 16, 32)
RESCALE_REQUIRED = {CT_IMAGE: "CT Image", PET_IMAGE: "PET Image"}
RESCALE = ("RESCALEINTERCEPT", "RESCALESLOPE")
# IODs whose stored values are the values: RescaleSlope 1 and RescaleIntercept 0 (PS3.3
# C.8.11.3 DX Image, which the Mammography and Intra-oral images include), for presentation
# and for processing.
IDENTITY_RESCALE = {
    "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "Digital X-Ray",
    "1.2.840.10008.5.1.4.1.1.1.2": "Digital Mammography",
    "1.2.840.10008.5.1.4.1.1.1.2.1": "Digital Mammography",
    "1.2.840.10008.5.1.4.1.1.1.3": "Digital Intra-Oral X-Ray",
    "1.2.840.10008.5.1.4.1.1.1.3.1": "Digital Intra-Oral X-Ray",
}
COMPUTED = (
    "SOPINSTANCEUID",
    "STUDYINSTANCEUID",
    "SERIESINSTANCEUID",
    "FRAMEOFREFERENCEUID",
    "IMAGEPOSITIONPATIENT",
    "IMAGEORIENTATIONPATIENT",
    "PIXELSPACING",
    "ROWS",
    "COLUMNS",
)


def allowed_bits(sop_class: str) -> tuple[int, ...]:
    """The BitsAllocated values save may write for a SOP class."""
    return BITS_ALLOWED.get(sop_class, ENGINE_BITS)


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04x},{tag & 0xFFFF:04x}) {keyword_for_tag(tag) or ''}".rstrip()


class _Pass:
    def __init__(self, template: Template):
        self.template = template
        self.dataset: Dataset = template.dataset
        self.problems: list[tuple[int, str]] = []  # (line, problem)
        self.top_slots = {s.keyword: s for s in template.slots if s.top_level}

    def line_of(self, tag: int) -> int:
        """The line of a top-level element, or where it would go (the next element's line)."""
        lines = self.template.lines
        if ((), tag) in lines:
            return lines[((), tag)]
        after = [line for (path, other), line in lines.items() if not path and other > tag]
        return min(after, default=max(lines.values(), default=1))

    def report(self, tag: int, what: str, fix: str, line: int | None = None) -> None:
        line = self.line_of(tag) if line is None else line
        self.problems.append((line, f"{self.template.source}:{line}: {what}; {fix}"))

    def value(self, keyword: str) -> str:
        return str(self.dataset.get(keyword, "") or "").strip()

    def run(self) -> list[str]:
        self.identity()
        self.computed()
        self.nested()
        self.rescale()
        self.pixel_module()
        return [text for _, text in sorted(self.problems)]

    def identity(self) -> None:
        sop_class = self.value("SOPClassUID")
        if not sop_class:
            self.report(
                0x00080016,
                "no SOPClassUID (0008,0016): save cannot tell which IOD to write",
                "add e.g. `(0008,0016) UI =CTImageStorage` (the scanner's image class)",
            )
        else:
            kind = non_image_kind(sop_class, self.value("Modality"))
            if kind:
                self.report(
                    0x00080016,
                    f"SOPClassUID {sop_class} is {kind}, not an image a volume can fill",
                    "make the template from a CT, MR or PET image (make-template)",
                )
        if not self.value("Modality"):
            self.report(
                0x00080060,
                "no Modality (0008,0060) value (Type 1 in General Series)",
                "add e.g. `(0008,0060) CS [CT]`",
            )

    def computed(self) -> None:
        for name in COMPUTED:
            keyword = KEYWORDS[name]
            if name in self.top_slots:
                continue
            element = self.dataset.get(keyword.home)
            vr = "/".join(sorted(keyword.vrs))
            if element is None:
                self.report(
                    keyword.home,
                    f"no {_tag_text(keyword.home)}: save computes it for every file, "
                    f"the {keyword.meaning}",
                    f"add `{_tag_text(keyword.home).split()[0]} {vr} [{name}]`",
                )
            else:
                self.report(
                    keyword.home,
                    f"{_tag_text(keyword.home)} holds a fixed value: save computes it for "
                    f"every image, the {keyword.meaning}",
                    f"replace the value with the keyword [{name}]",
                )

    def nested(self) -> None:
        for slot in self.template.slots:
            keyword = KEYWORDS.get(slot.keyword)
            if keyword is not None and keyword.per_file and not slot.top_level:
                self.report(
                    slot.tag,
                    f"keyword {slot.keyword} changes from file to file and cannot stand inside "
                    f"the sequence {_tag_text(slot.parents[0][0])}",
                    "move it to the top level or remove it (enhanced multi-frame templates are "
                    "not supported)",
                    line=slot.line,
                )

    def rescale(self) -> None:
        present = [name for name in RESCALE if name in self.top_slots]
        for name in RESCALE:
            home = KEYWORDS[name].home
            if name not in self.top_slots and home in self.dataset:
                self.report(
                    home,
                    f"{_tag_text(home)} holds a fixed value: the scaling is computed for every "
                    "image",
                    f"replace the value with the keyword [{name}]",
                )
                present.append(name)
        sop_class = self.value("SOPClassUID")
        if len(present) == 1 or (not present and sop_class in RESCALE_REQUIRED):
            missing = next(name for name in RESCALE if name not in present)
            home = KEYWORDS[missing].home
            why = (
                f"the {RESCALE_REQUIRED[sop_class]} IOD requires it (Type 1)"
                if not present
                else "slope and intercept go together"
            )
            self.report(
                home,
                f"no {_tag_text(home)} keyword: {why}",
                f"add `{_tag_text(home).split()[0]} DS [{missing}]`",
            )

    def pixel_module(self) -> None:
        samples = self.dataset.get("SamplesPerPixel")
        if samples != 1:
            self.report(
                0x00280002,
                f"SamplesPerPixel is {samples if samples is not None else 'absent'}: a volume "
                "is written as one grey-scale sample per pixel",
                "set `(0028,0002) US 1` (or make the template from a grey-scale image)",
            )
        if "PlanarConfiguration" in self.dataset:
            self.report(
                0x00280006,
                "PlanarConfiguration stands only in colour images",
                "remove the (0028,0006) line",
            )
        photometric = self.value("PhotometricInterpretation")
        if photometric != "MONOCHROME2":
            self.report(
                0x00280004,
                f"PhotometricInterpretation is {photometric or 'absent'}: volume templates are "
                "MONOCHROME2 (low values dark)",
                "set `(0028,0004) CS [MONOCHROME2]`",
            )
        frames = self.dataset.get("NumberOfFrames")
        if "NUMBEROFFRAMES" not in self.top_slots and frames not in (None, "", 1, "1"):
            self.report(
                0x00280008,
                f"NumberOfFrames is {frames}: save writes one image per file",
                "remove the (0028,0008) line or set it to [NUMBEROFFRAMES]",
            )
        for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            if groups in self.dataset:
                tag = self.dataset.data_element(groups).tag
                self.report(
                    int(tag),
                    f"{groups}: enhanced multi-frame templates are not supported",
                    "make the template from a single-frame (classic) image",
                )
        self.bits_allocated()

    def bits_allocated(self) -> None:
        bits = self.dataset.get("BitsAllocated")
        sop_class = self.value("SOPClassUID")
        allowed = allowed_bits(sop_class)
        if bits not in allowed:
            choices = " or ".join(str(b) for b in allowed)
            where = "the IOD allows" if sop_class in BITS_ALLOWED else "save writes"
            self.report(
                0x00280100,
                f"BitsAllocated is {bits if bits is not None else 'absent'}; {where} {choices}",
                f"set `(0028,0100) US {allowed[-1] if 16 not in allowed else 16}`",
            )


def semantic_problems(template: Template) -> list[str]:
    """Every reason save cannot make a correct file from ``template`` (empty: it can)."""
    return _Pass(template).run()


def image_problems(template: Template, integral: bool, fits: bool) -> list[str]:
    """Why ``template`` cannot store one image exactly: data that are not integers
    (``integral``) or not within the template's stored range (``fits``) need rescale slots."""
    if integral and fits:
        return []
    why = "non-integer values" if not integral else "values outside the stored range"
    iod = IDENTITY_RESCALE.get(str(template.dataset.get("SOPClassUID", "")))
    if iod:
        return [
            f"{template.source}: the image holds {why}, but {iod} images store values as "
            "they are (RescaleSlope 1, RescaleIntercept 0: PS3.3 C.8.11.3); give integer "
            "data within the stored range, or choose a CT, MR or PET template"
        ]
    slots = {s.keyword for s in template.slots if s.top_level}
    if all(name in slots for name in RESCALE):
        return []
    return [
        f"{template.source}: the image holds {why}, which need RescaleSlope and "
        "RescaleIntercept, but the template has no RESCALESLOPE/RESCALEINTERCEPT keywords; "
        "add `(0028,1052) DS [RESCALEINTERCEPT]` and `(0028,1053) DS [RESCALESLOPE]` or "
        "choose a template that has them"
    ]
