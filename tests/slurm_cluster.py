"""A real single-node SLURM cluster for tests: munged, slurmctld and slurmd in the foreground
inside a private network namespace, with configuration, state, spool, logs and sockets in one
temporary folder. Clients reach it only from inside the namespace (``SlurmCluster.run``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .orthanc import NetNamespace

TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")
TOOLS += ("nsenter", "unshare", "ip")
SECOND_ADDRESS = ["ip", "addr", "add", "127.0.0.2/8", "dev", "lo"]
SOCKET_LIMIT = 107  # sun_path holds 108 bytes with the terminating NUL
READY_SECONDS = 30.0

SLURM_CONF = """\
ClusterName=ci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={run}/munge.sock
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation={run}/state
SlurmdSpoolDir={run}/spool
SlurmctldPidFile={run}/slurmctld.pid
SlurmdPidFile={run}/slurmd.pid
SlurmctldLogFile={run}/slurmctld.log
SlurmdLogFile={run}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class SlurmCluster:
    """A running cluster: its folder, configuration and the namespace its clients must use."""

    folder: Path
    conf: Path
    namespace: NetNamespace

    def env(self, **extra: str) -> dict[str, str]:
        """The client environment: ``SLURM_CONF``, and ``LOGNAME`` (Nipype's job names)."""
        return {**os.environ, "SLURM_CONF": str(self.conf), "LOGNAME": "root", **extra}

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the cluster's network namespace."""
        return self.namespace.command(argv)

    def run(self, argv: list[str], env: dict[str, str] | None = None, **kwargs):
        """Run a client command inside the namespace, output captured as text."""
        return subprocess.run(
            self.command(argv), env=env or self.env(), capture_output=True, text=True, **kwargs
        )


def _private_folder() -> Path:
    """A 0755 temporary folder: munged refuses sockets below folders others cannot enter."""
    folder = Path(tempfile.mkdtemp(prefix="slurm-"))
    folder.chmod(0o755)
    blocked = [p for p in folder.parents if not p.stat().st_mode & 0o001]
    if blocked:
        shutil.rmtree(folder)
        pytest.fail(f"{blocked[0]} is not world-executable; munged needs that (set TMPDIR)")
    if len(str(folder / "munge.sock.lock")) > SOCKET_LIMIT:
        shutil.rmtree(folder)
        pytest.fail(f"{folder}: too long for a unix socket path; set a shorter TMPDIR")
    return folder


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_idle(cluster: SlurmCluster, daemons: dict[str, subprocess.Popen]) -> None:
    """Until the node reports idle; fail with the logs if a daemon dies or time runs out."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        dead = [name for name, process in daemons.items() if process.poll() is not None]
        if dead:
            break
        state = cluster.run(["sinfo", "-h", "-N", "-o", "%T"])
        if state.returncode == 0 and state.stdout.strip() == "idle":
            return
        time.sleep(0.1)
    logs = "\n".join(
        f"--- {log.name}\n{log.read_text()[-1500:]}" for log in sorted(cluster.folder.glob("*.log"))
    )
    pytest.fail(f"the SLURM cluster did not come up (dead: {dead})\n{logs}")


@contextlib.contextmanager
def slurm_cluster() -> Iterator[SlurmCluster]:
    """Start munged, slurmctld and slurmd; stop every one of them and remove the folder after,
    also when the test fails. Skips when not root or the daemons are not installed."""
    if os.geteuid() != 0:
        pytest.skip("a private SLURM cluster needs root (network namespace, SlurmUser=root)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs SLURM and munge)")
    folder = _private_folder()
    namespace = None
    daemons: dict[str, subprocess.Popen] = {}
    try:
        for sub in ("state", "spool"):
            (folder / sub).mkdir()
        key = folder / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        conf = folder / "slurm.conf"
        conf.write_text(SLURM_CONF.format(run=folder, cpus=os.cpu_count() or 1))
        namespace = NetNamespace()
        cluster = SlurmCluster(folder, conf, namespace)
        # only 127.0.0.1 makes SLURM's getaddrinfo(AI_ADDRCONFIG) find no address
        subprocess.run(cluster.command(SECOND_ADDRESS), check=True)
        commands = {
            "munged": [
                "munged",
                "-F",
                f"--key-file={key}",
                f"--socket={folder}/munge.sock",
                f"--pid-file={folder}/munged.pid",
                f"--log-file={folder}/munged.log",
                f"--seed-file={folder}/munged.seed",
            ],
            "slurmctld": ["slurmctld", "-D", "-i", "-f", str(conf)],
            "slurmd": ["slurmd", "-D", "-N", "localhost", "-f", str(conf)],
        }
        for name, argv in commands.items():
            with open(folder / f"{name}.out", "wb") as out:
                daemons[name] = subprocess.Popen(
                    cluster.command(argv), stdout=out, stderr=subprocess.STDOUT
                )
            if name == "munged":
                _wait_socket(folder / "munge.sock", daemons[name])
        _wait_idle(cluster, daemons)
        yield cluster
    finally:
        inside = _namespace_of(daemons.values())
        for process in reversed(daemons.values()):
            _stop(process)
        if inside:
            _kill_all_in(inside)  # job steps that slurmd left running
        if namespace is not None:
            namespace.close()
        shutil.rmtree(folder, ignore_errors=True)


def _namespace_of(processes) -> str | None:
    """The network namespace of the first process still alive (``net:[inode]``)."""
    for process in processes:
        with contextlib.suppress(OSError):
            return os.readlink(f"/proc/{process.pid}/ns/net")
    return None


def _kill_all_in(namespace: str) -> None:
    """SIGKILL every process left in the namespace (its holder goes with the namespace)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "ns/net") == namespace:
                    os.kill(int(entry.name), signal.SIGKILL)


def _wait_socket(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"munged did not start: {(path.parent / 'munged.out').read_text()}")
        time.sleep(0.02)
