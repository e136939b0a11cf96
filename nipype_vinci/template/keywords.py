"""The closed keyword table: VINCI's keywords and ours (DESIGN.md section 4).

A keyword is a whole value of an element; it fits an element when the element's VR is one of
the keyword's VRs and the element's dictionary VM admits the keyword's number of values.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_VM

PIXEL_KEYWORD = "MEMORYBASED"


@dataclass(frozen=True)
class Keyword:
    """One keyword: its home element, the VRs it fits, how many values it fills, its meaning."""

    name: str
    home: int
    vrs: frozenset[str]
    vm: int
    meaning: str
    per_slice: bool = False


def _kw(name: str, home: int, vrs: str, vm: int, meaning: str, per_slice: bool = False) -> Keyword:
    return Keyword(name, home, frozenset(vrs.split()), vm, meaning, per_slice)


_TABLE = [
    _kw("SOPINSTANCEUID", 0x00080018, "UI", 1, "a new UID per file", True),
    _kw("IMPLEMENTATIONVERSIONNAME", 0x00020013, "SH", 1, "NIPYPE_VINCI_<version>"),
    _kw("STUDYDATE", 0x00080020, "DA", 1, "study date"),
    _kw("STUDYTIME", 0x00080030, "TM", 1, "study time"),
    _kw("SERIESDATE", 0x00080021, "DA", 1, "series date"),
    _kw("SERIESTIME", 0x00080031, "TM", 1, "series time"),
    _kw("ACQUISITIONDATE", 0x00080022, "DA", 1, "acquisition date"),
    _kw("ACQUISITIONTIME", 0x00080032, "TM", 1, "acquisition time"),
    _kw("CONTENTDATE", 0x00080023, "DA", 1, "content date"),
    _kw("CONTENTTIME", 0x00080033, "TM", 1, "content time"),
    _kw("STUDYDESCRIPTION", 0x00081030, "LO", 1, "study description"),
    _kw("SERIESDESCRIPTION", 0x0008103E, "LO", 1, "series description"),
    _kw("PROTOCOLNAME", 0x00181030, "LO", 1, "protocol name"),
    _kw("PATIENTNAME", 0x00100010, "PN", 1, "patient name"),
    _kw("PATIENTID", 0x00100020, "LO", 1, "patient ID"),
    _kw("PATIENTDOB", 0x00100030, "DA", 1, "patient birth date"),
    _kw("PATIENTSEX", 0x00100040, "CS", 1, "patient sex (M, F, O)"),
    _kw("PATIENTAGE", 0x00101010, "AS", 1, "patient age (nnnY)"),
    _kw("PATIENTWEIGHT", 0x00101030, "DS", 1, "patient weight in kg"),
    _kw("SLICETHICKNESS", 0x00180050, "DS", 1, "voxel size along the slice axis"),
    _kw("STUDYINSTANCEUID", 0x0020000D, "UI", 1, "study UID"),
    _kw("SERIESINSTANCEUID", 0x0020000E, "UI", 1, "series UID"),
    _kw("FRAMEOFREFERENCEUID", 0x00200052, "UI", 1, "frame of reference UID"),
    _kw("STUDYID", 0x00200010, "SH", 1, "study ID"),
    _kw("SERIESNUMBER", 0x00200011, "IS", 1, "series number"),
    _kw("ACQUISITIONNUMBER", 0x00200012, "IS", 1, "acquisition number"),
    _kw("INSTANCENUMBER", 0x00200013, "IS", 1, "slice index + 1 (4D: frame-major)", True),
    _kw(
        "IMAGEPOSITIONPATIENT",
        0x00200032,
        "DS",
        3,
        "position of the slice's first voxel (LPS)",
        True,
    ),
    _kw("IMAGEORIENTATIONPATIENT", 0x00200037, "DS", 6, "row and column direction cosines (LPS)"),
    _kw("SLICELOCATION", 0x00201041, "DS", 1, "slice position along its normal", True),
    _kw("ROWS", 0x00280010, "US", 1, "image dim_y"),
    _kw("COLUMNS", 0x00280011, "US", 1, "image dim_x"),
    _kw("PIXELSPACING", 0x00280030, "DS", 2, "row spacing \\ column spacing"),
    _kw("WINDOWCENTER", 0x00281050, "DS", 1, "centre of the value range"),
    _kw("WINDOWWIDTH", 0x00281051, "DS", 1, "width of the value range"),
    _kw("RESCALEINTERCEPT", 0x00281052, "DS", 1, "rescale intercept", True),
    _kw("RESCALESLOPE", 0x00281053, "DS", 1, "rescale slope", True),
    _kw("RADIOPHARMACEUTICAL", 0x00180031, "LO", 1, "tracer name"),
    _kw("DOSAGESTARTTIME", 0x00181072, "TM", 1, "injection time"),
    _kw("DOSAGE_BQ", 0x00181074, "DS", 1, "injected dose in Bq"),
    _kw("HALFLIFE_SECS", 0x00181075, "DS", 1, "radionuclide half life in s"),
    _kw("FRACTION", 0x00181076, "DS", 1, "positron fraction"),
    _kw("NUMBEROFSLICES", 0x00540081, "US", 1, "dim_z"),
    _kw("NUMBEROFTIMESLICES", 0x00540101, "US", 1, "number of frames (4D)"),
    _kw("UNITS", 0x00541001, "CS", 1, "image units (BQML, CNTS, ...)"),
    _kw("PIXELDATAGROUPLENGTH", 0x7FE00000, "UL", 1, "the (7fe0) group length", True),
    _kw("FRAMEREFERENCETIME", 0x00541300, "DS", 1, "frame reference time in ms", True),
    _kw("ACTUALFRAMEDURATION", 0x00181242, "IS", 1, "frame duration in ms", True),
    _kw("IMAGEINDEX", 0x00541330, "US", 1, "PET image index (frame-major)", True),
    _kw("DECAYFACTOR", 0x00541321, "DS", 1, "decay correction factor", True),
    _kw("SPACINGBETWEENSLICES", 0x00180088, "DS", 1, "distance between slice centres"),
    _kw("SMALLESTPIXELVALUE", 0x00280106, "US SS", 1, "smallest stored value of the slice", True),
    _kw("LARGESTPIXELVALUE", 0x00280107, "US SS", 1, "largest stored value of the slice", True),
    _kw("NUMBEROFFRAMES", 0x00280008, "IS", 1, "number of frames in the file (1)"),
]

KEYWORDS: dict[str, Keyword] = {k.name: k for k in _TABLE}
KEYWORD_AT_HOME: dict[int, Keyword] = {k.home: k for k in _TABLE}


def _vm_admits(vm_rule: str, count: int) -> bool:
    """Whether a dictionary VM rule such as '1', '1-n', '2-2n' or '1-3' admits ``count``."""
    if vm_rule in ("", "1-n"):
        return True
    low, _, high = vm_rule.partition("-")
    if not high:
        return count == int(low)
    if high.endswith("n"):
        step = int(high[:-1] or 1)
        return count >= int(low) and count % step == 0
    return int(low) <= count <= int(high)


def fit_problem(keyword: Keyword, tag: int, vr: str) -> str | None:
    """Why ``keyword`` cannot stand in element ``tag`` with ``vr``; None when it fits."""
    if vr not in keyword.vrs:
        fits = "/".join(sorted(keyword.vrs))
        return f"keyword {keyword.name} does not fit VR {vr}; it fills a {fits} element"
    try:
        rule = dictionary_VM(tag)
    except KeyError:
        return None
    if not _vm_admits(rule, keyword.vm):
        return f"keyword {keyword.name} fills {keyword.vm} value(s) but the element takes VM {rule}"
    return None
