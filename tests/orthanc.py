"""A real Orthanc for tests and benchmarks, in a private network namespace.

Orthanc 1.10 has no bind-address option, so it runs inside a network namespace of its own
(``unshare -n``, only loopback up) and never listens on the machine's interfaces; nothing here
touches the system service. The namespace is held by a sleeping process, so Orthanc can be
stopped and started again inside it (a test of retries does that). Clients reach it in two
ways, each robust without any port on the host: a command run through ``nsenter
--net=/proc/PID/ns/net`` (the DICOM clients under test: ``nipype-vinci send``, storescu), and
the REST API through a unix socket that socat, inside the namespace, bridges to Orthanc's
HTTP port (the checks of what arrived, from the test process itself).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AET, DICOM_PORT, HTTP_PORT = "ORTHANC", 4242, 8042
START_SECONDS = 20.0


class NetNamespace:
    """A private network namespace with loopback up, alive while its holder sleeps."""

    def __init__(self) -> None:
        self._holder = subprocess.Popen(
            ["unshare", "-n", "sh", "-c", "ip link set lo up && echo up && exec sleep infinity"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if self._holder.stdout.readline() != "up\n":
            error = self._holder.stderr.read().strip()
            self._holder.wait()
            raise RuntimeError(f"cannot make a network namespace (unshare -n: {error})")

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` as a command that runs inside the namespace."""
        return ["nsenter", f"--net=/proc/{self._holder.pid}/ns/net", "--", *argv]

    def close(self) -> None:
        self._holder.kill()
        self._holder.wait()
        self._holder.stdout.close()
        self._holder.stderr.close()


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Orthanc:
    """One Orthanc with a private configuration and storage under ``folder``.

    ``lua``: the text of a Lua script (e.g. a ``ReceivedInstanceFilter``); ``users``:
    ``{user: password}`` to turn HTTP basic authentication on; ``settings``: more
    configuration options (they win). The namespace is Orthanc's
    own, so each server has the same ports and address (127.0.0.1). TCP_NODELAY=1 in its
    environment switches Nagle's algorithm off on its side (else each C-STORE waits about
    95 ms for a delayed acknowledgement).
    """

    node = f"{AET}@127.0.0.1:{DICOM_PORT}"
    dicomweb_url = f"http://127.0.0.1:{HTTP_PORT}/dicom-web"

    def __init__(
        self,
        folder: Path,
        *,
        lua: str | None = None,
        users: dict[str, str] | None = None,
        settings: dict | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_path = self.folder / "http.sock"
        self.config = self.folder / "orthanc.json"
        configuration = {**self._configuration(lua, users), **(settings or {})}
        self.config.write_text(json.dumps(configuration, indent=2))
        self._users = users or {}
        self.namespace = NetNamespace()
        self._server: subprocess.Popen | None = None
        self._bridge: subprocess.Popen | None = None

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` as a command that runs in Orthanc's network namespace."""
        return self.namespace.command(argv)

    def _configuration(self, lua: str | None, users: dict[str, str] | None) -> dict:
        storage = str(self.folder / "db")
        config = {
            "Name": "nipype-vinci-tests",
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "HttpPort": HTTP_PORT,
            "DicomPort": DICOM_PORT,
            "DicomAet": AET,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowFind": True,  # answer C-FIND from AETs it does not know
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(users),
            "SyncStorageArea": False,
            "StableAge": 2,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        if users:
            config["RegisteredUsers"] = users
        if lua is not None:
            script = self.folder / "filter.lua"
            script.write_text(lua)
            config["LuaScripts"] = [str(script)]
        return config

    def start(self) -> Orthanc:
        """Start Orthanc (and the REST bridge) and wait until its REST API answers."""
        if self._bridge is None:
            self._bridge = subprocess.Popen(
                self.namespace.command(
                    [
                        "socat",
                        f"UNIX-LISTEN:{self.socket_path},fork,reuseaddr,unlink-early",
                        f"TCP:127.0.0.1:{HTTP_PORT}",
                    ]
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        with open(self.folder / "stdout.log", "ab") as log:
            self._server = subprocess.Popen(
                self.namespace.command(["Orthanc", f"--logdir={self.folder}", str(self.config)]),
                env={**os.environ, "TCP_NODELAY": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                raise RuntimeError(f"Orthanc ended at start; see {self.folder}/stdout.log")
            try:
                self.rest("GET", "/system")
                return self
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
        raise RuntimeError(f"Orthanc did not answer in {START_SECONDS:g} s")

    def kill(self) -> None:
        """Stop Orthanc at once (SIGKILL), as a crash would; the storage stays."""
        if self._server is not None and self._server.poll() is None:
            self._server.send_signal(signal.SIGKILL)
            self._server.wait()

    def close(self) -> None:
        """Stop Orthanc, the bridge and the namespace (killed: the storage is thrown away,
        and a clean SIGTERM stop costs Orthanc about 4 s)."""
        self.kill()
        if self._bridge is not None:
            self._bridge.kill()
            self._bridge.wait()
            self._bridge = None
        self.namespace.close()

    def rest(self, method: str, path: str, body: bytes | str | None = None):
        """One REST call through the bridge: the decoded JSON, or the bytes of a file."""
        connection = _UnixHTTPConnection(self.socket_path, timeout=30)
        headers = {}
        if self._users:
            user, password = next(iter(self._users.items()))
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            raise http.client.HTTPException(f"{method} {path}: HTTP {response.status}")
        kind = response.getheader("Content-Type", "")
        return json.loads(data) if "json" in kind else data

    def instance_file(self, sop_instance_uid: str) -> bytes | None:
        """The stored file of an instance, or None when Orthanc does not hold it."""
        found = self.rest("POST", "/tools/lookup", sop_instance_uid)
        ids = [r["ID"] for r in found if r["Type"] == "Instance"]
        return self.rest("GET", f"/instances/{ids[0]}/file") if ids else None

    def count_instances(self) -> int:
        return self.rest("GET", "/statistics")["CountInstances"]
