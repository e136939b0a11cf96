"""Reading DICOM files and series folders, every failure one line naming the file."""

from __future__ import annotations

import warnings
from pathlib import Path

from .errors import VinciError


def read_dicom(path: str | Path, *, pixels: bool = True):
    """The data set of one DICOM file (``pixels=False``: stop before the pixel data)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, stop_before_pixels=not pixels)
    except FileNotFoundError:
        raise VinciError(f"{path}: no such file; give a DICOM file") from None
    except IsADirectoryError:
        raise VinciError(f"{path}: is a folder; give one DICOM file") from None
    except (InvalidDicomError, OSError, ValueError, EOFError, AttributeError) as exc:
        raise VinciError(f"{path}: not a readable DICOM file ({exc})") from None


def read_series(folder: str | Path, *, pixels: bool = False) -> list:
    """The data sets of one series folder (every readable DICOM file in it, no subfolders),
    sorted by InstanceNumber; a folder holding no DICOM file or several series is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VinciError(f"{folder}: not a folder; give the folder of a DICOM series")
    datasets = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            dataset = read_dicom(path, pixels=pixels)
        except VinciError:
            continue  # reports, sidecars and other files beside the series
        dataset.filename = str(path)
        datasets.append(dataset)
    if not datasets:
        raise VinciError(f"{folder}: holds no DICOM file; give the folder of a DICOM series")
    series = {str(d.get("SeriesInstanceUID", "")) for d in datasets}
    if len(series) > 1:
        raise VinciError(
            f"{folder}: holds {len(series)} series; give a folder that holds exactly one"
        )
    return sorted(datasets, key=lambda d: int(d.get("InstanceNumber", 0) or 0))
