"""Lossless transfer syntaxes: pydicom decodes the pixels bit-identical to the uncompressed
export; DCMTK reads (and decodes) every file; dciodvfy and dcm2niix judge the series (after
DCMTK's decoding where this dcm2niix build cannot read the syntax itself)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.uid import UID

from nipype_vinci.encode import TRANSFER_SYNTAXES

from .conftest import CLI, cli, need_tool, python
from .export_checks import check_series, dciodvfy_errors

RNG = np.random.default_rng(23)
# what DCMTK decodes each syntax with (None: dcm2niix and dciodvfy read it as it is)
DECODERS = {
    "deflated": ["dcmconv", "+te"],
    "rle": None,
    "jpeg-ls": ["dcmdjpls"],
    "j2k": None,
}
CASES = {
    "ct": ("ge-lightspeed16-ct", lambda: RNG.integers(-1024, 3071, (40, 36, 5)).astype(np.int16)),
    "pet": (
        "ge-discovery-st-pet",
        lambda: (RNG.gamma(2.0, 900.0, (40, 36, 5)) - 300).astype(np.float32),
    ),
    "mr": ("siemens-avanto-mr", lambda: (RNG.random((33, 41, 4)) * 1234.5).astype(np.float32)),
}


def _save(source: Path, out: Path, template: str, *args: str) -> None:
    result = cli(
        "save", str(source), str(out), "--template", template, "--uid-seed", "z", *args
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _decoded_copy(folder: Path, tool: list[str], target: Path) -> Path:
    target.mkdir()
    for path in sorted(folder.glob("*.dcm")):
        subprocess.run(
            [need_tool(tool[0]), *tool[1:], str(path), str(target / path.name)], check=True
        )
    return target


@pytest.mark.parametrize("syntax", list(DECODERS))
@pytest.mark.parametrize("case", list(CASES))
def test_lossless_syntax(case: str, syntax: str, tmp_path: Path) -> None:
    template, make = CASES[case]
    data = make()
    affine = np.diag([0.9, 1.1, 2.5, 1.0])
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "in.nii")
    _save(tmp_path / "in.nii", tmp_path / "plain", template)
    _save(tmp_path / "in.nii", tmp_path / "packed", template, "--transfer-syntax", syntax)
    plain = sorted((tmp_path / "plain").glob("*.dcm"))
    packed = sorted((tmp_path / "packed").glob("*.dcm"))
    assert [p.name for p in plain] == [p.name for p in packed]
    for a, b in zip(plain, packed):
        mine = pydicom.dcmread(b)
        assert mine.file_meta.TransferSyntaxUID == UID(TRANSFER_SYNTAXES[syntax])
        assert np.array_equal(pydicom.dcmread(a).pixel_array, mine.pixel_array), b.name
        dump = subprocess.run([need_tool("dcmdump"), str(b)], capture_output=True, check=True)
        assert b"E:" not in dump.stderr and b"Error" not in dump.stderr
    series = tmp_path / "packed"
    if DECODERS[syntax]:
        series = _decoded_copy(series, DECODERS[syntax], tmp_path / "decoded")
    elif syntax == "rle":
        _decoded_copy(tmp_path / "packed", ["dcmdrle"], tmp_path / "by-dcmdrle")
    check_series(series, data, affine, tmp_path / "n")


def test_lossless_compression_saves_space_on_a_smooth_ct(tmp_path: Path) -> None:
    x, y, z = np.meshgrid(np.arange(96), np.arange(80), np.arange(4), indexing="ij")
    data = (1000 * np.sin(x / 9.0) * np.cos(y / 7.0) + 20 * z).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "in.nii")
    sizes = {}
    for syntax in TRANSFER_SYNTAXES:
        out = tmp_path / syntax
        _save(tmp_path / "in.nii", out, "ge-lightspeed16-ct", "--transfer-syntax", syntax)
        sizes[syntax] = sum(p.stat().st_size for p in out.glob("*.dcm"))
    for syntax in ("deflated", "jpeg-ls", "j2k"):
        assert sizes[syntax] < 0.8 * sizes["explicit"], sizes


def test_a_missing_plugin_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.ones((4, 4, 2), np.int16), np.eye(4)), tmp_path / "in.nii")
    code = (
        "import sys; sys.modules['jpeg_ls'] = sys.modules['pyjpegls'] = None; "
        "from nipype_vinci.cli import main; "
        f"sys.exit(main(['save', {str(tmp_path / 'in.nii')!r}, {str(tmp_path / 'out')!r}, "
        "'--template', 'ge-lightspeed16-ct', '--transfer-syntax', 'jpeg-ls']))"
    )
    result = subprocess.run([*python("-c"), code], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "--transfer-syntax" in result.stderr and "nipype_vinci[compression]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_jpeg_2000_of_an_image_under_32_pixels_is_one_line(tmp_path: Path) -> None:
    """The JPEG 2000 plugin always makes 6 wavelet levels: fewer than 32 rows or columns
    cannot be encoded (a traceback before); the other syntaxes take such an image."""
    pytest.importorskip("openjpeg")
    source = tmp_path / "small.nii"
    nib.save(nib.Nifti1Image(RNG.integers(0, 900, (20, 48, 3)).astype(np.int16), np.eye(4)), source)
    args = [str(source), str(tmp_path / "out"), "--template", "ge-lightspeed16-ct"]
    result = cli("save", *args, "--transfer-syntax", "j2k")
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    (line,) = result.stderr.splitlines()
    assert "--transfer-syntax: JPEG 2000" in line and "48x20" in line and "jpeg-ls" in line
    assert cli("save", *args, "--transfer-syntax", "rle").returncode == 0


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_to_the_whole_group_stops_the_workers_and_cleans_up(name, tmp_path) -> None:
    """Ctrl-C reaches every process of the terminal's group, compression workers too."""
    data = RNG.integers(-1024, 3071, (256, 256, 64)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "in.nii")
    argv = [*CLI, "save", str(tmp_path / "in.nii")]
    argv += [str(tmp_path / "out"), "--template", "ge-lightspeed16-ct", "--transfer-syntax", "j2k"]
    run = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".out.*.partial/*.dcm")) and time.monotonic() < deadline:
        time.sleep(0.02)  # until files are being written
    os.killpg(run.pid, getattr(signal, name))
    stderr = run.communicate(timeout=60)[1]
    assert run.returncode == 128 + getattr(signal, name), stderr
    assert len(stderr.strip().splitlines()) == 1 and "interrupted" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nii"]
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)  # no worker is left


