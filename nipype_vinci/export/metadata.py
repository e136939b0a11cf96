"""User metadata: every user-supplied keyword value, validated once into one typed object.

Values come from command-line flags (or Nipype traits) and from a JSON file holding either
our field names / keyword names, or a BIDS sidecar (DESIGN section 9). Flags win over the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import VinciError
from ..template.values import string_problem

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
DOSE_UNITS = {
    "bq": 1.0,
    "kbq": 1e3,
    "mbq": 1e6,
    "gbq": 1e9,
    "ci": 3.7e10,
    "mci": 3.7e7,
    "uci": 3.7e4,
    "µci": 3.7e4,
}
BIDS_UNITS = {
    "bq/ml": "BQML",
    "kbq/ml": "BQML",
    "cnts": "CNTS",
    "counts": "CNTS",
    "propcnts": "PROPCNTS",
    "g/ml": "GML",
    "suv": "GML",
    "unitless": "NONE",
    "none": "NONE",
    "%": "PCT",
    "ml/min/g": "MLMING",
}


@dataclass(frozen=True)
class Metadata:
    """Everything the user may say about the output; None means "not given"."""

    patient_name: str | None = None
    patient_id: str | None = None
    patient_birth_date: str | None = None
    patient_sex: str | None = None
    patient_age: str | None = None
    patient_weight: float | None = None
    study_date: str | None = None
    study_time: str | None = None
    study_description: str | None = None
    series_description: str | None = None
    protocol_name: str | None = None
    study_id: str | None = None
    series_number: int | None = None
    study_instance_uid: str | None = None
    radiopharmaceutical: str | None = None
    injection_time: str | None = None
    injected_dose_bq: float | None = None
    half_life: float | None = None
    positron_fraction: float | None = None
    units: str | None = None
    frame_times: tuple[float, ...] | None = None  # frame start, s
    frame_durations: tuple[float, ...] | None = None  # s
    decay_factors: tuple[float, ...] | None = None
    decay_correction: str | None = None  # PET DecayCorrection: NONE, START or ADMIN


# flag name -> (field, check); the flag is named in every error.
def _text(vr: str):
    def check(value: str) -> str:
        problem = string_problem(vr, value)
        if problem:
            raise ValueError(problem)
        return value

    return check


def _date(value: str) -> str:
    if not re.fullmatch(r"\d{8}", value) or string_problem("DA", value):
        raise ValueError(f"{value!r} is not a date YYYYMMDD")
    return value


def _time(value: str) -> str:
    value = value.replace(":", "")
    if string_problem("TM", value):
        raise ValueError(f"{value!r} is not a time HHMMSS[.FFFFFF] (or HH:MM:SS)")
    return value


def _one_of(*choices: str):
    """A check that accepts one of ``choices`` in any case and returns it upper-cased."""

    def check(value: str) -> str:
        if value.upper() not in choices:
            raise ValueError(f"{value!r} is not {', '.join(choices[:-1])} or {choices[-1]}")
        return value.upper()

    return check


def _age(value: str) -> str:
    value = f"{int(value):03d}Y" if value.isdigit() else value.upper()
    if not re.fullmatch(r"\d{3}[DWMY]", value):
        raise ValueError(f"{value!r} is not an age such as 045Y (or 45)")
    return value


def _positive(value: str | float) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{value!r} is not a positive number")
    return number


def _fraction(value: str | float) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError(f"{value!r} is not a fraction in (0, 1]")
    return number


def _series_number(value: str | int) -> int:
    number = int(value)
    if not 0 <= number < 2**31:
        raise ValueError(f"{value!r} is not a series number 0..2147483647")
    return number


def parse_dose(value: str | float, units: str | None = None) -> float:
    """An injected dose with units ('370MBq', '10 mCi'), in Bq."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-zµ]+)?\s*", str(value))
    unit = (units or (match.group(2) if match else None) or "").lower()
    if not match or unit not in DOSE_UNITS:
        raise ValueError(f"{value!r} needs a number and units (Bq, kBq, MBq, GBq, mCi, uCi)")
    return _positive(match.group(1)) * DOSE_UNITS[unit]


