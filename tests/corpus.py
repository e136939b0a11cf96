"""The real-file corpus: every DICOM file that installed packages ship, and the shared samples.

Sources: pydicom's test files (with pydicom-data's, when installed), the test data of nibabel,
heudiconv, deid-data and pynetdicom (when installed), and ../shared/samples. Files are
de-duplicated by content; a package that is absent contributes nothing (see `MISSING`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom

from .conftest import SAMPLES

PACKAGES = ("nibabel", "heudiconv", "deid_data", "pynetdicom")
SKIPPED_SUFFIXES = {".py", ".pyc", ".nii", ".gz", ".json", ".txt", ".zip", ".md", ".tsv"}
MODALITIES = {"PT", "CT", "MR"}


@dataclass(frozen=True)
class CorpusFile:
    """One real file: where it is, its name for test ids, its modality."""

    path: Path
    name: str
    modality: str


def _package_root(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _candidates() -> list[tuple[str, Path]]:
    import pydicom.data

    found = [("pydicom", Path(p)) for p in pydicom.data.get_testdata_files()]
    for package in PACKAGES:
        root = _package_root(package)
        if root is not None:
            found += [(package, p) for p in sorted(root.rglob("*")) if p.is_file()]
    if SAMPLES.is_dir():  # each single file, and the first file of each series folder
        found += [("samples", p) for p in sorted(SAMPLES.glob("*.dcm"))]
        found += [
            ("samples", sorted(d.glob("*.dcm"))[0])
            for d in sorted(SAMPLES.iterdir())
            if d.is_dir() and any(d.glob("*.dcm"))
        ]
    return [(o, p) for o, p in found if p.is_file() and p.suffix.lower() not in SKIPPED_SUFFIXES]


def _read(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path)
    except Exception:  # not DICOM: the packages ship other files beside their DICOM ones
        return None


def corpus() -> list[tuple[CorpusFile, pydicom.Dataset]]:
    """Every distinct readable PET, CT or MR file of the corpus, with its data set."""
    seen: set[str] = set()
    files = []
    for origin, path in _candidates():
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        scan = _read(path)
        modality = str(scan.get("Modality", "")) if scan is not None else ""
        if modality in MODALITIES:
            files.append(
                (CorpusFile(path, f"{origin}:{path.parent.name}/{path.name}", modality), scan)
            )
    return files


MISSING = [name for name in ("data_store", *PACKAGES) if _package_root(name) is None]
