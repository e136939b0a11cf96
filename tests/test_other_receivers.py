"""`nipype-vinci send` into receivers other than Orthanc, each in a private network namespace:
DCMTK's storescp (bit-preserving, a small PDU, one process an association) and pynetdicom's
storage SCP (an independent implementation, limited to one association at a time)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from nipype_vinci.deliver.series import data_set

from .conftest import CLI, need_tool, python
from .orthanc import NetNamespace
from .test_send import long_series, mixed_syntaxes, synthetic  # noqa: F401 (fixtures)

PORT = 11112
NODE = f"STORESCP@127.0.0.1:{PORT}"


@pytest.fixture
def namespace() -> Iterator[NetNamespace]:
    for tool in ("unshare", "nsenter", "ip"):
        need_tool(tool)
    if os.geteuid() != 0:
        pytest.skip("a private network namespace (unshare -n) needs root")
    space = NetNamespace()
    try:
        yield space
    finally:
        space.close()


def serve(space: NetNamespace, argv: list[str], log: Path) -> subprocess.Popen:
    """Start a receiver inside the namespace; return once it answers a C-ECHO."""
    echoscu = need_tool("echoscu")
    with open(log, "wb") as out:
        server = subprocess.Popen(space.command(argv), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    echo = space.command([echoscu, "-aec", "STORESCP", "127.0.0.1", str(PORT)])
    while subprocess.run(echo, capture_output=True).returncode != 0:
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the receiver did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


def send(space: NetNamespace, folder: Path, *args: str) -> subprocess.CompletedProcess:
    argv = space.command([*CLI, "send", str(folder), "--to", NODE, *args])
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def test_dcmtk_storescp_receives_every_data_set_bit_for_bit(
    namespace,
    synthetic,  # noqa: F811
    tmp_path,
) -> None:
    """Three transfer syntaxes (one context each), PDUs of 4 KB, three associations at once
    (storescp forks one process for each): every data set arrives exactly as it lies on disk."""
    storescp = "/usr/bin/storescp"  # DCMTK's (pynetdicom's may come first on PATH)
    if not Path(storescp).is_file():
        pytest.skip("DCMTK's storescp is not installed (.ci/run installs dcmtk)")
    folder = tmp_path / "mixed"
    mixed_syntaxes(synthetic["mr"], folder)
    received = tmp_path / "received"
    received.mkdir()
    argv = [storescp, "--fork", "+B", "+xa", "-pdu", "4096", "-od", str(received), str(PORT)]
    server = serve(namespace, argv, tmp_path / "storescp.log")
    try:
        result = send(namespace, folder, "--associations", "3")
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr
    sent = {str(pydicom.dcmread(p).SOPInstanceUID): p for p in folder.glob("*.dcm")}
    arrived = {str(pydicom.dcmread(p).SOPInstanceUID): p for p in received.iterdir()}
    assert arrived.keys() == sent.keys()
    for uid, path in sent.items():
        assert bytes(data_set(arrived[uid])) == bytes(data_set(path)), path.name


def test_dcmtk_storescp_serving_one_association_at_a_time_does_not_stall_a_send(
    namespace,
    synthetic,  # noqa: F811
    tmp_path,
) -> None:
    """storescp without --fork leaves a second association waiting in its queue until the
    first is released: the send must not wait for it (default: two associations)."""
    storescp = "/usr/bin/storescp"
    if not Path(storescp).is_file():
        pytest.skip("DCMTK's storescp is not installed (.ci/run installs dcmtk)")
    received = tmp_path / "received"
    received.mkdir()
    server = serve(namespace, [storescp, "-od", str(received), str(PORT)], tmp_path / "log")
    try:
        started = time.monotonic()
        result = send(namespace, synthetic["ct"])
        seconds = time.monotonic() - started
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr
    assert len(list(received.iterdir())) == len(list(synthetic["ct"].glob("*.dcm")))
    assert seconds < 10  # the time-out (30 s) never runs out


ONE_ASSOCIATION_SCP = """
import sys
from pathlib import Path
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification

out = Path(sys.argv[1])

def store(event):
    uid = event.request.AffectedSOPInstanceUID
    (out / f"{uid}.dcm").write_bytes(event.encoded_dataset())
    return 0x0000

def tell(event):
    print(event.event.name, flush=True)

ae = AE(ae_title="STORESCP")
ae.maximum_associations = 1
ae.add_supported_context(Verification)
for context in AllStoragePresentationContexts:
    ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
handlers = [(evt.EVT_C_STORE, store), (evt.EVT_ACCEPTED, tell), (evt.EVT_REJECTED, tell)]
ae.start_server(("127.0.0.1", int(sys.argv[2])), evt_handlers=handlers)
"""


def test_a_receiver_that_allows_one_association_gets_every_file_over_it(
    namespace,
    long_series,  # noqa: F811
    tmp_path,
) -> None:
    """pynetdicom's SCP rejects a second association at once (local limit exceeded): the
    extra associations give up and the first sends the whole series (120 files)."""
    pytest.importorskip("pynetdicom")
    received = tmp_path / "received"
    received.mkdir()
    log = tmp_path / "scp.log"
    server = serve(namespace, python("-c", ONE_ASSOCIATION_SCP, str(received), str(PORT)), log)
    try:
        result = send(namespace, long_series, "--associations", "4", "--json")
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr
    sent = {str(pydicom.dcmread(p).SOPInstanceUID) for p in long_series.glob("*.dcm")}
    assert {p.stem for p in received.glob("*.dcm")} == sent
    assert '"attempts": 1' in result.stdout  # no retry: the refusals cost nothing
    assert log.read_text().split().count("EVT_REJECTED") == 3
