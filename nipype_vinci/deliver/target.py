"""Where series go: a DICOM node (``AET@HOST:PORT``) or a DICOMweb service (an http(s) URL)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import VinciError

NODE_FORM = "AET@HOST:PORT (e.g. ORTHANC@pacs.example.org:4242)"
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$")


@dataclass(frozen=True)
class DicomNode:
    """A DICOM C-STORE receiver: its application entity title, host and port."""

    aet: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class DicomWebService:
    """A DICOMweb service (its base URL; STOW-RS posts to URL/studies), with basic auth."""

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.url


def check_aet(aet: str, what: str) -> str:
    """An application entity title (PS3.5 AE): 1-16 characters of the default repertoire
    (printable ASCII), no backslash, not only spaces."""
    if not aet.strip() or len(aet) > 16 or "\\" in aet or any(not " " <= c <= "~" for c in aet):
        raise VinciError(
            f"{what} {aet!r} is not an AE title: give 1-16 printable ASCII characters "
            "without a backslash"
        )
    return aet


def parse_node(text: str) -> DicomNode:
    """``AET@HOST:PORT`` as a node; a mistake is one line naming the text and the form."""
    aet, at, address = text.rpartition("@")
    host, colon, port = address.rpartition(":")
    if not (at and colon and aet and host and port.isdigit()):
        raise VinciError(f"target {text!r} is not {NODE_FORM}")
    if not 0 < int(port) < 65536:
        raise VinciError(f"target {text!r}: port {port} is not in 1-65535")
    if not _HOST.match(host):
        raise VinciError(f"target {text!r}: {host!r} is not a host name or address")
    return DicomNode(check_aet(aet, f"target {text!r}: AE title"), host.strip("[]"), int(port))


def parse_dicomweb(url: str, user: str | None = None, password: str | None = None):
    """A DICOMweb base URL (``http(s)://host[:port]/path``), with optional basic auth."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VinciError(
            f"DICOMweb URL {url!r} is not http(s)://HOST[:PORT]/PATH "
            "(e.g. http://pacs.example.org:8042/dicom-web)"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise VinciError(f"DICOMweb URL {url!r}: the port is not a number in 1-65535")
    if (user is None) != (password is None):
        raise VinciError("basic authentication needs both a user and a password; give both")
    return DicomWebService(url.rstrip("/"), user, password)


def parse_target(text: str, *, user: str | None = None, password: str | None = None):
    """``AET@HOST:PORT`` (C-STORE) or an http(s) URL (STOW-RS): the target it names."""
    if re.match(r"^https?://", text, re.IGNORECASE):
        return parse_dicomweb(text, user, password)
    if user is not None or password is not None:
        raise VinciError(f"target {text!r}: a user and password apply to a DICOMweb URL only")
    return parse_node(text)