def _units(value: str) -> str:
    mapped = BIDS_UNITS.get(value.lower(), value.upper())
    if string_problem("CS", mapped):
        raise ValueError(f"{value!r} is not DICOM units such as BQML, CNTS, GML")
    return mapped


def _numbers(value) -> tuple[float, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
    numbers = tuple(float(v) for v in items)
    if not numbers:
        raise ValueError("no numbers given")
    return numbers


CHECKS = {
    "patient_name": _text("PN"),
    "patient_id": _text("LO"),
    "patient_birth_date": _date,
    "patient_sex": _one_of("M", "F", "O"),
    "patient_age": _age,
    "patient_weight": _positive,
    "study_date": _date,
    "study_time": _time,
    "study_description": _text("LO"),
    "series_description": _text("LO"),
    "protocol_name": _text("LO"),
    "study_id": _text("SH"),
    "series_number": _series_number,
    "study_instance_uid": _text("UI"),
    "radiopharmaceutical": _text("LO"),
    "injection_time": _time,
    "injected_dose": parse_dose,
    "half_life": _positive,
    "positron_fraction": _fraction,
    "units": _units,
    "frame_times": _numbers,
    "frame_durations": _numbers,
    "decay_factors": _numbers,
    "decay_correction": _one_of("NONE", "START", "ADMIN"),
}
# What each field holds (help of its flag and trait).
FIELD_HELP = {
    "patient_birth_date": "YYYYMMDD",
    "study_date": "YYYYMMDD",
    "study_time": "HHMMSS",
    "patient_sex": "M, F or O",
    "patient_age": "045Y or 45",
    "patient_weight": "kg",
    "injection_time": "HHMMSS (injection / dosage start)",
    "injected_dose": "with units: 370MBq, 10mCi",
    "half_life": "seconds",
    "positron_fraction": "0..1",
    "units": "BQML, CNTS, GML, ... (BIDS Bq/mL accepted)",
    "frame_times": "frame starts in s, comma-separated (4D)",
    "frame_durations": "frame durations in s, comma-separated (4D)",
    "decay_factors": "decay correction factor per frame",
    "decay_correction": "NONE, START (to the scan start) or ADMIN (to the injection)",
    "study_instance_uid": "share a study between series",
}
# Keyword names accepted as keys of a metadata JSON file.
KEYWORD_FIELDS = {
    "PATIENTNAME": "patient_name",
    "PATIENTID": "patient_id",
    "PATIENTDOB": "patient_birth_date",
    "PATIENTSEX": "patient_sex",
    "PATIENTAGE": "patient_age",
    "PATIENTWEIGHT": "patient_weight",
    "STUDYDATE": "study_date",
    "STUDYTIME": "study_time",
    "STUDYDESCRIPTION": "study_description",
    "SERIESDESCRIPTION": "series_description",
    "PROTOCOLNAME": "protocol_name",
    "STUDYID": "study_id",
    "SERIESNUMBER": "series_number",
    "RADIOPHARMACEUTICAL": "radiopharmaceutical",
    "DOSAGESTARTTIME": "injection_time",
    "DOSAGE_BQ": "injected_dose",
    "HALFLIFE_SECS": "half_life",
    "FRACTION": "positron_fraction",
    "UNITS": "units",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_metadata(values: dict[str, object], where: str = "option") -> Metadata:
    """Validate raw values (keys: the names in CHECKS) into Metadata; errors name each flag."""
    problems, clean = [], {}
    for name, raw in values.items():
        if raw is None:
            continue
        try:
            clean[name] = CHECKS[name](raw if not isinstance(raw, str) else raw.strip())
        except KeyError:
            problems.append(f"{where} {name}: unknown field; known: {', '.join(CHECKS)}")
        except (ValueError, TypeError) as exc:
            label = {"option": _flag(name), "input": f"input {name}"}.get(
                where, f"{where} field {name}"
            )
            problems.append(f"{label}: {exc}")
    if problems:
        raise VinciError(problems)
    if "injected_dose" in clean:
        clean["injected_dose_bq"] = clean.pop("injected_dose")
    frames = [clean.get(k) for k in ("frame_times", "frame_durations") if clean.get(k)]
    if len(frames) == 2 and len(frames[0]) != len(frames[1]):
        raise VinciError(
            f"{where}: {len(frames[0])} frame times but {len(frames[1])} "
            "frame durations; give one of each per frame"
        )
    return Metadata(**clean)


def bids_values(sidecar: dict, where: str) -> dict[str, object]:
    """Map the fields of a BIDS sidecar to metadata values (DESIGN section 9)."""
    values: dict[str, object] = {}
    if "TracerName" in sidecar:
        values["radiopharmaceutical"] = str(sidecar["TracerName"])
    if "InjectedRadioactivity" in sidecar:
        units = sidecar.get("InjectedRadioactivityUnits")
        if not units:
            raise VinciError(f"{where}: InjectedRadioactivity needs InjectedRadioactivityUnits")
        try:
            bq = parse_dose(sidecar["InjectedRadioactivity"], units)
            values["injected_dose"] = f"{bq!r} Bq"
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
        values["injection_time"] = _bids_injection_time(sidecar, where)
    if "Units" in sidecar:
        values["units"] = str(sidecar["Units"])
    if "ImageDecayCorrected" in sidecar:
        values["decay_correction"] = _bids_decay_correction(sidecar, where)
    for bids, name in (
        ("FrameTimesStart", "frame_times"),
        ("FrameDuration", "frame_durations"),
        ("DecayCorrectionFactor", "decay_factors"),
    ):
        if bids in sidecar:
            values[name] = sidecar[bids]
    return values


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


def _bids_injection_time(sidecar: dict, where: str) -> str:
    """InjectionStart (s relative to TimeZero) + TimeZero (hh:mm:ss) as a DICOM TM."""
    try:
        hours, minutes, seconds = (float(p) for p in str(sidecar["TimeZero"]).split(":"))
        total = hours * 3600 + minutes * 60 + seconds + float(sidecar.get("InjectionStart", 0))
    except ValueError:
        raise VinciError(f"{where}: TimeZero {sidecar['TimeZero']!r} is not hh:mm:ss") from None
    total %= 86400
    return f"{int(total // 3600):02d}{int(total % 3600 // 60):02d}{total % 60:09.6f}"


def read_metadata_file(path: str | Path) -> dict[str, object]:
    """Values from a JSON file: our field names, keyword names, or a BIDS sidecar."""
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise VinciError(f"{path}: no such metadata file") from None
    except (OSError, ValueError) as exc:
        raise VinciError(f"{path}: not a JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise VinciError(f"{path}: not a JSON object of field values")
    values = bids_values(data, str(path))
    for key, value in data.items():
        name = KEYWORD_FIELDS.get(key, key)
        if name in CHECKS:
            values[name] = value
        elif key[:1].islower() and name not in values:
            raise VinciError(f"{path}: unknown field {key!r}; known: {', '.join(CHECKS)}")
    return values


def metadata_from(
    options: dict[str, object], metadata_file: str | None = None, where: str = "option"
) -> Metadata:
    """Metadata from a file and options (options win), validated once; errors name the option
    (``where="option"``: command-line flags, ``"input"``: Nipype inputs) or the file."""
    values = read_metadata_file(metadata_file) if metadata_file else {}
    merged = {**values, **{k: v for k, v in options.items() if v is not None}}
    file_only = {k: v for k, v in merged.items() if k not in options or options[k] is None}
    build_metadata(file_only, str(metadata_file))  # errors in file values name the file
    return build_metadata(merged, where)
