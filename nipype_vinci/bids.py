"""Metadata of a BIDS image as metadata values (DESIGN section 9), as pure functions.

Sidecars follow the BIDS inheritance principle (a JSON at a higher level applies when its
entities are a subset of the image's and its suffix is the same; deeper files win);
participants.tsv gives sex, age and weight; scans.tsv gives the acquisition time.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from .errors import VinciError
from .sidecar import field_values

IMAGE_SUFFIXES = (".nii.gz", ".nii")
PET_REQUIRED = (
    "TracerName",
    "TracerRadionuclide",
    "InjectedRadioactivity",
    "InjectedRadioactivityUnits",
    "Units",
    "TimeZero",
)
# Sidecar keys that choose the template (so they are used, not "not written").
TEMPLATE_CHOICE_KEYS = ("Manufacturer", "ManufacturersModelName")
MODALITIES = {"pet": "PT", "anat": "MR", "func": "MR", "dwi": "MR", "perf": "MR"}


def split_name(path: Path) -> tuple[dict[str, str], str, str]:
    """Entities, suffix and extension of a BIDS file name."""
    name = path.name
    extension = next((e for e in (*IMAGE_SUFFIXES, ".json", ".tsv") if name.endswith(e)), "")
    parts = name[: len(name) - len(extension)].split("_")
    entities = dict(p.split("-", 1) for p in parts[:-1] if "-" in p)
    return entities, parts[-1], extension


def stem(path: Path) -> str:
    """The file name without its image extension."""
    name = path.name
    return next((name[: -len(e)] for e in IMAGE_SUFFIXES if name.endswith(e)), path.stem)


def sidecar(image: Path, root: Path) -> tuple[dict, list[Path]]:
    """The merged sidecar of an image and the files it came from, top level first."""
    entities, suffix, _ = split_name(image)
    folders = [root]
    for part in image.parent.relative_to(root).parts:
        folders.append(folders[-1] / part)
    merged: dict = {}
    used = []
    for folder in folders:
        candidates = []
        for path in sorted(folder.glob(f"*_{suffix}.json")) + sorted(folder.glob(f"{suffix}.json")):
            found, found_suffix, _ = split_name(path)
            if found_suffix == suffix and found.items() <= entities.items():
                candidates.append((len(found), path))
        for _, path in sorted(candidates):
            try:
                merged.update(json.loads(path.read_text("utf-8")))
            except ValueError as exc:
                raise VinciError(f"{path}: not valid JSON ({exc})") from None
            used.append(path)
    return merged, used


def _tsv_row(path: Path, column: str, value: str) -> dict[str, str]:
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get(column) == value:
                return {k: v for k, v in row.items() if v not in (None, "", "n/a")}
    return {}


def participant_values(root: Path, subject: str) -> dict[str, object]:
    """Sex, age and weight of a subject from participants.tsv."""
    row = _tsv_row(root / "participants.tsv", "participant_id", f"sub-{subject}")
    values: dict[str, object] = {}
    sex = row.get("sex", "").strip().upper()[:1]
    if sex in ("M", "F", "O"):
        values["patient_sex"] = sex
    if re.fullmatch(r"\d+(\.\d+)?", row.get("age", "")):
        values["patient_age"] = f"{int(float(row['age'])):03d}Y"
    if re.fullmatch(r"\d+(\.\d+)?", row.get("weight", "")):
        values["patient_weight"] = float(row["weight"])
    return values


def scan_values(image: Path, root: Path, entities: dict[str, str]) -> dict[str, object]:
    """Study date and time from the acq_time of scans.tsv."""
    session = f"_ses-{entities['ses']}" if "ses" in entities else ""
    folder = image.parent.parent
    table = folder / f"sub-{entities.get('sub')}{session}_scans.tsv"
    relative = image.relative_to(folder).as_posix()
    row = _tsv_row(table, "filename", relative)
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", row.get("acq_time", ""))
    if not match:
        return {}
    year, month, day, hour, minute, second = match.groups()
    return {"study_date": f"{year}{month}{day}", "study_time": f"{hour}{minute}{second}"}


def image_metadata(
    image: Path, root: Path
) -> tuple[dict[str, object], dict[str, str], tuple[str, ...]]:
    """Metadata values, the template query and the sidecar keys that no field takes, of one
    BIDS image; missing PET fields fail."""
    entities, suffix, _ = split_name(image)
    merged, used = sidecar(image, root)
    where = str(used[-1] if used else image)
    if suffix == "pet" and "desc" not in entities:
        missing = [f for f in PET_REQUIRED if f not in merged]
        if missing:
            raise VinciError(
                f"{where}: PET sidecar lacks {', '.join(missing)} (BIDS PET "
                "requires them); add them to the sidecar"
            )
    found = field_values(merged, where, strict=False)
    values = dict(found.values)
    values.update(participant_values(root, entities.get("sub", "")))
    values.update(scan_values(image, root, entities))
    values["patient_id"] = f"sub-{entities.get('sub', '')}"
    values["series_description"] = stem(image)[:64]
    datatype = image.parent.name
    query = {
        "modality": MODALITIES.get(datatype, "MR" if datatype == "anat" else "PT"),
        "manufacturer": str(merged.get(TEMPLATE_CHOICE_KEYS[0], "")),
        "model": str(merged.get(TEMPLATE_CHOICE_KEYS[1], "")),
    }
    not_written = tuple(k for k in found.not_written if k not in TEMPLATE_CHOICE_KEYS)
    return values, query, not_written


def source_uids(image: Path, root: Path) -> tuple[str | None, str | None]:
    """The StudyInstanceUID and SeriesInstanceUID of the scan an image came from, as
    dcm2niix writes them into its sidecar (None when absent)."""
    merged, _ = sidecar(image, root)
    study, series = merged.get("StudyInstanceUID"), merged.get("SeriesInstanceUID")
    return (str(study) if study else None), (str(series) if series else None)
