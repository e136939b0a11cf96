"""Native (uncompressed) little endian series, Explicit or Implicit VR, encoded fast: the
shared header once, per file only the elements that change.

The bytes are those pydicom's dcmwrite gives for the same data set: each piece is encoded by
pydicom's own element writers, spliced in tag order.
"""

from __future__ import annotations

import struct

import numpy as np
from pydicom import config
from pydicom.charset import convert_encodings
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info
from pydicom.uid import ImplicitVRLittleEndian

from ..export.uids import IMPLEMENTATION_CLASS_UID
from ..template.keywords import KEYWORDS
from ..template.model import PIXEL_DATA, Slot
from ..template.values import checked_value

PREAMBLE = b"\x00" * 128 + b"DICM"


_ASCII_VRS = frozenset(["UI", "IS", "DS", "CS", "SH", "LO", "TM", "DA", "AS"])
_PACKED = {"US": "H", "SS": "h", "UL": "I", "SL": "i"}


def _encode_simple(tag: int, vr: str, value: object, implicit: bool) -> bytes | None:
    """Little endian bytes of a short ASCII or integer element, as pydicom writes them;
    None for anything else (pydicom then encodes it)."""
    values = [] if value is None or value == "" else value if isinstance(value, list) else [value]
    if vr in _PACKED:
        raw = struct.pack(f"<{len(values)}{_PACKED[vr]}", *values)
    elif vr in _ASCII_VRS:
        text = "\\".join(str(v) for v in values)
        if not text.isascii():
            return None
        raw = text.encode()
        if len(raw) % 2:
            raw += b"\x00" if vr == "UI" else b" "
    else:
        return None
    if implicit:
        return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(raw)) + raw
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(raw)) + raw


def _stream(implicit: bool = False) -> DicomBytesIO:
    stream = DicomBytesIO()
    stream.is_little_endian = True
    stream.is_implicit_VR = implicit
    return stream


