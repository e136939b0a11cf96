"""What the command groups share: registry fields as flags, template folders, output and
send options, and how a command names a field in its errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable

PROG = "nipype-vinci"
# add(name, handler, help) -> the command's parser
AddCommand = Callable[[str, Callable, str], argparse.ArgumentParser]


def add_fields(sub: argparse.ArgumentParser, fields) -> None:
    """One flag per field of the registry."""
    for field in fields:
        unit = f" [{field.unit}]" if field.unit and field.unit not in field.help else ""
        sub.add_argument(
            field.flag,
            dest=field.name,
            metavar="VALUE" if not field.choices else None,
            choices=field.choices or None,
            help=field.help + unit,
        )


def field_flags(sub: argparse.ArgumentParser) -> Callable[[str], str]:
    """How a command names a field in an error: the flag whose destination the field is
    (``value_range`` is ``--range``), else the registry's flag."""
    from ..fields import flag_label

    flags = {
        action.dest: max(action.option_strings, key=len)
        for action in sub._actions  # argparse keeps no public list of a parser's options
        if action.option_strings
    }
    return lambda name: flags.get(name) or flag_label(name)


def add_template_dirs(sub: argparse.ArgumentParser) -> None:
    """The ``--template-dir`` option of every command that finds templates."""
    sub.add_argument(
        "--template-dir",
        action="append",
        metavar="DIR",
        help="a folder of .dump templates searched before the bundled ones "
        "(repeatable; also $NIPYPE_VINCI_TEMPLATE_PATH)",
    )


def add_output_options(sub: argparse.ArgumentParser) -> None:
    """``--overwrite`` and ``--json`` of every command that writes a series."""
    sub.add_argument("--overwrite", action="store_true", help="replace an existing output")
    sub.add_argument("--json", action="store_true", help="print a machine-readable report")


def add_send_options(sub: argparse.ArgumentParser) -> None:
    """``--send`` (and ``--send-verify``): send what the command wrote to a PACS."""
    sub.add_argument(
        "--send",
        metavar="AET@HOST:PORT|URL",
        help="send the series written to a DICOM node (C-STORE) or a DICOMweb URL (STOW-RS)",
    )
    sub.add_argument(
        "--send-verify",
        action="store_true",
        help="with --send: ask the receiver whether it holds every file",
    )


def send_target(args: argparse.Namespace):
    """The parsed ``--send`` target (checked before anything is written), or None."""
    if not args.send:
        return None
    from ..deliver import parse_target

    return parse_target(args.send)


def send_written(folders: list, target, verify: bool) -> None:
    """Send finished series; an incomplete send names each failed file (exit 3)."""
    import sys

    from ..deliver import send_series
    from ..errors import SendIncomplete

    report = send_series(folders, target, verify=verify)
    print(report.summary(), file=sys.stderr)
    if not report.ok:
        raise SendIncomplete(report.problems())
