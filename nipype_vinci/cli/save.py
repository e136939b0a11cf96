"""The ``save`` and ``demo`` commands (kept free of nipype imports: fast to start)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..export.metadata import CHECKS, FIELD_HELP, metadata_from
from ..export.save import SCALING_MODES, SaveOptions, save_series
from .common import AddCommand, add_template_dirs

DEMO_METADATA = {
    "patient_name": "VINCI^PHANTOM",
    "patient_id": "PHANTOM01",
    "patient_sex": "O",
    "study_description": "nipype-vinci demo",
    "series_description": "PET phantom (synthetic)",
    "radiopharmaceutical": "Fluorodeoxyglucose",
    "injected_dose": "370MBq",
    "injection_time": "090000",
    "half_life": "6586.2",
    "positron_fraction": "0.9673",
    "units": "BQML",
}


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} files")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _options(args: argparse.Namespace, total_hint: bool = True) -> SaveOptions:
    show = total_hint and not args.json and sys.stderr.isatty()
    return SaveOptions(
        scaling=args.scaling,
        nan_value=args.nan_value,
        uid_seed=args.uid_seed,
        series_index=args.series_index,
        overwrite=args.overwrite,
        progress=_progress if show else None,
    )


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    print(
        f"{len(report.files)} files written to {report.output} "
        f"(template {report.template}, slope {report.slope_min:g}..{report.slope_max:g}, "
        f"largest quantization error {report.max_quantization_error:.3g}, "
        f"{report.seconds:.2f} s). Not for diagnostic use."
    )


def cmd_save(args: argparse.Namespace) -> None:
    from ..template.library import load_template

    template = load_template(args.template, args.template_dir)
    metadata = metadata_from({name: getattr(args, name) for name in CHECKS}, args.metadata)
    _print_report(
        save_series(args.input, args.output, template, metadata, _options(args)), args.json
    )


def cmd_demo(args: argparse.Namespace) -> None:
    import nibabel as nib

    from ..demo import phantom_affine, phantom_volume
    from ..export.metadata import build_metadata
    from ..export.output import atomic_folder
    from ..template.library import load_template

    template = load_template(args.template, args.template_dir)
    with atomic_folder(args.output, args.overwrite) as work:
        image_path = work / "phantom_pet.nii.gz"
        nib.save(nib.Nifti1Image(phantom_volume(), phantom_affine()), image_path)
        options = _options(args)
        options.overwrite = False
        report = save_series(
            image_path, work / "dicom", template, build_metadata(DEMO_METADATA), options
        )
    report.output = str(Path(args.output) / "dicom")
    _print_report(report, args.json)


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--scaling",
        choices=SCALING_MODES,
        default="global",
        help="one slope for the series (VINCI's default) or one per slice",
    )
    sub.add_argument(
        "--nan-value",
        type=float,
        metavar="V",
        help="store NaN and infinite voxels as V (default: refuse them)",
    )
    sub.add_argument(
        "--uid-seed",
        metavar="SEED",
        help="derive UIDs from SEED and the inputs (reruns give identical files)",
    )
    sub.add_argument(
        "--series-index",
        type=int,
        default=0,
        metavar="N",
        help="index of this image in a multi-image export (series number N+1)",
    )
    sub.add_argument("--overwrite", action="store_true", help="replace an existing output")
    sub.add_argument("--json", action="store_true", help="print a machine-readable report")


def register(command: AddCommand) -> None:
    """Add ``save`` and ``demo`` to the command line."""
    sub = command("save", cmd_save, "write an image (3D/4D) as a DICOM series")
    sub.add_argument("input", metavar="IN", help="image file nibabel reads")
    sub.add_argument("output", metavar="OUT_DIR", help="series folder to create")
    sub.add_argument("--template", required=True, metavar="NAME|FILE")
    sub.add_argument(
        "--metadata", metavar="FILE.json", help="keyword values, or a BIDS sidecar (flags win)"
    )
    for name in CHECKS:
        sub.add_argument(
            "--" + name.replace("_", "-"), dest=name, metavar="VALUE", help=FIELD_HELP.get(name)
        )
    _common(sub)
    add_template_dirs(sub)

    sub = command("demo", cmd_demo, "export a built-in synthetic PET phantom (no input needed)")
    sub.add_argument("output", metavar="OUT_DIR", help="folder to create: phantom + dicom/")
    sub.add_argument("--template", default="ge-discovery-st-pet", metavar="NAME|FILE")
    _common(sub)
    add_template_dirs(sub)
