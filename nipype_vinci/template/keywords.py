"""The keyword registry: VINCI's keywords and ours (DESIGN.md section 4), each declared once
with its home element, VRs, level (the unit its value changes with) and the user fields it
is filled from; each has exactly one producer in export/fill.py (a test checks both ways).

A keyword is a whole value of an element; it fits an element when the element's VR is one of
the keyword's VRs and the element's dictionary VM admits the keyword's number of values.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_VM

PIXEL_KEYWORD = "MEMORYBASED"
LEVELS = ("series", "frame", "slice", "file")  # =MEMORYBASED, the pixels, is no keyword value
STORED_VRS = frozenset(["US", "SS"])  # a keyword filled in the VR of the stored pixels


@dataclass(frozen=True)
class Keyword:
    """One keyword: its home element, the VRs it fits, how many values it fills, its meaning,
    the level its value changes at (series, frame, slice, file) and the user fields it is
    filled from."""

    name: str
    home: int
    vrs: frozenset[str]
    vm: int
    meaning: str
    level: str = "series"
    fields: tuple[str, ...] = ()
    unique: bool = False  # a new value in every file (never worth encoding once)

    @property
    def per_file(self) -> bool:
        """Whether the value can change from file to file."""
        return self.level in ("frame", "slice", "file")

    @property
    def stored_vr(self) -> bool:
        """Whether the element takes the VR of the stored pixels (US or SS)."""
        return self.vrs == STORED_VRS


def _kw(
    name: str,
    home: int,
    vrs: str,
    vm: int,
    meaning: str,
    level: str = "series",
    fields: str = "",
    unique: bool = False,
) -> Keyword:
    return Keyword(
        name, home, frozenset(vrs.split()), vm, meaning, level, tuple(fields.split()), unique
    )


_TABLE = [
    _kw("SOPINSTANCEUID", 0x00080018, "UI", 1, "a new UID per file", "file", unique=True),
    _kw("IMPLEMENTATIONVERSIONNAME", 0x00020013, "SH", 1, "NIPYPE_VINCI_<version>"),
    _kw("SPECIFICCHARACTERSET", 0x00080005, "CS", 1, "the character set the values need"),
    _kw("STUDYDATE", 0x00080020, "DA", 1, "study date", fields="study_date"),
    _kw("STUDYTIME", 0x00080030, "TM", 1, "study time", fields="study_time"),
    _kw("SERIESDATE", 0x00080021, "DA", 1, "series date", fields="acquisition_date"),
    _kw("SERIESTIME", 0x00080031, "TM", 1, "series time", fields="acquisition_time"),
    _kw("ACQUISITIONDATE", 0x00080022, "DA", 1, "acquisition date", fields="acquisition_date"),
    _kw("ACQUISITIONTIME", 0x00080032, "TM", 1, "acquisition time", fields="acquisition_time"),
    _kw("CONTENTDATE", 0x00080023, "DA", 1, "content date"),
    _kw("CONTENTTIME", 0x00080033, "TM", 1, "content time"),
    _kw("ACCESSIONNUMBER", 0x00080050, "SH", 1, "accession number", fields="accession_number"),
    _kw(
        "REFERRINGPHYSICIANNAME",
        0x00080090,
        "PN",
        1,
        "referring physician",
        fields="referring_physician_name",
    ),
    _kw("STUDYDESCRIPTION", 0x00081030, "LO", 1, "study description", fields="study_description"),
    _kw(
        "SERIESDESCRIPTION", 0x0008103E, "LO", 1, "series description", fields="series_description"
    ),
    _kw("PROTOCOLNAME", 0x00181030, "LO", 1, "protocol name", fields="protocol_name"),
    _kw("PATIENTNAME", 0x00100010, "PN", 1, "patient name", fields="patient_name"),
    _kw("PATIENTID", 0x00100020, "LO", 1, "patient ID", fields="patient_id"),
    _kw("PATIENTDOB", 0x00100030, "DA", 1, "patient birth date", fields="patient_birth_date"),
    _kw("PATIENTSEX", 0x00100040, "CS", 1, "patient sex (M, F, O)", fields="patient_sex"),
    _kw("PATIENTAGE", 0x00101010, "AS", 1, "patient age (nnnY)", fields="patient_age"),
    _kw("PATIENTSIZE", 0x00101020, "DS", 1, "patient height in m", fields="patient_size"),
    _kw("PATIENTWEIGHT", 0x00101030, "DS", 1, "patient weight in kg", fields="patient_weight"),
    _kw("SLICETHICKNESS", 0x00180050, "DS", 1, "voxel size along the slice axis"),
    _kw("STUDYINSTANCEUID", 0x0020000D, "UI", 1, "study UID", fields="study_instance_uid"),
    _kw("SERIESINSTANCEUID", 0x0020000E, "UI", 1, "series UID"),
    _kw(
        "FRAMEOFREFERENCEUID",
        0x00200052,
        "UI",
        1,
        "frame of reference UID",
        fields="frame_of_reference_uid",
    ),
    _kw("STUDYID", 0x00200010, "SH", 1, "study ID", fields="study_id"),
    _kw("SERIESNUMBER", 0x00200011, "IS", 1, "series number", fields="series_number"),
    _kw("ACQUISITIONNUMBER", 0x00200012, "IS", 1, "acquisition number"),
    _kw(
        "INSTANCENUMBER",
        0x00200013,
        "IS",
        1,
        "slice index + 1 (4D: frame-major)",
        "file",
        unique=True,
    ),
    _kw(
        "IMAGEPOSITIONPATIENT",
        0x00200032,
        "DS",
        3,
        "position of the slice's first voxel (LPS)",
        "slice",
    ),
    _kw("IMAGEORIENTATIONPATIENT", 0x00200037, "DS", 6, "row and column direction cosines (LPS)"),
    _kw("SLICELOCATION", 0x00201041, "DS", 1, "slice position along its normal", "slice"),
    _kw("ROWS", 0x00280010, "US", 1, "image dim_y"),
    _kw("COLUMNS", 0x00280011, "US", 1, "image dim_x"),
    _kw("BITSSTORED", 0x00280101, "US", 1, "bits stored (all allocated bits for float data)"),
    _kw("HIGHBIT", 0x00280102, "US", 1, "bits stored - 1"),
    _kw("PIXELSPACING", 0x00280030, "DS", 2, "row spacing \\ column spacing"),
    _kw("WINDOWCENTER", 0x00281050, "DS", 1, "centre of the value range"),
    _kw("WINDOWWIDTH", 0x00281051, "DS", 1, "width of the value range"),
    _kw("RESCALEINTERCEPT", 0x00281052, "DS", 1, "rescale intercept", "file"),
    _kw("RESCALESLOPE", 0x00281053, "DS", 1, "rescale slope", "file"),
    _kw("RADIOPHARMACEUTICAL", 0x00180031, "LO", 1, "tracer name", fields="radiopharmaceutical"),
    _kw("DOSAGESTARTTIME", 0x00181072, "TM", 1, "injection time", fields="injection_time"),
    _kw("DOSAGE_BQ", 0x00181074, "DS", 1, "injected dose in Bq", fields="injected_dose"),
    _kw("HALFLIFE_SECS", 0x00181075, "DS", 1, "radionuclide half life in s", fields="half_life"),
    _kw("FRACTION", 0x00181076, "DS", 1, "positron fraction", fields="positron_fraction"),
    _kw("NUMBEROFSLICES", 0x00540081, "US", 1, "dim_z"),
    _kw("NUMBEROFTIMESLICES", 0x00540101, "US", 1, "number of frames (4D)"),
    _kw("UNITS", 0x00541001, "CS", 1, "image units (BQML, CNTS, ...)", fields="units"),
    _kw(
        "DECAYCORRECTION",
        0x00541102,
        "CS",
        1,
        "decay correction (NONE, START, ADMIN)",
        fields="decay_correction",
    ),
    _kw("PIXELDATAGROUPLENGTH", 0x7FE00000, "UL", 1, "the (7fe0) group length", "file"),
    _kw(
        "FRAMEREFERENCETIME",
        0x00541300,
        "DS",
        1,
        "frame reference time in ms",
        "frame",
        "frame_times frame_durations",
    ),
    _kw(
        "ACTUALFRAMEDURATION",
        0x00181242,
        "IS",
        1,
        "frame duration in ms",
        "frame",
        "frame_durations",
    ),
    _kw("IMAGEINDEX", 0x00541330, "US", 1, "PET image index (frame-major)", "file", unique=True),
    _kw("DECAYFACTOR", 0x00541321, "DS", 1, "decay correction factor", "frame", "decay_factors"),
    _kw("SPACINGBETWEENSLICES", 0x00180088, "DS", 1, "distance between slice centres"),
    _kw("SMALLESTPIXELVALUE", 0x00280106, "US SS", 1, "smallest stored value of the slice", "file"),
    _kw("LARGESTPIXELVALUE", 0x00280107, "US SS", 1, "largest stored value of the slice", "file"),
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
