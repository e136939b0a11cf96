"""A small synthetic BIDS cohort (built with the helpers of tests/test_bids.py): three subjects,
static and dynamic PET with valid sidecars, T1w."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from .export_checks import check_series
from .test_bids import PET_SIDECAR, _image, _json

DYNAMIC = {**PET_SIDECAR, "FrameTimesStart": [0, 30, 90], "FrameDuration": [30, 60, 180]}
IMAGES = {
    "sub-01/pet/sub-01_pet": ((14, 12, 5), PET_SIDECAR),
    "sub-01/anat/sub-01_T1w": ((16, 14, 6), None),
    "sub-02/pet/sub-02_rec-dyn_pet": ((10, 9, 4, 3), DYNAMIC),
    "sub-02/anat/sub-02_T1w": ((16, 14, 6), None),
    "sub-03/pet/sub-03_pet": ((14, 12, 5), PET_SIDECAR),
}


def write_cohort(root: Path) -> list[str]:
    """Write the dataset under ``root``; the images' stems relative to it."""
    _json(root / "dataset_description.json", {"Name": "cohort", "BIDSVersion": "1.9.0"})
    (root / "participants.tsv").write_text("participant_id\tsex\nsub-01\tF\nsub-02\tM\nsub-03\tF\n")
    for seed, (stem, (shape, sidecar)) in enumerate(IMAGES.items()):
        _image(root / f"{stem}.nii.gz", shape, seed=seed)
        if sidecar:
            _json(root / f"{stem}.json", sidecar)
    return list(IMAGES)


def check_cohort_export(dataset: Path, out: Path, work: Path) -> None:
    """Every image of the cohort is a valid series in ``out`` (tests/export_checks.py)."""
    work.mkdir(parents=True, exist_ok=True)
    for stem in IMAGES:
        image = nib.load(dataset / f"{stem}.nii.gz")
        series_work = work / stem.replace("/", "-")
        check_series(out / stem, np.asarray(image.dataobj), image.affine, series_work)
