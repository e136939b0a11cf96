"""Fuzz the command line: random flag values, image files and OUT_DIR kinds.

Every run must end one of two ways: exit 0 with a series that pydicom, dciodvfy and dcm2niix
accept and nothing new outside OUT_DIR, or one line on stderr per mistake (several flags may
each be wrong), a non-zero exit and nothing changed anywhere in the sandbox. Derandomized
and bounded: CI runs the same cases every time, in well under a minute."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .conftest import cli
from .export_checks import dciodvfy_errors, dcm2niix_volume

AFFINE = np.diag([1.5, 1.5, 2.0, 1.0])
TEMPLATES = ["ge-lightspeed16-ct", "siemens-avanto-mr", "ge-discovery-st-pet"]


def _nifti(data: np.ndarray) -> bytes:
    return nib.Nifti1Image(data, AFFINE).to_bytes()


def _float(shape: tuple[int, ...]) -> np.ndarray:
    return (np.random.default_rng(1).random(shape) * 400 - 100).astype(np.float32)


IMAGES = {
    "int16": lambda: _nifti((np.arange(8 * 6 * 4) % 900).reshape(8, 6, 4).astype(np.int16)),
    "float32": lambda: _nifti(_float((8, 6, 4))),
    "uint8": lambda: _nifti(np.full((8, 6, 3), 7, np.uint8)),
    "4D": lambda: _nifti(_float((6, 5, 3, 2))),
    "NaN": lambda: _nifti(np.where(_float((6, 5, 3)) > 200, np.nan, 1).astype(np.float32)),
    "RGB": lambda: _nifti(np.zeros((6, 5, 3), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])),
    "complex": lambda: _nifti(np.ones((6, 5, 3), np.complex64)),
    "2D": lambda: _nifti(np.ones((6, 5), np.int16)),
    "5D": lambda: _nifti(np.ones((4, 3, 2, 2, 2), np.int16)),
    "truncated": lambda: _nifti(_float((40, 40, 20)))[:60_000],
    "truncated gz": lambda: gzip.compress(_nifti(_float((40, 40, 20))))[:40_000],
    "wrong magic": lambda: _nifti(_float((6, 5, 3)))[:344] + b"nope" + bytes(400),
    "garbage": lambda: bytes(range(256)) * 3,
    "empty": lambda: b"",
}
OUT_KINDS = [
    "new",
    "nested new",
    "file",
    "symlink to a folder",
    "dangling link",
    ".",
    "read-only folder",
    "existing series",
    "folder with a file",
]

VALID_IMAGES = ["int16", "float32", "uint8"]
VALID_OUT = ["new", "nested new", "symlink to a folder"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\0"))
# flag -> (values that must be accepted, values that may well be refused)
FLAGS = {
    "--patient-name": (["Doe^Jane", "Müller^Jürgen", "山田^太郎"], ["a^b^c^d^e^f", "x=y=z=w"]),
    "--patient-id": (["P-01", "ＩＤ７"], ["P\\1"]),
    "--study-date": (["20240229", "19991231"], ["20230229", "20241301", "2024-01-02"]),
    "--study-time": (["12:30:00", "093000.5"], ["2400", "12:61"]),
    "--patient-sex": (["M", "f", "O"], ["X"]),
    "--patient-weight": (["70", "3.5"], ["-1", "inf", "nan"]),
    "--series-number": (["7", "0"], ["2147483648", "-3"]),
    "--study-description": (["PET/CT ÄÖÜ", "brain"], ["left\\right"]),
    "--nan-value": (["0", "-1"], ["-1e40", "nan"]),
    "--scaling": (["global", "per-slice", "per-frame"], ["none"]),
    "--uid-seed": (["a", "seed with spaces"], []),
    "--series-index": (["0", "3"], ["-1", "99999999999"]),
}


@st.composite
def cases(draw) -> dict:
    """Half of the cases are valid throughout (they must succeed and pass the tools), the
    others anything at all."""
    valid = draw(st.booleans())
    names = draw(st.lists(st.sampled_from(sorted(FLAGS)), max_size=4, unique=True))
    flags = []
    for name in names:
        good, bad = FLAGS[name]
        value = st.sampled_from(good) if valid else st.one_of(st.sampled_from(good + bad), TEXT)
        flags.append(f"{name}={draw(value)}")
    out = draw(st.sampled_from(VALID_OUT if valid else OUT_KINDS))
    if draw(st.booleans()):
        flags.append("--overwrite")
    image = draw(st.sampled_from(VALID_IMAGES if valid else sorted(IMAGES)))
    return {
        "valid": valid,
        "image": image,
        "suffix": ".nii.gz" if image == "truncated gz" else ".nii",
        "template": draw(st.sampled_from(TEMPLATES)),
        "out": out,
        "flags": flags,
    }


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path in the sandbox: files with size and mtime, folders and links by kind."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            stat = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            size = (stat.st_size, stat.st_mtime_ns) if kind == "file" else ()
            found[str(path.relative_to(root))] = (kind, *size)
    return found


@pytest.fixture(scope="module")
def made_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A series this tool wrote, copied into the sandboxes that need one."""
    home = tmp_path_factory.mktemp("fuzz-series")
    (home / "s.nii").write_bytes(IMAGES["int16"]())
    assert cli("save", "s.nii", "series", "--template", TEMPLATES[0], cwd=home).returncode == 0
    return home / "series"


