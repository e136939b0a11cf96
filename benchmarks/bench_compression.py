"""Benchmark `nipype-vinci save --transfer-syntax` for every lossless syntax, interleaved.

    python benchmarks/bench_compression.py [--slices 300] [--runs 3] [--work DIR]

Makes a CT-like phantom (512 x 512 x slices, int16 HU: air, soft tissue with noise, a bone
ring), then runs `nipype-vinci save` once per syntax per run, in turn, into fresh folders
(whole processes, GNU time for the peak RSS). Prints, per syntax, the median wall time,
the size against the uncompressed (explicit) series, MB/s of image data and the time
against the uncompressed export.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from bench_save import run_once

SYNTAXES = ("explicit", "implicit", "deflated", "rle", "jpeg-ls", "j2k")


def write_phantom(path: Path, slices: int) -> None:
    """A body-like CT: -1000 HU outside an ellipse, 40 +- 12 HU inside, a 700 HU ring."""
    rng = np.random.default_rng(3)
    x, y = np.meshgrid(np.arange(512) - 256, np.arange(512) - 256, indexing="ij")
    radius = (x / 200.0) ** 2 + (y / 150.0) ** 2
    data = np.empty((512, 512, slices), np.int16)
    for k in range(slices):
        plane = np.where(radius < 1, 40 + rng.normal(0, 12, radius.shape), -1000.0)
        plane[(radius > 0.8) & (radius < 0.9)] = 700 + 5 * np.sin(k / 10)
        data[:, :, k] = plane.astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 1.25, 1.0])), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="nipype-vinci-compression-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"phantom{args.slices}.nii"
    if not source.exists():
        write_phantom(source, args.slices)
    megabytes = 512 * 512 * args.slices * 2 / 1e6
    walls: dict[str, list[float]] = {s: [] for s in SYNTAXES}
    sizes: dict[str, int] = {}
    for run in range(args.runs):
        for syntax in SYNTAXES:
            out = work / f"out-{syntax}-{run}-{time.time_ns()}"
            argv = [sys.executable, "-I", "-m", "nipype_vinci.cli", "save", str(source), "{out}"]
            argv += ["--template", "ge-lightspeed16-ct", "--transfer-syntax", syntax]
            wall, _ = run_once(argv, out)
            walls[syntax].append(wall)
            sizes[syntax] = sum(p.stat().st_size for p in out.glob("*.dcm"))
            subprocess.run(["rm", "-rf", str(out)], check=True)
    print(f"# {time.strftime('%Y-%m-%d')}, CT phantom 512x512x{args.slices}, {args.runs} runs")
    print("| syntax | median wall s | size vs explicit | MB/s | time vs explicit |")
    print("|---|---|---|---|---|")
    base = statistics.median(walls["explicit"])
    for syntax in SYNTAXES:
        wall = statistics.median(walls[syntax])
        ratio = sizes[syntax] / sizes["explicit"]
        print(
            f"| {syntax} | {wall:.2f} | {ratio:.2f} | {megabytes / wall:.0f} | {wall / base:.2f} |"
        )


if __name__ == "__main__":
    main()
