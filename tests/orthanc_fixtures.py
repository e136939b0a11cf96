"""Fixtures that start a real Orthanc (tests/orthanc.py) and always stop it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from .conftest import need_tool
from .orthanc import DICOMWEB_PLUGIN, Orthanc


def _need_orthanc() -> None:
    for tool in ("Orthanc", "socat", "unshare", "nsenter", "ip"):
        need_tool(tool)
    if not DICOMWEB_PLUGIN.is_file():
        pytest.skip(f"{DICOMWEB_PLUGIN} is absent (.ci/run installs orthanc-dicomweb)")
    if os.geteuid() != 0:
        pytest.skip("a private network namespace (unshare -n) needs root")


@pytest.fixture
def orthanc_factory(tmp_path_factory) -> Iterator[Callable[..., Orthanc]]:
    """``start(lua=..., users=...)``: a started Orthanc in its own namespace; every server
    started is stopped when the test ends, also when it fails."""
    _need_orthanc()
    servers: list[Orthanc] = []

    def start(**options) -> Orthanc:
        server = Orthanc(tmp_path_factory.mktemp("orthanc"), **options)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.close()


@pytest.fixture
def orthanc(orthanc_factory) -> Orthanc:
    """A plain started Orthanc (C-STORE, C-FIND and DICOMweb, no authentication)."""
    return orthanc_factory()
