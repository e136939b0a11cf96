"""Value rules per VR: parse dump text into values and check values strictly (PS3.5 6.2).

Used twice: on the literal values of a template as it is parsed, and on every value filled
in for a keyword before a byte is written.
"""

from __future__ import annotations

import datetime
import math
import re
import struct
from collections.abc import Sequence

from ..errors import VinciError

STRING_VRS = frozenset(
    [
        "AE",
        "AS",
        "CS",
        "DA",
        "DS",
        "DT",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "ST",
        "TM",
        "UC",
        "UI",
        "UR",
        "UT",
    ]
)
LITERAL_BACKSLASH_VRS = frozenset(["LT", "ST", "UT", "UR"])
INT_RANGES = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "OL": (0, 2**32 - 1),
    "UV": (0, 2**64 - 1),
    "SV": (-(2**63), 2**63 - 1),
    "OV": (0, 2**64 - 1),
}
FLOAT_VRS = frozenset(["FL", "FD", "OF", "OD"])
NUMBER_VRS = frozenset(INT_RANGES) | FLOAT_VRS
MAX_CHARS = {
    "AE": 16,
    "AS": 4,
    "CS": 16,
    "DA": 8,
    "DS": 16,
    "DT": 26,
    "IS": 12,
    "LO": 64,
    "LT": 10240,
    "SH": 16,
    "ST": 1024,
    "TM": 14,
    "UI": 64,
}
_PATTERNS = {
    "CS": re.compile(r"[A-Z0-9 _]*"),
    "DS": re.compile(r" *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *"),
    "IS": re.compile(r" *[+-]?\d+ *"),
    "AS": re.compile(r"\d{3}[DWMY]"),
    "UI": re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*))*"),
    "DA": re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"),
    "TM": re.compile(r"(?P<hour>\d{2})((?P<minute>\d{2})((?P<second>\d{2})(\.\d{1,6})?)?)? *"),
    "DT": re.compile(
        r"(?P<year>\d{4})((?P<month>\d{2})((?P<day>\d{2})((?P<hour>\d{2})((?P<minute>\d{2})"
        r"((?P<second>\d{2})(\.\d{1,6})?)?)?)?)?)?(?P<offset>[+-]\d{4})? *"
    ),
}
PN_GROUPS = 3  # alphabetic, ideographic, phonetic (PS3.5 6.2.1)
PN_COMPONENTS = 5  # family, given, middle, prefix, suffix
_TEXT_CONTROLS = frozenset("\t\n\f\r\x1b")
_RULES = {
    "CS": "upper-case letters, digits, space and _ only",
    "DS": "a decimal number",
    "IS": "an integer",
    "AS": "nnnD, nnnW, nnnM or nnnY",
    "UI": "digits and dots, no empty part, no leading zero",
    "DA": "a date YYYYMMDD",
    "TM": "a time HH[MM[SS[.FFFFFF]]]",
    "DT": "a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX",
}


def split_values(vr: str, text: str) -> list[str]:
    """The values of a string element (backslash-separated except in LT, ST, UT, UR)."""
    if vr in LITERAL_BACKSLASH_VRS:
        return [text]
    return text.split("\\")


def _pattern_problem(vr: str, value: str) -> str | None:
    pattern = _PATTERNS.get(vr)
    stripped = value.rstrip(" ") if vr not in ("DS", "IS") else value
    match = pattern.fullmatch(stripped) if pattern else True
    if not match:
        return f"{vr} value {value!r} is not {_RULES[vr]}"
    if vr in ("DA", "TM", "DT") and not _on_the_calendar(match):
        rule = _RULES[vr].removeprefix("a ")
        return f"{vr} value {value!r} is not a valid {rule} (no such day, hour or offset)"
    if vr == "IS" and not -(2**31) <= int(value) <= 2**31 - 1:
        return f"IS value {value!r} is out of the range -2147483648..2147483647"
    if vr == "DS" and not math.isfinite(float(value)):
        return f"DS value {value!r} is not finite"
    return None


def _on_the_calendar(match: re.Match) -> bool:
    """Whether the parts of a DA, TM or DT exist: the day in its month (leap years known),
    hours 00-23, minutes 00-59, seconds 00-60 (a leap second), offsets -1200..+1400."""
    part = {k: int(v) for k, v in match.groupdict().items() if v is not None and k != "offset"}
    if "year" in part:
        try:
            datetime.date(part["year"], part.get("month", 1), part.get("day", 1))
        except ValueError:  # year 0000 too
            return False
    if part.get("hour", 0) > 23 or part.get("minute", 0) > 59 or part.get("second", 0) > 60:
        return False
    offset = match.groupdict().get("offset")
    if offset:
        minutes = int(offset[1:3]) * 60 + int(offset[3:])
        if int(offset[3:]) > 59 or minutes > (720 if offset[0] == "-" else 840):
            return False
    return True


