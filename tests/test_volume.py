"""Reading planes in chunks gives exactly nibabel's slices, in frame-major order."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.errors import VinciError
from nipype_vinci.export import volume as volume_module
from nipype_vinci.export.volume import open_volume, value_range


def _expected(path: Path) -> list[tuple[int, int, np.ndarray]]:
    data = np.asanyarray(nib.load(path).dataobj)
    if data.ndim == 3:
        data = data[..., None]
    return [(t, k, data[:, :, k, t].T) for t in range(data.shape[3]) for k in range(data.shape[2])]


@pytest.mark.parametrize("chunk_planes", [1, 2, 3, 100])
@pytest.mark.parametrize(
    ("shape", "dtype", "suffix", "byte_order", "slope"),
    [
        ((5, 4, 7), "<i2", ".nii", "<", None),
        ((5, 4, 7, 3), "<f4", ".nii.gz", "<", None),
        ((3, 6, 5, 2), ">f4", ".nii", ">", None),
        ((5, 4, 6), "<i2", ".nii", "<", (0.5, -3.0)),
    ],
)
def test_planes_are_nibabels_slices(
    tmp_path: Path, monkeypatch, chunk_planes, shape, dtype, suffix, byte_order, slope
) -> None:
    data = (np.random.default_rng(5).random(shape) * 1000 - 200).astype(dtype)
    image = nib.Nifti1Image(data, np.eye(4))
    if slope:
        image.header.set_slope_inter(*slope)
    path = tmp_path / f"in{suffix}"
    nib.save(image, path)
    plane_bytes = shape[0] * shape[1] * np.dtype(dtype).itemsize
    monkeypatch.setattr(volume_module, "CHUNK_BYTES", chunk_planes * plane_bytes)
    got = list(open_volume(path).planes())
    expected = _expected(path)
    assert [(t, k) for t, k, _ in got] == [(t, k) for t, k, _ in expected]
    for (_, _, plane), (_, _, want) in zip(got, expected):
        assert plane.shape == want.shape and np.array_equal(plane, want)


def test_nan_replaced_plane_by_plane(tmp_path: Path, monkeypatch) -> None:
    data = np.ones((3, 2, 4), np.float32)
    data[1, 0, 2] = np.nan
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "nan.nii")
    monkeypatch.setattr(volume_module, "CHUNK_BYTES", 2 * 3 * 2 * 4)
    planes = [p for _, _, p in open_volume(tmp_path / "nan.nii", nan_value=-1.0).planes()]
    assert planes[2][0, 1] == -1.0 and np.isfinite(np.stack(planes)).all()


@pytest.mark.parametrize("chunk_planes", [1, 3, 100])
def test_value_range_global_and_per_plane(tmp_path: Path, monkeypatch, chunk_planes) -> None:
    data = (np.random.default_rng(2).random((4, 3, 5, 2)) * 50 - 20).astype(np.float32)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "r.nii")
    monkeypatch.setattr(volume_module, "CHUNK_BYTES", chunk_planes * 4 * 3 * 4)
    low, high, planes = value_range(open_volume(tmp_path / "r.nii"))
    assert (low, high) == (float(data.min()), float(data.max()))
    expected = [
        (float(data[:, :, k, t].min()), float(data[:, :, k, t].max()))
        for t in range(2)
        for k in range(5)
    ]
    assert planes == expected


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_value_range_names_the_slice_with_nan_or_inf(tmp_path: Path, monkeypatch, bad) -> None:
    data = np.ones((4, 3, 5, 2), np.float32)
    data[2, 1, 3, 1] = bad
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "n.nii")
    monkeypatch.setattr(volume_module, "CHUNK_BYTES", 2 * 4 * 3 * 4)
    with pytest.raises(VinciError, match="slice 3 of frame 1 holds NaN or infinite"):
        value_range(open_volume(tmp_path / "n.nii"))
