"""Label tables: what each value of a label map means (name, colour, codes).

Three formats, chosen by the file's suffix:

- ``.tsv``: a BIDS ``dseg.tsv`` (columns ``index`` and ``name``, optional ``abbreviation``
  and ``color`` as ``#RRGGBB``);
- ``.json``: an object from label value to a name, or to an object with ``name`` and
  optional ``abbreviation``, ``color`` (``#RRGGBB`` or ``[R, G, B]``), ``category`` and
  ``type`` (each ``[code value, coding scheme, code meaning]``);
- anything else: a FreeSurfer colour table (``FreeSurferColorLUT.txt``: ``index name R G B A``
  per line, ``#`` comments).

Value 0 is the background in every format and is never a segment.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import VinciError

CodeTuple = tuple[str, str, str]  # (code value, coding scheme designator, code meaning)

# A segment without codes is "Tissue" (SNOMED CT 85756007) in category and type: the
# generic concept of DICOM CID 7150/7151, as 3D Slicer uses for an unnamed segment.
DEFAULT_CATEGORY: CodeTuple = ("85756007", "SCT", "Tissue")
DEFAULT_TYPE: CodeTuple = ("85756007", "SCT", "Tissue")

HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Label:
    """One value of a label map: its segment's name, colour and codes."""

    value: int
    name: str
    abbreviation: str = ""
    color: tuple[int, int, int] | None = None
    category: CodeTuple = DEFAULT_CATEGORY
    type: CodeTuple = DEFAULT_TYPE


def read_label_table(path: str | Path) -> dict[int, Label]:
    """The labels of a dseg.tsv, JSON or FreeSurfer colour table, by value (0 left out)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise VinciError(
            f"{path}: no such labels file; give a dseg.tsv, JSON or colour table"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VinciError(f"{path}: cannot read the labels file ({exc})") from None
    suffix = path.suffix.lower()
    reader = {".tsv": _dseg_rows, ".json": _json_rows}.get(suffix, _lut_rows)
    table: dict[int, Label] = {}
    for where, label in reader(text, str(path)):
        if label.value in table:
            raise VinciError(f"{where}: label value {label.value} is listed twice; keep one")
        if label.value != 0:
            table[label.value] = label
    if not table:
        raise VinciError(f"{path}: lists no label value other than 0 (the background)")
    return table


def _value(text: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise VinciError(f"{where}: label value {text!r} is not a whole number") from None
    if value < 0:
        raise VinciError(f"{where}: label value {value} is negative; use 0 and up")
    return value


def _name(text: str, where: str) -> str:
    name = text.strip()
    if not name:
        raise VinciError(f"{where}: the label has no name; give one")
    if len(name) > 64 or "\\" in name:
        raise VinciError(f"{where}: label name {name!r} is longer than 64 characters or holds \\")
    return name


def _colour(value: object, where: str) -> tuple[int, int, int] | None:
    if value in (None, "", "n/a"):
        return None
    if isinstance(value, str):
        match = HEX_COLOUR.fullmatch(value.strip())
        if not match:
            raise VinciError(f"{where}: colour {value!r} is not #RRGGBB")
        digits = match.group(1)
        return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    parts = list(value) if isinstance(value, (list, tuple)) else []
    if len(parts) != 3 or not all(isinstance(p, int) and 0 <= p <= 255 for p in parts):
        raise VinciError(f"{where}: colour {value!r} is not [R, G, B] with values 0..255")
    return tuple(parts)  # type: ignore[return-value]


def _code(value: object, where: str, field: str) -> CodeTuple:
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise VinciError(
            f"{where}: {field} must be [code value, coding scheme, code meaning], "
            'e.g. ["10200004", "SCT", "Liver"]'
        )
    return tuple(value)  # type: ignore[return-value]


def _dseg_rows(text: str, source: str):
    rows = csv.reader(text.splitlines(), delimiter="\t")
    header = [h.strip().lower() for h in next(rows, [])]
    missing = [c for c in ("index", "name") if c not in header]
    if missing:
        raise VinciError(
            f"{source}:1: the header lacks the column(s) {', '.join(missing)} of a BIDS dseg.tsv"
        )
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{source}:{line}"
        if len(row) != len(header):
            raise VinciError(f"{where}: {len(row)} columns where the header has {len(header)}")
        cells = dict(zip(header, row))
        yield (
            where,
            Label(
                value=_value(cells["index"].strip(), where),
                name=_name(cells["name"], where),
                abbreviation=cells.get("abbreviation", "").strip(),
                color=_colour(cells.get("color", "").strip(), where),
            ),
        )


def _lut_rows(text: str, source: str):
    for line, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        where = f"{source}:{line}"
        if len(fields) not in (5, 6):
            raise VinciError(
                f"{where}: expected 'index name R G B A' (a FreeSurfer colour table line)"
            )
        try:
            rgb = [int(f) for f in fields[2:5]]
        except ValueError:
            raise VinciError(f"{where}: R G B must be whole numbers 0..255") from None
        yield (
            where,
            Label(
                value=_value(fields[0], where),
                name=_name(fields[1], where),
                color=_colour(rgb, where),
            ),
        )


def _json_rows(text: str, source: str):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VinciError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise VinciError(f"{source}: must be an object from label value to name or object")
    for key, entry in data.items():
        where = f"{source}: label {key}"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or "name" not in entry:
            raise VinciError(f"{where}: give a name, or an object with a name")
        unknown = set(entry) - {"name", "abbreviation", "color", "category", "type"}
        if unknown:
            raise VinciError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        yield (
            where,
            Label(
                value=_value(key, where),
                name=_name(str(entry["name"]), where),
                abbreviation=str(entry.get("abbreviation", "")),
                color=_colour(entry.get("color"), where),
                category=_code(entry["category"], where, "category")
                if "category" in entry
                else DEFAULT_CATEGORY,
                type=_code(entry["type"], where, "type") if "type" in entry else DEFAULT_TYPE,
            ),
        )
