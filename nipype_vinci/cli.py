"""The ``nipype-vinci`` command: templates, dumps, and the DICOM export itself."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .errors import VinciError

PROG = "nipype-vinci"


def _read_scan(path: str):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path)
    except FileNotFoundError:
        raise VinciError(f"{path}: no such file; give a DICOM file") from None
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise VinciError(f"{path}: not a readable DICOM file ({exc})") from None


def _write_new(path: Path, data: bytes, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise VinciError(f"{path} exists; choose another name or pass --overwrite")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise VinciError(f"{path}: cannot write ({exc.strerror})") from None


def cmd_make_template(args: argparse.Namespace) -> None:
    from .template import dump_template, parse_template
    from .template.make import make_template

    scan = _read_scan(args.scan)
    name = args.name or Path(args.output).stem
    template = make_template(
        scan,
        name,
        keep_private=args.keep_private,
        source=args.source or Path(args.scan).name,
        licence=args.licence,
    )
    text = dump_template(template)
    parse_template(text, args.output)  # what we write must pass check-template
    _write_new(Path(args.output), text, args.overwrite)
    print(f"template {name} written to {args.output} ({len(template.slots)} keyword slots)")


def cmd_templates(args: argparse.Namespace) -> None:
    from .template.library import find_template, list_templates

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
    from .template.library import load_template

    template = load_template(args.template, args.template_dir)
    print(
        f"{args.template}: ok ({len(template.slots)} keyword slots: "
        f"{', '.join(sorted(template.keywords))})"
    )


def cmd_dump(args: argparse.Namespace) -> None:
    from .template import dump_dataset

    sys.stdout.buffer.write(dump_dataset(_read_scan(args.scan)))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def template_dirs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--template-dir",
            action="append",
            metavar="DIR",
            help="a folder of .dump templates searched before the bundled ones "
            "(repeatable; also $NIPYPE_VINCI_TEMPLATE_PATH)",
        )

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
    template_dirs(sub)

    sub = command("check-template", cmd_check_template, "validate a template, every problem")
    sub.add_argument("template", metavar="FILE|NAME")
    template_dirs(sub)

    sub = command("dump", cmd_dump, "print our dcmdump-format dump of a DICOM file")
    sub.add_argument("scan", metavar="SCAN.dcm")

    from .bids_cli import add_bids_command
    from .export.cli_save import add_save_commands

    add_save_commands(command, template_dirs)
    add_bids_command(command, template_dirs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; user mistakes print one line each and exit 2."""
    args = _parser().parse_args(argv)
    try:
        args.handler(args)
    except VinciError as exc:
        for problem in exc.problems:
            print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was left behind", file=sys.stderr)
        return 130
    return 0


def _offline(argv: Sequence[str]) -> bool:
    """Whether the command runs without Nipype (every command but ``bids``)."""
    return argv[:1] != ["bids"]


def run() -> None:
    """The console script: ``main`` as its own process.

    An offline command keeps ``requests`` out (pydicom imports it only to download its own
    test files, 0.14 s of each start, and falls back to urllib without it) and, its files
    closed and its output flushed, ends without tearing down the imported modules (another
    0.1 s, a tenth of a small export). ``bids`` runs Nipype and ends normally.
    """
    offline = _offline(sys.argv[1:])
    if offline:
        sys.modules.setdefault("requests", None)  # None: "import requests" fails at once
    status = main()
    if not offline:
        sys.exit(status)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    run()
