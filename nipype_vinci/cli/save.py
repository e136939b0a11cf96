"""The ``save`` and ``demo`` commands (kept free of nipype imports: fast to start)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import VinciError
from ..fields import HEADER_FIELDS, OPTION_FIELDS, clean_options
from .common import (
    PROG,
    AddCommand,
    add_fields,
    add_output_options,
    add_send_options,
    add_template_dirs,
    send_target,
    send_written,
)

DEMO_METADATA = {
    "patient_name": "VINCI^PHANTOM",
    "patient_id": "PHANTOM01",
    "patient_sex": "O",
    "patient_weight": 70.0,
    "patient_size": 1.75,
    "study_description": "nipype-vinci demo",
    "series_description": "PET phantom (synthetic)",
    "radiopharmaceutical": "Fluorodeoxyglucose",
    "injected_dose": "370MBq",
    "injection_time": "090000",
    "acquisition_time": "100000",  # 60 min after the injection
    "frame_durations": [600.0],  # a 10 min static scan
    "half_life": 6586.2,
    "positron_fraction": 0.9673,
    "units": "BQML",
    "decay_correction": "START",
}


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} files")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _options(args: argparse.Namespace):
    from ..export.save import SaveOptions

    show = not args.json and sys.stderr.isatty()
    chosen = clean_options({f.name: getattr(args, f.name) for f in OPTION_FIELDS})
    return SaveOptions(overwrite=args.overwrite, progress=_progress if show else None, **chosen)


def _print_report(report, as_json: bool) -> None:
    if report.not_written:
        names = ", ".join(report.not_written)
        print(f"{PROG}: warning: not written (no place for them): {names}", file=sys.stderr)
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
    from ..export.metadata import metadata_from
    from ..export.save import save_series

    target = send_target(args)
    template = _template(args)
    values = {f.name: getattr(args, f.name) for f in HEADER_FIELDS}
    metadata, not_written = metadata_from(values, args.metadata)
    options = _options(args)
    options.not_written = not_written
    _print_report(save_series(args.input, args.output, template, metadata, options), args.json)
    if target is not None:
        send_written([args.output], target, args.send_verify)


def _template(args: argparse.Namespace):
    """The template named, else (with a reference) the one of the reference's scanner,
    from the library or made from the reference itself."""
    import tempfile

    from ..dicomio import read_series
    from ..template.from_scan import template_for_scan
    from ..template.library import load_template
    from ..template.parser import read_template

    if args.template:
        return load_template(args.template, args.template_dir)
    if not args.reference_dicom:
        raise VinciError("give --template NAME|FILE (or --reference to use its scanner's)")
    reference = Path(args.reference_dicom)
    scan = read_series(reference)[0].filename if reference.is_dir() else reference
    with tempfile.TemporaryDirectory(prefix="nipype-vinci-") as work:
        return read_template(template_for_scan(scan, Path(work) / "reference.dump"))


def cmd_demo(args: argparse.Namespace) -> None:
    import nibabel as nib

    from ..demo import phantom_affine, phantom_volume
    from ..export.metadata import build_metadata
    from ..export.output import atomic_folder
    from ..export.save import save_series
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
    add_fields(sub, OPTION_FIELDS)
    add_output_options(sub)


def register(command: AddCommand) -> None:
    """Add ``save`` and ``demo`` to the command line."""
    sub = command("save", cmd_save, "write an image (3D/4D) as a DICOM series")
    sub.add_argument("input", metavar="IN", help="image file nibabel reads")
    sub.add_argument("output", metavar="OUT_DIR", help="series folder to create")
    sub.add_argument(
        "--template",
        metavar="NAME|FILE",
        help="the template (with --reference: default the one of the reference's scanner)",
    )
    sub.add_argument(
        "--metadata", metavar="FILE.json", help="keyword values, or a BIDS sidecar (flags win)"
    )
    add_fields(sub, HEADER_FIELDS)
    _common(sub)
    add_send_options(sub)
    add_template_dirs(sub)

    sub = command("demo", cmd_demo, "export a built-in synthetic PET phantom (no input needed)")
    sub.add_argument("output", metavar="OUT_DIR", help="folder to create: phantom + dicom/")
    sub.add_argument("--template", default="ge-discovery-st-pet", metavar="NAME|FILE")
    _common(sub)
    add_template_dirs(sub)
