"""Lossless compressed series: encapsulated pixel data (RLE, JPEG-LS, JPEG 2000) through
pydicom's encoders and their plugins, and Deflated Explicit VR Little Endian (zlib).

The header is the native Explicit VR Little Endian encoder's; only the pixel data (or, for
Deflated, the data set after the file meta group) is encoded differently. Compressing costs
far more than the rest of a file, so it runs in worker processes (the codecs hold the GIL,
and OpenJPEG crashed when called from two threads): a piece of a file is then a Future that
the writer waits for.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import struct
import zlib
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from ..errors import field_error
from ..template.model import Slot
from .native import SeriesEncoder

ITEM, SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
EXTRA = "pip install 'nipype_vinci[compression]'"
J2K_MIN_SIDE = 32  # pylibjpeg-openjpeg encodes 6 resolutions: 2**5 pixels at the least
MIN_FILES_FOR_WORKERS = 8  # below it, starting the workers costs more than they save
# Where two worker processes paid on a 512x512x300 CT (benchmarks/bench_compression.py, 2
# cores): Deflated 3.53 -> 2.37 s, RLE 1.57 -> 1.30 s, JPEG 2000 4.55 -> 2.84 s; JPEG-LS,
# fast already, lost to the copying (0.86 -> 0.97 s) and stays in the main process.
WORKERS_PAY = frozenset([DeflatedExplicitVRLittleEndian, RLELossless, JPEG2000Lossless])


def require_codec(syntax: str, rows: int, columns: int, instead: str = "jpeg-ls or rle") -> None:
    """Refuse, naming the transfer syntax field, a compressed syntax whose plugin is missing
    or that cannot encode images of this size (``instead``: the syntaxes to suggest)."""
    from pydicom.pixels import get_encoder

    codec = get_encoder(syntax)
    if not codec.is_available:
        missing = "; ".join(codec.missing_dependencies)
        raise field_error(
            "transfer_syntax",
            f"{codec.UID.name} needs a plugin that is not installed ({missing}): {EXTRA}",
        )
    if syntax == JPEG2000Lossless and min(rows, columns) < J2K_MIN_SIDE:
        raise field_error(
            "transfer_syntax",
            f"JPEG 2000 (pylibjpeg-openjpeg, 6 wavelet levels) needs at least "
            f"{J2K_MIN_SIDE} rows and columns, the image has {rows}x{columns}; "
            f"choose {instead}",
        )


def _item(length: int) -> bytes:
    return struct.pack("<HHI", *ITEM, length)


def _encode_frame(syntax: str, data: bytes, dtype: str, options: dict) -> bytes:
    """One compressed frame as its item (in a worker process), padded to even length."""
    from pydicom.pixels import get_encoder

    pixels = np.frombuffer(data, dtype=dtype).reshape(options["rows"], options["columns"])
    frame = get_encoder(syntax).encode(pixels, **options)
    frame += b"\x00" * (len(frame) % 2)
    return _item(len(frame)) + frame


def _deflate(data: bytes) -> bytes:
    """Raw deflate (in a worker process), padded to even length."""
    squeeze = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = squeeze.compress(data) + squeeze.flush()
    return deflated + b"\x00" * (len(deflated) % 2)


def _quiet_worker() -> None:
    """Workers leave signals to their parent, which cleans up and stops them."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)


class _Workers:
    """Compression off the main process when there is more than one core and enough files."""

    def __init__(self, files: int):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        self.pool = None
        if cores > 1 and files >= MIN_FILES_FOR_WORKERS:
            context = multiprocessing.get_context("fork")
            self.pool = ProcessPoolExecutor(cores, mp_context=context, initializer=_quiet_worker)
            self.pool.submit(int).result()  # fork now, before the writer thread starts

    def run(self, function, *args) -> bytes | Future:
        return function(*args) if self.pool is None else self.pool.submit(function, *args)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _OffloadedEncoder(SeriesEncoder):
    """A series encoder whose compression runs in worker processes."""

    def __init__(
        self,
        header: Dataset,
        per_file: list[Slot],
        version: str,
        syntax: str,
        element_tags: frozenset[int] = frozenset(),
        files: int = 1,
    ):
        super().__init__(header, per_file, version, syntax, element_tags)
        self.workers = _Workers(files if syntax in WORKERS_PAY else 1)

    def close(self) -> None:
        self.workers.close()


class EncapsulatedEncoder(_OffloadedEncoder):
    """One compressed frame a file, in an encapsulated pixel data element."""

    def __init__(self, header: Dataset, per_file: list[Slot], version: str, syntax: str, *rest):
        if any(slot.keyword == "PIXELDATAGROUPLENGTH" for slot in per_file):
            raise field_error(
                "transfer_syntax",
                "the template's PIXELDATAGROUPLENGTH cannot be known before compressing; "
                "remove (7fe0,0000) from the template or write it uncompressed",
            )
        require_codec(syntax, int(header.Rows), int(header.Columns))
        super().__init__(header, per_file, version, syntax, *rest)
        self.syntax = syntax
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

    def pixel_pieces(self, pixels: np.ndarray) -> list:
        data = np.ascontiguousarray(pixels).tobytes()  # a copy: the plane's buffer is reused
        frame = self.workers.run(_encode_frame, self.syntax, data, pixels.dtype.str, self.options)
        head = struct.pack("<HH2s2xI", 0x7FE0, 0x0010, b"OB", 0xFFFFFFFF)
        end = struct.pack("<HHI", *SEQUENCE_END, 0)
        return [head, _item(0), frame, end]  # an empty basic offset table


class DeflatedEncoder(_OffloadedEncoder):
    """Deflated Explicit VR Little Endian: the data set after the file meta group deflated."""

    def pieces(self, values, pixels, elements=None) -> list:
        meta, *body = super().pieces(values, pixels, elements)
        return [meta, self.workers.run(_deflate, b"".join(body))]
