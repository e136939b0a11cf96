"""The ``nipype-vinci`` command: one module per command group, assembled here."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from ..errors import VinciError
from .common import PROG
from .signals import Interrupted, interruptible

COMMAND_GROUPS = ("templates", "save", "bids", "kinds", "send")  # this package's modules

if TYPE_CHECKING:
    import argparse


def _parser() -> argparse.ArgumentParser:
    """The command line (imports inside: until ``main`` handles signals, Ctrl-C would
    print a traceback, so the package itself imports almost nothing)."""
    import argparse
    import importlib

    from .. import __version__

    class OneLineParser(argparse.ArgumentParser):
        """Usage mistakes in one line too (argparse prints the whole usage first)."""

        def error(self, message: str) -> NoReturn:
            self.exit(2, f"{PROG}: error: {message}; see {self.prog} --help\n")

    parser = OneLineParser(prog=PROG, description=__doc__)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler, command_parser=sub)
        return sub

    for group in COMMAND_GROUPS:
        importlib.import_module(f"{__name__}.{group}").register(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; user mistakes print one line each and exit 2 (a send that did not
    store every file: 3), and SIGINT, SIGTERM and SIGHUP clean up, print one line and exit
    128 + the signal's number."""
    with interruptible() as received:
        try:
            args = _parser().parse_args(argv)
            args.handler(args)
        except VinciError as exc:
            from .common import field_flags

            for line in exc.lines(field_flags(args.command_parser)):
                print(f"{PROG}: error: {line}", file=sys.stderr)
            return exc.exit_status
        except Exception:
            if not received:
                raise
            return _interrupted(received[0])  # a library turned the interruption into its error
        except Interrupted as exc:
            return _interrupted(exc.signum)
    return 0


def _interrupted(signum: int) -> int:
    name = signal.Signals(signum).name
    print(f"{PROG}: interrupted by {name}; no partial output was left behind", file=sys.stderr)
    return 128 + signum


def _offline(argv: Sequence[str]) -> bool:
    """Whether the command runs without Nipype and HTTP: every command but ``bids`` and a
    send to DICOMweb (``--dicomweb`` or a URL target: dicomweb-client needs ``requests``)."""
    web = ("--dicomweb", "http://", "https://")
    return argv[:1] != ["bids"] and not any(arg.startswith(web) for arg in argv)


def run() -> None:
    """The console script: ``main`` as its own process.

    An offline command keeps ``requests`` out (pydicom imports it only to download its own
    test files, 0.14 s of each start, and falls back to urllib without it) and, its files
    closed and its output flushed, ends without tearing down the imported modules (another
    0.1 s, a tenth of a small export). ``bids`` (Nipype) and ``send --dicomweb`` end normally.
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
