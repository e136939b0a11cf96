"""Lossless compressed series: encapsulated pixel data (RLE, JPEG-LS, JPEG 2000) through
pydicom's encoders and their plugins, and Deflated Explicit VR Little Endian (zlib).

The header is the native Explicit VR Little Endian encoder's; only the pixel data (or, for
Deflated, the data set after the file meta group) is encoded differently.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from pydicom.dataset import Dataset

from ..errors import field_error
from ..template.model import Slot
from .native import SeriesEncoder

ITEM, SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
EXTRA = "pip install 'nipype_vinci[compression]'"


def _item(length: int) -> bytes:
    return struct.pack("<HHI", *ITEM, length)


class EncapsulatedEncoder(SeriesEncoder):
    """One compressed frame a file, in an encapsulated pixel data element."""

    def __init__(
        self,
        header: Dataset,
        per_file: list[Slot],
        version: str,
        syntax: str,
        element_tags: frozenset[int] = frozenset(),
    ):
        from pydicom.pixels import get_encoder

        if any(slot.keyword == "PIXELDATAGROUPLENGTH" for slot in per_file):
            raise field_error(
                "transfer_syntax",
                "the template's PIXELDATAGROUPLENGTH cannot be known before compressing; "
                "remove (7fe0,0000) from the template or write it uncompressed",
            )
        super().__init__(header, per_file, version, syntax, element_tags)
        self.codec = get_encoder(syntax)
        if not self.codec.is_available:
            missing = "; ".join(self.codec.missing_dependencies)
            raise field_error(
                "transfer_syntax",
                f"{self.codec.UID.name} needs a plugin that is not installed ({missing}): {EXTRA}",
            )
        self.options = {
            "rows": int(header.Rows),
            "columns": int(header.Columns),
            "samples_per_pixel": 1,
            "bits_allocated": int(header.BitsAllocated),
            "bits_stored": int(header.BitsStored),
            "pixel_representation": int(header.PixelRepresentation),
            "photometric_interpretation": "MONOCHROME2",
            "number_of_frames": 1,
        }

    def pixel_pieces(self, pixels: np.ndarray) -> list[bytes | memoryview]:
        frame = self.codec.encode(np.ascontiguousarray(pixels), **self.options)
        if len(frame) % 2:
            frame += b"\x00"
        head = struct.pack("<HH2s2xI", 0x7FE0, 0x0010, b"OB", 0xFFFFFFFF)
        end = struct.pack("<HHI", *SEQUENCE_END, 0)
        return [head, _item(0), _item(len(frame)), frame, end]  # empty basic offset table


class DeflatedEncoder(SeriesEncoder):
    """Deflated Explicit VR Little Endian: the data set after the file meta group deflated."""

    def pieces(self, values, pixels, elements=None) -> list[bytes | memoryview]:
        meta, *body = super().pieces(values, pixels, elements)
        squeeze = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        deflated = b"".join(squeeze.compress(piece) for piece in body) + squeeze.flush()
        return [meta, deflated + b"\x00" * (len(deflated) % 2)]
