"""OUT_DIR: --overwrite replaces only a series this tool wrote; one run at a time on a target;
signals clean up; folders left by killed runs are removed once their owner is gone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nipype_vinci.interfaces import SinkDicom

from .conftest import CLI, cli

CT = ("--template", "ge-lightspeed16-ct")
MARKER = ".nipype-vinci.json"  # the record of a folder being written, inside it (README)
RECORD = ".out.nipype-vinci.json"  # the record of the finished series "out", beside it
SERIES = ["IM_00001.dcm", "IM_00002.dcm", "IM_00003.dcm"]


def image(path: Path, shape: tuple[int, ...] = (4, 5, 3)) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (np.arange(np.prod(shape)) % 1000).reshape(shape).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0])), path)
    return str(path)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` (hidden ones too) with its size and modification time."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def one_line_failure(result: subprocess.CompletedProcess, status: int, words: str) -> None:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert words in lines[0], lines[0]


def series_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- what --overwrite replaces ----------------------------------------------------------


def _input_folder(tmp: Path) -> list[str]:
    (tmp / "proj/data/notes.txt").parent.mkdir(parents=True)
    (tmp / "proj/data/notes.txt").write_text("mine")
    return ["save", image(tmp / "proj/data/in.nii.gz"), "proj/data", *CT]


def _above_input(tmp: Path) -> list[str]:
    return ["save", image(tmp / "proj/data/in.nii.gz"), "proj", *CT]


def _foreign_folder(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out/keep.txt").write_text("mine")
    return ["save", image(tmp / "in.nii"), "out", *CT]


def _series_and_more(tmp: Path) -> list[str]:
    assert cli("save", image(tmp / "in.nii"), "out", *CT, cwd=tmp).returncode == 0
    (tmp / "out/notes.txt").write_text("added by hand")
    return ["save", str(tmp / "in.nii"), "out", *CT]


def _a_file(tmp: Path) -> list[str]:
    (tmp / "out").write_text("not a folder")
    return ["save", image(tmp / "in.nii"), "out", *CT]


def _dangling_link(tmp: Path) -> list[str]:
    (tmp / "out").symlink_to(tmp / "nowhere")
    return ["save", image(tmp / "in.nii"), "out", *CT]


REFUSED = {
    "the input's folder": (_input_folder, "holds the input"),
    "a folder above the input": (_above_input, "holds the input"),
    "the working directory": (lambda t: ["save", image(t / "in.nii"), ".", *CT], "working dir"),
    "the working directory by name": (
        lambda t: ["save", image(t / "in.nii"), str(t), *CT],
        "working directory",
    ),
    "a folder above the working directory": (
        lambda t: ["save", image(t / "in.nii"), "..", *CT],
        "working directory",
    ),
    "a folder holding other files": (_foreign_folder, "was not written by nipype-vinci"),
    "a series with a file added": (_series_and_more, "did not write (notes.txt)"),
    "a file": (_a_file, "is not a folder"),
    "a dangling link": (_dangling_link, "which does not exist"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_overwrite_refuses_anything_but_a_series_it_wrote(case: str, tmp_path: Path) -> None:
    make, words = REFUSED[case]
    args = make(tmp_path)
    before = tree(tmp_path)
    one_line_failure(cli(*args, "--overwrite", cwd=tmp_path), 2, words)
    assert tree(tmp_path) == before  # nothing deleted, nothing left behind


def test_overwrite_replaces_a_series_it_wrote(tmp_path: Path) -> None:
    source = image(tmp_path / "in.nii")
    assert cli("save", source, "out", *CT, "--uid-seed", "a", cwd=tmp_path).returncode == 0
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["state"] == "complete" and record["entries"] == SERIES
    result = cli("save", source, "out", *CT, cwd=tmp_path)
    one_line_failure(result, 2, "holds a series written earlier; pass --overwrite")
    first = (tmp_path / "out/IM_00001.dcm").read_bytes()
    result = cli("save", source, "out", *CT, "--uid-seed", "b", "--overwrite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert series_files(tmp_path / "out") == SERIES  # the series and nothing else
    assert (tmp_path / "out/IM_00001.dcm").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == [RECORD, "in.nii", "out"]


def test_overwrite_through_a_symbolic_link_keeps_the_link(tmp_path: Path) -> None:
    source = image(tmp_path / "in.nii")
    (tmp_path / "real").mkdir()  # an empty folder holds nothing to lose: no --overwrite
    (tmp_path / "link").symlink_to("real")
    for overwrite in ([], ["--overwrite"]):  # then replace the series the first run wrote
        result = cli("save", source, "link", *CT, *overwrite, cwd=tmp_path)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert (tmp_path / "link").is_symlink() and series_files(tmp_path / "real") == SERIES
    names = [".real.nipype-vinci.json", "in.nii", "link", "real"]  # beside the real folder
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_sink_overwrites_only_its_own_series(tmp_path: Path) -> None:
    source = image(tmp_path / "in.nii")
    assert cli("save", source, "series", *CT, cwd=tmp_path).returncode == 0
    (tmp_path / "base/ct").mkdir(parents=True)
    (tmp_path / "base/ct/keep.txt").write_text("mine")
    sink = SinkDicom(
        dicom_dir=str(tmp_path / "series"),
        base_directory=str(tmp_path / "base"),
        out_name="ct",
        overwrite=True,
    )
    with pytest.raises(ValueError, match="SinkDicom: .*was not written by nipype-vinci"):
        sink.run(cwd=str(tmp_path))
    assert series_files(tmp_path / "base/ct") == ["keep.txt"]
    (tmp_path / "base/ct/keep.txt").unlink()
    sink.run(cwd=str(tmp_path))
    assert series_files(tmp_path / "base/ct") == SERIES
    sink.run(cwd=str(tmp_path))  # a rerun finds its own copy
    (tmp_path / "base/ct/notes.txt").write_text("added")
    with pytest.raises(ValueError, match="did not write"):
        sink.run(cwd=str(tmp_path))


def test_dcm2niix_ignores_the_record_file(tmp_path: Path) -> None:
    from .conftest import need_tool

    dcm2niix = need_tool("dcm2niix")
    assert cli("save", image(tmp_path / "in.nii"), "out", *CT, cwd=tmp_path).returncode == 0
    (tmp_path / "n").mkdir()
    result = subprocess.run(
        [dcm2niix, "-o", str(tmp_path / "n"), "-f", "x", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "Found 3 DICOM file(s)" in result.stdout, result.stdout
    assert "rror" not in result.stdout + result.stderr
    assert nib.load(tmp_path / "n/x.nii").shape == (4, 5, 3)


# --- one run at a time, signals, folders left by killed runs ------------------------------

BIG = (64, 64, 400)


@pytest.fixture(scope="module")
def big_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    return image(tmp_path_factory.mktemp("big") / "big.nii", BIG)


def start(tmp: Path, source: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "save", source, "out", *CT, *extra],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stopped_while_writing(tmp: Path, source: str, *extra: str) -> subprocess.Popen:
    """A run stopped (SIGSTOP) as soon as its temporary folder exists: caught mid-write."""
    run = start(tmp, source, *extra)
    deadline = time.monotonic() + 60
    while not list(tmp.glob(".out.*.partial")):
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.001)
    run.send_signal(signal.SIGSTOP)
    return run


def finish(run: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = run.communicate(timeout=120)
    return subprocess.CompletedProcess(run.args, run.returncode, out, err)


@pytest.mark.parametrize("overwrite", [False, True])
def test_of_two_runs_on_one_target_exactly_one_writes(
    overwrite: bool, big_image: str, tmp_path: Path
) -> None:
    extra = ("--overwrite",) if overwrite else ()
    if overwrite:  # both would replace the same earlier series
        assert cli("save", image(tmp_path / "small.nii"), "out", *CT, cwd=tmp_path).returncode == 0
    first = stopped_while_writing(tmp_path, big_image, "--json", *extra)
    try:
        second = cli("save", big_image, "out", *CT, *extra, cwd=tmp_path)
    finally:
        first.send_signal(signal.SIGCONT)
    one_line_failure(second, 2, "another nipype-vinci run (PID")
    winner = finish(first)
    assert winner.returncode == 0, winner.stderr
    written = json.loads(winner.stdout)["files"]
    assert series_files(tmp_path / "out") == written and len(written) == BIG[2]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [RECORD, "out"] + (["small.nii"] * overwrite)


def test_two_runs_started_together(big_image: str, tmp_path: Path) -> None:
    runs = [start(tmp_path, big_image) for _ in range(2)]
    results = sorted((finish(r) for r in runs), key=lambda r: r.returncode)
    assert [r.returncode for r in results] == [0, 2], [r.stderr for r in results]
    assert len(results[1].stderr.strip().splitlines()) == 1
    assert "another nipype-vinci run" in results[1].stderr or "earlier" in results[1].stderr
    assert len(series_files(tmp_path / "out")) == BIG[2]


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_mid_write_cleans_up(name: str, big_image: str, tmp_path: Path) -> None:
    run = stopped_while_writing(tmp_path, big_image)
    number = getattr(signal, name)
    run.send_signal(number)
    run.send_signal(signal.SIGCONT)
    result = finish(run)
    one_line_failure(result, 128 + number, f"interrupted by {name}; no partial output")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_at_start_gives_no_traceback(tmp_path: Path) -> None:
    source = image(tmp_path / "in.nii")
    caught = 0
    for delay in np.arange(0.05, 0.26, 0.025):  # the imports: most of a small run
        run = start(tmp_path, source)
        time.sleep(delay)
        run.send_signal(signal.SIGINT)
        result = finish(run)
        if result.returncode == 0:
            break  # finished before the signal
        before_python = result.returncode == -signal.SIGINT and not result.stderr
        if before_python or "init_import_site" in result.stderr:
            continue  # the interpreter's own start, before any of our code could run
        one_line_failure(result, 130, "interrupted by SIGINT")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nii"]
        caught += 1
    assert caught >= 1


def _left_by(tmp: Path, owner: dict, token: str) -> Path:
    """A temporary folder of target ``out`` as a run of ``owner`` leaves it."""
    folder = tmp / f".out.{token}.partial"
    folder.mkdir()
    (folder / "IM_00001.dcm").write_bytes(b"half")
    record = {"tool": "nipype_vinci", "state": "writing", "target": "out", "owner": owner}
    (folder / MARKER).write_text(json.dumps(record))
    return folder


def test_a_killed_runs_folder_is_removed_by_the_next_run(big_image: str, tmp_path: Path) -> None:
    run = stopped_while_writing(tmp_path, big_image)
    run.send_signal(signal.SIGKILL)
    finish(run)
    left = list(tmp_path.glob(".out.*"))
    assert any(p.name.endswith(".partial") for p in left)
    result = cli("save", image(tmp_path / "in.nii"), "out", *CT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [RECORD, "in.nii", "out"]


def test_a_live_or_foreign_runs_folder_is_never_touched(tmp_path: Path) -> None:
    from nipype_vinci.export.owner import this_process

    alive = subprocess.Popen(["sleep", "60"])
    try:
        me = this_process()
        live = {**me, "pid": alive.pid, "start": _start_of(alive.pid)}
        kept = [
            _left_by(tmp_path, live, "0000000a"),
            _left_by(tmp_path, {**me, "host": "another-host", "pid": 2**22 + 1}, "0000000b"),
        ]
        gone = [
            _left_by(tmp_path, {**live, "start": "1"}, "0000000c"),
            _left_by(tmp_path, {**me, "pid": _dead_pid()}, "0000000d"),
        ]
        result = cli("save", image(tmp_path / "in.nii"), "out", *CT, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert all(p.is_dir() for p in kept) and not any(p.exists() for p in gone)
    finally:
        alive.kill()
        alive.wait()


def _start_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def _dead_pid() -> int:
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


@pytest.mark.parametrize("renameat2", [True, False])
def test_commit_with_and_without_renameat2(renameat2: bool, tmp_path: Path, monkeypatch) -> None:
    from nipype_vinci.export import rename
    from nipype_vinci.export.output import atomic_folder

    if not renameat2:  # a system without it (not Linux, old C library, some file systems)
        monkeypatch.setattr(rename, "_RENAMEAT2", None)
    elif rename._RENAMEAT2 is None:
        pytest.skip("this system has no renameat2")
    for content in (b"first", b"second"):
        with atomic_folder(tmp_path / "out", overwrite=True) as work:
            (work / "IM_00001.dcm").write_bytes(content)
    assert (tmp_path / "out/IM_00001.dcm").read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == [RECORD, "out"]
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError):
        rename.rename_to_free_name(tmp_path / "out", tmp_path / "taken")