class SeriesEncoder:
    """The byte layout of one series: constant runs and the per-file slots between them."""

    def __init__(
        self,
        header: Dataset,
        per_file: list[Slot],
        implementation_version: str,
        syntax: str,
        element_tags: frozenset[int] = frozenset(),
        files: int = 1,
    ):
        """``per_file``: the keyword slots filled file by file; ``element_tags``: elements
        (not keywords) that the caller gives whole for each file, or leaves out; ``files``:
        how many files the series has."""
        self.implicit = syntax == ImplicitVRLittleEndian
        charset = header.get("SpecificCharacterSet", "ISO_IR 6") or "ISO_IR 6"
        self.encodings = convert_encodings([charset] if isinstance(charset, str) else charset)
        self.per_file = per_file
        self._encoded: dict[tuple, bytes] = {}
        self.meta = FileMetaDataset()
        self.meta.MediaStorageSOPClassUID = header.SOPClassUID
        self.meta.TransferSyntaxUID = syntax
        self.meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        self.meta.ImplementationVersionName = implementation_version
        self.element_tags = element_tags
        per_file_tags = {slot.tag for slot in per_file} | element_tags
        tags = sorted({int(e.tag) for e in header} | per_file_tags | {PIXEL_DATA})
        self.layout: list[bytes | int] = []
        run: list[DataElement] = []
        for tag in tags:
            if tag in per_file_tags or tag == PIXEL_DATA:
                self.layout += [self._encode_run(run), tag]
                run = []
            else:
                run.append(header[tag])
        self.layout.append(self._encode_run(run))
        self.meta_before, self.meta_after = self._meta_runs()

    def _encode_run(self, elements: list[DataElement]) -> bytes:
        stream = _stream(self.implicit)
        if elements:
            write_dataset(stream, Dataset({e.tag: e for e in elements}), self.encodings)
        return stream.getvalue()

    def _meta_runs(self) -> tuple[bytes, bytes]:
        """The file meta elements before and after (0002,0003), encoded once."""
        self.meta.FileMetaInformationVersion = b"\x00\x01"
        self.meta.MediaStorageSOPInstanceUID = "1.2"
        stream = _stream()
        write_file_meta_info(stream, self.meta, enforce_standard=True)
        encoded = stream.getvalue()[12:]  # without the group length element
        uid_element = self.meta_element(0x00020003, "1.2")
        start = encoded.index(uid_element)
        return encoded[:start], encoded[start + len(uid_element) :]

    def file_meta(self, sop_instance_uid: str) -> bytes:
        uid = self.meta_element(0x00020003, sop_instance_uid)
        length = len(self.meta_before) + len(uid) + len(self.meta_after)
        group_length = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, length)
        return PREAMBLE + group_length + self.meta_before + uid + self.meta_after

    @staticmethod
    def meta_element(tag: int, uid: str) -> bytes:
        """A UI element of the file meta group (always Explicit VR Little Endian)."""
        return _encode_simple(tag, "UI", uid, implicit=False)

    def close(self) -> None:
        """Release what the encoder holds (nothing, for native files)."""

    def _element_bytes(self, element: DataElement) -> bytes:
        stream = _stream(self.implicit)
        write_data_element(stream, element, self.encodings)
        return stream.getvalue()

    def element(self, tag: int, vr: str, value: object) -> bytes:
        """The bytes of one element (values as pydicom's DataElement takes them)."""
        fast = _encode_simple(tag, vr, value, self.implicit)
        if fast is not None:
            return fast
        return self._element_bytes(DataElement(tag, vr, value, validation_mode=config.IGNORE))

    def _slot_bytes(self, slot: Slot, value: object) -> bytes:
        """A per-file slot's bytes; values that recur (positions across frames, timing
        within a frame, a global scaling) are checked and encoded once."""
        if KEYWORDS[slot.keyword].unique:
            return self.element(slot.tag, slot.vr, checked_value(slot.keyword, slot.vr, value))
        key = (slot.tag, tuple(value) if isinstance(value, list) else value)
        encoded = self._encoded.get(key)
        if encoded is None:
            checked = checked_value(slot.keyword, slot.vr, value)
            encoded = self._encoded[key] = self.element(slot.tag, slot.vr, checked)
        return encoded

    def pieces(
        self,
        values: dict[str, object],
        pixels: np.ndarray,
        elements: dict[int, DataElement] | None = None,
    ) -> list[bytes | memoryview]:
        """Every piece of one file, in order, ready for ``os.writev``: ``values`` holds the
        per-file keywords' values (SOPINSTANCEUID at least), ``elements`` this file's
        elements of ``element_tags``."""
        encoded = {slot.tag: self._slot_bytes(slot, values[slot.keyword]) for slot in self.per_file}
        for tag in self.element_tags:
            element = (elements or {}).get(tag)
            encoded[tag] = b"" if element is None else self._element_bytes(element)
        pieces: list[bytes | memoryview] = [self.file_meta(values["SOPINSTANCEUID"])]
        for part in self.layout:
            if isinstance(part, bytes):
                if part:
                    pieces.append(part)
            elif part == PIXEL_DATA:
                pieces += self.pixel_pieces(pixels)
            else:
                pieces.append(encoded[part])
        return pieces

    def pixel_pieces(self, pixels: np.ndarray) -> list[bytes | memoryview]:
        """The pixel data element: native pixels, padded to even length."""
        size = pixels.nbytes
        if self.implicit:
            head = struct.pack("<HHI", 0x7FE0, 0x0010, size + size % 2)
        else:
            vr = b"OB" if pixels.dtype.itemsize == 1 else b"OW"
            head = struct.pack("<HH2s2xI", 0x7FE0, 0x0010, vr, size + size % 2)
        pieces = [head, memoryview(np.ascontiguousarray(pixels)).cast("B")]
        return pieces + [b"\x00"] if size % 2 else pieces
