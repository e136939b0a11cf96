"""The other output kinds: ``seg`` (a DICOM Segmentation) and ``overlay`` (RGB fusion)."""

from __future__ import annotations

import argparse
import json
import sys

from ..fields import KIND_FIELDS
from .common import PROG, AddCommand, add_fields, add_output_options


def _print(report, as_json: bool, summary: str) -> None:
    print(json.dumps(report.as_dict(), indent=2) if as_json else summary)
    if not as_json:
        for warning in report.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)


def cmd_seg(args: argparse.Namespace) -> None:
    from ..export.seg import SegOptions, save_seg

    report = save_seg(
        args.labels_image,
        args.output,
        args.reference,
        args.labels,
        SegOptions(
            uid_seed=args.uid_seed,
            series_number=args.series_number,
            series_description=args.series_description,
            transfer_syntax=args.transfer_syntax,
            overwrite=args.overwrite,
        ),
    )
    absent = f"; listed but absent: {len(report.absent_labels)}" if report.absent_labels else ""
    _print(
        report,
        args.json,
        f"segmentation of {len(report.segments)} segments written to {report.output} "
        f"(references {args.reference}{absent}, {report.seconds:.2f} s)",
    )


def cmd_overlay(args: argparse.Namespace) -> None:
    from ..export.overlay import OverlayOptions, save_overlay

    report = save_overlay(
        args.base,
        args.image,
        args.output,
        OverlayOptions(
            colormap=args.colormap,
            alpha=args.alpha,
            base_window=tuple(args.base_window) if args.base_window else None,
            value_range=tuple(args.value_range) if args.value_range else None,
            reference=args.reference,
            uid_seed=args.uid_seed,
            series_number=args.series_number,
            series_description=args.series_description,
            transfer_syntax=args.transfer_syntax,
            overwrite=args.overwrite,
        ),
    )
    low, high = report.value_range
    _print(
        report,
        args.json,
        f"{len(report.files)} RGB files written to {report.output} ({report.colormap} "
        f"{low:g}..{high:g}, alpha {report.alpha:g}, {report.seconds:.2f} s). "
        "Not for diagnostic use.",
    )


def _common(sub: argparse.ArgumentParser) -> None:
    add_fields(sub, KIND_FIELDS)
    add_output_options(sub)


def register(command: AddCommand) -> None:
    """Add ``seg`` and ``overlay``."""
    from ..export.colormaps import COLORMAPS

    sub = command("seg", cmd_seg, "write a label map as a DICOM Segmentation of a reference series")
    sub.add_argument("labels_image", metavar="LABELS", help="label map nibabel reads (3D)")
    sub.add_argument("output", metavar="OUT_DIR", help="folder to create")
    sub.add_argument(
        "--reference",
        required=True,
        metavar="SERIES_DIR",
        help="the DICOM series the labels were drawn on (the label map must lie on its grid)",
    )
    sub.add_argument(
        "--labels",
        required=True,
        metavar="FILE",
        help="segment names, colours, codes: a BIDS dseg.tsv, a FreeSurfer colour table or a JSON",
    )
    _common(sub)

    sub = command("overlay", cmd_overlay, "write an image fused in colour over a base as RGB DICOM")
    sub.add_argument("base", metavar="BASE", help="the grey base (CT, MR) nibabel reads")
    sub.add_argument(
        "image", metavar="IMAGE", help="the coloured image (PET, a map), resampled onto BASE"
    )
    sub.add_argument("output", metavar="OUT_DIR", help="series folder to create")
    sub.add_argument("--colormap", choices=COLORMAPS, default="hot")
    sub.add_argument(
        "--alpha", type=float, default=0.5, help="opacity of the colour, 0..1 (default 0.5)"
    )
    sub.add_argument(
        "--base-window",
        nargs=2,
        type=float,
        metavar=("C", "W"),
        help="window centre and width of the base (default: its 1st to 99th percentile)",
    )
    sub.add_argument(
        "--range",
        dest="value_range",
        nargs=2,
        type=float,
        metavar=("LO", "HI"),
        help="image values mapped to the colour map's ends; LO and below stay transparent "
        "(default: the image's 1st to 99th percentile)",
    )
    sub.add_argument(
        "--reference",
        metavar="SERIES_DIR",
        help="join this DICOM series' patient and study (and its frame of reference when "
        "BASE lies on its grid)",
    )
    _common(sub)