KIND_SYNTAXES = {
    "seg": ["implicit", "deflated", "j2k"],  # highdicom packs BINARY bits: no RLE or JPEG-LS
    "overlay": ["implicit", "deflated", "rle", "jpeg-ls", "j2k"],
}


@pytest.fixture(scope="module")
def kind_inputs(tmp_path_factory) -> Path:
    """A 40x36x4 CT exported by save (the reference), and a label map on its grid."""
    folder = tmp_path_factory.mktemp("kinds")
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    ct = RNG.integers(0, 900, (40, 36, 4)).astype(np.int16)
    nib.save(nib.Nifti1Image(ct, affine), folder / "ct.nii")
    labels = np.zeros(ct.shape, np.uint8)
    labels[4:20, 4:20, 1:3], labels[22:30, 10:30, 2] = 1, 2
    nib.save(nib.Nifti1Image(labels, affine), folder / "labels.nii")
    (folder / "dseg.tsv").write_text("index\tname\n1\tlesion\n2\tliver\n")
    _save(folder / "ct.nii", folder / "ct", "ge-lightspeed16-ct")
    return folder


def _kind(kind: str, folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    if kind == "seg":
        args = [folder / "labels.nii", out, "--reference", folder / "ct", "--labels"]
        args.append(folder / "dseg.tsv")
    else:
        args = [folder / "ct.nii", folder / "ct.nii", out, "--range", "100", "800"]
    return cli(kind, *map(str, args), "--uid-seed", "k", *extra)


@pytest.mark.parametrize(
    "kind, syntax", [(kind, syntax) for kind, names in KIND_SYNTAXES.items() for syntax in names]
)
def test_seg_and_overlay_in_other_transfer_syntaxes(kind, syntax, kind_inputs, tmp_path) -> None:
    """Each kind's files decode (pydicom) to the same pixels as its Explicit VR export, in
    the syntax asked for; dciodvfy (after DCMTK inflates a deflated file) is clean."""
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    assert _kind(kind, kind_inputs, plain).returncode == 0
    result = _kind(kind, kind_inputs, packed, "--transfer-syntax", syntax)
    assert result.returncode == 0, result.stderr
    expected = pydicom.uid.UID(TRANSFER_SYNTAXES[syntax])
    plain_files, packed_files = sorted(plain.glob("*.dcm")), sorted(packed.glob("*.dcm"))
    assert len(plain_files) == len(packed_files)
    for before, after in zip(plain_files, packed_files):
        written = pydicom.dcmread(after)
        assert written.file_meta.TransferSyntaxUID == expected
        assert np.array_equal(written.pixel_array, pydicom.dcmread(before).pixel_array)
    judged = packed_files
    if syntax == "deflated":  # dciodvfy reads no Deflated data set
        inflated = _decoded_copy(packed, DECODERS["deflated"], tmp_path / "inflated")
        judged = sorted(inflated.iterdir())
    assert dciodvfy_errors(judged) == []


@pytest.mark.parametrize("syntax", ["rle", "jpeg-ls"])
def test_a_seg_in_a_syntax_it_cannot_take_is_one_line(syntax, kind_inputs, tmp_path) -> None:
    result = _kind("seg", kind_inputs, tmp_path / "out", "--transfer-syntax", syntax)
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    (line,) = result.stderr.splitlines()
    assert line.startswith("nipype-vinci: error: --transfer-syntax: ") and "deflated" in line