def _make_out(kind: str, sandbox: Path, series: Path) -> str:
    if kind == "nested new":
        (sandbox / "a").mkdir()
        return "a/out"
    if kind == "file":
        (sandbox / "out").write_text("a file")
    elif kind == "symlink to a folder":
        (sandbox / "real").mkdir()
        (sandbox / "out").symlink_to("real")
    elif kind == "dangling link":
        (sandbox / "out").symlink_to("nowhere")
    elif kind == ".":
        return "."
    elif kind == "read-only folder":
        (sandbox / "out").mkdir(mode=0o555)
    elif kind == "existing series":
        shutil.copytree(series, sandbox / "out")
    elif kind == "folder with a file":
        (sandbox / "out").mkdir()
        (sandbox / "out/notes.txt").write_text("mine")
    return "out"


def _judge_success(sandbox: Path, out: str, before: dict) -> None:
    """A series pydicom, dciodvfy and dcm2niix accept, and nothing new outside it."""
    real = (sandbox / out).resolve()
    inside = str(real.relative_to(sandbox.resolve()))
    new = set(snapshot(sandbox)) - set(before)
    record = str(Path(inside).with_name(f".{Path(inside).name}.nipype-vinci.json"))
    assert all(k in (inside, record) or k.startswith(inside + "/") for k in new), new
    files = sorted(real.glob("*.dcm"))
    datasets = [pydicom.dcmread(f) for f in files]
    assert files and len({d.SeriesInstanceUID for d in datasets}) == 1
    assert len({d.SOPInstanceUID for d in datasets}) == len(files)
    assert dciodvfy_errors(files[:1]) == []
    volume = dcm2niix_volume(real, sandbox.parent / "rebuilt")
    pixels = int(datasets[0].Rows) * int(datasets[0].Columns)
    assert volume.shape[0] * volume.shape[1] == pixels
    assert np.prod(volume.shape) == pixels * len(files)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=cases())
def test_every_run_ends_in_a_valid_series_or_one_line(case: dict, made_series: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as top:
        sandbox = Path(top) / "sandbox"
        sandbox.mkdir()
        (sandbox / f"in{case['suffix']}").write_bytes(IMAGES[case["image"]]())
        out = _make_out(case["out"], sandbox, made_series)
        before = snapshot(sandbox)
        args = ["save", f"in{case['suffix']}", out, "--template", case["template"]]
        result = cli(*args, *case["flags"], cwd=sandbox, timeout=120)
        assert "Traceback" not in result.stderr, result.stderr
        event("written" if result.returncode == 0 else "refused")
        assert result.returncode == 0 or not case["valid"], result.stderr
        if result.returncode == 0:
            _judge_success(sandbox, out, before)
        else:
            lines = result.stderr.strip().splitlines()  # one line per mistake
            assert 1 <= len(lines) <= len(case["flags"]) + 1, result.stderr
            assert all(line.startswith("nipype-vinci: error: ") for line in lines), result.stderr
            assert snapshot(sandbox) == before, "a failed run changed the sandbox"
