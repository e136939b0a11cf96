"""Benchmark a cohort export: `nipype-vinci bids --nprocs 2` against the same images through
direct `nipype-vinci save` processes run two at a time, interleaved, in one run.

    python benchmarks/bench_cohort.py [--sizes 1 10 40] [--runs 1] [--work DIR]

For each size N, a synthetic BIDS dataset of N subjects with one small static PET image each
(valid PET sidecar); then, in turn for each run and size: the N direct saves (a pool of two
processes), `bids` with a fresh work folder, and `bids` again with the same `-w` and nothing
changed. Prints median wall times, the ratio bids / direct, the rerun against its goal
(3 s + 0.05 s per image, issue 15) and the lines each `bids` run printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

SHAPE = (48, 48, 20)
TEMPLATE = "ge-discovery-st-pet"
NPROCS = 2
SIDECAR = {
    "Manufacturer": "GE",
    "ManufacturersModelName": "Discovery ST",
    "TracerName": "FDG",
    "TracerRadionuclide": "F18",
    "InjectedRadioactivity": 250,
    "InjectedRadioactivityUnits": "MBq",
    "Units": "Bq/mL",
    "TimeZero": "10:00:00",
    "InjectionStart": 0,
    "FrameTimesStart": [0],
    "FrameDuration": [600],
    "ImageDecayCorrected": True,
    "ImageDecayCorrectionTime": 0,
}
CLI = [sys.executable, "-I", "-m", "nipype_vinci.cli"]  # the installed package


def make_dataset(root: Path, size: int) -> list[Path]:
    """N subjects, one PET image each; the image paths."""
    root.mkdir(parents=True)
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": f"bench-{size}", "BIDSVersion": "1.9.0"})
    )
    rng = np.random.default_rng(size)
    affine = np.diag([2.0, 2.0, 2.5, 1.0])
    images = []
    for subject in range(1, size + 1):
        folder = root / f"sub-{subject:03d}" / "pet"
        folder.mkdir(parents=True)
        image = folder / f"sub-{subject:03d}_pet.nii.gz"
        data = (rng.random(SHAPE) * 5000).astype(np.float32)
        nib.save(nib.Nifti1Image(data, affine), image)
        (folder / f"sub-{subject:03d}_pet.json").write_text(json.dumps(SIDECAR))
        images.append(image)
    return images


def direct_saves(images: list[Path], out: Path) -> float:
    """Wall time of one `save` process per image, NPROCS at a time."""
    out.mkdir(parents=True)
    queue = [
        [*CLI, "save", str(image), str(out / image.name.split(".")[0]), "--template", TEMPLATE]
        for image in images
    ]
    running: list[subprocess.Popen] = []
    started = time.perf_counter()
    while queue or running:
        while queue and len(running) < NPROCS:
            running.append(subprocess.Popen(queue.pop(0), stdout=subprocess.DEVNULL))
        running[0].wait()
        for process in [p for p in running if p.poll() is not None]:
            if process.returncode:
                raise SystemExit(f"save failed: {process.args}")
            running.remove(process)
    return time.perf_counter() - started


def bids(dataset: Path, out: Path, work: Path) -> tuple[float, int]:
    """Wall time of one `bids` run and the number of lines it printed."""
    argv = [*CLI, "bids", str(dataset), str(out), "participant", "--nprocs", str(NPROCS)]
    started = time.perf_counter()
    result = subprocess.run([*argv, "-w", str(work)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"bids failed: {result.stderr[-2000:]}")
    return seconds, len((result.stdout + result.stderr).splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 40])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--work", type=Path, help="folder for datasets and outputs (kept)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-cohort-"))
    datasets = {n: work / f"ds-{n}" for n in args.sizes}
    images = {n: make_dataset(path, n) for n, path in datasets.items()}
    times: dict[tuple[int, str], list[float]] = {}
    lines: dict[int, list[int]] = {}
    for run in range(args.runs):
        for n in args.sizes:
            where = work / f"run{run}-n{n}"
            times.setdefault((n, "direct"), []).append(direct_saves(images[n], where / "save"))
            fresh, printed = bids(datasets[n], where / "bids", where / "work")
            rerun, _ = bids(datasets[n], where / "bids", where / "work")
            times.setdefault((n, "bids"), []).append(fresh)
            times.setdefault((n, "rerun"), []).append(rerun)
            lines.setdefault(n, []).append(printed)
            print(
                f"run {run + 1} N={n}: direct {times[n, 'direct'][-1]:.1f} s, "
                f"bids {fresh:.1f} s, rerun {rerun:.1f} s",
                flush=True,
            )
    print(f"\n{SHAPE} float32 PET per image, {NPROCS} processes, median of {args.runs} run(s)")
    print("| N | direct save | bids | bids / direct | rerun (-w) | rerun goal | bids lines |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        direct, fresh, rerun = (
            statistics.median(times[n, kind]) for kind in ("direct", "bids", "rerun")
        )
        print(
            f"| {n} | {direct:.1f} s | {fresh:.1f} s | {fresh / direct:.1f}x | {rerun:.1f} s "
            f"| {3 + 0.05 * n:.1f} s | {statistics.median(lines[n]):.0f} |"
        )
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
