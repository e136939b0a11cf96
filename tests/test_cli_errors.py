"""Bad input through the CLI: one clear line, non-zero exit, no traceback, nothing left."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.cli import main as cli_main
from nipype_vinci.export import output

from .conftest import cli, python


def image(path: Path, data: np.ndarray, affine: np.ndarray | None = None) -> str:
    nib.save(
        nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0]) if affine is None else affine), path
    )
    return str(path)


def assert_clean_failure(result: subprocess.CompletedProcess, message: str, folder: Path):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nipype-vinci: error: ")
    assert message in lines[0]
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith((".out", "out"))]
    assert leftovers == []


def _bad_template(tmp: Path) -> str:
    path = tmp / "bad.dump"
    path.write_text("(0028,0010) US ROWZ\n(7fe0,0010) OW =MEMORYBASED\n")
    return str(path)


def _shear() -> np.ndarray:
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[0, 1] = 0.5
    return affine


def _save(
    tmp: Path,
    data: np.ndarray,
    *extra: str,
    template: str = "ge-lightspeed16-ct",
    affine: np.ndarray | None = None,
) -> list[str]:
    return ["save", image(tmp / "a.nii", data, affine), "out", "--template", template, *extra]


INT3D = np.zeros((4, 5, 3), np.int16)
CASES = {
    "missing input": (
        lambda t: ["save", str(t / "nope.nii"), "out", "--template", "ge-lightspeed16-ct"],
        "no such file",
    ),
    "unreadable": (
        lambda t: [
            "save",
            str(_write(t / "x.nii", b"garbage" * 20)),
            "out",
            "--template",
            "ge-lightspeed16-ct",
        ],
        "nibabel cannot read it",
    ),
    "2D": (lambda t: _save(t, np.zeros((4, 5), np.int16)), "only 3D and 4D images"),
    "5D": (lambda t: _save(t, np.zeros((4, 5, 2, 2, 2), np.int16)), "only 3D and 4D images"),
    "NaN": (
        lambda t: _save(t, np.full((4, 5, 3), np.nan, np.float32), template="siemens-avanto-mr"),
        "--nan-value",
    ),
    "shear": (lambda t: _save(t, INT3D, affine=_shear()), "shear"),
    "unknown template": (
        lambda t: _save(t, INT3D, template="philips-foo"),
        "known templates: ge-discovery-st-pet",
    ),
    "template with errors": (
        lambda t: _save(t, INT3D, template=_bad_template(t)),
        "did you mean ROWS?",
    ),
    "bad metadata": (
        lambda t: _save(t, INT3D, "--study-date", "2024-01-02"),
        "--study-date: '2024-01-02'",
    ),
    "bad sex": (lambda t: _save(t, INT3D, "--patient-sex", "X"), "--patient-sex"),
    "dose without units": (
        lambda t: _save(
            t,
            np.ones((4, 5, 3), np.float32),
            "--injected-dose",
            "370",
            template="ge-discovery-st-pet",
        ),
        "--injected-dose",
    ),
    "4D without frame times": (
        lambda t: _save(t, np.ones((4, 5, 3, 2), np.float32), template="ge-discovery-st-pet"),
        "--frame-durations",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_cleanly(case: str, tmp_path: Path) -> None:
    args, message = CASES[case]
    assert_clean_failure(cli(*args(tmp_path), cwd=tmp_path), message, tmp_path)


def test_unwritable_parent_folder(tmp_path: Path) -> None:
    source = image(tmp_path / "a.nii", np.ones((4, 5, 3), np.int16))
    result = cli("save", source, "/proc/out", "--template", "ge-lightspeed16-ct", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "/proc" in result.stderr


def test_disk_full_mid_series_leaves_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    source = image(tmp_path / "a.nii", np.ones((4, 5, 9), np.int16))
    real_writev, calls = os.writev, []

    def filling_writev(fd, pieces):
        calls.append(fd)
        if len(calls) > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_writev(fd, pieces)

    monkeypatch.setattr(output.os, "writev", filling_writev)
    status = cli_main(["save", source, str(tmp_path / "out"), "--template", "ge-lightspeed16-ct"])
    assert status == 2
    assert "the disk is full" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nii"]


def test_save_path_imports_neither_nipype_nor_requests(tmp_path: Path) -> None:
    source = image(tmp_path / "a.nii", np.ones((4, 5, 3), np.int16))
    code = (
        "import os, sys; from nipype_vinci.cli import run; "
        f"sys.argv = ['nipype-vinci', 'save', {source!r}, {str(tmp_path / 'out')!r}, "
        "'--template', 'ge-lightspeed16-ct']; "
        "os._exit = lambda status: print("
        "status, 'nipype' in sys.modules, sys.modules.get('requests') is not None); run()"
    )
    result = subprocess.run([*python("-c"), code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "0 False False", result.stderr
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 3
