"""The ``send`` command: series folders to a PACS by C-STORE or STOW-RS, verified if asked.

Exit status: 0 when every file was stored (and found, with ``--verify``), 2 for a user
mistake (bad target, unreadable file: nothing was sent), 3 when some file was not stored
(each failed file is named; ``--json`` prints the whole report on standard output).
"""

from __future__ import annotations

import argparse
import json

from ..errors import SendIncomplete, VinciError
from .common import AddCommand


def cmd_send(args: argparse.Namespace) -> None:
    from ..deliver import send_series
    from ..deliver.target import parse_dicomweb, parse_node

    if args.dicomweb is None and (args.user is not None or args.password is not None):
        raise VinciError("--user and --password go with --dicomweb URL only")
    if args.to is not None:
        target = parse_node(args.to)
    else:
        target = parse_dicomweb(args.dicomweb, args.user, args.password)
    report = send_series(
        args.series,
        target,
        calling_aet=args.calling_aet,
        verify=args.verify,
        retries=args.retries,
        timeout=args.timeout,
        associations=args.associations,
    )
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.summary())
    if not report.ok:
        raise SendIncomplete(report.problems())


def register(command: AddCommand) -> None:
    """Add ``send`` to the command line."""
    from ..deliver.send import ASSOCIATIONS, CALLING_AET, RETRIES, TIMEOUT

    sub = command("send", cmd_send, "send DICOM series to a PACS (C-STORE or DICOMweb STOW-RS)")
    sub.add_argument("series", nargs="+", metavar="SERIES_DIR", help="series folder (or file)")
    where = sub.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="AET@HOST:PORT", help="a DICOM node (C-STORE)")
    where.add_argument("--dicomweb", metavar="URL", help="a DICOMweb service (STOW-RS)")
    sub.add_argument("--user", help="DICOMweb basic authentication user (with --password)")
    sub.add_argument("--password", help="DICOMweb basic authentication password")
    sub.add_argument(
        "--calling-aet", default=CALLING_AET, metavar="AET", help=f"our AE title ({CALLING_AET})"
    )
    sub.add_argument(
        "--verify",
        action="store_true",
        help="ask the receiver afterwards (C-FIND or QIDO-RS) whether it holds every file",
    )
    sub.add_argument(
        "--retries",
        type=int,
        default=RETRIES,
        metavar="N",
        help=f"retries after a transient failure, with back-off (default {RETRIES})",
    )
    sub.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT,
        metavar="S",
        help=f"seconds to connect or to wait for an answer (default {TIMEOUT:g})",
    )
    sub.add_argument(
        "--associations",
        type=int,
        default=ASSOCIATIONS,
        metavar="N",
        help=f"C-STORE associations a series goes over at once (default {ASSOCIATIONS}; "
        "1 for a receiver that allows one per AE title)",
    )
    sub.add_argument("--json", action="store_true", help="print the report as JSON")
