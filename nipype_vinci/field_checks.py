"""The checks of user fields: each turns a raw value (text from a flag, a JSON value, a Nipype
input) into the clean value the export uses, or raises ValueError saying what is wrong."""

from __future__ import annotations

import re
from collections.abc import Callable

from .template.values import string_problem

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
Check = Callable[[object], object]


def text(vr: str) -> Check:
    """A check of one value of a string VR (length, repertoire, pattern)."""

    def check(value: object) -> str:
        value = str(value)
        problem = string_problem(vr, value)
        if problem:
            raise ValueError(problem)
        return value

    return check


def date(value: object) -> str:
    value = str(value)
    if not re.fullmatch(r"\d{8}", value) or string_problem("DA", value):
        raise ValueError(f"{value!r} is not a date YYYYMMDD")
    return value


def time_of_day(value: object) -> str:
    value = str(value).replace(":", "")
    if string_problem("TM", value):
        raise ValueError(f"{value!r} is not a time HHMMSS[.FFFFFF] (or HH:MM:SS)")
    return value


def one_of(*choices: str) -> Check:
    """A check that accepts one of ``choices`` in any case and returns it upper-cased."""

    def check(value: object) -> str:
        if str(value).upper() not in choices:
            raise ValueError(f"{value!r} is not {', '.join(choices[:-1])} or {choices[-1]}")
        return str(value).upper()

    return check


def choice(*choices: str) -> Check:
    """A check that accepts exactly one of ``choices``."""

    def check(value: object) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    return check


def age(value: object) -> str:
    value = str(value)
    value = f"{int(value):03d}Y" if value.isdigit() else value.upper()
    if not re.fullmatch(r"\d{3}[DWMY]", value):
        raise ValueError(f"{value!r} is not an age such as 045Y (or 45)")
    return value


def positive(value: object) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{value!r} is not a positive number")
    return number


def fraction(value: object) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError(f"{value!r} is not a fraction in (0, 1]")
    return number


def finite(value: object) -> float:
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def integer(low: int, high: int) -> Check:
    def check(value: object) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not an integer {low}..{high}") from None
        if not low <= number <= high:
            raise ValueError(f"{value!r} is not an integer {low}..{high}")
        return number

    return check


def dose(value: object, units: str | None = None) -> float:
    """An injected dose in Bq: text with units ('370MBq', '10 mCi') or a number of Bq."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and units is None:
        return positive(value)
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-zµ]+)?\s*", str(value))
    unit = (units or (match.group(2) if match else None) or "").lower()
    if not match or unit not in DOSE_UNITS:
        raise ValueError(f"{value!r} needs a number and units (Bq, kBq, MBq, GBq, mCi, uCi)")
    return positive(match.group(1)) * DOSE_UNITS[unit]


def units(value: object) -> str:
    mapped = BIDS_UNITS.get(str(value).lower(), str(value).upper())
    if string_problem("CS", mapped):
        raise ValueError(f"{value!r} is not DICOM units such as BQML, CNTS, GML")
    return mapped


def _list_of(check: Check) -> Check:
    """A check of a list of numbers (a list, or text separated by commas or spaces)."""

    def checked(value: object) -> tuple[float, ...]:
        items = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
        found = tuple(check(v) for v in items)
        if not found:
            raise ValueError("no numbers given")
        return found

    return checked


def frame_duration(value: object) -> float:
    """A frame duration in s: DICOM's ActualFrameDuration holds whole ms, so 1 ms at least."""
    seconds = positive(value)
    if seconds < 0.001:
        raise ValueError(f"{value!r} s is shorter than 1 ms, the unit of ActualFrameDuration")
    return seconds


numbers = _list_of(finite)
frame_durations = _list_of(frame_duration)


def text_value(value: object) -> str:
    """Any non-empty text (a seed, a path)."""
    if not str(value):
        raise ValueError("is empty")
    return str(value)
