"""``python -m nipype_vinci.cli``: the console script."""

from . import run

run()
