"""Write any pydicom Dataset (or a Template, keywords included) as dcmdump text.

The text follows template-format.md section 6 and is what DCMTK's ``dump2dcm +l 4000000``
turns back into the same data set: explicit VRs, strings in brackets in the data set's
character set, shortest exact floats, binary values in full, every item and delimiter line.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np
from pydicom.charset import convert_encodings, encode_string
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments
from pydicom.filewriter import correct_ambiguous_vr_element
from pydicom.valuerep import PersonName

from ..errors import VinciError
from .keywords import PIXEL_KEYWORD
from .model import BIG_ENDIAN_SYNTAX, PIXEL_DATA, ElementPath, Template
from .uid_names import DCMTK_UID_NAMES
from .values import FLOAT_VRS, INT_RANGES, STRING_VRS

_PACKED = {"OL": "L", "OV": "Q", "OF": "f", "OD": "d"}
UID_NAMES = {uid: name for name, uid in DCMTK_UID_NAMES.items()}
_Slots = dict[tuple[ElementPath, int], str]


def _tag(tag: int) -> str:
    return f"({tag >> 16:04x},{tag & 0xFFFF:04x})"


def _float_text(vr: str, number: float) -> str:
    if vr in ("FL", "OF"):
        return str(np.float32(number))
    return repr(float(number))


class _Writer:
    def __init__(self, dataset: Dataset, slots: _Slots):
        self.slots = slots
        syntax = str(getattr(dataset, "file_meta", {}).get("TransferSyntaxUID", "") or "")
        self.order = ">" if syntax == BIG_ENDIAN_SYNTAX else "<"
        self.little = self.order == "<"
        charset = dataset.get("SpecificCharacterSet", "ISO_IR 6") or "ISO_IR 6"
        terms = [charset] if isinstance(charset, str) else list(charset)
        self.encodings = convert_encodings(terms)

    def lines(self, dataset: Dataset, path: ElementPath, depth: int) -> Iterator[bytes]:
        for element in dataset:
            if " or " in element.VR:
                element = correct_ambiguous_vr_element(element, dataset, self.little)
            yield from self.element(element, path, depth)

    def element(self, element: DataElement, path: ElementPath, depth: int) -> Iterator[bytes]:
        indent = b"  " * depth
        head = f"{_tag(element.tag)} {element.VR} ".encode()
        trailer = f"  # {element.keyword or 'Unknown Tag & Data'}".encode()
        keyword = self.slots.get((path, element.tag))
        if keyword is not None:
            text = f"={keyword}" if keyword == PIXEL_KEYWORD else f"[{keyword}]"
            yield indent + head + text.encode() + trailer
            return
        if element.VR == "SQ":
            items = element.value or []
            yield indent + head + f"(Sequence with explicit length #={len(items)})".encode()
            for index, item in enumerate(items):
                yield indent + b"  (fffe,e000) na (Item with explicit length #=%d)" % len(item)
                yield from self.lines(item, path + ((element.tag, index),), depth + 2)
                yield indent + b"  (fffe,e00d) na (ItemDelimitationItem for re-encoding)"
            yield indent + b"(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)"
            return
        if element.tag == PIXEL_DATA and element.is_undefined_length:
            fragments = list(generate_fragments(element.value, endianness=self.order))
            head = f"{_tag(element.tag)} OB ".encode()
            yield indent + head + f"(PixelSequence #={len(fragments)})".encode()
            for fragment in fragments:
                yield indent + b"  (fffe,e000) pi " + fragment.hex("\\").encode()
            yield indent + b"(fffe,e0dd) na (SequenceDelimitationItem)"
            return
        yield indent + head + self.value(element) + trailer

    def value(self, element: DataElement) -> bytes:
        vr, value = element.VR, element.value
        if value is None or (not isinstance(value, (int, float)) and len(value) == 0):
            return b"(no value available)"
        if vr == "UI" and element.VM == 1 and str(value) in UID_NAMES:
            return f"={UID_NAMES[str(value)]}".encode()
        if vr in STRING_VRS:
            return b"[" + self.string(element) + b"]"
        if vr in _PACKED:
            count = len(value) // struct.calcsize(_PACKED[vr])
            numbers = struct.unpack(f"{self.order}{count}{_PACKED[vr]}", value)
            return self.numbers(vr, numbers)
        if vr in INT_RANGES or vr in FLOAT_VRS:
            return self.numbers(vr, value if element.VM > 1 else [value])
        if vr == "AT":
            tags = value if element.VM > 1 else [value]
            return "\\".join(_tag(int(t)) for t in tags).encode()
        if vr == "OW":
            count = len(value) // 2
            words = struct.unpack(f"{self.order}{count}H", value[: count * 2])
            return "\\".join(f"{w:04x}" for w in words).encode()
        return value.hex("\\").encode()

    def numbers(self, vr: str, numbers) -> bytes:
        if vr in FLOAT_VRS:
            return "\\".join(_float_text(vr, n) for n in numbers).encode()
        return "\\".join(str(int(n)) for n in numbers).encode()

    def string(self, element: DataElement) -> bytes:
        values = element.value if element.VM > 1 else [element.value]
        encoded = []
        for value in values:
            if isinstance(value, PersonName):
                raw = value.encode(self.encodings)
            elif isinstance(value, bytes):
                raw = value
            else:
                raw = encode_string(str(value), self.encodings)
            encoded.append(raw)
        text = b"\\".join(encoded)
        if b"\r" in text or b"\n" in text:
            raise VinciError(
                f"{_tag(element.tag)} {element.keyword}: the value holds a line "
                "break, which a dump line cannot carry; remove or edit it first"
            )
        return text


def dump_lines(dataset: Dataset, slots: _Slots | None = None) -> Iterator[bytes]:
    """The dump lines of a data set (its file meta first), without line ends."""
    writer = _Writer(dataset, slots or {})
    yield b"# Dicom-File-Format"
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and len(meta):
        yield b""
        yield b"# Dicom-Meta-Information-Header"
        yield from writer.lines(meta, (), 0)
    yield b""
    yield b"# Dicom-Data-Set"
    yield from writer.lines(dataset, (), 0)


def dump_dataset(dataset: Dataset) -> bytes:
    """A data set as dump text (bytes in its character set), ending with LF."""
    return b"\n".join(dump_lines(dataset)) + b"\n"


def dump_template(template: Template) -> bytes:
    """A template as dump text: metadata lines, then the data set with its keywords."""
    line = template.info.line()
    slots = {(slot.parents, slot.tag): slot.keyword for slot in template.slots}
    header = [line] if line else []
    body = list(dump_lines(template.dataset, slots))
    return b"\n".join(header + body) + b"\n"
