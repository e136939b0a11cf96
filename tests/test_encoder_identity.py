"""The fast encoder writes exactly the bytes pydicom's dcmwrite writes for the same data set."""

from __future__ import annotations

import io
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from nipype_vinci.export.metadata import build_metadata
from nipype_vinci.export.save import SaveOptions, save_series
from nipype_vinci.template.library import BUNDLED, load_template

TEMPLATES = sorted(p.stem for p in BUNDLED.glob("*.dump"))


@pytest.mark.parametrize("scaling", ["per-slice", "global"])
@pytest.mark.parametrize("frames", [1, 3])
@pytest.mark.parametrize("name", TEMPLATES)
def test_bytes_equal_dcmwrite(name: str, frames: int, scaling: str, tmp_path: Path) -> None:
    data = (np.random.default_rng(3).random((13, 11, 5, frames)) * 900 - 50).astype(np.float32)
    nib.save(nib.Nifti1Image(data, np.diag([1.0, 2.0, 3.0, 1.0])), tmp_path / "in.nii")
    meta = build_metadata(
        {
            "patient_name": "Müller^Jörg",
            "frame_times": list(range(frames)),
            "frame_durations": [1] * frames,
        }
    )
    save_series(
        tmp_path / "in.nii",
        tmp_path / "out",
        load_template(name),
        meta,
        SaveOptions(scaling=scaling),
    )
    files = sorted((tmp_path / "out").glob("*.dcm"))
    assert len(files) == 5 * frames
    for path in files:
        written = path.read_bytes()
        dataset = pydicom.dcmread(io.BytesIO(written))
        decoded = list(dataset.iterall())  # every raw element decoded: re-encoded from values
        assert all(not isinstance(e, tuple) for e in decoded)
        again = io.BytesIO()
        pydicom.dcmwrite(again, dataset, enforce_file_format=True)
        assert again.getvalue() == written, path.name
