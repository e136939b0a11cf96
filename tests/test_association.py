"""The DICOM network client without a PACS: A-ASSOCIATE-RQ/AC/RJ bytes, DIMSE command sets and
statuses, P-DATA-TF fragmentation, a peer's abort and silence, the parallel C-STORE sender and
the data set cut from a Part-10 file. Peers are socketpairs or tiny acceptors on 127.0.0.1;
the PDU parsing here is the test's own (PS3.8 9.3), not the module's."""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
import time
import zlib
from functools import partial
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from nipype_vinci.deliver.association import (
    MAX_SEND,
    Association,
    associate_request,
    fragment_size,
    parse_accept,
    rejection,
)
from nipype_vinci.deliver.cstore import proposed_contexts, store_files
from nipype_vinci.deliver.dimse import (
    AFFECTED_SOP_CLASS,
    AFFECTED_SOP_INSTANCE,
    COMMAND_FIELD,
    DATA_SET_TYPE,
    MESSAGE_ID,
    PRIORITY,
    RESPONDED_TO,
    STATUS,
    decode_command,
    encode_command,
    find_request,
    status_category,
    status_meaning,
    store_request,
)
from nipype_vinci.deliver.report import FAILED, STORED, WARNING, FileResult, SeriesReport
from nipype_vinci.deliver.retry import PermanentFailure, TransientFailure, deliver
from nipype_vinci.deliver.series import Instance, Series, data_set
from nipype_vinci.deliver.target import DicomNode
from nipype_vinci.export.fill import IMPLEMENTATION_VERSION
from nipype_vinci.export.uids import IMPLEMENTATION_CLASS_UID

NODE = DicomNode("STORESCP", "127.0.0.1", 11112)
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
PET = "1.2.840.10008.5.1.4.1.1.128"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
ABORT_PDU = bytes.fromhex("07 00 00000004 00 00 02 00")  # A-ABORT from the service provider
SECONDS = 5.0


# --- the test's own PS3.8 encoding and decoding -------------------------------------------


def item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


def pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def items(raw: bytes) -> list[tuple[int, bytes]]:
    """Items or sub-items; every length must land exactly on the end."""
    found, offset = [], 0
    while offset < len(raw):
        kind, reserved, length = struct.unpack_from(">BBH", raw, offset)
        assert reserved == 0
        found.append((kind, raw[offset + 4 : offset + 4 + length]))
        offset += 4 + length
    assert offset == len(raw)
    return found


def exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def read_pdu(sock: socket.socket) -> tuple[int, bytes]:
    kind, reserved, length = struct.unpack(">BBI", exactly(sock, 6))
    assert reserved == 0
    return kind, exactly(sock, length)


def pdvs(body: bytes) -> list[tuple[int, int, bytes]]:
    """(context ID, message control header, fragment) of each PDV of a P-DATA-TF."""
    found, offset = [], 0
    while offset < len(body):
        length, context_id, control = struct.unpack_from(">IBB", body, offset)
        found.append((context_id, control, body[offset + 6 : offset + 4 + length]))
        offset += 4 + length
    assert offset == len(body)
    return found


def accept_body(results: list[tuple[int, int, str]], max_length: int) -> bytes:
    """An A-ASSOCIATE-AC's body, its items in an unusual order: user information first, the
    presentation contexts last to first, the application context at the end."""
    header = struct.pack(">HH", 1, 0) + b"STORESCP".ljust(16) + b"NIPYPE_VINCI".ljust(16)
    user = item(0x52, b"1.2.276.0.7230010.3.0.3.6.7")  # implementation class UID first
    user += item(0x51, struct.pack(">I", max_length)) + item(0x55, b"OFFIS_DCMTK_367")
    contexts = [
        item(0x21, struct.pack(">BBBB", context_id, 0, result, 0) + item(0x40, syntax.encode()))
        for context_id, result, syntax in reversed(results)
    ]
    context = item(0x10, APPLICATION_CONTEXT)
    return header + bytes(32) + item(0x50, user) + b"".join(contexts) + context


def implicit_elements(raw: bytes) -> list[tuple[int, bytes]]:
    """(tag, value) of an Implicit VR Little Endian command set."""
    found, offset = [], 0
    while offset < len(raw):
        group, number, length = struct.unpack_from("<HHI", raw, offset)
        found.append((group << 16 | number, raw[offset + 8 : offset + 8 + length]))
        offset += 8 + length
    assert offset == len(raw)
    return found


def pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.settimeout(SECONDS)
    theirs.settimeout(SECONDS)
    return ours, theirs


