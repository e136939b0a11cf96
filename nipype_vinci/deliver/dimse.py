"""DIMSE messages (PS3.7): the C-STORE and C-FIND command sets a sender writes, the responses
it reads, what their status codes mean, and data sets in Implicit VR Little Endian, the one
transfer syntax every receiver accepts (PS3.5 10.1). A command set is always in it."""

from __future__ import annotations

import struct

C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
NO_DATA_SET = 0x0101  # CommandDataSetType: nothing follows the command
DATA_SET = 0x0000  # CommandDataSetType: a data set follows (any value but 0x0101)
MEDIUM_PRIORITY = 0x0000

AFFECTED_SOP_CLASS, COMMAND_FIELD, MESSAGE_ID = 0x00000002, 0x00000100, 0x00000110
RESPONDED_TO, PRIORITY, DATA_SET_TYPE = 0x00000120, 0x00000700, 0x00000800
STATUS, ERROR_COMMENT, AFFECTED_SOP_INSTANCE = 0x00000900, 0x00000902, 0x00001000
_US = {COMMAND_FIELD, MESSAGE_ID, RESPONDED_TO, PRIORITY, DATA_SET_TYPE, STATUS}

IMPLICIT_LITTLE_ENDIAN = "1.2.840.10008.1.2"
PENDING = (0xFF00, 0xFF01)
CANCEL = 0xFE00
DUPLICATE_SOP_INSTANCE = 0x0111

# PS3.4 B.2.3 (Storage) and PS3.7 C (general): the codes a storage receiver answers
_MEANINGS = {
    0x0000: "Success",
    0x0001: "Requested optional attributes are not supported",
    0x0107: "Attribute list error",
    0x0110: "Processing failure",
    0x0111: "Duplicate SOP instance",
    0x0116: "Attribute value out of range",
    0x0117: "Invalid SOP instance",
    0x0118: "No such SOP class",
    0x0122: "SOP class not supported",
    0x0124: "Not authorized",
    0x0210: "Duplicate invocation",
    0x0211: "Unrecognized operation",
    0x0212: "Mistyped argument",
    0x0213: "Resource limitation",
    0xB000: "Coercion of data elements",
    0xB006: "Elements discarded",
    0xB007: "Data set does not match SOP class",
    0xFE00: "Cancel",
    0xFF00: "Pending",
    0xFF01: "Pending (optional keys not supported)",
}
_RANGES = [
    (0xA700, 0xA7FF, "Out of resources"),
    (0xA900, 0xA9FF, "Data set does not match SOP class"),
    (0xC000, 0xCFFF, "Cannot understand"),
]


def status_meaning(code: int) -> str:
    """The standard's name for a status code, or ``unknown status``."""
    if code in _MEANINGS:
        return _MEANINGS[code]
    return next((name for low, high, name in _RANGES if low <= code <= high), "unknown status")


def status_category(code: int) -> str:
    """``Success``, ``Warning``, ``Pending``, ``Cancel`` or ``Failure`` (PS3.7 C.1-C.5)."""
    if code == 0x0000:
        return "Success"
    if code in PENDING:
        return "Pending"
    if code == CANCEL:
        return "Cancel"
    if code in (0x0001, 0x0107, 0x0116) or 0xB000 <= code <= 0xBFFF:
        return "Warning"
    return "Failure"


def _element(tag: int, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\0"  # UIs pad with NUL, other strings with a space: only UIs are odd here
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


def encode_command(elements: dict[int, int | str]) -> bytes:
    """A command set: the group length, then the elements in tag order (US ints, UI strings)."""
    body = b"".join(
        _element(tag, struct.pack("<H", value) if tag in _US else str(value).encode("ascii"))
        for tag, value in sorted(elements.items())
    )
    return _element(0x00000000, struct.pack("<I", len(body))) + body


def decode_command(raw: bytes) -> dict[int, int | str]:
    """The elements of a received command set: US as ints, the others as stripped text."""
    elements: dict[int, int | str] = {}
    offset = 0
    while offset + 8 <= len(raw):
        group, number, length = struct.unpack_from("<HHI", raw, offset)
        value = raw[offset + 8 : offset + 8 + length]
        tag = group << 16 | number
        if tag in _US and length == 2:
            elements[tag] = struct.unpack("<H", value)[0]
        else:
            elements[tag] = value.decode("ascii", "replace").rstrip("\0 ")
        offset += 8 + length
    return elements


def store_request(message_id: int, sop_class_uid: str, sop_instance_uid: str) -> bytes:
    """A C-STORE-RQ whose data set follows."""
    return encode_command(
        {
            AFFECTED_SOP_CLASS: sop_class_uid,
            COMMAND_FIELD: C_STORE_RQ,
            MESSAGE_ID: message_id,
            PRIORITY: MEDIUM_PRIORITY,
            DATA_SET_TYPE: DATA_SET,
            AFFECTED_SOP_INSTANCE: sop_instance_uid,
        }
    )


def find_request(message_id: int, sop_class_uid: str) -> bytes:
    """A C-FIND-RQ whose identifier follows."""
    return encode_command(
        {
            AFFECTED_SOP_CLASS: sop_class_uid,
            COMMAND_FIELD: C_FIND_RQ,
            MESSAGE_ID: message_id,
            PRIORITY: MEDIUM_PRIORITY,
            DATA_SET_TYPE: DATA_SET,
        }
    )


def has_data_set(command: dict[int, int | str]) -> bool:
    return command.get(DATA_SET_TYPE, NO_DATA_SET) != NO_DATA_SET


def implicit_data_set(dataset) -> bytes:
    """A pydicom data set encoded in Implicit VR Little Endian."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, dataset)
    return buffer.getvalue()
