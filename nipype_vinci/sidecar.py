"""Field values from the keys of a JSON object: a BIDS sidecar (dcm2niix's too) or a file of
our field names, DICOM keywords and template keywords (DESIGN section 9)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from .errors import VinciError
from .field_checks import dose
from .fields import HEADER_FIELDS
from .template.keywords import KEYWORDS

# Half life (s) and positron fraction; values from the NNDC/NuDat 3 decay data (BNL).
RADIONUCLIDES = {
    "F18": (6586.2, 0.9673),
    "C11": (1221.84, 0.9981),
    "O15": (122.24, 0.9989),
    "N13": (597.9, 0.9982),
    "GA68": (4062.6, 0.8894),
    "CU64": (45721.1, 0.1752),
    "ZR89": (282276.0, 0.2274),
    "RB82": (76.38, 0.9545),
    "I124": (360806.4, 0.2256),
}
# Sidecar keys read together into fields (the one-to-one keys are in the field registry).
BIDS_DERIVED_KEYS = frozenset(
    [
        "InjectedRadioactivity",
        "InjectedRadioactivityUnits",
        "TracerRadionuclide",
        "TimeZero",
        "InjectionStart",
        "ImageDecayCorrected",
        "ImageDecayCorrectionTime",
        "ScanStart",
    ]
)


def bids_values(sidecar: dict, where: str) -> dict[str, object]:
    """The fields that BIDS spreads over several sidecar keys (DESIGN section 9): the dose
    with its units, the radionuclide's half life and positron fraction, the injection time
    and the decay correction."""
    values: dict[str, object] = {}
    if "InjectedRadioactivity" in sidecar:
        units = sidecar.get("InjectedRadioactivityUnits")
        if not units:
            raise VinciError(f"{where}: InjectedRadioactivity needs InjectedRadioactivityUnits")
        try:
            values["injected_dose"] = dose(sidecar["InjectedRadioactivity"], units)
        except ValueError:
            raise VinciError(
                f"{where}: InjectedRadioactivityUnits {units!r} is not Bq, kBq, "
                "MBq, GBq, mCi or uCi"
            ) from None
    nuclide = str(sidecar.get("TracerRadionuclide", "")).upper().replace("-", "")
    if nuclide:
        nuclide = re.sub(r"^(\d+)([A-Z]+)$", r"\2\1", nuclide)
        if nuclide not in RADIONUCLIDES:
            raise VinciError(
                f"{where}: TracerRadionuclide {sidecar['TracerRadionuclide']!r} is "
                f"not known; known: {', '.join(RADIONUCLIDES)}"
            )
        values["half_life"], values["positron_fraction"] = RADIONUCLIDES[nuclide]
    if "TimeZero" in sidecar:
        values["injection_time"] = _time_after_zero(sidecar, "InjectionStart", where)
        values["acquisition_time"] = _time_after_zero(sidecar, "ScanStart", where)
        if "FrameTimesStart" in sidecar:  # from TimeZero; ours count from the scan start
            values["frame_times"] = _after_scan_start(sidecar, where)
    if "ImageDecayCorrected" in sidecar:
        values["decay_correction"] = _bids_decay_correction(sidecar, where)
    return values


def _after_scan_start(sidecar: dict, where: str) -> list[float]:
    """FrameTimesStart (s from TimeZero) as seconds from ScanStart."""
    starts = sidecar["FrameTimesStart"]
    try:
        scan = float(sidecar.get("ScanStart", 0))
        return [float(start) - scan for start in (starts if isinstance(starts, list) else [starts])]
    except (TypeError, ValueError):
        raise VinciError(
            f"{where}: FrameTimesStart {starts!r} and ScanStart must be numbers (s from TimeZero)"
        ) from None


def _bids_decay_correction(sidecar: dict, where: str) -> str:
    """ImageDecayCorrected and ImageDecayCorrectionTime (s from TimeZero) as DecayCorrection."""
    if not sidecar["ImageDecayCorrected"]:
        return "NONE"
    when = sidecar.get("ImageDecayCorrectionTime")
    if when is None:
        raise VinciError(
            f"{where}: ImageDecayCorrected is true but ImageDecayCorrectionTime "
            "is missing; add it (s relative to TimeZero)"
        )
    injection = float(sidecar.get("InjectionStart", 0))
    if float(when) == injection:
        return "ADMIN"
    if float(when) == float(sidecar.get("ScanStart", 0)):
        return "START"
    raise VinciError(
        f"{where}: ImageDecayCorrectionTime {when} is neither the injection nor "
        "the scan start, which DICOM's DecayCorrection (START, ADMIN) can express"
    )


def _time_after_zero(sidecar: dict, key: str, where: str) -> str:
    """TimeZero (hh:mm:ss) + ``key`` (s relative to TimeZero, e.g. InjectionStart or
    ScanStart) as a DICOM TM."""
    try:
        hours, minutes, seconds = (float(p) for p in str(sidecar["TimeZero"]).split(":"))
        total = hours * 3600 + minutes * 60 + seconds + float(sidecar.get(key, 0))
    except ValueError:
        raise VinciError(f"{where}: TimeZero {sidecar['TimeZero']!r} is not hh:mm:ss") from None
    total %= 86400
    return f"{int(total // 3600):02d}{int(total % 3600 // 60):02d}{total % 60:09.6f}"


@dataclass(frozen=True)
class MetadataFile:
    """The field values of a metadata file and the keys it holds that nothing writes."""

    values: dict[str, object]
    not_written: tuple[str, ...] = ()


@cache
def key_names() -> dict[str, str]:
    """Every key a metadata file may use for a header field, and the field it sets."""
    names: dict[str, str] = {}
    for field in HEADER_FIELDS:
        for key in (field.name, field.dicom, field.bids):
            if key:
                names[key] = field.name
    for keyword in KEYWORDS.values():
        if len(keyword.fields) == 1:
            names[keyword.name] = keyword.fields[0]
    return names


@cache
def _known_elsewhere() -> frozenset[str]:
    """Keys a sidecar may hold that are no field of ours: BIDS metadata and DICOM keywords
    (dcm2niix copies many); they are reported as not written, never an error."""
    from bidsschematools import schema
    from pydicom.datadict import keyword_dict

    bids = {entry["name"] for entry in schema.load_schema().objects.metadata.values()}
    return frozenset(bids) | frozenset(keyword_dict) | BIDS_DERIVED_KEYS


def _our_style(key: str) -> bool:
    """Whether a key is named the way our fields (snake_case) or keywords (UPPER) are."""
    return key == key.lower() or key == key.upper()


def field_values(data: dict, where: str, *, strict: bool) -> MetadataFile:
    """The field values the keys of ``data`` give.

    A key that names no field is listed in ``not_written`` when it is a key of BIDS, a
    DICOM keyword, or (a dataset's sidecar or a converter's, which hold keys of their own)
    any other CamelCase key. When ``strict`` (a file the user wrote for us), a key in our
    naming style or close to one of our keys is a mistake: an error with a did-you-mean."""
    names = key_names()
    values = bids_values(data, where)
    problems, not_written = [], []
    for key, value in data.items():
        if key in names:
            values.setdefault(names[key], value)
            continue
        if key in BIDS_DERIVED_KEYS:
            continue
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
        foreign = key in _known_elsewhere() or not (close or _our_style(key))
        if foreign or not strict:
            not_written.append(key)
            continue
        hint = f"; did you mean {close[0]!r}?" if close else "; see `nipype-vinci save --help`"
        problems.append(f"{where}: unknown key {key!r}{hint}")
    if problems:
        raise VinciError(problems)
    return MetadataFile(values, tuple(not_written))