def negotiated(
    max_length: int, contexts: list[tuple[str, str]], results: list[tuple[int, int, str]]
) -> tuple[Association, socket.socket]:
    """An association negotiated with a fake acceptor on the other end of a socketpair."""
    ours, theirs = pair()
    requests = []

    def acceptor() -> None:
        requests.append(read_pdu(theirs))
        theirs.sendall(pdu(0x02, accept_body(results, max_length)))

    thread = threading.Thread(target=acceptor)
    thread.start()
    association = Association(NODE, ours, SECONDS)
    association.negotiate("NIPYPE_VINCI", contexts)
    thread.join()
    assert requests[0][0] == 0x01
    return association, theirs


# --- A-ASSOCIATE-RQ / AC / RJ ---------------------------------------------------------------


def test_associate_request_parses_back() -> None:
    contexts = [(CT, EXPLICIT), (MR, IMPLICIT), (PET, "1.2.840.10008.1.2.4.70")]
    raw = associate_request("STORESCP", "NIPYPE_VINCI", contexts, max_receive=16384)
    kind, reserved, length = struct.unpack_from(">BBI", raw)
    assert (kind, reserved, length) == (0x01, 0, len(raw) - 6)
    body = raw[6:]
    assert struct.unpack_from(">HH", body) == (1, 0)  # protocol version 1, reserved
    assert body[4:20] == b"STORESCP        "  # called AE title, space padded to 16
    assert body[20:36] == b"NIPYPE_VINCI    "  # calling AE title
    assert body[36:68] == bytes(32)
    found = items(body[68:])
    assert [k for k, _ in found] == [0x10, 0x20, 0x20, 0x20, 0x50]
    assert found[0][1] == APPLICATION_CONTEXT
    for index, (_, value) in enumerate(found[1:4]):
        assert value[:4] == bytes([2 * index + 1, 0, 0, 0])  # context IDs 1, 3, 5
        abstract, transfer = contexts[index]
        assert items(value[4:]) == [(0x30, abstract.encode()), (0x40, transfer.encode())]
    assert items(found[4][1]) == [
        (0x51, struct.pack(">I", 16384)),
        (0x52, IMPLEMENTATION_CLASS_UID.encode()),
        (0x55, IMPLEMENTATION_VERSION.encode()),
    ]
    assert 1 <= len(IMPLEMENTATION_VERSION) <= 16 and len(IMPLEMENTATION_CLASS_UID) <= 64


def test_more_than_128_contexts_are_refused_before_connecting() -> None:
    unreachable = DicomNode("STORESCP", "127.0.0.1", 9)  # never contacted
    contexts = [(f"1.2.3.{i}", EXPLICIT) for i in range(129)]
    with pytest.raises(PermanentFailure, match="129 pairs .* carries at most 128"):
        Association.open(unreachable, "NIPYPE_VINCI", contexts, 0.5)


RESULTS = [
    (1, 0, EXPLICIT),  # accepted
    (3, 3, EXPLICIT),  # abstract syntax not supported: its syntax is not significant
    (5, 0, IMPLICIT + "\0"),  # accepted, padded by a careless acceptor
    (7, 4, ""),  # transfer syntaxes not supported
]


def test_parse_accept_in_any_item_order_with_rejected_contexts_and_no_limit() -> None:
    assert parse_accept(accept_body(RESULTS, 0)) == ({1: EXPLICIT, 5: IMPLICIT}, 0)
    assert parse_accept(accept_body(RESULTS, 28672))[1] == 28672


@pytest.mark.parametrize("max_length, fragment", [(0, MAX_SEND - 6), (16384, 16378)])
def test_negotiation_maps_context_ids_to_pairs(max_length: int, fragment: int) -> None:
    contexts = [(CT, EXPLICIT), (MR, EXPLICIT), (CT, IMPLICIT), (PET, EXPLICIT)]
    association, theirs = negotiated(max_length, contexts, RESULTS)
    assert association.accepted == {(CT, EXPLICIT): 1, (CT, IMPLICIT): 5}
    assert association._fragment == fragment
    association.close()
    theirs.close()


@pytest.mark.parametrize(
    "result, source, reason, kind, text",
    [
        (1, 1, 7, PermanentFailure, "rejected permanently the association (called AE title "),
        (1, 1, 3, PermanentFailure, "rejected permanently the association (calling AE title "),
        (1, 1, 2, PermanentFailure, "(application context name not supported)"),
        (1, 2, 2, PermanentFailure, "(protocol version not supported)"),
        (1, 1, 1, PermanentFailure, "rejected permanently the association (no reason given)"),
        (2, 3, 1, TransientFailure, "rejected transiently the association (temporary congestion)"),
        (2, 3, 2, TransientFailure, "rejected transiently the association (local limit exceeded)"),
    ],
)
def test_rejection(result: int, source: int, reason: int, kind: type, text: str) -> None:
    failure = rejection(bytes([0, result, source, reason]), NODE)
    assert type(failure) is kind
    assert str(failure).startswith("STORESCP@127.0.0.1:11112 ") and text in str(failure)


