"""User metadata: every header field the user gave, validated once into one typed object.

Values come from front ends (command-line flags, Nipype inputs) and from a JSON file whose
keys are our field names, DICOM keywords, template keywords or BIDS keys (DESIGN section
9). Front-end values win over the file. The fields are those of the registry (fields.py).
"""

from __future__ import annotations

import json
from dataclasses import fields, make_dataclass
from pathlib import Path

from ..errors import Problem, VinciError
from ..fields import BY_NAME, HEADER_FIELDS
from ..sidecar import MetadataFile, field_values

_TYPES = {"text": str, "float": float, "int": int, "floats": tuple[float, ...], "bool": bool}

Metadata = make_dataclass(
    "Metadata",
    [(f.name, _TYPES[f.kind] | None, None) for f in HEADER_FIELDS],
    frozen=True,
)
Metadata.__doc__ = "Every header field the user may give (fields.py); None means not given."


def given(metadata: Metadata) -> dict[str, object]:
    """The fields the user gave, by name."""
    values = {f.name: getattr(metadata, f.name) for f in fields(metadata)}
    return {name: value for name, value in values.items() if value is not None}


def build_metadata(values: dict[str, object], label=None) -> Metadata:
    """Validate raw values (keys: header field names) into Metadata; each error names its
    field (``label`` words it for a front end: e.g. the command line's flag)."""
    problems: list[Problem] = []
    clean = {}
    for name, raw in values.items():
        if raw is None:
            continue
        field = BY_NAME.get(name)
        if field is None or not field.header:
            problems.append(Problem(f"unknown field {name!r}", None))
            continue
        try:
            clean[name] = field.check(raw.strip() if isinstance(raw, str) else raw)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(str(exc), name))
    times, durations = clean.get("frame_times"), clean.get("frame_durations")
    if times and durations and len(times) != len(durations):
        problems.append(
            Problem(
                f"{len(times)} frame times but {len(durations)} frame durations; "
                "give one of each per frame",
                "frame_durations",
            )
        )
    if problems:
        raise VinciError([Problem(p.render(label), None) for p in problems] if label else problems)
    return Metadata(**clean)


def read_metadata_file(path: str | Path) -> MetadataFile:
    """Values from a JSON file: our field names, DICOM and template keywords, BIDS keys
    (an unknown key is an error with a did-you-mean)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise VinciError(f"{path}: no such metadata file") from None
    except (OSError, ValueError) as exc:
        raise VinciError(f"{path}: not a JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise VinciError(f"{path}: not a JSON object of field values")
    return field_values(data, str(path), strict=True)


def metadata_from(
    options: dict[str, object], metadata_file: str | Path | None = None
) -> tuple[Metadata, tuple[str, ...]]:
    """Metadata from a file and front-end values (these win), validated once: errors in a
    file's values name the file and key, the others carry their field for the front end to
    word. Also returns the file's keys that nothing writes."""
    source = read_metadata_file(metadata_file) if metadata_file else MetadataFile({})
    chosen = {k: v for k, v in options.items() if v is not None}
    from_file = {k: v for k, v in source.values.items() if k not in chosen}
    file_meta = build_metadata(from_file, lambda name: f"{metadata_file}: field {name}")
    return Metadata(**given(file_meta), **given(build_metadata(chosen))), source.not_written
