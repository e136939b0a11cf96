"""The container recipes: consistent with each other and the package, and their install steps
proven on a clean Debian root file system (no container engine runs on the CI machine)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import nipype_vinci

spython = pytest.importorskip("spython.main.parse.parsers", reason="spython not installed")

REPO = Path(__file__).resolve().parents[1]
CONTAINERS = REPO / "containers"


def _recipes():
    docker = spython.DockerParser(str(CONTAINERS / "Dockerfile")).recipe["spython-base"]
    apptainer = spython.SingularityParser(str(CONTAINERS / "Singularity.def")).recipe[
        "spython-base"
    ]
    return docker, apptainer


def _labels(recipe) -> dict[str, str]:
    text = " ".join(" ".join(x) if isinstance(x, list) else x for x in recipe.labels)
    text = text.replace("\\", " ")
    pairs = re.findall(r"(org\.opencontainers\.image\.\w+)[= ]\s*(\"[^\"]*\"|\S+)", text)
    return {key: value.strip('"') for key, value in pairs}


def _run_steps(recipe) -> list[str]:
    return [
        s
        for s in recipe.install
        if s.strip()
        and not s.startswith(("#", "USER", "cd ", "mkdir -p /work"))
        and "=" not in s.split()[0]
    ]


def test_same_base_install_entrypoint_and_environment() -> None:
    docker, apptainer = _recipes()
    assert docker.fromHeader == apptainer.fromHeader
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", docker.fromHeader)  # pinned
    assert _run_steps(docker) == apptainer.install
    assert any("pip install --no-cache-dir /src/nipype_vinci" in s for s in apptainer.install)
    assert not any("pip install -e" in s for s in apptainer.install)
    assert docker.entrypoint == ["nipype-vinci"]
    assert apptainer.cmd.strip() == 'exec nipype-vinci "$@"'
    assert sorted(docker.environ) == sorted(apptainer.environ)
    assert "OMP_NUM_THREADS=1" in docker.environ and "HOME=/home/vinci" in docker.environ


def test_labels_carry_the_package_version() -> None:
    for recipe in _recipes():
        labels = _labels(recipe)
        assert labels["org.opencontainers.image.version"] == nipype_vinci.__version__
        assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


@pytest.mark.slow
def test_recipe_steps_on_a_clean_debian_root(tmp_path: Path) -> None:
    """debootstrap a minimal Debian, run the recipe's install steps in it with chroot, then
    `nipype-vinci demo` as the recipe's user. Debian's python3 stands in for the
    python:3.11-slim image (same Debian release), so pip may install beside it."""
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        pytest.skip("needs root and debootstrap (.ci/run installs it)")
    root = tmp_path / "rootfs"
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-pip,ca-certificates",
            "bookworm",
            str(root),
            "http://deb.debian.org/debian",
        ],
        check=True,
        capture_output=True,
    )
    shutil.copytree(
        REPO,
        root / "src/nipype_vinci",
        ignore=shutil.ignore_patterns(
            ".git", "__pycache__", "build", "*.egg-info", ".pytest_cache", ".hypothesis"
        ),
    )
    for host_file in ("/etc/resolv.conf", "/etc/ssl/certs/ca-certificates.crt"):
        shutil.copyfile(host_file, root / host_file.lstrip("/"))  # the host's network trust
    _, apptainer = _recipes()
    environment = " ".join(f"export {pair};" for pair in apptainer.environ)
    steps = " && ".join(apptainer.install)
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    try:
        script = (
            f"export DEBIAN_FRONTEND=noninteractive PIP_BREAK_SYSTEM_PACKAGES=1; {steps}"
            f" && su vinci -c '{environment} cd /work && nipype-vinci demo /out/demo'"
        )
        result = subprocess.run(
            ["chroot", str(root), "/bin/sh", "-c", script], capture_output=True, text=True
        )
    finally:
        subprocess.run(["umount", str(root / "proc")], check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(list((root / "out/demo/dicom").glob("*.dcm"))) == 41
