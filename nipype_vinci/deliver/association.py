"""A DICOM association as the requestor (PS3.8 upper layer): negotiate presentation contexts,
send and receive DIMSE messages as P-DATA-TF PDUs, release or abort. One blocking socket with
Nagle's algorithm off, no threads; a message's bytes go out as they are (a file's data set is
never decoded), PDU by PDU, so the time-out means "no progress for that long"."""

from __future__ import annotations

import contextlib
import socket
import struct
from collections import deque

from ..export.fill import IMPLEMENTATION_VERSION
from ..export.uids import IMPLEMENTATION_CLASS_UID
from .dimse import decode_command, has_data_set
from .retry import PermanentFailure, TransientFailure
from .target import DicomNode

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"  # the DICOM application context name
MAX_CONTEXTS = 128  # presentation contexts one association can propose (odd IDs 1-255)
MAX_RECEIVE = 1 << 20  # the longest P-DATA-TF we accept (announced to the receiver)
MAX_SEND = 1 << 20  # the longest PDU we send, also when the receiver allows longer ones
MAX_ACCEPT = 1 << 16  # an A-ASSOCIATE-AC longer than this is not a receiver's answer
RELEASE_SECONDS = 5.0  # wait at most this for the release answer (it comes in milliseconds)

ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA = 0x01, 0x02, 0x03, 0x04
RELEASE_RQ, RELEASE_RP, ABORT = 0x05, 0x06, 0x07
_LONGEST = {ASSOCIATE_AC: MAX_ACCEPT, P_DATA: MAX_RECEIVE}  # the others are 4 bytes long
COMMAND, LAST = 0x01, 0x02  # bits of a PDV's message control header
PDV_HEADER = 6  # a PDV item's length (4 bytes), context ID and control header

_REJECT_RESULTS = {1: "rejected permanently", 2: "rejected transiently"}
_REJECT_REASONS = {  # (source, reason) of an A-ASSOCIATE-RJ, PS3.8 9.3.4
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognized",
    (1, 7): "called AE title not recognized",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}
_ABORT_REASONS = {  # (source, reason) of an A-ABORT, PS3.8 9.3.8
    (2, 1): "unrecognized PDU",
    (2, 2): "unexpected PDU",
    (2, 4): "unrecognized PDU parameter",
    (2, 5): "unexpected PDU parameter",
    (2, 6): "invalid PDU parameter value",
}


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BxH", kind, len(value)) + value


def _pdu(kind: int, value: bytes) -> bytes:
    return struct.pack(">BxI", kind, len(value)) + value


def _aet(title: str) -> bytes:
    return title.encode("ascii").ljust(16)


def associate_request(
    called: str, calling: str, contexts: list[tuple[str, str]], max_receive: int = MAX_RECEIVE
) -> bytes:
    """An A-ASSOCIATE-RQ proposing each (abstract syntax, transfer syntax) as its own context
    (IDs 1, 3, 5, ...)."""
    items = [_item(0x10, APPLICATION_CONTEXT.encode())]
    for index, (abstract, transfer) in enumerate(contexts):
        syntaxes = _item(0x30, abstract.encode()) + _item(0x40, transfer.encode())
        items.append(_item(0x20, struct.pack(">BxBx", 2 * index + 1, 0) + syntaxes))
    user = _item(0x51, struct.pack(">I", max_receive))
    user += _item(0x52, IMPLEMENTATION_CLASS_UID.encode())
    user += _item(0x55, IMPLEMENTATION_VERSION.encode())
    items.append(_item(0x50, user))
    header = struct.pack(">Hxx", 1) + _aet(called) + _aet(calling) + bytes(32)
    return _pdu(ASSOCIATE_RQ, header + b"".join(items))


def _sub_items(raw: bytes) -> list[tuple[int, bytes]]:
    found, offset = [], 0
    while offset + 4 <= len(raw):
        kind, length = struct.unpack_from(">BxH", raw, offset)
        found.append((kind, raw[offset + 4 : offset + 4 + length]))
        offset += 4 + length
    return found


def parse_accept(body: bytes) -> tuple[dict[int, str], int]:
    """From an A-ASSOCIATE-AC: {accepted context ID: its transfer syntax} and the receiver's
    longest PDU (0: no limit)."""
    accepted, max_send = {}, 0
    for kind, value in _sub_items(body[68:]):
        if kind == 0x21 and len(value) >= 4 and value[2] == 0:
            syntaxes = [v for k, v in _sub_items(value[4:]) if k == 0x40]
            if syntaxes:
                accepted[value[0]] = syntaxes[0].decode("ascii", "replace").rstrip("\0 ")
        elif kind == 0x50:
            for sub, data in _sub_items(value):
                if sub == 0x51 and len(data) == 4:
                    max_send = struct.unpack(">I", data)[0]
    return accepted, max_send


