"""The container recipes: consistent with each other and the package; the Docker image built by
a private dockerd and run (the Apptainer definition mirrors it; Apptainer is not packaged
for Debian 12)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import nipype_vinci
from nipype_vinci.demo import phantom_affine, phantom_volume

from .bids_cohort import check_cohort_export, write_cohort
from .docker_engine import docker_engine, stand_in_base
from .export_checks import check_series

spython = pytest.importorskip("spython.main.parse.parsers", reason="spython not installed")

REPO = Path(__file__).resolve().parents[1]
CONTAINERS = REPO / "containers"
IMAGE = f"nipype-vinci:{nipype_vinci.__version__}-ci"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
STAND_IN_CACHE = CACHE / "nipype_vinci-tests"  # the stand-in base's root file system


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
def test_docker_image_builds_and_runs_demo_and_bids_as_its_user(tmp_path: Path) -> None:
    """Build containers/Dockerfile with a private dockerd on a local stand-in of its base image
    (tests/docker_engine.py), then run, without network and as the image's user, `demo` and a
    `bids` export of a small cohort mounted read-only at /data; the host judges the series."""
    docker, _ = _recipes()
    dataset, out = tmp_path / "ds", tmp_path / "out"
    write_cohort(dataset)
    out.mkdir()
    with docker_engine() as engine:
        stand_in_base(engine, docker.fromHeader, STAND_IN_CACHE)
        dockerfile = str(CONTAINERS / "Dockerfile")
        engine.run("build", "--network", "host", "-f", dockerfile, "-t", IMAGE, str(REPO))
        run = ("run", "--rm", "--network", "none")
        user = engine.run(*run, "--entrypoint", "id", IMAGE, "-u", "-n").stdout.strip()
        assert user == "vinci"
        uid = int(engine.run(*run, "--entrypoint", "id", IMAGE, "-u").stdout)
        os.chown(out, uid, -1)  # the image's user writes the output
        engine.run(*run, "-v", f"{out}:/out", IMAGE, "demo", "/out/demo")
        mounts = ("-v", f"{dataset}:/data:ro", "-v", f"{out}:/out")
        engine.run(*run, *mounts, IMAGE, "bids", "/data", "/out/bids", "participant")
    check_series(out / "demo/dicom", phantom_volume(), phantom_affine(), tmp_path / "n-demo")
    check_cohort_export(dataset, out / "bids", tmp_path / "checks")
