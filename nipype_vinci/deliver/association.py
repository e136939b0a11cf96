"""A DICOM association as the requestor (PS3.8 upper layer): negotiate presentation contexts,
send and receive DIMSE messages as P-DATA-TF PDUs, release or abort. One blocking socket with
Nagle's algorithm off, no threads; a message's bytes go out as they are (a file's data set is
never decoded), so sending costs little more than the copy into the socket."""

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
MAX_RECEIVE = 1 << 20  # the longest PDU we accept (announced to the receiver)
MAX_SEND = 1 << 20  # the longest PDU we send when the receiver announces no limit
RELEASE_SECONDS = 5.0  # wait at most this for the release answer (it comes in milliseconds)

ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA = 0x01, 0x02, 0x03, 0x04
RELEASE_RQ, RELEASE_RP, ABORT = 0x05, 0x06, 0x07
COMMAND, LAST = 0x01, 0x02  # bits of a PDV's message control header

_REJECT_RESULTS = {1: "rejected permanently", 2: "rejected transiently"}
_REJECT_REASONS = {  # (source, reason) of an A-ASSOCIATE-RJ, PS3.8 9.3.4
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognized",
    (1, 7): "called AE title not recognized",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
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
                accepted[value[0]] = syntaxes[0].decode("ascii").rstrip("\0 ")
        elif kind == 0x50:
            for sub, data in _sub_items(value):
                if sub == 0x51 and len(data) == 4:
                    max_send = struct.unpack(">I", data)[0]
    return accepted, max_send


def rejection(body: bytes, node: DicomNode) -> Exception:
    """The failure an A-ASSOCIATE-RJ means: transient ones are worth another attempt."""
    result, source, reason = body[1], body[2], body[3]
    said = _REJECT_REASONS.get((source, reason), "no reason given")
    text = f"{node} {_REJECT_RESULTS.get(result, 'rejected')} the association ({said})"
    return TransientFailure(text) if result == 2 else PermanentFailure(text)


class Association:
    """An established association: the accepted contexts, messages out and in."""

    def __init__(self, node: DicomNode, connection: socket.socket, timeout: float) -> None:
        self.node, self.timeout = node, timeout
        self._socket = connection
        self._pdvs: deque[tuple[int, int, bytes]] = deque()  # received, not yet read
        self.accepted: dict[tuple[str, str], int] = {}  # (abstract, transfer) -> context ID
        self._fragment = MAX_SEND - 6

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
        try:
            connection = socket.create_connection((node.host, node.port), timeout=timeout)
        except OSError as exc:
            raise TransientFailure(f"cannot connect to {node} ({_why(exc)})") from None
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        association = cls(node, connection, timeout)
        try:
            association._negotiate(calling_aet, contexts)
        except BaseException:
            association.close()
            raise
        return association

    def _negotiate(self, calling_aet: str, contexts: list[tuple[str, str]]) -> None:
        self._send(associate_request(self.node.aet, calling_aet, contexts))
        kind, body = self._read_pdu()
        if kind == ASSOCIATE_RJ:
            raise rejection(body, self.node)
        if kind != ASSOCIATE_AC:
            raise TransientFailure(f"{self.node} aborted the association while it was negotiated")
        accepted, max_send = parse_accept(body)
        proposed = {2 * index + 1: abstract for index, (abstract, _) in enumerate(contexts)}
        for context_id, transfer in accepted.items():
            if context_id in proposed:  # an ID never proposed is the receiver's mistake
                self.accepted[(proposed[context_id], transfer)] = context_id
        self._fragment = (max_send or MAX_SEND) - 6  # a PDV's header: length, ID, control

    def send_message(self, context_id: int, command: bytes, data: bytes | memoryview = b"") -> None:
        """One DIMSE message: the command, then the data set (if any), in PDUs the receiver
        accepts, written in one go."""
        out = bytearray()
        for flags, payload in ((COMMAND, command), (0, data)):
            view = memoryview(payload)
            for start in range(0, len(view), self._fragment):
                piece = view[start : start + self._fragment]
                last = LAST if start + self._fragment >= len(view) else 0
                header = (P_DATA, len(piece) + 6, len(piece) + 2, context_id, flags | last)
                out += struct.pack(">BxIIBB", *header)
                out += piece
        self._send(out)

    def receive_message(self) -> tuple[dict[int, int | str], bytes | None]:
        """The next DIMSE message: its command elements and its data set (None: none)."""
        command = decode_command(self._fragments(COMMAND))
        return command, (self._fragments(0) if has_data_set(command) else None)

    def _fragments(self, kind: int) -> bytes:
        parts = []
        while True:
            while not self._pdvs:
                self._read_data()
            _, control, payload = self._pdvs.popleft()
            if control & COMMAND != kind:
                raise TransientFailure(f"{self.node} broke the DIMSE protocol; aborted")
            parts.append(payload)
            if control & LAST:
                return b"".join(parts)

    def _read_data(self) -> None:
        kind, body = self._read_pdu()
        if kind == ABORT:
            raise TransientFailure(f"{self.node} aborted the association")
        if kind != P_DATA:  # a release request in the middle of a message, or worse
            self.abort()
            raise TransientFailure(f"{self.node} ended the association in the middle of a reply")
        offset = 0
        while offset + 6 <= len(body):
            length, context_id, control = struct.unpack_from(">IBB", body, offset)
            self._pdvs.append((context_id, control, body[offset + 6 : offset + 4 + length]))
            offset += 4 + length

    def release(self) -> None:
        """Ask to release; wait at most RELEASE_SECONDS for the answer, then close."""
        try:
            self._socket.settimeout(min(self.timeout, RELEASE_SECONDS))
            self._send(_pdu(RELEASE_RQ, bytes(4)))
            while self._read_pdu()[0] not in (RELEASE_RP, ABORT):
                pass
        except (TransientFailure, PermanentFailure):
            pass  # every answer that mattered is in
        finally:
            self.close()

    def abort(self) -> None:
        """Abort (as the service user) and close."""
        with contextlib.suppress(OSError):
            self._socket.sendall(_pdu(ABORT, bytes(4)))
        self.close()

    def close(self) -> None:
        self._socket.close()

    def _send(self, data: bytes | bytearray) -> None:
        try:
            self._socket.sendall(data)
        except TimeoutError:
            raise TransientFailure(f"{self.node} took no data for {self.timeout:g} s") from None
        except OSError as exc:
            raise TransientFailure(f"{self.node} closed the connection ({_why(exc)})") from None

    def _read_pdu(self) -> tuple[int, bytes]:
        header = self._read_exactly(6)
        kind, length = struct.unpack(">BxI", header)
        if kind == P_DATA and length > MAX_RECEIVE:
            self.abort()
            raise TransientFailure(f"{self.node} sent a PDU longer than announced ({length} bytes)")
        return kind, self._read_exactly(length)

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
                raise TransientFailure(f"{self.node} closed the connection ({_why(exc)})") from None
            if not received:
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


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
