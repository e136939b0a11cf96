"""RGB fused overlays: dciodvfy clean, and the decoded planes equal a blend computed here."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation

from nipype_vinci.export.colormaps import colormap

from .conftest import cli
from .export_checks import dciodvfy_errors, dcm2niix_volume, dcmdump_problems

# The base (a CT): 1 mm x 1 mm x 2 mm, x running right to left. World x = 20 - i.
BASE_AFFINE = np.array([[-1.0, 0, 0, 20], [0, 1.0, 0, -15], [0, 0, 2.0, -8], [0, 0, 0, 1]])
BASE_SHAPE = (40, 30, 8)
# The image (a PET) on a coarser grid inside the base; no base voxel lies on its border.
IMAGE_AFFINE = np.array([[2.5, 0, 0, -9.75], [0, 2.5, 0, -11.25], [0, 0, 4.0, -6.5], [0, 0, 0, 1]])
IMAGE_SHAPE = (10, 8, 3)
WINDOW, VALUES, ALPHA = (100.0, 400.0), (20.0, 200.0), 0.4


def ramp(x, y, z):
    """The image's values: linear in world position, so linear resampling is exact."""
    return 100 + 10 * x + 3 * y + 2 * z


def world(affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    ijk = np.indices(shape, dtype=float)
    return np.einsum("ab,b...->a...", affine[:3, :3], ijk) + affine[:3, 3, None, None, None]


@pytest.fixture
def inputs(tmp_path) -> dict:
    base = np.random.default_rng(2).integers(-200, 400, BASE_SHAPE).astype(np.int16)
    nib.save(nib.Nifti1Image(base, BASE_AFFINE), tmp_path / "ct.nii.gz")
    image = ramp(*world(IMAGE_AFFINE, IMAGE_SHAPE)).astype(np.float32)
    nib.save(nib.Nifti1Image(image, IMAGE_AFFINE), tmp_path / "pet.nii.gz")
    return {"base": base, "dir": tmp_path}


def expected_blend(base: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The fusion on the base grid (x, y, z, RGB), written out step by step."""
    gray = np.clip((base - (WINDOW[0] - WINDOW[1] / 2)) / WINDOW[1], 0, 1) * 255
    x, y, z = world(BASE_AFFINE, BASE_SHAPE)
    inside = (x > -9.75) & (x < 12.75) & (y > -11.25) & (y < 6.25) & (z > -6.5) & (z < 1.5)
    values = ramp(x, y, z)
    shown = inside & (values > VALUES[0])
    level = np.clip((values - VALUES[0]) / (VALUES[1] - VALUES[0]), 0, 1)
    colour = table[np.rint(level * 255).astype(int)].astype(float)
    blended = np.repeat(gray[..., None], 3, axis=3)
    blended[shown] = (1 - ALPHA) * blended[shown] + ALPHA * colour[shown]
    return blended


def run_overlay(inputs: dict, cmap: str, *extra: str):
    d = inputs["dir"]
    done = cli(
        "overlay",
        str(d / "ct.nii.gz"),
        str(d / "pet.nii.gz"),
        str(d / "fused"),
        "--colormap",
        cmap,
        "--alpha",
        str(ALPHA),
        "--base-window",
        *map(str, WINDOW),
        "--range",
        *map(str, VALUES),
        "--json",
        *extra,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check_overlay(inputs: dict, report: dict, table: np.ndarray) -> list[pydicom.Dataset]:
    files = sorted((inputs["dir"] / "fused").glob("*.dcm"))
    assert [f.name for f in files] == report["files"] and len(files) == BASE_SHAPE[2]
    assert dciodvfy_errors(files) == [] and dcmdump_problems(files) == []
    datasets = [pydicom.dcmread(f) for f in files]
    want = expected_blend(inputs["base"], table)
    box = report["colorbar"]
    bar = (slice(box["top"], box["bottom"]), slice(box["left"], box["right"]))
    for k, d in enumerate(datasets):
        assert (d.SOPClassUID, d.PhotometricInterpretation) == ("1.2.840.10008.5.1.4.1.1.7", "RGB")
        assert d.BurnedInAnnotation == "YES" and int(d.InstanceNumber) == k + 1
        lps = BASE_AFFINE @ [0, 0, k, 1] * np.array([-1, -1, 1, 1])
        assert np.allclose([float(v) for v in d.ImagePositionPatient], lps[:3])
        assert np.allclose([float(v) for v in d.ImageOrientationPatient], [1, 0, 0, 0, -1, 0])
        got = d.pixel_array.astype(float)  # rows x columns x RGB
        expected = want[:, :, k].transpose(1, 0, 2)
        outside = np.ones(got.shape[:2], bool)
        outside[bar] = False
        assert np.max(np.abs(got[outside] - expected[outside])) <= 1, f"slice {k}"
        strip = got[bar]  # the colour bar: the map's high end on top, its low end below
        assert np.array_equal(strip[0, 0], table[255]) and np.array_equal(strip[-1, 0], table[0])
    return datasets


def test_overlay_equals_a_numpy_blend(inputs):
    report = run_overlay(inputs, "gray")
    gray = np.repeat(np.arange(256)[:, None], 3, axis=1)  # the grey map, written out
    check_overlay(inputs, report, gray)
    assert report["shape"] == [30, 40, 8] and report["warnings"] == []
    box = report["colorbar"]
    assert box["right"] <= 40 and box["left"] >= 30


def rgb_canonical(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y, z, RGB) data and affine turned to the closest RAS+ voxel order."""
    ornt = io_orientation(affine)
    turned = np.stack([apply_orientation(data[..., c], ornt) for c in range(3)], axis=3)
    return turned, affine @ inv_ornt_aff(ornt, data.shape[:3])


def test_dcm2niix_rebuilds_the_overlay_on_the_base_grid(inputs):
    report = run_overlay(inputs, "hot")
    datasets = [pydicom.dcmread(inputs["dir"] / "fused" / name) for name in report["files"]]
    written = np.stack([d.pixel_array.transpose(1, 0, 2) for d in datasets], axis=2)
    rebuilt = dcm2niix_volume(inputs["dir"] / "fused", inputs["dir"] / "rebuilt")
    rgb = np.asarray(rebuilt.dataobj)  # dcm2niix writes RGB24: one (R, G, B) record a voxel
    rgb = np.stack([rgb["R"], rgb["G"], rgb["B"]], axis=3).reshape(BASE_SHAPE + (3,))
    got, got_affine = rgb_canonical(rgb, rebuilt.affine)
    want, want_affine = rgb_canonical(written, BASE_AFFINE)
    assert np.max(np.abs(got_affine - want_affine)) < 0.01
    assert np.array_equal(got, want)


def test_overlay_joins_the_reference_study(inputs):
    d = inputs["dir"]
    done = cli("save", str(d / "ct.nii.gz"), str(d / "ct"), "--template", "ge-lightspeed16-ct")
    assert done.returncode == 0, done.stderr
    report = run_overlay(inputs, "hot", "--reference", str(d / "ct"))
    datasets = check_overlay(inputs, report, colormap("hot"))
    reference = pydicom.dcmread(sorted((d / "ct").glob("*.dcm"))[0])
    for keyword in ("StudyInstanceUID", "FrameOfReferenceUID", "PatientID", "PatientName"):
        assert {str(ds.get(keyword)) for ds in datasets} == {str(reference.get(keyword))}
    assert int(datasets[0].SeriesNumber) == int(reference.SeriesNumber) + 1000
    assert datasets[0].SeriesInstanceUID != reference.SeriesInstanceUID
    assert report["warnings"] == []


def test_overlay_off_the_reference_grid_keeps_the_study_not_the_frame(inputs):
    d = inputs["dir"]
    done = cli("save", str(d / "pet.nii.gz"), str(d / "pt"), "--template", "ge-discovery-st-pet")
    assert done.returncode == 0, done.stderr
    report = run_overlay(inputs, "jet", "--reference", str(d / "pt"))
    reference = pydicom.dcmread(sorted((d / "pt").glob("*.dcm"))[0])
    assert report["study_instance_uid"] == reference.StudyInstanceUID
    assert report["frame_of_reference_uid"] != reference.FrameOfReferenceUID
    assert "does not lie on the grid of the reference" in report["warnings"][0]


def test_overlay_uids_follow_the_seed_and_the_options(inputs):
    def series_uid(name: str, alpha: str) -> str:
        d = inputs["dir"]
        args = [str(d / "ct.nii.gz"), str(d / "pet.nii.gz"), str(d / name), "--alpha", alpha]
        done = cli("overlay", *args, "--uid-seed", "s", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["series_instance_uid"]

    assert series_uid("a", "0.5") == series_uid("b", "0.5") != series_uid("c", "0.6")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--alpha", "1.5"], "--alpha: 1.5 is not between 0 and 1"),
        (["--range", "5", "5"], "--range: 5 5: give finite ends, the high one above the low"),
        (["--range", "0", "inf"], "--range: 0 inf: give finite ends"),
        (["--base-window", "40", "0"], "--base-window: 40 0: give a finite centre and a width"),
        (["--base-window", "nan", "5"], "--base-window: nan 5: give a finite centre"),
        (["--reference", "/nonexistent"], "/nonexistent: not a folder"),
    ],
)
def test_overlay_refusals_are_one_line(inputs, args, expected):
    d: Path = inputs["dir"]
    done = cli("overlay", str(d / "ct.nii.gz"), str(d / "pet.nii.gz"), str(d / "fused"), *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert not (d / "fused").exists()


def test_overlay_refuses_a_4d_image(inputs):
    d = inputs["dir"]
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4, 2), np.float32), IMAGE_AFFINE), d / "dyn.nii")
    done = cli("overlay", str(d / "ct.nii.gz"), str(d / "dyn.nii"), str(d / "fused"))
    assert done.returncode == 2 and "has 2 frames; give a 3D image" in done.stderr
