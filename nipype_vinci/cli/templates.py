"""The template commands: make-template, templates, check-template, dump."""

from __future__ import annotations

import argparse
import json
import sys

from ..dicomio import read_dicom
from ..errors import VinciError
from .common import PROG, AddCommand, add_template_dirs


def cmd_make_template(args: argparse.Namespace) -> None:
    from ..template.from_scan import make_template_file

    made = make_template_file(
        args.scan,
        args.output,
        name=args.name,
        keep_private=args.keep_private,
        source=args.source,
        licence=args.licence,
        overwrite=args.overwrite,
    )
    for note in made.notes:
        print(f"{PROG}: warning: {args.scan}: {note}", file=sys.stderr)
    slots = len(made.template.slots)
    print(f"template {made.template.name} written to {args.output} ({slots} keyword slots)")


def cmd_templates(args: argparse.Namespace) -> None:
    from ..template.library import find_template, list_templates

    if args.action == "show":
        if not args.name:
            raise VinciError("templates show needs a NAME; see `nipype-vinci templates`")
        sys.stdout.write(find_template(args.name, args.template_dir).read_text("utf-8"))
        return
    infos = list_templates(args.template_dir)
    if args.json:
        print(json.dumps([info.as_dict() for info in infos], indent=2))
        return
    rows = [("NAME", "MODALITY", "MANUFACTURER", "MODEL", "SOURCE")]
    rows += [(i.name, i.modality, i.manufacturer, i.model, i.source) for i in infos]
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def cmd_check_template(args: argparse.Namespace) -> None:
    from ..encode import transfer_syntax
    from ..template.library import load_template

    template = load_template(args.template, args.template_dir)
    # the template's own (0002,0010) must be writable (save may still choose another)
    transfer_syntax(None, template.dataset.file_meta.get("TransferSyntaxUID"), template.source)
    print(
        f"{args.template}: ok ({len(template.slots)} keyword slots: "
        f"{', '.join(sorted(template.keywords))})"
    )


def cmd_dump(args: argparse.Namespace) -> None:
    from ..template import dump_dataset

    sys.stdout.buffer.write(dump_dataset(read_dicom(args.scan)))


def register(command: AddCommand) -> None:
    """Add the template commands."""
    sub = command(
        "make-template", cmd_make_template, "make a de-identified template from a real DICOM file"
    )
    sub.add_argument("scan", metavar="SCAN.dcm")
    sub.add_argument("-o", "--output", required=True, metavar="NAME.dump")
    sub.add_argument("--name", help="template name (default: the output file's stem)")
    sub.add_argument(
        "--keep-private",
        action="store_true",
        help="keep private tags (they can hold identities and stale geometry)",
    )
    sub.add_argument("--source", default="", help="where the scan came from (metadata line)")
    sub.add_argument("--licence", default="", help="the scan's licence (metadata line)")
    sub.add_argument("--overwrite", action="store_true", help="replace an existing output")

    sub = command("templates", cmd_templates, "list the template library, or show one")
    sub.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    sub.add_argument("name", nargs="?", metavar="NAME")
    sub.add_argument("--json", action="store_true", help="machine-readable list")
    add_template_dirs(sub)

    sub = command("check-template", cmd_check_template, "validate a template, every problem")
    sub.add_argument("template", metavar="FILE|NAME")
    add_template_dirs(sub)

    sub = command("dump", cmd_dump, "print our dcmdump-format dump of a DICOM file")
    sub.add_argument("scan", metavar="SCAN.dcm")
