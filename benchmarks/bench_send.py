"""Benchmark `nipype-vinci send` against DCMTK's storescu into a real Orthanc, interleaved.

    python benchmarks/bench_send.py [--runs 5] [--files 300] [--work DIR]

Makes a CT series (512x512 int16, one file a slice, `nipype-vinci save` with the template
ge-lightspeed16-ct), starts an Orthanc in a private network namespace (tests/orthanc.py:
private configuration and storage, TCP_NODELAY=1 in its environment), then runs in turn
`nipype-vinci send SERIES --to ORTHANC@127.0.0.1:4242` (its default: two associations at
once), the same with `--associations 1` (one, as storescu) and `/usr/bin/storescu -aec
ORTHANC 127.0.0.1 4242 SERIES/*.dcm`, each a whole process inside the namespace, with the same
environment, into an emptied Orthanc (each run stores every file anew; the emptying is not
timed). Prints median wall seconds, files/s, MB/s and send / storescu.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.orthanc import AET, DICOM_PORT, Orthanc  # noqa: E402 (the repository's own helper)

STORESCU = "/usr/bin/storescu"  # DCMTK's; the first storescu on PATH may be pynetdicom's
CLI = [sys.executable, "-I", "-m", "nipype_vinci.cli"]  # the installed package, not ROOT's


def make_series(work: Path, files: int) -> Path:
    """A CT volume (noise, int16) exported by `nipype-vinci save`: the series folder."""
    source, series = work / "ct.nii", work / "ct"
    if not series.is_dir():
        rng = np.random.default_rng(1)
        data = np.clip(rng.normal(500, 300, (512, 512, files)), -1024, 3071).astype(np.int16)
        nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 1.25, 1.0])), source)
        command = [*CLI, "save", str(source), str(series)]
        subprocess.run([*command, "--template", "ge-lightspeed16-ct"], check=True)
    return series


def commands(series: Path) -> dict[str, list[str]]:
    files = sorted(str(p) for p in series.glob("*.dcm"))
    send = [*CLI, "send", str(series), "--to", f"{AET}@127.0.0.1:{DICOM_PORT}", "--json"]
    return {
        "send": send,
        "send --associations 1": [*send, "--associations", "1"],
        "storescu": [STORESCU, "-aec", AET, "127.0.0.1", str(DICOM_PORT), *files],
    }


def run_once(work: Path, argv: list[str], files: int) -> tuple[float, float | None]:
    """Wall seconds of one whole process in the namespace of a fresh Orthanc (new storage:
    an Orthanc emptied by deletes grows slower run by run), and for `send` the seconds its
    report gives (inside send_series: the rest is the start of Python and imports); checks
    that every file arrived. Starting and stopping Orthanc is not timed."""
    orthanc = Orthanc(work / f"orthanc-{time.time_ns()}")
    try:
        orthanc.start()
        environment = {**os.environ, "TCP_NODELAY": "1"}  # the same for every tool
        started = time.perf_counter()
        command = orthanc.command(argv)
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"{argv[0]} failed: {result.stderr[:500]}")
        if orthanc.count_instances() != files:
            raise SystemExit(f"{argv[0]}: Orthanc holds {orthanc.count_instances()} of {files}")
    finally:
        orthanc.close()
        shutil.rmtree(orthanc.folder, ignore_errors=True)
    inside = json.loads(result.stdout)["seconds"] if "--json" in argv else None
    return wall, inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--work", type=Path, help="folder for the series and Orthanc (kept)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="nipype-vinci-bench-send-"))
    work.mkdir(parents=True, exist_ok=True)
    series = make_series(work, args.files)
    megabytes = sum(p.stat().st_size for p in series.glob("*.dcm")) / 1e6
    tools = commands(series)
    walls: dict[str, list[float]] = {tool: [] for tool in tools}
    inside: dict[str, list[float]] = {tool: [] for tool in tools}
    order = list(tools)
    for run in range(args.runs):
        for tool in order[run % len(order) :] + order[: run % len(order)]:  # each goes first
            wall, seconds = run_once(work, tools[tool], args.files)
            walls[tool].append(wall)
            inside[tool] += [] if seconds is None else [seconds]
    medians = {tool: statistics.median(w) for tool, w in walls.items()}
    print(
        f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {args.files} files "
        f"({megabytes:.0f} MB), medians of {args.runs} interleaved runs, a fresh Orthanc each"
    )
    print("| tool | median wall s | all runs s | files/s | MB/s | vs storescu |")
    print("|---|---|---|---|---|---|")
    for tool, median in medians.items():
        runs = " ".join(f"{w:.2f}" for w in walls[tool])
        print(
            f"| {tool} | {median:.2f} | {runs} | {args.files / median:.0f} | "
            f"{megabytes / median:.0f} | {median / medians['storescu']:.2f} |"
        )
    for tool, seconds in inside.items():
        if seconds:
            print(f"{tool}: send_series itself (median) {statistics.median(seconds):.2f} s")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
