"""Nipype's SLURM plugin against a real single-node cluster (tests/slurm_cluster.py): a BIDS
cohort through `nipype-vinci bids --plugin-config`, and the export workflow byte-identical to
MultiProc."""

from __future__ import annotations

from pathlib import Path

import pytest

from .bids_cohort import check_cohort_export, write_cohort
from .conftest import CLI, python
from .slurm_cluster import SlurmCluster, slurm_cluster
from .test_workflow import _inputs, _run

REPO = Path(__file__).resolve().parents[1]
JOB_COMMENT = "nipype-vinci-ci"
# Nipype reads the poll interval from its execution config (nipype.cfg), not from plugin_args
NIPYPE_CFG = "[execution]\npoll_sleep_duration = 0.2\n"
SLURM_YML = f"plugin: SLURM\nplugin_args:\n  sbatch_args: --comment={JOB_COMMENT} --time=10\n"


@pytest.fixture(scope="module")
def cluster() -> SlurmCluster:
    with slurm_cluster() as running:
        yield running


@pytest.fixture
def nipype_env(cluster: SlurmCluster, tmp_path: Path) -> dict[str, str]:
    """The cluster's client environment with a user's nipype.cfg (NIPYPE_CONFIG_DIR)."""
    config = tmp_path / "nipype-config"
    config.mkdir()
    (config / "nipype.cfg").write_text(NIPYPE_CFG)
    return cluster.env(NIPYPE_CONFIG_DIR=str(config))


def test_bids_cohort_through_the_slurm_plugin(
    cluster: SlurmCluster, nipype_env: dict, tmp_path: Path
) -> None:
    images = write_cohort(tmp_path / "ds")
    (tmp_path / "slurm.yml").write_text(SLURM_YML)
    out = tmp_path / "out"
    argv = [*CLI, "bids", str(tmp_path / "ds"), str(out)]
    argv += ["participant", "--plugin-config", "slurm.yml", "-w", str(tmp_path / "work")]
    result = cluster.run(argv, env=nipype_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(images)} series exported" in result.stdout
    jobs = cluster.run(["scontrol", "show", "job", "-o"]).stdout.splitlines()
    ours = [job for job in jobs if f"Comment={JOB_COMMENT}" in job]
    assert len(ours) == len(images)  # save_dicom per image (templates chosen at build time)
    assert all("JobState=COMPLETED" in job for job in ours)
    check_cohort_export(tmp_path / "ds", out, tmp_path / "checks")


def test_export_workflow_on_slurm_is_byte_identical_to_multiproc(
    cluster: SlurmCluster, nipype_env: dict, tmp_path: Path
) -> None:
    """One PET image (two jobs per workflow; the cohort test runs many), read by both runs:
    its modification time is the series' clock."""
    local, remote = tmp_path / "multiproc", tmp_path / "slurm"
    local.mkdir()
    remote.mkdir()
    pet = _inputs(tmp_path)["pet"]
    _run(local, {"pet": pet}, "MultiProc", "seed", "out")
    code = (
        "import sys; from pathlib import Path; sys.path.append(sys.argv[1]); "
        "from tests.test_workflow import _run; "
        "_run(Path(sys.argv[2]), {'pet': (Path(sys.argv[3]), None, None)}, 'SLURM', 'seed', 'out')"
    )
    argv = [*python("-c"), code, str(REPO), str(remote), str(pet[0])]
    result = cluster.run(argv, env=nipype_env)
    assert result.returncode == 0, result.stderr[-3000:]
    made = sorted(p.relative_to(local / "out") for p in (local / "out").rglob("*.dcm"))
    assert made and made == sorted(
        p.relative_to(remote / "out") for p in (remote / "out").rglob("*.dcm")
    )
    for relative in made:
        assert (local / "out" / relative).read_bytes() == (remote / "out" / relative).read_bytes()