def test_a_rejected_association_raises_and_is_closed() -> None:
    ours, theirs = pair()
    theirs.sendall(pdu(0x03, bytes([0, 1, 1, 7])))
    association = Association(NODE, ours, SECONDS)
    with pytest.raises(PermanentFailure, match="called AE title not recognized"):
        association.negotiate("NIPYPE_VINCI", [(CT, EXPLICIT)])
    assert read_pdu(theirs)[0] == 0x01  # the request went out before the answer was read


# --- DIMSE command sets and statuses --------------------------------------------------------


def test_command_set_encoding_and_round_trip() -> None:
    sop_class, instance = "1.2.3", "1.2.826.0.1.3680043.2.1125.17"  # 5 and 29 characters
    assert len(sop_class) % 2 == len(instance) % 2 == 1
    raw = store_request(0xFFFF, sop_class, instance)
    elements = implicit_elements(raw)
    assert [tag for tag, _ in elements] == [0x0, 0x2, 0x100, 0x110, 0x700, 0x800, 0x1000]
    assert elements[0][1] == struct.pack("<I", len(raw) - 12)  # group length: what follows it
    values = dict(elements)
    assert values[AFFECTED_SOP_CLASS] == b"1.2.3\0"  # UIs padded with NUL to even length
    assert values[AFFECTED_SOP_INSTANCE] == instance.encode() + b"\0"
    assert values[COMMAND_FIELD] == b"\x01\x00" and values[MESSAGE_ID] == b"\xff\xff"
    assert all(len(value) % 2 == 0 for value in values.values())
    decoded = decode_command(raw)
    del decoded[0x0]
    assert decoded == {
        AFFECTED_SOP_CLASS: sop_class,
        COMMAND_FIELD: 0x0001,
        MESSAGE_ID: 0xFFFF,
        PRIORITY: 0x0000,
        DATA_SET_TYPE: 0x0000,
        AFFECTED_SOP_INSTANCE: instance,
    }
    # pydicom reads the same command set
    command = read_dataset(io.BytesIO(raw), is_implicit_VR=True, is_little_endian=True)
    assert command.CommandGroupLength == len(raw) - 12
    assert command.AffectedSOPClassUID == sop_class and command.MessageID == 0xFFFF
    assert command.AffectedSOPInstanceUID == instance and command.CommandDataSetType == 0


def test_find_request_and_a_response() -> None:
    request = decode_command(find_request(1, "1.2.840.10008.5.1.4.1.2.2.1"))
    assert request[COMMAND_FIELD] == 0x0020 and AFFECTED_SOP_INSTANCE not in request
    response = encode_command(
        {COMMAND_FIELD: 0x8001, RESPONDED_TO: 9, DATA_SET_TYPE: 0x0101, STATUS: 0xB000}
    )
    decoded = decode_command(response)
    assert (decoded[COMMAND_FIELD], decoded[RESPONDED_TO], decoded[STATUS]) == (0x8001, 9, 0xB000)


@pytest.mark.parametrize(
    "code, category, meaning",
    [
        (0x0000, "Success", "Success"),
        (0xB000, "Warning", "Coercion of data elements"),
        (0x0107, "Warning", "Attribute list error"),
        (0xA700, "Failure", "Out of resources"),
        (0xA9FF, "Failure", "Data set does not match SOP class"),
        (0xC123, "Failure", "Cannot understand"),
        (0x0122, "Failure", "SOP class not supported"),
        (0xFF00, "Pending", "Pending"),
        (0xFE00, "Cancel", "Cancel"),
    ],
)
def test_status_category_and_meaning(code: int, category: str, meaning: str) -> None:
    assert status_category(code) == category
    assert status_meaning(code) == meaning


def test_pending_is_pending_and_an_unknown_code_says_so() -> None:
    assert status_category(0xFF00) == status_category(0xFF01) == "Pending"
    assert status_meaning(0x0999) == "unknown status" and status_category(0x0999) == "Failure"


# --- P-DATA-TF: fragmentation, receiving, a peer's abort, silence ---------------------------


def sent_pdus(theirs: socket.socket) -> list[tuple[int, bytes]]:
    """PDUs read until the last fragment of a data set."""
    found = []
    while True:
        found.append(read_pdu(theirs))
        if any(control == 0x02 for _, control, _ in pdvs(found[-1][1])):
            return found


