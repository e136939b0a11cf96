"""Benchmark `nipype-vinci save` against the plain-numpy floor and peers, interleaved, one run.

    python benchmarks/bench_save.py [--cases pet ct dynamic ct1200] [--runs 3] [--work DIR]
                                    [--with-dump2dcm]

Makes the inputs (uncompressed NIfTI), then for each case runs, in turn and in fresh output
folders: `nipype-vinci save`, the plain-numpy floor (benchmarks/floor_write.py: read slice by
slice, write the same bytes, one file a slice) and, when installed, SimpleITK's per-slice
writer, nifti2dicom and (with --with-dump2dcm) DCMTK's dump2dcm, one process a slice. Each
run is a whole process; wall time and peak RSS come from the operating system (GNU time).
Prints the console script's import time, then median wall time, files/s, MB/s, peak RSS and
the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
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

HERE = Path(__file__).resolve().parent
CASES = {
    "pet": ((200, 200, 109), np.float32, "ge-discovery-st-pet"),
    "ct": ((512, 512, 300), np.int16, "ge-lightspeed16-ct"),
    "dynamic": ((128, 128, 63, 20), np.float32, "ge-discovery-st-pet"),
    "ct1200": ((512, 512, 1200), np.int16, "ge-lightspeed16-ct"),
}


def make_input(case: str, work: Path) -> Path:
    """The case's input, made in a child process (a child's peak RSS counts its parent's)."""
    path = work / f"{case}.nii"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--make", case, str(path)], check=True)
    return path


def write_input(case: str, path: Path) -> None:
    shape, dtype, _ = CASES[case]
    rng = np.random.default_rng(1)
    data = np.empty(shape, dtype=dtype)
    for k in range(shape[2]):  # slice by slice, to keep the generator's memory small
        plane = rng.normal(500, 300, shape[:2] + shape[3:])
        data[:, :, k] = (
            plane.astype(dtype) if dtype != np.int16 else np.clip(plane, -1024, 3071).astype(dtype)
        )
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 1.25, 1.0])), path)


def commands(case: str, source: Path, with_dump2dcm: bool) -> dict[str, list[str]]:
    shape, _, template = CASES[case]
    frames = shape[3] if len(shape) == 4 else 1
    save = [
        sys.executable,
        "-I",  # the installed package, never the checkout in the working directory
        "-m",
        "nipype_vinci.cli",
        "save",
        str(source),
        "{out}",
        "--template",
        template,
    ]
    if frames > 1:
        times = ",".join(str(60 * t) for t in range(frames))
        save += ["--frame-times", times, "--frame-durations", ",".join(["60"] * frames)]
    found = {
        "save": save,
        "floor": [sys.executable, str(HERE / "floor_write.py"), str(source), "{out}"],
    }
    if frames == 1 and importlib.util.find_spec("SimpleITK"):
        found["simpleitk"] = [sys.executable, str(HERE / "sitk_write.py"), str(source), "{out}"]
    if shutil.which("nifti2dicom"):
        found["nifti2dicom"] = ["nifti2dicom", "-i", str(source), "-o", "{out}", "-y"]
    if with_dump2dcm and shutil.which("dump2dcm"):
        found["dump2dcm"] = [sys.executable, str(HERE / "dump2dcm_write.py"), str(source), "{out}"]
    return found


def run_once(argv: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one whole process.

    The peak comes from GNU time (/usr/bin/time): a child forked straight from this Python
    process would report this process's own peak as its floor.
    """
    argv = [a.replace("{out}", str(out)) for a in argv]
    rss_file = out.with_suffix(".rss")
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {result.stderr.decode()[:500]}")
    return wall, int(rss_file.read_text().split()[-1]) / 1024


IMPORTS_PROBE = """import contextlib, sys
from nipype_vinci.cli import run
sys.argv = ["nipype-vinci", "--version"]
with contextlib.suppress(SystemExit):  # --version exits from the argument parser
    run()
print("nipype" in sys.modules, sys.modules.get("requests") is not None)
"""


def import_time() -> tuple[float, bool, bool]:
    """Seconds the `nipype-vinci` console script spends importing before its first command
    (python -X importtime, top-level imports summed), and whether nipype and requests
    came in."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORTS_PROBE],
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            if not name[1:].startswith(" "):  # a top-level import
                total += int(cumulative)
    nipype, requests = result.stdout.split()[-2:]
    return total / 1e6, nipype == "True", requests == "True"


def main() -> None:
    if sys.argv[1:2] == ["--make"]:
        write_input(sys.argv[2], Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="folder for inputs and outputs (kept)")
    parser.add_argument(
        "--with-dump2dcm",
        action="store_true",
        help="also run DCMTK's dump2dcm, one process a slice (slow: minutes a case)",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="nipype-vinci-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    seconds, nipype, requests = import_time()
    print(
        f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}; imports of the save command {seconds:.2f} s "
        f"(nipype imported: {nipype}, requests imported: {requests})"
    )
    print("| case | tool | median wall s | files/s | MB/s | peak RSS MB | vs floor | save vs |")
    print("|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        source = make_input(case, work)
        shape = CASES[case][0]
        files = int(np.prod(shape[2:]))
        megabytes = int(np.prod(shape)) * 2 / 1e6
        tools = commands(case, source, args.with_dump2dcm)
        walls: dict[str, list[float]] = {t: [] for t in tools}
        rss: dict[str, float] = dict.fromkeys(tools, 0.0)
        for run in range(args.runs):
            for tool, argv in tools.items():
                out = work / f"out-{case}-{tool}-{run}-{time.time_ns()}"
                wall, peak = run_once(argv, out)
                walls[tool].append(wall)
                rss[tool] = max(rss[tool], peak)
        medians = {t: statistics.median(w) for t, w in walls.items()}
        for tool in tools:
            m = medians[tool]
            versus = f"{medians['save'] / m:.2f}" if tool not in ("save", "floor") else ""
            print(
                f"| {case} {'x'.join(map(str, shape))} | {tool} | {m:.2f} | {files / m:.0f} | "
                f"{megabytes / m:.0f} | {rss[tool]:.0f} | {m / medians['floor']:.2f} | "
                f"{versus} |"
            )
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
