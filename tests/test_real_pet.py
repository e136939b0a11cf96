"""Real data: the GE Discovery ST PET series, through dcm2niix, exported with its template."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.export.metadata import metadata_from
from nipype_vinci.export.save import SaveOptions, save_series
from nipype_vinci.template.library import load_template

from .conftest import need_tool
from .export_checks import canonical, dciodvfy_errors, dcm2niix_volume, series_files


@pytest.mark.parametrize("scaling", ["global", "per-slice"])
def test_real_pet_series_round_trip(samples: Path, tmp_path: Path, scaling: str) -> None:
    source = samples / "pet-ge-discovery-st"
    converted = tmp_path / "nifti"
    converted.mkdir()
    subprocess.run(
        [need_tool("dcm2niix"), "-z", "n", "-f", "pet", "-o", str(converted), str(source)],
        check=True,
        capture_output=True,
    )
    image = converted / "pet.nii"
    metadata, _ = metadata_from({}, str(converted / "pet.json"))  # dcm2niix's BIDS sidecar
    out = tmp_path / "series"
    report = save_series(
        image, out, load_template("ge-discovery-st-pet"), metadata, SaveOptions(scaling=scaling)
    )
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 267
    # no validator error the source files did not already have
    source_errors = {e.split(": ", 1)[1] for e in dciodvfy_errors(sorted(source.glob("*"))[:3])}
    ours = {e.split(": ", 1)[1] for e in dciodvfy_errors(files[::19])}
    assert ours <= source_errors
    # values come back within slope/2 of what dcm2niix read from the scanner's files
    want, want_affine = canonical(nib.load(image))
    got, got_affine = canonical(dcm2niix_volume(out, tmp_path / "rebuilt"))
    assert np.max(np.abs(got_affine - want_affine)) < 0.01
    slack = 4 * np.finfo(np.float32).eps * float(np.abs(want).max())
    assert np.max(np.abs(got - want)) <= report.slope_max / 2 + slack
    first = series_files(out)[0]
    assert first.Units == "BQML" and first.Modality == "PT"
