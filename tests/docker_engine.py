"""A private Docker engine for tests (Debian's docker.io): dockerd on its own unix socket with its
own data and exec roots in a temporary folder, no bridge, no iptables, containers under their own
cgroup parent; after use it is stopped and its mounts, cgroups and folder removed. Also the
local stand-in for a recipe's base image (no image registry is reachable here)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Debian's client, matching its dockerd (a newer client elsewhere on PATH may want buildx)
CLIENT = shutil.which("docker", path="/usr/bin")
READY_SECONDS = 30.0
CGROUP_ROOT = Path("/sys/fs/cgroup")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# What the python:3.X-slim-bookworm images hold that the recipes rely on: python3 with pip
STAND_IN_PACKAGES = "python3,python3-pip,python3-venv,python-is-python3,ca-certificates"
# pip settings that say how to reach the package index (file:// sources stay on the host)
PIP_NETWORK_KEYS = {
    "index-url",
    "extra-index-url",
    "trusted-host",
    "timeout",
    "default-timeout",
    "retries",
    "proxy",
}


@dataclass
class DockerEngine:
    """A running private dockerd; ``run`` is its client."""

    socket: Path
    cgroup_parent: str

    def run(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        """``docker -H unix://SOCKET ARGS`` with output captured; fails the test on error."""
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        result = subprocess.run(
            [CLIENT, "-H", f"unix://{self.socket}", *args],
            capture_output=True,
            text=True,
            env=env,
            **kwargs,
        )
        if check and result.returncode != 0:
            pytest.fail(f"docker {args[0]} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result


@contextlib.contextmanager
def docker_engine() -> Iterator[DockerEngine]:
    """Start dockerd; stop it and clean up after, also when the test fails. Skips without root
    or docker.io."""
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    if CLIENT is None or shutil.which("dockerd") is None:
        pytest.skip("docker.io is not installed (.ci/run installs it)")
    folder = Path(tempfile.mkdtemp(prefix="docker-"))
    engine = DockerEngine(folder / "docker.sock", f"/{folder.name}")
    argv = [
        "dockerd",
        f"--host=unix://{engine.socket}",
        f"--data-root={folder}/data",
        f"--exec-root={folder}/exec",
        f"--pidfile={folder}/docker.pid",
        f"--cgroup-parent={engine.cgroup_parent}",
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
    ]
    daemon = None
    try:
        with open(folder / "dockerd.log", "wb") as log:
            daemon = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        _wait_ready(engine, daemon, folder / "dockerd.log")
        yield engine
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        _unmount_below(folder)
        _remove_cgroups(engine.cgroup_parent)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(engine: DockerEngine, daemon: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and daemon.poll() is None:
        if engine.socket.exists() and engine.run("version", check=False).returncode == 0:
            return
        time.sleep(0.2)
    pytest.fail(f"dockerd did not start:\n{log.read_text()[-3000:]}")


def _unmount_below(folder: Path) -> None:
    """Lazily unmount what dockerd left mounted inside its folder (netns nsfs, overlays)."""
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    inside = [p for p in points if p == str(folder) or p.startswith(f"{folder}/")]
    for point in sorted(inside, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _remove_cgroups(parent: str) -> None:
    """rmdir the (now empty) cgroup folders made under the engine's cgroup parent."""
    for top in CGROUP_ROOT.glob(f"*{parent}"):
        for folder in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def host_pip_network() -> tuple[str, Path | None]:
    """The host's pip settings for reaching the index, as a pip.conf ``[global]`` text, and the
    CA bundle pip trusts (``pip config list``: files and PIP_* variables)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    settings: dict[str, str] = {}
    for line in listed.splitlines():
        scoped, _, value = line.partition("=")
        key, value = scoped.rpartition(".")[2], value.strip("'\"")
        if key in PIP_NETWORK_KEYS:
            kept = " ".join(v for v in value.split() if not v.startswith("file:"))
            if kept:
                settings[key] = kept
        elif key == "cert":
            settings[key] = value
    cert = Path(settings.pop("cert")) if "cert" in settings else None
    text = "".join(f"{key} = {value}\n" for key, value in sorted(settings.items()))
    return text, cert if cert and cert.is_file() else None


def stand_in_base(engine: DockerEngine, name: str, cache: Path) -> None:
    """Tag a local image as ``name``: a debootstrap Debian bookworm with Debian's python3 and pip
    in place of the python slim image, plus the host's pip network settings and CA bundle in
    /etc/pip.conf (so pip reaches the index this machine uses; outside this stand-in the recipe
    sees none of it). The root file system is cached in ``cache`` under a key of all inputs."""
    pip_conf, cert = host_pip_network()
    if cert:
        pip_conf += "cert = /etc/ssl/certs/host-pip-ca.crt\n"
    key_source = "\n".join([name, STAND_IN_PACKAGES, DEBIAN_MIRROR, pip_conf])
    digest = hashlib.sha256(key_source.encode() + (cert.read_bytes() if cert else b""))
    tarball = cache / f"stand-in-{digest.hexdigest()[:16]}.tar"
    if not tarball.is_file():
        _build_root_tarball(tarball, f"[global]\n{pip_conf}", cert)
        for stale in set(cache.glob("stand-in-*.tar")) - {tarball}:
            stale.unlink()  # made from other inputs: never used again
    engine.run("import", str(tarball), name)


def _build_root_tarball(tarball: Path, pip_conf: str, cert: Path | None) -> None:
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (.ci/run installs it)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stand-in-", dir=tarball.parent) as work:
        root = Path(work) / "root"
        bootstrap = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={STAND_IN_PACKAGES}"]
            + ["bookworm", str(root), DEBIAN_MIRROR],
            capture_output=True,
            text=True,
        )
        if bootstrap.returncode != 0:
            pytest.fail(f"debootstrap failed: {bootstrap.stdout[-2000:]}{bootstrap.stderr}")
        # the python images' interpreter is not Debian's: pip may install into it
        for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        (root / "etc/pip.conf").write_text(pip_conf)
        if cert:
            shutil.copyfile(cert, root / "etc/ssl/certs/host-pip-ca.crt")
        partial = Path(work) / "root.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.replace(tarball)