@pytest.mark.parametrize(
    "max_length, size",
    [(64, 20_001), (4096, 100_001), (4096, 3 * 4090), (0, 2 * MAX_SEND + 1001)],
    ids=["64", "4096", "4096-whole-fragments", "unlimited"],
)
def test_send_message_fragments_within_the_maximum(max_length: int, size: int) -> None:
    association, theirs = negotiated(max_length, [(CT, EXPLICIT)], [(1, 0, EXPLICIT)])
    limit = max_length or MAX_SEND
    command = store_request(7, CT, "1.2.3.4.5")
    data = np.random.default_rng(size).bytes(size)

    sender = threading.Thread(target=association.send_message, args=(1, command, data))
    sender.start()
    found = sent_pdus(theirs)
    sender.join()
    fragments = []
    for kind, body in found:
        assert kind == 0x04 and len(body) <= limit
        [(context_id, control, fragment)] = pdvs(body)  # one PDV each
        assert context_id == 1
        fragments.append((control, fragment))
    commands = [(c, f) for c, f in fragments if c & 0x01]
    datas = [(c, f) for c, f in fragments if not c & 0x01]
    assert fragments == commands + datas  # the whole command before the data set
    assert [c for c, _ in commands] == [0x01] * (len(commands) - 1) + [0x03]
    assert [c for c, _ in datas] == [0x00] * (len(datas) - 1) + [0x02]
    assert b"".join(f for _, f in commands) == command
    assert b"".join(f for _, f in datas) == data
    assert {len(f) for _, f in datas[:-1]} == {limit - 6}  # full fragments but the last
    assert len(datas) == -(-size // (limit - 6))
    if max_length == 64:
        assert len(commands) > 1

    # the same message, read by receive_message on the other end
    sender = threading.Thread(target=association.send_message, args=(1, command, data))
    sender.start()
    received, received_data = Association(NODE, theirs, SECONDS).receive_message()
    sender.join()
    assert received[MESSAGE_ID] == 7 and received[AFFECTED_SOP_INSTANCE] == "1.2.3.4.5"
    assert received_data == data
    association.close()
    theirs.close()


def test_receive_message_joins_pdvs_of_one_pdu_and_skips_an_absent_data_set() -> None:
    ours, theirs = pair()
    response = encode_command(
        {COMMAND_FIELD: 0x8001, RESPONDED_TO: 3, DATA_SET_TYPE: 0x0101, STATUS: 0x0000}
    )
    half = len(response) // 2
    first = struct.pack(">IBB", half + 2, 1, 0x01) + response[:half]
    last = struct.pack(">IBB", len(response) - half + 2, 1, 0x03) + response[half:]
    theirs.sendall(pdu(0x04, first + last))  # two PDVs in one P-DATA-TF
    command, data = Association(NODE, ours, SECONDS).receive_message()
    assert (command[RESPONDED_TO], command[STATUS], data) == (3, 0x0000, None)


def test_a_peer_abort_during_receive_names_the_node() -> None:
    ours, theirs = pair()
    first = encode_command({COMMAND_FIELD: 0x8001, RESPONDED_TO: 1})[:10]
    theirs.sendall(pdu(0x04, struct.pack(">IBB", len(first) + 2, 1, 0x01) + first) + ABORT_PDU)
    with pytest.raises(TransientFailure, match=r"^STORESCP@127\.0\.0\.1:11112 aborted the assoc"):
        Association(NODE, ours, SECONDS).receive_message()


def test_a_release_request_in_the_middle_of_a_reply_is_answered_with_an_abort() -> None:
    ours, theirs = pair()
    theirs.sendall(pdu(0x05, bytes(4)))
    with (
        pytest.raises(TransientFailure, match="STORESCP@127.0.0.1:11112 ended the association"),
        Association(NODE, ours, SECONDS) as association,
    ):
        association.receive_message()
    assert read_pdu(theirs) == (0x07, bytes(4))  # the framing is intact: an A-ABORT goes out


@pytest.mark.parametrize("sent", [b"", pdu(0x04, bytes(20))[:9]], ids=["nothing", "half a PDU"])
def test_a_silent_peer_times_out(sent: bytes) -> None:
    ours, theirs = pair()
    ours.settimeout(0.2)  # Association takes the socket's own timeout (open() sets it)
    theirs.sendall(sent)
    started = time.perf_counter()
    with pytest.raises(TransientFailure, match=r"^STORESCP@127\.0\.0\.1:11112 did not answer wi"):
        Association(NODE, ours, 0.2).receive_message()
    assert 0.15 < time.perf_counter() - started < 2
    theirs.close()


def test_a_closed_connection() -> None:
    ours, theirs = pair()
    theirs.close()
    with pytest.raises(TransientFailure, match="STORESCP@127.0.0.1:11112 closed the connection"):
        Association(NODE, ours, SECONDS).receive_message()


def test_release_waits_for_the_answer_then_closes() -> None:
    association, theirs = negotiated(16384, [(CT, EXPLICIT)], [(1, 0, EXPLICIT)])

    def acceptor() -> None:
        assert read_pdu(theirs) == (0x05, bytes(4))
        theirs.sendall(pdu(0x06, bytes(4)))

    thread = threading.Thread(target=acceptor)
    thread.start()
    association.release()
    thread.join()
    assert association._socket.fileno() == -1
    assert theirs.recv(1) == b""


# --- C-STORE over parallel associations, against an acceptor on 127.0.0.1 ------------------


class Acceptor:
    """A tiny C-STORE SCP on 127.0.0.1: accepts every proposed context, answers each C-STORE
    (0xB000 for instance UIDs ending in 7, else success) after ``delay`` seconds, and records
    (connection number, message ID, SOP instance UID, data set). ``serial``: one association
    at a time, the next connection waits (like DCMTK's storescp without --fork)."""

    def __init__(self, *, serial: bool = False, delay: float = 0.01) -> None:
        self.serial, self.delay = serial, delay
        self.stored: list[tuple[int, int, str, bytes]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Acceptor:
        self._threads.append(threading.Thread(target=self._accept))
        self._threads[0].start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(SECONDS)
            with self._lock:
                self.connections += 1
                number = self.connections
            if self.serial:
                self._serve(connection, number)
            else:
                thread = threading.Thread(target=self._serve, args=(connection, number))
                self._threads.append(thread)
                thread.start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        with connection, contextlib.suppress(OSError, EOFError):
            kind, body = read_pdu(connection)
            assert kind == 0x01
            proposed = [items(v[4:]) for k, v in items(body[68:]) if k == 0x20]
            results = [(2 * i + 1, self.result(number), sub[1][1].decode()) for i, sub in
                       enumerate(proposed)]  # fmt: skip
            connection.sendall(pdu(0x02, accept_body(results, 16384)))
            parts: dict[int, list[bytes]] = {0: [], 1: []}
            while True:
                kind, body = read_pdu(connection)
                if kind == 0x05:
                    connection.sendall(pdu(0x06, bytes(4)))
                    return
                assert kind == 0x04
                for context_id, control, fragment in pdvs(body):
                    parts[control & 1].append(fragment)
                    if control == 0x02:
                        self._answer(connection, number, context_id, parts)
                        parts = {0: [], 1: []}

    def result(self, number: int) -> int:
        """The result for every context proposed on connection ``number`` (0: accepted)."""
        return 0

    def _answer(self, connection, number, context_id, parts) -> None:
        command = decode_command(b"".join(parts[1]))
        uid = command[AFFECTED_SOP_INSTANCE]
        with self._lock:
            self.stored.append((number, command[MESSAGE_ID], uid, b"".join(parts[0])))
        time.sleep(self.delay)
        response = encode_command(
            {
                AFFECTED_SOP_CLASS: command[AFFECTED_SOP_CLASS],
                COMMAND_FIELD: 0x8001,
                RESPONDED_TO: command[MESSAGE_ID],
                DATA_SET_TYPE: 0x0101,
                STATUS: 0xB000 if uid.endswith("7") else 0x0000,
                AFFECTED_SOP_INSTANCE: uid,
            }
        )
        pdv = struct.pack(">IBB", len(response) + 2, context_id, 0x03) + response
        connection.sendall(pdu(0x04, pdv))


def ct_file(folder: Path, number: int, syntax: str = ExplicitVRLittleEndian) -> Instance:
    """A small CT image file written by pydicom (a data set of odd-length UIDs)."""
    uid = f"1.2.826.0.1.3680043.9.7.{number}"
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = CT, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4", "1.2.3.4.5"
    ds.Modality, ds.PatientName, ds.InstanceNumber = "CT", "Test^Patient", number
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.arange(64, dtype="<u2").tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = CT, uid
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.SourceApplicationEntityTitle = "ODD"  # a 3-character AE, padded to 4
    ds.file_meta.PrivateInformationCreatorUID = "1.2.3"
    ds.file_meta.PrivateInformation = b"\x01\x02\x03\x04"  # OB: a 4-byte length
    path = folder / f"IM_{number:05d}.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return Instance(path, CT, uid, str(syntax))


def test_parallel_associations_store_each_file_once(tmp_path: Path) -> None:
    results = [FileResult(ct_file(tmp_path, number)) for number in range(1, 25)]
    with Acceptor(delay=0.01) as acceptor:
        node = DicomNode("STORESCP", "127.0.0.1", acceptor.port)
        store_files(node, results, calling_aet="NIPYPE_VINCI", timeout=SECONDS, associations=3)
    uids = [uid for _, _, uid, _ in acceptor.stored]
    assert sorted(uids) == sorted(r.instance.sop_instance_uid for r in results)  # each once
    files = {r.instance.sop_instance_uid: r.instance.path for r in results}
    assert all(data == bytes(data_set(files[uid])) for _, _, uid, data in acceptor.stored)
    by_connection = {}
    for number, message_id, _, _ in acceptor.stored:
        by_connection.setdefault(number, []).append(message_id)
    assert len(by_connection) >= 2  # the extra associations took files
    for message_ids in by_connection.values():  # numbered per association, from 1
        assert message_ids == list(range(1, len(message_ids) + 1))
    for result in results:
        warned = result.instance.sop_instance_uid.endswith("7")
        assert (result.outcome, result.status) == (
            (WARNING, "0xB000") if warned else (STORED, "0x0000")
        )
    assert results[6].reason == (
        f"{node} answered 0xB000 (Coercion of data elements)"  # IM_00007
    )


def test_a_serial_acceptor_does_not_stall_the_send(tmp_path: Path) -> None:
    results = [FileResult(ct_file(tmp_path, number)) for number in range(1, 4)]
    with Acceptor(serial=True, delay=0) as acceptor:
        node = DicomNode("STORESCP", "127.0.0.1", acceptor.port)
        started = time.perf_counter()
        store_files(node, results, calling_aet="NIPYPE_VINCI", timeout=1.5, associations=2)
        elapsed = time.perf_counter() - started
    assert {r.outcome for r in results} == {STORED}
    assert elapsed < 1.0


# --- the data set of a Part-10 file ---------------------------------------------------------


@pytest.mark.parametrize(
    "syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian]
)
def test_data_set_is_exactly_what_follows_the_meta_group(tmp_path: Path, syntax) -> None:
    instance = ct_file(tmp_path, 3, syntax)
    raw = instance.path.read_bytes()
    written = pydicom.dcmread(instance.path)
    meta_end = 132 + 12 + written.file_meta.FileMetaInformationGroupLength
    got = data_set(instance.path)
    assert isinstance(got, memoryview) and bytes(got) == raw[meta_end:]

    alone = DicomBytesIO()
    alone.is_little_endian = True
    alone.is_implicit_VR = syntax == ImplicitVRLittleEndian
    write_dataset(alone, written)  # the data set alone (file_meta is not one of its elements)
    if syntax == DeflatedExplicitVRLittleEndian:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        assert inflater.decompress(bytes(got)) == alone.getvalue()
        assert inflater.unused_data in (b"", b"\0")  # pydicom pads to even length
    else:
        assert bytes(got) == alone.getvalue()
        assert bytes(got[:4]) == b"\x08\x00\x16\x00"  # (0008,0016) SOPClassUID comes first


# --- a broken peer, the time-out, release collisions, lost answers -------------------------


def test_a_peer_abort_is_not_answered() -> None:
    ours, theirs = pair()
    theirs.sendall(ABORT_PDU)
    with (
        pytest.raises(TransientFailure, match=r"aborted the association \(its DICOM layer"),
        Association(NODE, ours, SECONDS) as association,
    ):
        association.receive_message()
    assert theirs.recv(100) == b""  # closed, and nothing written (PS3.8 9.2, AA-3)


def test_a_port_that_does_not_speak_dicom_is_a_permanent_failure() -> None:
    ours, theirs = pair()
    theirs.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    association = Association(NODE, ours, SECONDS)
    with pytest.raises(PermanentFailure, match="does not speak DICOM .* the DICOM one"):
        association.negotiate("NIPYPE_VINCI", [(CT, EXPLICIT)])


@pytest.mark.parametrize("max_length, size", [(0, MAX_SEND - 6), (4097, 4090), (1 << 24, None)])
def test_fragments_are_even_and_at_most_max_send(max_length: int, size: int | None) -> None:
    assert fragment_size(max_length, NODE) == (size or MAX_SEND - 6)


@pytest.mark.parametrize("max_length", [1, 6, 7])
def test_a_maximum_length_with_no_room_for_data_is_refused(max_length: int) -> None:
    with pytest.raises(PermanentFailure, match=f"at most {max_length} bytes"):
        fragment_size(max_length, NODE)


def test_the_time_out_is_for_silence_not_for_the_whole_message() -> None:
    """A receiver that reads steadily but slowly (64 KB every 0.05 s): the message takes
    several times the time-out (1 s), and goes through."""
    association, theirs = negotiated(16384, [(CT, EXPLICIT)], [(1, 0, EXPLICIT)])
    association._socket.settimeout(1.0)
    data = np.random.default_rng(5).bytes(4_000_000)
    sent = threading.Event()

    def slow_reader() -> None:
        theirs.settimeout(0.5)
        with contextlib.suppress(TimeoutError):
            while theirs.recv(65536) or not sent.is_set():
                time.sleep(0.05)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    started = time.perf_counter()
    association.send_message(1, store_request(1, CT, "1.2.3"), data)
    seconds = time.perf_counter() - started
    sent.set()
    reader.join()
    assert seconds > 2.0  # twice the time-out at least, without a failure


def test_a_half_sent_pdu_is_not_followed_by_an_abort() -> None:
    ours, theirs = pair()
    association = Association(NODE, ours, 0.2)  # one PDU of up to MAX_SEND bytes
    data = np.random.default_rng(6).bytes(3 * MAX_SEND)
    with (
        pytest.raises(TransientFailure, match="took no data for 0.2 s"),
        association,
    ):
        association.send_message(1, b"", data)  # nobody reads: the buffers fill up
    received = bytearray()
    with contextlib.suppress(OSError):
        while chunk := theirs.recv(1 << 16):
            received += chunk
    header = struct.pack(">BxIIBB", 0x04, MAX_SEND, MAX_SEND - 4, 1, 0x00)
    expected = header + data[: MAX_SEND - 6]
    assert 0 < len(received) < len(expected)  # half a PDU, closed without an A-ABORT
    assert bytes(received) == expected[: len(received)]


def test_a_release_collision_is_answered() -> None:
    association, theirs = negotiated(16384, [(CT, EXPLICIT)], [(1, 0, EXPLICIT)])

    def acceptor() -> None:  # asks for a release too, and waits for our answer first
        assert read_pdu(theirs) == (0x05, bytes(4))
        theirs.sendall(pdu(0x05, bytes(4)))
        assert read_pdu(theirs) == (0x06, bytes(4))
        theirs.sendall(pdu(0x06, bytes(4)))

    thread = threading.Thread(target=acceptor)
    thread.start()
    started = time.perf_counter()
    association.release()
    thread.join()
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("shift", [0, -10, 10])
def test_a_deflated_data_set_starts_where_it_inflates(tmp_path: Path, shift: int) -> None:
    """A deflated data set may begin like a meta element, and its group length may be wrong:
    of the walk's end and the group length's, the start that inflates to a tag wins."""
    path = ct_file(tmp_path, 1, DeflatedExplicitVRLittleEndian).path
    raw = bytearray(path.read_bytes())
    right = struct.unpack_from("<I", raw, 140)[0]
    struct.pack_into("<I", raw, 140, right + shift)
    path.write_bytes(raw)
    assert bytes(data_set(path)) == bytes(raw[144 + right :])
    assert zlib.decompress(bytes(data_set(path)), -zlib.MAX_WBITS)[:2] == b"\x08\x00"


@pytest.mark.parametrize("wrong", [0, 1000])
def test_a_wrong_group_length_is_not_believed(tmp_path: Path, wrong: int) -> None:
    """A meta group length that misses the elements (common in the wild): the data set is
    what pydicom reads as one, not the bytes the length points at."""
    path = ct_file(tmp_path, 1).path
    raw = bytearray(path.read_bytes())
    right = struct.unpack_from("<I", raw, 140)[0]
    struct.pack_into("<I", raw, 140, right + wrong if wrong else right - 10)
    path.write_bytes(raw)
    expected = bytes(raw[144 + right :])
    assert bytes(data_set(path)) == expected
    assert pydicom.dcmread(path).SOPInstanceUID == "1.2.826.0.1.3680043.9.7.1"


def test_a_file_gone_before_its_turn_fails_alone(tmp_path: Path) -> None:
    results = [FileResult(ct_file(tmp_path, number)) for number in range(1, 4)]
    results[1].instance.path.unlink()
    with Acceptor(delay=0) as acceptor:
        node = DicomNode("STORESCP", "127.0.0.1", acceptor.port)
        store_files(node, results, calling_aet="NIPYPE_VINCI", timeout=SECONDS)
    assert [r.outcome for r in results] == [STORED, FAILED, STORED]
    assert results[1].reason == "cannot read it any more (No such file or directory)"


class LosesTheFirstAnswer(Acceptor):
    """Stores the first file and drops the connection instead of answering; afterwards
    answers 0x0111 (duplicate SOP instance) for a file it already holds."""

    def _answer(self, connection, number, context_id, parts) -> None:
        uid = decode_command(b"".join(parts[1]))[AFFECTED_SOP_INSTANCE]
        held = [stored[2] for stored in self.stored]
        if not held:
            self.stored.append((number, 1, uid, b""))
            connection.close()
            raise OSError("dropped")
        if uid in held:
            self._respond(connection, context_id, parts, 0x0111)
        else:
            super()._answer(connection, number, context_id, parts)

    def _respond(self, connection, context_id, parts, status: int) -> None:
        command = decode_command(b"".join(parts[1]))
        response = encode_command(
            {COMMAND_FIELD: 0x8001, RESPONDED_TO: command[MESSAGE_ID], STATUS: status}
        )
        pdv = struct.pack(">IBB", len(response) + 2, context_id, 0x03) + response
        connection.sendall(pdu(0x04, pdv))


def test_a_duplicate_answer_after_a_lost_one_counts_as_stored(tmp_path: Path) -> None:
    report = SeriesReport.of(Series("1.2.3.4.5", "1.2.3.4", [ct_file(tmp_path, i) for i in (1, 2)]))
    with LosesTheFirstAnswer(delay=0) as acceptor:
        node = DicomNode("STORESCP", "127.0.0.1", acceptor.port)
        attempt = partial(store_files, node, calling_aet="NIPYPE_VINCI", timeout=SECONDS)
        deliver(report, attempt, retries=1, sleep=lambda seconds: None)
    first, second = report.files
    assert report.attempts == 2
    assert (first.outcome, first.status) == (WARNING, "0x0111")
    assert "sent by the attempt before, whose answer was lost" in first.reason
    assert (second.outcome, second.status) == (STORED, "0x0000")


class AnswersDuplicate(LosesTheFirstAnswer):
    """Answers 0x0111 (duplicate SOP instance) to every file: it holds another instance
    under each UID."""

    def _answer(self, connection, number, context_id, parts) -> None:
        self._respond(connection, context_id, parts, 0x0111)


def test_a_duplicate_on_the_first_attempt_is_a_failure(tmp_path: Path) -> None:
    """0x0111 for a file never sent before: another instance holds its UID on the receiver."""
    report = SeriesReport.of(Series("1.2.3.4.5", "1.2.3.4", [ct_file(tmp_path, 1)]))
    with AnswersDuplicate(delay=0) as acceptor:
        node = DicomNode("STORESCP", "127.0.0.1", acceptor.port)
        attempt = partial(store_files, node, calling_aet="NIPYPE_VINCI", timeout=SECONDS)
        deliver(report, attempt, retries=1, sleep=lambda seconds: None)
    (result,) = report.files
    assert report.attempts == 1 and (result.outcome, result.status) == (FAILED, "0x0111")
    assert result.reason == f"{node} answered 0x0111 (Duplicate SOP instance)"


def test_uncompressed_files_also_propose_implicit_vr_compressed_ones_do_not() -> None:
    jpeg_ls = "1.2.840.10008.1.2.4.80"
    files = [
        Instance(Path("a"), CT, "1.1", EXPLICIT),
        Instance(Path("b"), MR, "1.2", DeflatedExplicitVRLittleEndian),
        Instance(Path("c"), PET, "1.3", jpeg_ls),
        Instance(Path("d"), PET, "1.4", IMPLICIT),
    ]
    assert proposed_contexts(files) == sorted(
        [
            (CT, EXPLICIT),
            (CT, IMPLICIT),
            (MR, DeflatedExplicitVRLittleEndian),
            (MR, IMPLICIT),
            (PET, jpeg_ls),
            (PET, IMPLICIT),
        ]
    )
    many = [Instance(Path(f"{i}"), f"1.2.3.{i}", f"1.4.{i}", EXPLICIT) for i in range(100)]
    assert proposed_contexts(many) == sorted((f"1.2.3.{i}", EXPLICIT) for i in range(100))


class AcceptsNoContextAfterTheFirst(Acceptor):
    def result(self, number: int) -> int:
        return 0 if number == 1 else 3  # abstract syntax not supported


def test_an_extra_association_without_the_contexts_takes_no_file(tmp_path: Path) -> None:
    results = [FileResult(ct_file(tmp_path, number)) for number in range(1, 13)]
    with AcceptsNoContextAfterTheFirst(delay=0.01) as acceptor:
        node = DicomNode("STORESCP", "127.0.0.1", acceptor.port)
        store_files(node, results, calling_aet="NIPYPE_VINCI", timeout=SECONDS, associations=3)
    assert {r.outcome for r in results} == {STORED, WARNING}  # 0xB000 for IM_00007
    assert {number for number, *_ in acceptor.stored} == {1}
