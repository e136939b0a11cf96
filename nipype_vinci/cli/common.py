"""What every command group shares: the template folders option."""

from __future__ import annotations

import argparse
from collections.abc import Callable

# add(name, handler, help) -> the command's parser
AddCommand = Callable[[str, Callable, str], argparse.ArgumentParser]


def add_template_dirs(sub: argparse.ArgumentParser) -> None:
    """The ``--template-dir`` option of every command that finds templates."""
    sub.add_argument(
        "--template-dir",
        action="append",
        metavar="DIR",
        help="a folder of .dump templates searched before the bundled ones "
        "(repeatable; also $NIPYPE_VINCI_TEMPLATE_PATH)",
    )