def _structure_problem(vr: str, value: str) -> str | None:
    """A backslash in one value (DICOM reads it as a second value) and the parts of a PN."""
    if vr not in LITERAL_BACKSLASH_VRS and "\\" in value:
        return (
            f"{vr} value {value!r} holds a backslash, which DICOM reads as a separator "
            "between values; remove it"
        )
    if vr != "PN":
        return None
    groups = value.split("=")
    if len(groups) > PN_GROUPS:
        return (
            f"PN value {value!r} has {len(groups)} component groups (at most {PN_GROUPS}: "
            "alphabetic=ideographic=phonetic, so at most two '=')"
        )
    for group in groups:
        if group.count("^") >= PN_COMPONENTS:
            return (
                f"PN value {value!r} has {group.count('^') + 1} components in one group "
                f"(at most {PN_COMPONENTS}: family^given^middle^prefix^suffix, so at most "
                "four '^')"
            )
        if len(group) > 64:
            return f"PN component group {group[:20]!r}... is longer than 64 characters"
    return None


def _characters_problem(vr: str, value: str) -> str | None:
    allowed = _TEXT_CONTROLS if vr in LITERAL_BACKSLASH_VRS else {"\x1b"}
    printable_ascii = value.isascii() and value.isprintable()  # the common case, at C speed
    for char in "" if printable_ascii else value:
        if (ord(char) < 32 or ord(char) == 127) and char not in allowed:
            return f"{vr} value contains the control character {char!r}"
    if vr == "AE" and value.strip() == "" and value:
        return "AE value is only spaces"
    return None


def string_problem(vr: str, value: str) -> str | None:
    """Why one value of a string VR is not valid; None when it is."""
    if value == "" or vr not in STRING_VRS:
        return None
    limit = MAX_CHARS.get(vr)
    if limit is not None and len(value) > limit:
        return f"{vr} value {value[:20]!r}... is longer than {limit} characters"
    return (
        _characters_problem(vr, value)
        or _structure_problem(vr, value)
        or _pattern_problem(vr, value)
    )


def strings_problem(vr: str, values: Sequence[str]) -> str | None:
    """The first problem among the values of one string element."""
    for value in values:
        problem = string_problem(vr, value)
        if problem:
            return problem
    return None


def parse_numbers(vr: str, text: str) -> list[int | float]:
    """Parse backslash-separated numbers of a number VR; ValueError names the bad value."""
    numbers: list[int | float] = []
    for token in text.split("\\"):
        if vr in FLOAT_VRS:
            try:
                number = float(token)
            except ValueError:
                raise ValueError(f"{token!r} is not a number, as {vr} needs") from None
            if vr in ("FL", "OF"):  # the value a 32-bit float really holds
                number = struct.unpack("<f", struct.pack("<f", number))[0]
            numbers.append(number)
            continue
        if not re.fullmatch(r"[+-]?\d+", token):
            raise ValueError(f"{token!r} is not an integer, as {vr} needs")
        number = int(token)
        low, high = INT_RANGES[vr]
        if not low <= number <= high:
            raise ValueError(f"{number} is out of the {vr} range {low}..{high}")
        numbers.append(number)
    return numbers


def numbers_problem(vr: str, numbers: Sequence[float]) -> str | None:
    """Why numbers do not fit a number VR's range; None when they do."""
    if vr in FLOAT_VRS:
        return None
    low, high = INT_RANGES[vr]
    for number in numbers:
        if number != int(number) or not low <= number <= high:
            return f"{number} is out of the {vr} range {low}..{high}"
    return None


def checked_value(keyword: str, vr: str, value: object) -> object:
    """``value`` when it is valid for ``vr`` by our strict rules; None for an empty value."""
    if value is None or value == "":
        return None
    values = value if isinstance(value, list) else [value]
    if vr in NUMBER_VRS:
        problem = numbers_problem(vr, values)
    else:
        problem = strings_problem(vr, [str(v) for v in values])
    if problem:
        raise VinciError(f"keyword {keyword}: {problem}; change the value given for it")
    return value
