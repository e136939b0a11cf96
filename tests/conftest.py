"""Shared fixtures: the real scanner samples beside the checkout, and DCMTK tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "samples"


def need_tool(name: str) -> str:
    """The tool's path, or skip the test with the reason."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it with apt-get)")
    return path


def python(*args: str) -> list[str]:
    """The argv of a fresh interpreter that imports the installed package. Isolated mode (-I)
    keeps the working directory off sys.path: run from the checkout, its nipype_vinci/ (which
    lacks workflows/, installed by package_dir) would shadow the installed package."""
    return [sys.executable, "-I", *args]


CLI = python("-m", "nipype_vinci.cli")


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``nipype-vinci`` command in a fresh interpreter, output captured."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, **kwargs)


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"the real scanner samples are absent ({SAMPLES})")
    return SAMPLES


from .orthanc_fixtures import orthanc, orthanc_factory  # noqa: E402, F401 (fixtures)