def fragment_size(max_length: int, node: DicomNode) -> int:
    """The longest PDV fragment in a PDU the receiver accepts (``max_length`` 0: no limit),
    even, at most MAX_SEND."""
    if 0 < max_length <= PDV_HEADER + 1:
        raise PermanentFailure(f"{node} accepts PDUs of at most {max_length} bytes: no room")
    return (min(max_length or MAX_SEND, MAX_SEND) - PDV_HEADER) & ~1


def rejection(body: bytes, node: DicomNode) -> Exception:
    """The failure an A-ASSOCIATE-RJ means: transient ones are worth another attempt."""
    result, source, reason = body[1:4]
    said = _REJECT_REASONS.get((source, reason), "no reason given")
    text = f"{node} {_REJECT_RESULTS.get(result, 'rejected')} the association ({said})"
    return TransientFailure(text) if result == 2 else PermanentFailure(text)


def _aborted(body: bytes, node: DicomNode) -> TransientFailure:
    source, reason = body[2:4]
    said = _ABORT_REASONS.get((source, reason), "no reason given")
    by = "its DICOM layer" if source == 2 else "its application"
    return TransientFailure(f"{node} aborted the association ({by}: {said})")


class Association:
    """An association with a receiver: the accepted contexts, messages out and in."""

    def __init__(self, node: DicomNode, connection: socket.socket, timeout: float) -> None:
        self.node, self.timeout = node, timeout
        self._socket = connection
        self._socket.settimeout(timeout)
        self._pdvs: deque[tuple[int, bytes]] = deque()  # (control, fragment): not yet read
        self._fragment = MAX_SEND - PDV_HEADER
        self._broken = False  # the connection is gone or a PDU half sent: write nothing more
        self.accepted: dict[tuple[str, str], int] = {}  # (abstract, transfer) -> context ID

    @classmethod
    def connect(
        cls, node: DicomNode, timeout: float, connect_timeout: float | None = None
    ) -> Association:
        """The TCP connection (made within ``connect_timeout``, default ``timeout``), not
        negotiated yet; TransientFailure when there is none."""
        try:
            connection = socket.create_connection(
                (node.host, node.port), timeout=connect_timeout or timeout
            )
        except OSError as exc:
            raise TransientFailure(f"cannot connect to {node} ({why(exc)})") from None
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(node, connection, timeout)

    @classmethod
    def open(
        cls, node: DicomNode, calling_aet: str, contexts: list[tuple[str, str]], timeout: float
    ) -> Association:
        """Connect and negotiate; raises TransientFailure or PermanentFailure saying why not."""
        if len(contexts) > MAX_CONTEXTS:
            raise PermanentFailure(
                f"{len(contexts)} pairs of SOP class and transfer syntax; "
                f"one association carries at most {MAX_CONTEXTS}"
            )
        association = cls.connect(node, timeout)
        try:
            association.negotiate(calling_aet, contexts)
        except BaseException:
            association.abort()
            raise
        return association

    def negotiate(self, calling_aet: str, contexts: list[tuple[str, str]]) -> None:
        """Propose the contexts; ``accepted`` holds those the receiver took."""
        self._send(associate_request(self.node.aet, calling_aet, contexts))
        kind, body = self._read_pdu()
        if kind == ASSOCIATE_RJ:
            self._broken = True  # the receiver closes the connection
            raise rejection(body, self.node)
        if kind != ASSOCIATE_AC:
            raise TransientFailure(f"{self.node} aborted the association while it was negotiated")
        accepted, max_length = parse_accept(body)
        proposed = {2 * index + 1: abstract for index, (abstract, _) in enumerate(contexts)}
        for context_id, transfer in accepted.items():
            if context_id in proposed:  # an ID never proposed is the receiver's mistake
                self.accepted[(proposed[context_id], transfer)] = context_id
        self._fragment = fragment_size(max_length, self.node)

    def interrupt(self) -> None:
        """Wake a thread that waits on this association (from another thread): it fails."""
        self._broken = True
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)

    def send_message(self, context_id: int, command: bytes, data: bytes | memoryview = b"") -> None:
        """One DIMSE message: the command, then the data set (if any), one PDU a fragment."""
        for flags, payload in ((COMMAND, command), (0, data)):
            view = memoryview(payload)
            for start in range(0, len(view), self._fragment):
                piece = view[start : start + self._fragment]
                last = LAST if start + self._fragment >= len(view) else 0
                header = (P_DATA, len(piece) + PDV_HEADER, len(piece) + 2, context_id, flags | last)
                self._send(struct.pack(">BxIIBB", *header) + piece)

    def receive_message(self) -> tuple[dict[int, int | str], bytes | None]:
        """The next DIMSE message: its command elements and its data set (None: none)."""
        command = decode_command(self._fragments(COMMAND))
        return command, (self._fragments(0) if has_data_set(command) else None)

    def _fragments(self, kind: int) -> bytes:
        parts = []
        while True:
            while not self._pdvs:
                self._read_data()
            control, payload = self._pdvs.popleft()
            if control & COMMAND != kind:
                raise TransientFailure(f"{self.node} broke the DIMSE protocol; aborted")
            parts.append(payload)
            if control & LAST:
                return b"".join(parts)

    def _read_data(self) -> None:
        kind, body = self._read_pdu()
        if kind != P_DATA:  # a release request in the middle of a message, or worse
            raise TransientFailure(f"{self.node} ended the association in the middle of a reply")
        offset = 0
        while offset < len(body):
            if offset + PDV_HEADER > len(body):
                raise TransientFailure(f"{self.node} sent a broken P-DATA-TF PDU; aborted")
            length, _, control = struct.unpack_from(">IBB", body, offset)
            if length < 2 or offset + 4 + length > len(body):
                raise TransientFailure(f"{self.node} sent a broken P-DATA-TF PDU; aborted")
            self._pdvs.append((control, body[offset + PDV_HEADER : offset + 4 + length]))
            offset += 4 + length

    def release(self) -> None:
        """Ask to release; wait at most RELEASE_SECONDS for the answer, then close."""
        # a lost release answer costs nothing: every answer that mattered is in
        try:
            with contextlib.suppress(TransientFailure, PermanentFailure):
                if not self._broken:
                    self._socket.settimeout(min(self.timeout, RELEASE_SECONDS))
                    self._send(_pdu(RELEASE_RQ, bytes(4)))
                    while (kind := self._read_pdu()[0]) != RELEASE_RP:
                        if kind == RELEASE_RQ:  # both asked at once (PS3.8 9.2.2): we answer
                            self._send(_pdu(RELEASE_RP, bytes(4)))
        finally:
            self.close()

    def abort(self) -> None:
        """Abort (as the service user) unless the connection is gone or a PDU half sent,
        then close."""
        if not self._broken:
            with contextlib.suppress(OSError):
                self._socket.sendall(_pdu(ABORT, bytes(4)))
        self.close()

    def close(self) -> None:
        self._broken = True
        self._socket.close()

    def _send(self, data: bytes) -> None:
        try:
            self._socket.sendall(data)
        except TimeoutError:
            self._broken = True
            raise TransientFailure(f"{self.node} took no data for {self.timeout:g} s") from None
        except OSError as exc:
            self._broken = True
            raise TransientFailure(f"{self.node} closed the connection ({why(exc)})") from None

    def _read_pdu(self) -> tuple[int, bytes]:
        header = self._read_exactly(6)
        kind, length = struct.unpack(">BxI", header)
        if not ASSOCIATE_RQ <= kind <= ABORT:
            self._broken = True
            raise PermanentFailure(
                f"{self.node} does not speak DICOM (it answered {bytes(header)!r}...); "
                "is the port the DICOM one?"
            )
        if length > _LONGEST.get(kind, 4) or (kind not in _LONGEST and length != 4):
            self._broken = True
            raise TransientFailure(f"{self.node} sent a PDU of type {kind} of {length} bytes")
        body = self._read_exactly(length)
        if kind == ABORT:
            self._broken = True  # PS3.8 9.2 (AA-3): close, answer nothing
            raise _aborted(body, self.node)
        return kind, body

    def _read_exactly(self, count: int) -> bytes:
        data = bytearray(count)
        view, got = memoryview(data), 0
        while got < count:
            try:
                received = self._socket.recv_into(view[got:])
            except TimeoutError:
                raise TransientFailure(
                    f"{self.node} did not answer within {self.timeout:g} s"
                ) from None
            except OSError as exc:
                self._broken = True
                raise TransientFailure(f"{self.node} closed the connection ({why(exc)})") from None
            if not received:
                self._broken = True
                raise TransientFailure(f"{self.node} closed the connection")
            got += received
        return bytes(data)

    def __enter__(self) -> Association:
        return self

    def __exit__(self, kind, *_) -> None:
        """Release after success, or after a refusal the receiver made in good order; abort
        when the exchange broke."""
        if kind is None or issubclass(kind, PermanentFailure):
            self.release()
        else:
            self.abort()


def why(exc: Exception) -> str:
    """An error's own words: the OS's text for an OSError, else its message or its kind."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
